"""``mammobench data adapters | inspect | prepare`` end to end on a replica (and resumable prepare)."""
from __future__ import annotations

import json

from mammobench.cli import main
from mammobench.data.cache import ImageCache
import tests.helpers.data_replicas as rep


def test_adapters_lists_every_builtin(capsys):
    assert main(["data", "adapters"]) == 0
    out = capsys.readouterr().out
    for name in ("vindr", "cbis_ddsm", "rsna", "cmmd", "inbreast", "embed", "csaw_cc", "manifest", "virtual_cohort"):
        assert name in out


def test_inspect_and_prepare(tmp_path, capsys):
    rep.make_vindr(tmp_path / "d")
    (tmp_path / "d" / "images" / "s2" / "s2LCC.dicom").unlink()
    assert main(["data", "inspect", str(tmp_path / "d"), "--adapter", "vindr", "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "cohort flow" in out and "excluded 1: file not found" in out and "[files] s2LCC" in out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["flow"][-1]["n_images"] == 7 and summary["rejects"][0]["image_id"] == "s2LCC"
    args = ["data", "prepare", str(tmp_path / "d"), "--adapter", "vindr", "--out", str(tmp_path / "o"),
            "--size", "32", "--workers", "1"]
    assert main(args) == 0
    cache = ImageCache.open(tmp_path / "o" / "cache")
    assert len(cache.index) == 7 and set(cache.index["split"]) <= {"train", "val", "test"}
    assert main(args) == 0  # re-run reuses the finished cache
    assert "7 images at 32×32" in capsys.readouterr().out


def test_unknown_adapter_is_a_clean_error(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path), "--adapter", "vindir"]) == 2
    assert "Did you mean 'vindr'" in capsys.readouterr().err
