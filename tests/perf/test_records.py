"""Perf records kept in the repo: ratio check (planted drop fails), CI check against the committed ci
record, idle/under-load labels, README table generated from the records."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from mammobench.commands import perf as perf_cmd
from mammobench.errors import ConfigError, MammoBenchError, SchemaError
from mammobench.io import atomic_write_json
from mammobench.perf import readme, records
from mammobench.perf.compare import load_perf
from mammobench.perf.runner import run_perf
from mammobench.perf.suite import figure

ROOT = Path(__file__).resolve().parents[2]

def _result(ratios: dict[str, float], scale: str = "tiny", created: str = "2026-12-05T10:00:00Z",
            load=(0.2, 0.2, 0.2), load_end=(0.8, 0.3, 0.2)) -> dict:
    figs = [figure(b, "x", 1.0, "s", ratio=r, baseline="base") for b, r in ratios.items()]
    figs.append(figure("sim", "images_per_s", 10.0, "images/s"))  # no ratio: never compared
    return {"schema_version": "1.0", "kind": "mammobench-perf", "created": created, "scale": scale,
            "figures": figs, "benchmarks": [{"name": b, "status": "ok"} for b in [*ratios, "sim"]],
            "machine": {"cpu_count": 2, "usable_cpus": 2, "device": "cpu", "git_sha": "abcdef0123", "versions": {},
                        "cpu_model": "Test CPU", "load_average": list(load)},
            "load_average_end": list(load_end)}


def test_planted_ratio_drop_fails_and_small_changes_pass(tmp_path, capsys):
    old = _result({"bootstrap": 300.0, "cache": 100.0})
    new = _result({"bootstrap": 90.0, "cache": 70.0})  # bootstrap fell 3.3×, cache 1.4×
    bad = records.ratio_regressions(old, new, max_drop=2.0)
    assert [(r["benchmark"], round(r["drop"], 2)) for r in bad] == [("bootstrap", 3.33)]
    assert records.ratio_regressions(old, new, max_drop=4.0) == []
    atomic_write_json(tmp_path / "old.json", old)
    atomic_write_json(tmp_path / "new.json", new)
    assert perf_cmd.main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 1
    assert "REGRESSION bootstrap / x: ratio 300 → 90 (fell 3.3×)" in capsys.readouterr().out
    assert perf_cmd.main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json"),
                          "--max-drop", "4"]) == 0
    with pytest.raises(ConfigError, match="must be > 1"):
        records.ratio_regressions(old, new, max_drop=0.5)
    with pytest.raises(SchemaError, match="no figure with a ratio"):
        records.check_ratios(old, _result({"other": 1.0}))
    with pytest.raises(MammoBenchError, match="missing.json"):  # checked before minutes of measuring
        perf_cmd.main(["--only", "bootstrap", "--compare", str(tmp_path / "missing.json")])
    with pytest.raises(ConfigError, match="0, 1 or 2 files"):
        perf_cmd.main(["--compare", "a", "b", "c"])


def test_measured_run_fails_against_a_record_with_a_planted_higher_ratio(tmp_path, capsys):
    """--compare FILE measures now; a record whose ratios are 100× today's must make it exit 1."""
    first = tmp_path / "now.json"
    assert perf_cmd.main(["--tiny", "--only", "delong", "--json", str(first)]) == 0
    planted = copy.deepcopy(load_perf(first))
    for f in planted["figures"]:
        if f["ratio"]:
            f["ratio"] *= 100
    atomic_write_json(tmp_path / "planted.json", planted)
    capsys.readouterr()
    assert perf_cmd.main(["--tiny", "--only", "delong", "--compare", str(tmp_path / "planted.json")]) == 1
    assert "REGRESSION delong / fast_s" in capsys.readouterr().out


def test_ci_scale_runs_the_ci_benchmarks_and_its_check_allows_a_stated_fall(tmp_path, capsys):
    """`--ci` is the ratio check of `make test`: its own sizes, its own record, a 5× allowance (records.CI_MAX_DROP)."""
    with pytest.raises(ConfigError, match="simulator have no 'ci' size"):
        run_perf(["simulator"], scale="ci")
    with pytest.raises(ConfigError, match="choose one scale"):
        perf_cmd.main(["--ci", "--tiny"])
    old = _result({"bootstrap": 300.0}, scale="ci")
    atomic_write_json(tmp_path / "old.json", old)
    atomic_write_json(tmp_path / "fell4.json", _result({"bootstrap": 75.0}, scale="ci"))
    atomic_write_json(tmp_path / "fell6.json", _result({"bootstrap": 50.0}, scale="ci"))
    assert perf_cmd.main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "fell4.json")]) == 1  # default 2×
    assert perf_cmd.main(["--ci", "--compare", str(tmp_path / "old.json"), str(tmp_path / "fell4.json")]) == 0
    assert perf_cmd.main(["--ci", "--compare", str(tmp_path / "old.json"), str(tmp_path / "fell6.json")]) == 1
    assert "REGRESSION bootstrap / x: ratio 300 → 50 (fell 6.0×)" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="perf --ci --save-record"):
        records.newest_record("ci", tmp_path / "none")


@pytest.mark.slow  # `make test` runs the same check (`make perf-check`) once, outside pytest
def test_ci_run_passes_the_ratio_check_against_the_committed_record(capsys):
    """`mammobench perf --ci --compare` against the newest committed ci record."""
    path, rec = records.newest_record("ci")
    assert path.parent == records.RECORDS_DIR and rec["machine"]["cpu_model"]
    code = perf_cmd.main(["--ci", "--compare"])
    out = capsys.readouterr().out
    assert "ratio check against" in out and path.name in out
    assert code == 0, out


def test_records_names_conditions_and_newest(tmp_path):
    a = _result({"b": 1.0}, created="2026-12-01T00:00:00Z")
    b = _result({"b": 1.0}, created="2026-12-04T00:00:00Z", load=(5.0, 5.0, 5.0))
    c = _result({"b": 1.0}, scale="default", created="2026-12-05T00:00:00Z")
    for r in (a, b, c):
        records.save_record(r, tmp_path)
    assert records.record_name(b) == "2026-12-04-abcdef0-tiny.json"
    path, newest = records.newest_record("tiny", tmp_path)
    assert path.name == "2026-12-04-abcdef0-tiny.json" and records.load_condition(newest) == "under load"
    assert records.load_condition(a) == "idle"
    assert records.load_condition(_result({}, load_end=(2.5, 1, 1))) == "under load"
    with pytest.raises(ConfigError, match="no perf record of scale 'selected'.*--save-record"):
        records.newest_record("selected", tmp_path)
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(SchemaError, match="junk.json"):
        records.list_records(tmp_path)


def test_readme_table_equals_what_the_committed_records_generate():
    assert readme.readme_block(ROOT / "README.md") == readme.generated_block(), \
        "README's perf table is stale: run `mammobench perf --readme`"


def test_readme_table_rows_and_update(tmp_path):
    records.save_record(_result({"bootstrap": 300.0}, scale="selected"), tmp_path / "recs")
    records.save_record(_result({"bootstrap": 5.0}), tmp_path / "recs")  # tiny: not in the table
    records.save_record(_result({"bootstrap": 7.0}, scale="ci"), tmp_path / "recs")  # nor ci
    idle_late = _result({"bootstrap": 250.0}, scale="selected", created="2026-12-06T00:00:00Z", load=(3.0, 3, 3))
    records.save_record(idle_late, tmp_path / "recs")
    block = readme.generated_block(tmp_path / "recs")
    rows = [ln for ln in block.splitlines() if ln.startswith("| bootstrap")]
    assert rows == ["| bootstrap | x | 1 s | 250.0× | base | under load [1] |"]
    assert ("[1] `2026-12-06-abcdef0-selected.json`: under load (1-min load average 3.0 → 0.8), Test CPU, "
            "2 usable CPUs") in block
    doc = tmp_path / "README.md"
    doc.write_text(f"# T\n\n{readme.START}\nold\n{readme.END}\ntail\n")
    assert perf_cmd.main(["--readme", str(doc)]) == 0  # from the committed records
    readme.update_readme(doc, tmp_path / "recs")
    assert doc.read_text().startswith("# T\n\n" + block) and doc.read_text().endswith("\ntail\n")
    doc.write_text("no markers")
    with pytest.raises(SchemaError, match="no generated perf table"):
        readme.update_readme(doc, tmp_path / "recs")
