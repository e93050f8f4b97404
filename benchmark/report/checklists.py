"""Reporting checklists as data: load ``reports/checklists/*.yaml``, fill items from run evidence.

Each item has ``id, source, text, evidence``. ``evidence`` is ``human`` (a person must answer) or
a mapping with exactly one rule and a link target:

* ``result: a.b.c`` — the key path exists in ``result.json`` and is not empty;
* ``records: metrics|comparisons|fairness|interactions|audits|selftest`` with optional
  ``where: {key: value}`` (``"*"`` = any non-null value, ``null`` = null) — at least one record matches;
* ``figure: prefix`` — the report has a figure whose name starts with ``prefix``;
* ``file: glob`` — a file matching ``glob`` exists in the run folder;
* ``plan: true`` — the analysis plan is present, unchanged and written before the test read;
* ``section``: the report anchor the item links to; ``human: true`` when the evidence is only a draft.

Status per item: ``auto`` (filled from evidence), ``answered`` (user answers file), ``partial``
(evidence found, human part pending) or ``needs human input``. Completeness counts ``auto`` and
``answered`` items.

Example:
    >>> lists = load_checklists()
    >>> "CLAIM-19" in {i["id"] for c in lists for i in c["items"]}
    True
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

from mammobench.errors import ConfigError
from mammobench.resources import checklists_dir
from mammobench.yamlio import load_yaml

CHECKLIST_DIR = checklists_dir()
RULES = ("result", "records", "figure", "file", "plan")
RECORD_LISTS = ("metrics", "comparisons", "fairness", "interactions", "audits", "selftest")
ITEM_KEYS = {"id", "source", "text", "evidence"}
EVIDENCE_KEYS = set(RULES) | {"section", "human", "where"}
#: parsed checklists by (path, mtime, size): YAML parsing is a third of a report's non-figure time
_PARSED: dict[tuple[str, int, int], dict] = {}


def _validate_item(item: Any, source: str) -> dict:
    if not isinstance(item, dict) or set(item) != ITEM_KEYS:
        raise ConfigError(f"{source}: each item needs exactly the keys {sorted(ITEM_KEYS)}, got {item!r}")
    ev = item["evidence"]
    if ev == "human":
        return item
    if not isinstance(ev, dict) or set(ev) - EVIDENCE_KEYS:
        raise ConfigError(f"{source}: item {item['id']}: evidence must be 'human' or a mapping with keys "
                          f"from {sorted(EVIDENCE_KEYS)}, got {ev!r}")
    rules = [r for r in RULES if r in ev]
    if len(rules) != 1:
        raise ConfigError(f"{source}: item {item['id']}: evidence needs exactly one of {list(RULES)}, got {rules}")
    if "records" in ev and ev["records"] not in RECORD_LISTS:
        raise ConfigError(f"{source}: item {item['id']}: records '{ev['records']}' not in {list(RECORD_LISTS)}")
    return item


def load_checklist(path: str | Path) -> dict:
    """Load and validate one checklist YAML (safe loader); a file unchanged since this process last read it
    (same path, modification time and size) is not parsed again. The caller gets its own copy.

    Raises:
        ConfigError: the file is not a valid checklist (naming the key or item).

    Example:
        >>> load_checklist(CHECKLIST_DIR / "claim_2024.yaml")["id"]
        'claim_2024'
    """
    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None  # load_yaml names the problem
    if key not in _PARSED:
        data = _parse_checklist(path)
        if key is None:
            return data
        _PARSED[key] = data
    return copy.deepcopy(_PARSED[key])


def _parse_checklist(path: Path) -> dict:
    data = load_yaml(path, what="checklist")
    for key in ("id", "title", "source", "reports", "items"):
        if not isinstance(data, dict) or key not in data:
            raise ConfigError(f"{path}: missing key '{key}'; a checklist needs id, title, source, reports, items")
    if not isinstance(data["items"], list):
        raise ConfigError(f"{path}: 'items' must be a list of items, got {type(data['items']).__name__}")
    data["items"] = [_validate_item(item, str(path)) for item in data["items"]]
    ids = [i["id"] for i in data["items"]]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"{path}: duplicate item ids {dupes}")
    return data


def load_checklists(folder: str | Path | None = None, kind: str | None = None) -> list[dict]:
    """All checklists in ``folder`` (sorted by file name), optionally only those for a report kind."""
    folder = Path(folder) if folder else CHECKLIST_DIR
    lists = [load_checklist(p) for p in sorted(folder.glob("*.yaml"))]
    if not lists:
        raise ConfigError(f"{folder}: no checklist YAML files found")
    return [c for c in lists if kind is None or kind in c["reports"]]


def load_answers(path: str | Path, valid_ids: list[str]) -> dict[str, str]:
    """Read a user answers YAML: ``{answers: {ITEM-ID: text}}`` or a plain ``{ITEM-ID: text}`` mapping.

    Raises:
        ConfigError: unreadable file, a non-text answer, or an unknown item id (named, with the valid ids).
    """
    path = Path(path)
    data = load_yaml(path, what="answers file") or {}
    if isinstance(data, dict) and set(data) == {"answers"}:
        data = data["answers"] or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: answers must be a mapping of item id to text")
    out = {}
    for item_id, answer in data.items():
        if str(item_id) not in valid_ids:
            close = difflib.get_close_matches(str(item_id), valid_ids, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{path}: unknown checklist item id '{item_id}'.{hint} Valid ids: {', '.join(valid_ids)}")
        if isinstance(answer, dict) and "answer" in answer:
            answer = answer["answer"]
        if not isinstance(answer, (str, int, float)) or not str(answer).strip():
            raise ConfigError(f"{path}: answer for '{item_id}' must be non-empty text, got {answer!r}")
        out[str(item_id)] = str(answer).strip()
    return out


def _lookup(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _matches(rec: dict, where: dict) -> bool:
    for key, want in where.items():
        have = rec.get(key)
        if want == "*" and have is None or want != "*" and have != want:
            return False
    return True


def evidence_found(ev: dict, context: dict) -> str | None:
    """A short description of the evidence ``ev`` points to, or None when the run lacks it."""
    result = context["result"]
    if "result" in ev:
        value = _lookup(result, ev["result"])
        return f"result.json: {ev['result']}" if value not in (None, "", [], {}) else None
    if "records" in ev:
        hits = [r for r in result.get(ev["records"], []) or [] if _matches(r, ev.get("where") or {})]
        return f"{len(hits)} {ev['records']} record(s)" if hits else None
    if "figure" in ev:
        names = [n for n in context["figures"] if n.startswith(ev["figure"])]
        return f"figure {names[0]}" if names else None
    if "file" in ev:
        files = sorted(context["run_dir"].glob(ev["file"]))
        return f"file {files[0].relative_to(context['run_dir']).as_posix()}" if files else None
    plan = context["plan"]
    ok = plan.get("unchanged") and plan.get("written_before_test_read")
    return f"analysis plan sha256 {plan['recorded_sha256'][:12]}…" if ok else None


def fill_item(item: dict, context: dict, answers: dict[str, str]) -> dict:
    """One filled row: status, evidence text, link anchor and any user answer."""
    ev = item["evidence"]
    found = None if ev == "human" else evidence_found(ev, context)
    needs_human = ev == "human" or bool(ev.get("human"))
    answer = answers.get(item["id"], "")
    if answer:
        status = "answered"
    elif found and not needs_human:
        status = "auto"
    elif found:
        status = "partial"
    else:
        status = "needs human input"
    anchor = "" if ev == "human" or not found else ev.get("section", "")
    return {"id": item["id"], "source": item["source"], "text": item["text"], "status": status,
            "evidence": found or "", "anchor": anchor, "answer": answer}


def fill_checklists(checklists: list[dict], context: dict, answers: dict[str, str]) -> list[dict]:
    """Fill every checklist; each gets ``rows`` and ``completeness`` {complete, total, percent}."""
    out = []
    for checklist in checklists:
        rows = [fill_item(item, context, answers) for item in checklist["items"]]
        done = sum(r["status"] in ("auto", "answered") for r in rows)
        out.append({"id": checklist["id"], "title": checklist["title"], "source": checklist["source"],
                    "rows": rows, "completeness": {"complete": done, "total": len(rows),
                                                   "percent": round(100 * done / max(len(rows), 1), 1)}})
    return out
