"""Build the leaderboard — ``README.md`` and a static ``index.html`` — as a pure function of the bundles.

Every bundle under ``results/*/*`` is verified (:mod:`mammobench.leaderboard.verify`); accepted ones
become rows, rejected ones are listed with their reason. Ranking columns: change in the primary
metric overall and in the worst group, each with its 95% CI, and audit outcomes as flags
(groups of audits from ``display.yaml``). Outputs are byte-deterministic: sorted, no timestamps.

Example:
    >>> report = build_leaderboard("leaderboard")  # doctest: +SKIP
    >>> check_up_to_date("leaderboard")  # doctest: +SKIP
    []
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from mammobench.errors import ConfigError
from mammobench.io import atomic_write_text
from mammobench.leaderboard.verify import verify_bundle
from mammobench.report.context import worst_group_change
from mammobench.report.formatting import fmt_ci
from mammobench.resources import template_loader
from mammobench.yamlio import load_yaml

OUTPUTS = ("README.md", "index.html")
STATUS_ORDER = ("fail", "warn", "pass", "skip")
DEFAULT_DISPLAY = {"title": "MammoBench leaderboard", "description": "", "metric_labels": {"auc": "AUC"},
                   "audit_flags": {"fidelity": ["fidelity", "conditional"], "privacy": ["memorisation", "privacy"],
                                   "leakage": ["leakage"], "bias": ["bias"]}, "trusted_keys": []}


@dataclass
class BuildReport:
    """Accepted rows and rejected bundles ``(folder, reason)``."""

    rows: list[dict] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def load_display(leaderboard_dir: Path) -> dict:
    """``display.yaml`` merged over the defaults; unknown keys are a ConfigError."""
    path = leaderboard_dir / "display.yaml"
    data = {}
    if path.is_file():
        data = load_yaml(path, what="leaderboard display file") or {}
    unknown = sorted(set(data) - set(DEFAULT_DISPLAY))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; valid keys: {sorted(DEFAULT_DISPLAY)}")
    return {**DEFAULT_DISPLAY, **data}


def _plan(report: dict) -> tuple[str, str]:
    plan = (report.get("plan") or {}).get("plan") or {}
    return str(plan.get("primary_metric") or "auc"), str(plan.get("control_arm") or "")


def _ranked_arm(result: dict, generator: str, metric: str) -> tuple[str, str]:
    """The submitted arm to rank: best on *validation* data when val metrics exist, else the largest ratio."""
    arms = [a for a in result["arms"] if a.get("generator") == generator and (a.get("n_synthetic") or 0) > 0]
    val = {m["arm"]: m["value"] for m in result["metrics"] if m["metric"] == metric and m.get("split") == "val"
           and m.get("attribute") is None and m.get("seed") is None and m.get("value") is not None}
    if any(a["arm"] in val for a in arms):
        best = max((a for a in arms if a["arm"] in val), key=lambda a: (val[a["arm"]], a["arm"]))
        return best["arm"], "best on validation"
    best = max(arms, key=lambda a: (a.get("ratio") or 0, a["arm"]))
    return best["arm"], "largest ratio (no validation metric)"


def audit_names(result: dict, generator: str) -> set[str]:
    """Names under which a generator's audits are recorded: the generator and each of its arms."""
    return {generator} | {a["arm"] for a in result["arms"] if a.get("generator") == generator}


def _flag(audits: list[dict], names: list[str]) -> str:
    statuses = [a["status"] for a in audits if a["audit"] in names]
    return next((s for s in STATUS_ORDER if s in statuses), "none")


def make_row(entry: dict, display: dict) -> dict:
    """One leaderboard row from a verified bundle."""
    result, card, bundle = entry["result"], entry["card"], entry["bundle"]
    metric, control = _plan(entry["report"])
    arm, rule = _ranked_arm(result, card["name"], metric)
    overall = next((c for c in result["comparisons"] if c["arm"] == arm and c["metric"] == metric
                    and c.get("primary") and c.get("attribute") is None), {})
    worst = worst_group_change(result, arm, metric, control or None)
    gen_audits = [a for a in result["audits"] if a["generator"] in audit_names(result, card["name"])]
    subgroups = {f"{c['attribute']}={c['group']}": fmt_ci(c.get("estimate"), c.get("ci_low"), c.get("ci_high"))
                 for c in result["comparisons"] if c["arm"] == arm and c["metric"] == metric and c.get("primary")
                 and c.get("attribute")}
    return {"generator": card["name"], "version": card["version"], "task": bundle["task"], "kind": card.get("kind"),
            "arm": arm, "arm_rule": rule, "metric": display["metric_labels"].get(metric, metric),
            "simulated": result["simulated"], "profile": result["profile"],
            "delta": overall.get("estimate"), "delta_text": fmt_ci(overall.get("estimate"), overall.get("ci_low"),
                                                                   overall.get("ci_high")) if overall else "–",
            "n": overall.get("n"), "n_pos": overall.get("n_pos"),
            "worst": worst["delta"] if worst else None,
            "worst_text": (f"{fmt_ci(worst['delta'], worst['ci_low'], worst['ci_high'])}"
                           f" ({worst['attribute']}={worst['group']})") if worst else "–",
            "flags": {name: _flag(gen_audits, audits) for name, audits in sorted(display["audit_flags"].items())},
            "subgroups": dict(sorted(subgroups.items())),
            "report": f"results/{card['name']}@{card['version']}/{bundle['task']}/report.html"}


def collect(leaderboard_dir: str | Path) -> BuildReport:
    """Verify every bundle and build rows (sorted by task, then Δ overall descending)."""
    root = Path(leaderboard_dir)
    display = load_display(root)
    out = BuildReport()
    for folder in sorted(p for p in (root / "results").glob("*/*") if p.is_dir()):
        entry, reason = verify_bundle(folder, tuple(display["trusted_keys"]))
        rel = folder.relative_to(root).as_posix()
        if entry is None:
            out.rejected.append((rel, reason))
        else:
            out.rows.append(make_row(entry, display))
    out.rows.sort(key=lambda r: (r["task"], -(r["delta"] if r["delta"] is not None else -1e9), r["generator"],
                                 r["version"]))
    return out


def render(leaderboard_dir: str | Path) -> tuple[dict[str, str], BuildReport]:
    """The output texts ``{README.md, index.html}`` and the build report, without writing anything."""
    root = Path(leaderboard_dir)
    report = collect(root)
    display = load_display(root)
    tasks = sorted({r["task"] for r in report.rows})
    env = jinja2.Environment(loader=template_loader(), keep_trailing_newline=True,
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = lambda v: str(v).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    env.filters["tojson_sorted"] = lambda v: json.dumps(v, sort_keys=True)
    context = {"display": display, "rows": report.rows, "rejected": report.rejected, "tasks": tasks}
    texts = {"README.md": env.get_template("leaderboard.md.j2").render(**context),
             "index.html": env.get_template("leaderboard.html.j2").render(**context)}
    return texts, report


def build_leaderboard(leaderboard_dir: str | Path) -> BuildReport:
    """Verify all bundles and write ``README.md`` and ``index.html`` into ``leaderboard_dir``."""
    texts, report = render(leaderboard_dir)
    for name, text in texts.items():
        atomic_write_text(Path(leaderboard_dir) / name, text)
    return report


def check_up_to_date(leaderboard_dir: str | Path) -> list[str]:
    """Names of outputs that differ from a fresh build (empty when the committed leaderboard is current)."""
    texts, _ = render(leaderboard_dir)
    root = Path(leaderboard_dir)
    return [name for name, text in texts.items()
            if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text]
