"""The report's sections, in one registry: what each shows first (figures), how it reads them, then tables.

A :class:`Section` names its lead figures (shown), its further figures (collapsed under "more
figures"), the reading function that puts the figure into words, the full tables (collapsed), and an
optional ``body`` macro of ``report.html.j2`` for content that is not a table (plan hashes, cards,
checklists, provenance). :data:`OUTLINES` orders the sections per report kind; :func:`build_sections`
resolves them against the run's figures and tables into plain data the templates iterate over.

Adding a section needs no change to the template: register its figure function in
``figure_set.FIGURE_BUILDERS``, then ``register_section(Section("my_section", "Title …", lead=("fig",),
more=("fig_*",), readings=(...,)), after="results")``. Each figure is shown once: a figure named exactly
(no glob) belongs to the section that names it (the one registered last wins); glob patterns take what
is left, in outline order. The ``detection`` section (FROC, wAFROC, sensitivity by subgroup, galleries;
``report/detection_section.py``) is left out of a run that has none of its figures or tables.

Example:
    >>> [s for s in OUTLINES["submission"][:3]]
    ['verdict', 'utility', 'fairness']
    >>> matching(["roc_density", "roc_vendor", "froc"], ("roc_*",))
    ['roc_density', 'roc_vendor']
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Callable, Sequence

from mammobench.report import readings as R
from mammobench.report.detection_section import detection_reading
from mammobench.report.evidence import RunData

Reading = Callable[[RunData, dict], list]


@dataclass(frozen=True)
class Section:
    """One report section: anchor id, title, figures (lead shown, more collapsed), reading, tables, body."""

    id: str
    title: str
    lead: tuple[str, ...] = ()
    more: tuple[str, ...] = ()
    readings: tuple[Reading, ...] = ()
    tables: tuple[str, ...] = ()
    body: str = ""
    nav: str = ""
    body_first: bool = False


SECTIONS: dict[str, Section] = {s.id: s for s in (
    Section("verdict", "Answer: does the synthetic data help, and how sure is it?", lead=("forest_delta",),
            readings=(R.verdict_reading, R.forest_reading), body="verdict", nav="answer", body_first=True),
    Section("utility", "Utility: paired change against the control", lead=("effect_vs_ratio",),
            readings=(R.utility_reading,), tables=("comparisons", "comparisons-other"), nav="utility"),
    Section("fairness", "Subgroups and fairness", lead=("forest",), readings=(R.gap_reading,),
            tables=("gaps", "fairness-table", "interactions"), nav="subgroups"),
    Section("results", "Discrimination: ROC", lead=("roc_density",), more=("roc_*",),
            readings=(R.discrimination_reading,), tables=("metrics",), nav="ROC"),
    Section("detection", "Detection: FROC, wAFROC and lesion sensitivity by subgroup",
            lead=("froc", "det_sens_forest", "det_false_marks"), more=("det_gallery_*",),
            readings=(detection_reading,), tables=("detection-wafroc", "detection-sensitivity"), nav="detection"),
    Section("calibration", "Calibration", lead=("calibration",), readings=(R.calibration_reading,),
            nav="calibration"),
    Section("samples", "Sample grids: real vs synthetic", lead=("samples_*_density",), more=("samples_*",),
            readings=(R.sample_reading,), nav="samples"),
    Section("audits", "Audits: fidelity, memorisation, leakage, bias", lead=("dist_*",), more=("nn_*",),
            readings=(R.audit_reading,), tables=("audit-table",), nav="audits"),
    Section("generator", "Generators, arms and synthetic-data disclosure", body="generator", nav="arms"),
    Section("cohort", "Cohort and flow", lead=("cohort_flow",), readings=(R.cohort_reading,), body="cohort",
            nav="cohort"),
    Section("partitions", "Partition characteristics", lead=("partition_density",), more=("partition_*",),
            body="partitions", nav="partitions"),
    Section("plan", "Pre-specified analysis plan", body="plan", nav="plan"),
    Section("reader-study", "Reader study", body="reader", nav="reader"),
    Section("checklists", "Reporting checklists", body="checklists", nav="checklists"),
    Section("provenance", "Provenance and reproducibility", body="provenance", nav="provenance"),
    Section("selftest", "Self-test: known-answer trials", tables=("selftest-table",), nav="self-test"),
)}

OUTLINES: dict[str, list[str]] = {
    "submission": ["verdict", "utility", "fairness", "results", "detection", "calibration", "samples", "audits", "generator",
                   "cohort", "partitions", "plan", "reader-study", "checklists", "provenance", "selftest"],
    "predeployment": ["verdict", "fairness", "results", "detection", "calibration", "utility", "cohort", "partitions",
                      "generator", "audits", "samples", "reader-study", "plan", "checklists", "provenance",
                      "selftest"],
}


def register_section(section: Section, *, after: str) -> None:
    """Add (or replace) a section and place it after ``after`` in every outline that has that section."""
    SECTIONS[section.id] = section
    for outline in OUTLINES.values():
        if section.id in outline:
            outline.remove(section.id)
        if after in outline:
            outline.insert(outline.index(after) + 1, section.id)


def matching(names: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """Figure names matching any of the glob ``patterns``, in figure order."""
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _owners() -> dict[str, str]:
    """Figures named exactly (no glob) by a section's lead/more belong to it; a later registration wins."""
    owners = {}
    for section in SECTIONS.values():
        for name in section.lead + section.more:
            if not any(ch in name for ch in "*?["):
                owners[name] = section.id
    return owners


def _figures(section: Section, names: list[str], taken: set[str]) -> tuple[list[str], list[str]]:
    """Lead and further figures of a section, each figure placed once in the whole report."""
    owners = _owners()
    free = [n for n in names if n not in taken and owners.get(n, section.id) == section.id]
    lead = matching(free, section.lead)
    more = [n for n in matching(free, section.more) if n not in lead]
    lead, more = (lead, more) if lead else (more[:1], more[1:])
    taken.update(lead + more)
    return lead, more


def build_sections(data: RunData, page: dict, figure_names: list[str], kind: str) -> list[dict]:
    """The outline of ``kind`` as ``[{id, title, nav, lead, more, reading, tables (ids), body, body_first}]`` (selftest only
    when the run has self-test rows)."""
    out, taken = [], set()
    for sid in OUTLINES[kind]:
        section = SECTIONS[sid]
        if sid == "selftest" and not page.get("selftest"):
            continue
        lead, more = _figures(section, figure_names, taken)
        if sid == "detection" and not (lead or more or any(t in page["tables"] for t in section.tables)):
            continue  # not a detection run
        reading = [sentence for fn in section.readings for sentence in fn(data, page)]
        out.append({"id": sid, "title": section.title, "nav": section.nav or sid, "lead": lead, "more": more,
                    "reading": reading, "tables": [t for t in section.tables if t in page["tables"]],
                    "body": section.body, "body_first": section.body_first})
    return out
