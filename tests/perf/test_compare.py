"""mammobench perf --compare: per-figure ratios, direction-aware verdicts, machine differences."""
from __future__ import annotations

import copy

import pytest

from mammobench.commands import perf as perf_cmd
from mammobench.errors import SchemaError
from mammobench.io import atomic_write_json
from mammobench.perf.compare import compare_results, format_comparison
from mammobench.perf.suite import figure


def _result(figs, cpus=2, sha="a" * 40):
    return {"schema_version": "1.0", "kind": "mammobench-perf", "figures": figs,
            "machine": {"cpu_count": cpus, "device": "cpu", "git_sha": sha, "versions": {"torch": "2.0"},
                        "load_average": [1.0, 1.0, 1.0]}}


OLD = _result([figure("sim", "images_per_s", 10.0, "images/s"), figure("boot", "ours_s", 4.0, "s",
                                                                        higher_is_better=False),
               figure("cache", "build_s", 2.0, "s", higher_is_better=False), figure("gone", "x", 1.0, "s")])


def test_compare_ratios_and_verdicts():
    new = _result([figure("sim", "images_per_s", 5.0, "images/s"), figure("boot", "ours_s", 2.0, "s",
                                                                          higher_is_better=False),
                   figure("cache", "build_s", 2.1, "s", higher_is_better=False), figure("new", "y", 3.0, "s")],
                  cpus=16, sha="b" * 40)
    cmp = compare_results(OLD, new)
    rows = {r["benchmark"]: r for r in cmp["rows"]}
    assert rows["sim"]["ratio"] == pytest.approx(0.5) and rows["sim"]["verdict"] == "worse"
    assert rows["boot"]["ratio"] == pytest.approx(0.5) and rows["boot"]["verdict"] == "better"
    assert rows["cache"]["verdict"] == "same"                          # within the 10 % noise band
    assert cmp["only_old"] == [("gone", "x")] and cmp["only_new"] == [("new", "y")]
    assert cmp["machine_differences"]["cpu_count"] == (2, 16)
    text = format_comparison(cmp)
    assert "cpu_count differs: 2 → 16" in text and "0.500" in text and "only in old: gone / x" in text


def test_compare_cli(tmp_path, capsys):
    new = copy.deepcopy(OLD)
    new["figures"][0]["value"] = 20.0
    atomic_write_json(tmp_path / "old.json", OLD)
    atomic_write_json(tmp_path / "new.json", new)
    assert perf_cmd.main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("sim"))
    assert "2.000" in line and "better" in line
    (tmp_path / "bad.json").write_text('{"kind": "other"}')
    with pytest.raises(SchemaError, match="bad.json"):
        perf_cmd.main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "bad.json")])
