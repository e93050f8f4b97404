"""``mammobench report RUN_DIR [--answers FILE] [--kind ...]``: re-render a run's report from its files.

The report is rebuilt only from the run folder (result.json, predictions.csv, analysis_plan.json,
samples/, audits/, reader_study/). When the run was signed and is otherwise intact, the manifest is
re-signed so that ``mammobench verify`` covers the new report; a run whose other artefacts no longer
match its manifest is rendered but NOT re-signed (the verify failure stays visible).

Example:
    $ mammobench report runs/quick-2026-01-01 --answers answers.yaml
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.report.provenance import MANIFEST, sign_run, verify_run
from mammobench.report.render import KINDS, render_report

RENDERED = ("report.html", "report.md", "report.json")


def _only_report_changed(run_dir: Path) -> tuple[bool, list[str]]:
    report = verify_run(run_dir)
    other = [p for p in report.changed + report.missing + report.added
             if p not in RENDERED and not p.startswith("figures/")]
    return report.signature_valid and not other, other


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench report``."""
    parser = argparse.ArgumentParser(prog="mammobench report", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="run folder holding result.json")
    parser.add_argument("--answers", type=Path, help="YAML answers to checklist items that need human input")
    parser.add_argument("--kind", choices=KINDS, default="auto", help="report outline (default: auto)")
    parser.add_argument("--no-sign", action="store_true", help="do not re-sign the run manifest")
    args = parser.parse_args(argv)
    was_signed = (args.run_dir / MANIFEST).exists()
    intact, problems = _only_report_changed(args.run_dir) if was_signed else (False, [])
    paths = render_report(args.run_dir, answers=args.answers, kind=args.kind)
    print(f"report: {paths['html']}\n        {paths['md']}\n        {paths['json']}")
    if was_signed and not args.no_sign:
        if intact:
            sign_run(args.run_dir)
            print(f"re-signed: {args.run_dir / MANIFEST}")
        else:
            print("warning: not re-signed — the run's signature is invalid or its artefacts changed: "
                  + ", ".join(problems or ["signature"]))
    return 0
