"""Atomic writes, JSON hygiene, hashing and run locks."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from mammobench.errors import RunLockedError, SchemaError
from mammobench.io import RunLock, atomic_write_json, read_json, sha256_file, sha256_json, to_json_text


def test_atomic_json_roundtrip_and_nan(tmp_path):
    p = tmp_path / "a" / "b.json"
    atomic_write_json(p, {"x": math.nan, "y": [1.5, math.inf]})
    assert read_json(p) == {"x": None, "y": [1.5, None]}
    assert not [f for f in os.listdir(p.parent) if f.endswith(".tmp")]


def test_failed_write_keeps_old_file(tmp_path):
    p = tmp_path / "r.json"
    atomic_write_json(p, {"ok": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(p, {"bad": Boom()})
    assert read_json(p) == {"ok": 1}
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


def test_read_json_errors_name_the_file(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text("{not json")
    with pytest.raises(SchemaError, match="broken.json"):
        read_json(p)
    with pytest.raises(SchemaError, match="not found"):
        read_json(tmp_path / "missing.json")


def test_hashes_are_stable(tmp_path):
    assert sha256_json({"b": 1, "a": 2}) == sha256_json({"a": 2, "b": 1})
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert json.loads(to_json_text({"z": 1}))["z"] == 1


def test_run_lock_excludes_second_process(tmp_path):
    code = ("import sys; from mammobench.io import RunLock\n"
            "try:\n    RunLock(sys.argv[1]).__enter__()\nexcept Exception as e:\n    print(type(e).__name__)")
    with RunLock(tmp_path):
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
        assert out.stdout.strip() == "RunLockedError"
    with RunLock(tmp_path):  # released, can be taken again
        pass
    with RunLock(tmp_path):
        with pytest.raises(RunLockedError, match="another mammobench process"):
            RunLock(tmp_path).__enter__()


def test_run_lock_can_wait_for_the_holder(tmp_path):
    """A shared cache (the cohort) waits for another process instead of failing; a timeout still fails, by name."""
    code = "import sys, time; from mammobench.io import RunLock\nwith RunLock(sys.argv[1]):\n    print('held', flush=True); time.sleep(float(sys.argv[2]))"
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), "2"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with RunLock(tmp_path, wait=60, what="cohort"):  # the holder lets go after 2 s, far inside the 60 s
        assert holder.wait(timeout=30) == 0  # taken only once the holder had released it
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=r"writing this cohort \(waited 0.3 s\)"):
            RunLock(tmp_path, wait=0.3, what="cohort").__enter__()
    finally:
        holder.kill()
        holder.wait()


def test_atomic_write_uses_normal_permissions(tmp_path):
    p = tmp_path / "perm.txt"
    atomic_write_json(p, {})
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~mask)
