"""``mammobench audit`` end to end on a tiny prepared dataset and folder submission."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from threadpoolctl import threadpool_limits

from tests.helpers.audits import make_manifest, render
from mammobench.commands.audit import main
from mammobench.errors import DataError

torch.set_num_threads(1)  # 2 shared cores: oversubscription makes small kernels 10x slower
threadpool_limits(1)


def _prepared(root, size=32):
    """A folder shaped like `mammobench data prepare --out`: manifest.csv + a finished cache/."""
    parts = [make_manifest(30, seed=s, split=split, prefix=split[:2]) for s, split in ((0, "train"), (1, "val"), (2, "test"))]
    manifest = pd.concat(parts, ignore_index=True)
    images = render(manifest, size=size, seed=7)
    cache = root / "cache"
    cache.mkdir(parents=True)
    mm = np.memmap(cache / "images.u16", dtype=np.uint16, mode="w+", shape=images.shape)
    mm[:] = np.round(images * 65535)
    mm.flush()
    (cache / "cache.json").write_text(json.dumps({"complete": True, "shape": list(images.shape)}))
    pd.DataFrame({"image_id": manifest["image_id"], "row": range(len(manifest)), "patient_id": manifest["patient_id"],
                  "split": manifest["split"], "findings": "[]", "transform": "{}"}).to_csv(cache / "index.csv", index=False)
    pd.DataFrame(columns=["path", "image_id", "reason"]).to_csv(cache / "rejects.csv", index=False)
    manifest.to_csv(root / "manifest.csv", index=False)
    return manifest, images


def _submission(folder, images, manifest, *, training_data="tiny:train"):
    from PIL import Image

    (folder / "img").mkdir(parents=True)
    rows = []
    for i, (img, r) in enumerate(zip(images, manifest.itertuples())):
        Image.fromarray(np.round(img * 65535).astype(np.uint16)).save(folder / "img" / f"{i}.png")
        findings = [] if r.label == "normal" else [{"box": [4, 4, 12, 12], "lesion_type": r.lesion_type,
                                                    "pathology": r.label}]
        rows.append({"file": f"img/{i}.png", "label": r.label, "lesion_type": r.lesion_type, "density": r.density,
                     "age_band": r.age_band, "view": r.view, "findings": json.dumps(findings)})
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    (folder / "card.yaml").write_text(
        "name: subm\nversion: '1'\nkind: folder\nlicence: MIT\nintended_use: test\n"
        f"conditioning: [density, lesion_type, label]\ntraining_data: [{training_data}]\n")


def test_audit_cli_copies_fail_and_write_records(tmp_path, capsys):
    manifest, images = _prepared(tmp_path / "real")
    train = manifest["split"].to_numpy() == "train"
    _submission(tmp_path / "syn", np.clip(images[train] + 0.005, 0, 1), manifest[train])
    patients = tmp_path / "patients.txt"
    patients.write_text("\n".join(sorted(set(manifest.loc[train, "patient_id"])) + ["te0001"]))
    code = main(["--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "syn"), "--out", str(tmp_path / "o"),
                 "--epochs", "4", "--no-cas", "--training-patients", str(patients)])
    text = capsys.readouterr().out
    assert code == 1
    assert "memorisation/copy_detection_pixel" in text and "fail" in text
    records = {r["check"]: r for r in json.loads((tmp_path / "o" / "audits" / "subm.json").read_text())}
    assert records["patient_overlap"]["status"] == "fail" and "te0001" in records["patient_overlap"]["message"]
    assert records["copy_detection_pixel"]["value"] == 1.0
    assert (tmp_path / "o" / records["copy_detection_pixel"]["evidence"]["pairs_file"]).is_file()


def test_audit_cli_extra_timm_extractor(tmp_path, capsys):
    import timm

    manifest, images = _prepared(tmp_path / "real")
    test = manifest["split"].to_numpy() == "test"
    _submission(tmp_path / "syn", images[test], manifest[test])
    torch.save(timm.create_model("test_resnet", pretrained=False, num_classes=0).state_dict(), tmp_path / "tr.pth")
    code = main(["--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "syn"), "--out", str(tmp_path / "o"),
                 "--epochs", "2", "--no-cas", "--json", "--timm-checkpoint", str(tmp_path / "tr.pth"),
                 "--timm-arch", "test_resnet", "--timm-resolution", "32"])
    records = json.loads(capsys.readouterr().out)
    timm_fd = [r for r in records if r["check"].startswith("frechet_distance[timm:test_resnet")]
    assert len(timm_fd) == 1 and timm_fd[0]["evidence"]["resolution"] == [32, 32]
    assert code in (0, 1)


def test_audit_cli_rejects_unknown_real_layout(tmp_path):
    manifest, images = _prepared(tmp_path / "real")
    _submission(tmp_path / "syn", images[:6], manifest.iloc[:6])
    with pytest.raises(DataError, match="not a prepared dataset"):
        main(["--real", str(tmp_path / "syn"), "--synthetic", str(tmp_path / "syn"), "--out", str(tmp_path / "o")])
