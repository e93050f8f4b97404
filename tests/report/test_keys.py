"""The signing key is created once, even when two first runs start at the same moment."""
from __future__ import annotations

import multiprocessing as mp
import stat

from mammobench.report.keys import fingerprint_of, load_or_create_key


def _create(path: str, barrier, out) -> None:
    barrier.wait()
    out.put(fingerprint_of(load_or_create_key(path)))


def test_concurrent_first_use_gives_every_process_the_same_key(tmp_path):
    path = tmp_path / "cfg" / "signing_key.pem"
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_create, args=(str(path), barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    prints = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(timeout=60)
    assert prints == {fingerprint_of(load_or_create_key(path))}  # one key: the one on disk
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["signing_key.pem"]  # no temporary left behind


def test_existing_key_is_loaded_not_replaced(tmp_path):
    path = tmp_path / "k.pem"
    first = fingerprint_of(load_or_create_key(path))
    assert fingerprint_of(load_or_create_key(path)) == first
