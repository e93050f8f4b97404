"""mammobench perf: runner, JSON schema, failure isolation, e2e timings, CLI (tiny sizes, no timing assertions)."""
from __future__ import annotations

import json

import pytest

from mammobench.commands import perf as perf_cmd
from mammobench.errors import ConfigError, SchemaError
from mammobench.io import atomic_write_json
from mammobench.perf import suite
from mammobench.perf.compare import load_perf
from mammobench.perf.e2e import bench_e2e, stage_timings
from mammobench.perf.runner import SCHEMA_VERSION, format_table, run_perf, select, validate_perf
from mammobench.results import minimal_result, write_result


def test_run_perf_schema_and_json_round_trip(tmp_path):
    res = run_perf(["delong", "bootstrap"], scale="tiny", workdir=tmp_path)
    assert res["schema_version"] == SCHEMA_VERSION and res["kind"] == "mammobench-perf"
    machine = res["machine"]
    for key in ("cpu_count", "torch_threads", "device", "versions", "git_sha", "load_average"):
        assert key in machine
    assert {"torch", "numpy", "fairlearn"} <= set(machine["versions"])
    assert [b["name"] for b in res["benchmarks"]] == ["bootstrap", "delong"]
    assert all(b["status"] == "ok" for b in res["benchmarks"])
    boot = res["benchmarks"][0]
    assert boot["params"] == suite.BENCHMARKS["bootstrap"].scales["tiny"]
    figs = {(f["benchmark"], f["figure"]): f for f in res["figures"]}
    speed = figs[("bootstrap", "ours_s")]
    assert speed["ratio"] == pytest.approx(boot["details"]["speedup"]) and "fairlearn" in speed["baseline"]
    assert figs[("delong", "max_abs_diff")]["value"] < 1e-12          # fast DeLong equals the pairwise one
    assert figs[("memory", "self_peak_rss_mb")]["value"] > 0
    path = tmp_path / "perf.json"
    atomic_write_json(path, res)                                      # int group keys must serialise
    back = load_perf(path)
    assert back["figures"] == json.loads(json.dumps(res["figures"]))
    table = format_table(back)
    assert "bootstrap" in table and "load average" in table


def test_named_benchmark_uses_selected_scale():
    assert suite.BENCHMARKS["bootstrap"].params("selected") == {"n_cases": 10000, "n_groups": 4, "n_boot": 1000}
    assert suite.BENCHMARKS["delong"].params("selected") == suite.BENCHMARKS["delong"].params("default")


def test_select_and_unknown_name():
    assert "e2e" not in select(quick_only=True) and "e2e" in select()
    with pytest.raises(ConfigError, match="bootstarp.*valid: simulator"):
        select(["bootstarp"])


def test_failing_benchmark_is_recorded_and_others_run(tmp_path, monkeypatch):
    def broken(params, workdir):
        raise RuntimeError("boom")

    bad = suite.Benchmark("broken", "always fails", broken, lambda d: [], {"tiny": {}})
    monkeypatch.setitem(suite.BENCHMARKS, "broken", bad)
    res = run_perf(["broken", "delong"], scale="tiny", workdir=tmp_path)
    status = {b["name"]: (b["status"], b["error"]) for b in res["benchmarks"]}
    assert status["broken"] == ("error", "RuntimeError: boom") and status["delong"][0] == "ok"
    assert "FAILED broken: RuntimeError: boom" in format_table(res)


def test_validate_perf_rejects_other_files():
    with pytest.raises(SchemaError, match="not a mammobench perf result"):
        validate_perf({"schema_version": "1.0"}, source="x.json")
    with pytest.raises(SchemaError, match="schema_version '2.0'"):
        validate_perf({"kind": "mammobench-perf", "schema_version": "2.0", "figures": []})
    with pytest.raises(SchemaError, match="figures"):
        validate_perf({"kind": "mammobench-perf", "schema_version": "1.0", "figures": [{"value": 1}]})


def _run_with_timings(folder, timings):
    result = minimal_result(folder.name)
    result["timings"] = timings
    folder.mkdir(parents=True)
    write_result(folder / "result.json", result)


def test_e2e_reads_stage_timings_of_finished_runs(tmp_path):
    _run_with_timings(tmp_path / "runs" / "a", {"cohort": 2.0, "cells": 10.5})
    _run_with_timings(tmp_path / "runs" / "b", {"cells": 1.5, "audits": 3.0})
    assert stage_timings([tmp_path / "runs" / "a", tmp_path / "runs" / "b"]) == {"cohort": 2.0, "cells": 12.0,
                                                                                 "audits": 3.0}
    one = bench_e2e(run_dir=tmp_path / "runs" / "a")
    assert one["stages"] == {"cohort": 2.0, "cells": 10.5} and one["wall_s"] is None
    assert bench_e2e(run_dir=tmp_path / "runs")["stage_total_s"] == pytest.approx(17.0)
    with pytest.raises(ConfigError, match="no result.json"):
        bench_e2e(run_dir=tmp_path / "empty")


def test_cli_tiny_run_writes_json_and_run_dir_figures(tmp_path, capsys):
    _run_with_timings(tmp_path / "run", {"cohort": 2.0, "cells": 10.5})
    out = tmp_path / "perf.json"
    assert perf_cmd.main(["--tiny", "--only", "delong,e2e", "--run-dir", str(tmp_path / "run"),
                          "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "stage:cells" in printed and "written:" in printed
    res = load_perf(out)
    assert res["command"][:2] == ["mammobench", "perf"]
    assert {f["figure"] for f in res["figures"] if f["benchmark"] == "e2e"} == {"stage:cohort", "stage:cells",
                                                                                "stage_total_s"}


def test_cli_bad_options():
    with pytest.raises(ConfigError, match="--e2e none"):
        perf_cmd.main(["--only", "e2e", "--e2e", "none"])
    with pytest.raises(SystemExit):
        perf_cmd.main(["--e2e", "full"])


def test_e2e_child_failure_is_a_clear_error(tmp_path):
    from mammobench.errors import MammoBenchError
    from mammobench.perf.e2e import run_suite

    with pytest.raises(MammoBenchError, match="exited 2"):
        run_suite("no-such-profile", tmp_path, timeout_s=120)
    assert (tmp_path / "e2e-no-such-profile.log").is_file()
