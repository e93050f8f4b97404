"""A hospital's plain DICOM export for the ``dicom`` adapter: PACS-style nesting, files without extensions, a labels
sheet keyed per breast — and, with ``defects=True``, what real exports contain.

Layout: ``DICOMDIR``, ``README.txt``, ``DICOM/PAT0001/ST01/SE01/IM00001`` (no extension; every tenth file ``.dcm``),
``labels.csv`` (or ``labels.xlsx``) with ``AccessionNumber, Side, MRN, Outcome, ACR``: one row per breast,
``Outcome`` 0 = normal, 1 = malignant, B = benign. Ages ``0NNY``, JPEG 2000 / JPEG-LS / RLE, MONOCHROME1.

Run it to make the 1,000-file folder for the throughput figure (4 images per patient)::

    python -m tests.helpers.pacs_export /tmp/pacs1000 --images 1000
    time mammobench data prepare /tmp/pacs1000 --adapter dicom --labels labels.csv \\
        --key-column AccessionNumber,Side=ImageLaterality --label-column Outcome \\
        --label-map "0=normal,1=malignant,B=benign" --out /tmp/pacs1000-out --size 128 --workers 2 --quiet
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.data.dicom_write import phantom, write_dicom

OUTCOMES = ("0", "0", "0", "B", "1")
LABEL_MAP = "0=normal,1=malignant,B=benign"


def _write(path: Path, k: int, side: str, view: str, patient: str, accession: str, *, size: tuple[int, int],
           **kw) -> Path:
    px = phantom(k, size, side=side)
    mono1 = k % 7 == 3
    return write_dicom(path, (4095 - px).astype(np.uint16) if mono1 else px,
                       syntax=kw.pop("syntax", ("native", "j2k", "jpegls", "rle")[k % 4]), photometric="MONOCHROME1" if mono1 else "MONOCHROME2", laterality=side, view=view,
                       age=f"{40 + k % 40:03d}Y", patient_id=patient, study_uid=f"1.2.826.0.1.3680043.9.{int(''.join(filter(str.isdigit, accession)) or 0)}",
                       sop_uid=f"1.2.826.0.1.3680043.10.{k}", manufacturer=("HOLOGIC, Inc.", "GE MEDICAL SYSTEMS")[k % 2],
                       extra={"AccessionNumber": accession, **kw.pop("extra", {})}, **kw)


def write_pacs_export(root: str | Path, *, images: int = 16, seed: int = 0, defects: bool = False,
                      size: tuple[int, int] = (64, 48), labels: str = "csv") -> dict:
    """Write the export; returns what a test checks (folder, expected counts)."""
    root = Path(root)
    rows, k = [], 0
    for p in range(max(1, images // 4)):
        patient, accession = f"PAT{p + 1:04d}", f"ACC{seed:02d}{p + 1:05d}"
        series = root / "DICOM" / patient / "ST01"
        for lat in ("L", "R"):
            rows.append([accession, lat, patient, OUTCOMES[(p + (lat == "R")) % len(OUTCOMES)], "ABCD"[p % 4]])
            for view in ("CC", "MLO"):
                name = f"IM{k + 1:05d}" + (".dcm" if k % 10 == 9 else "")
                _write(series / f"SE{1 + (view == 'MLO'):02d}" / name, k, lat, view, patient, accession, size=size)
                k += 1
    (root / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")  # media directory: skipped, not an image
    (root / "README.txt").write_text("Exported from PACS\n")
    expected = {"root": root, "n_included": k, "n_rejected": 0}
    if defects:
        expected = _add_defects(root, rows, size)
    table = pd.DataFrame(rows, columns=["AccessionNumber", "Side", "MRN", "Outcome", "ACR"])
    if labels == "xlsx":
        table.to_excel(root / "labels.xlsx", index=False)
    else:
        table.to_csv(root / "labels.csv", index=False)
    return expected


def _add_defects(root: Path, rows: list[list], size: tuple[int, int]) -> dict:
    """Eight defective files and two label problems; the 16 clean images of PAT0001–PAT0004 stay."""
    from mammobench.data.dicom_marker import write_synthetic_dicom

    odd = root / "DICOM" / "PAT0099" / "ST01" / "SE01"
    acc = "ACC0099999"
    rows += [[acc, "L", "PAT0099", "0", "B"], [acc, "R", "PAT0099", "1", "B"], ["ACC_NO_IMAGE", "L", "PAT0098", "0", "A"]]
    _write(odd / "IM90001", 901, "L", "CC", "PAT0099", acc, size=size, extra={"Modality": "US"})
    _write(odd / "IM90002", 902, "L", "CC", "PAT0099", acc, size=size, extra={"PresentationIntentType": "FOR PROCESSING"})
    _write(odd / "IM90003", 903, "L", "MLO", "PAT0099", acc, size=size, sop_class="1.2.840.10008.5.1.4.1.1.7")
    _write(odd / "IM90004", 904, "R", "CC", "PAT0099", acc, size=size, extra={"Modality": "SR"}, with_pixels=False)
    write_synthetic_dicom(odd / "IM90005", np.full(size, 0.5), generator="ddpm", version="0.3.0", seed=1)
    shutil.copy(root / "DICOM" / "PAT0001" / "ST01" / "SE01" / "IM00001", odd / "IM90006")  # same SOP UID: duplicate
    truncated = _write(odd / "IM90007", 907, "R", "CC", "PAT0099", acc, size=size, syntax="native")
    truncated.write_bytes(truncated.read_bytes()[:-500])  # the last 500 bytes of pixel data lost
    _write(odd / "IM90008", 908, "R", "MLO", "PAT0099", "ACC_NOLABELS", size=size)  # no labels row
    _write(odd / "IM90009", 909, "R", "MLO", "PAT0097", acc, size=size)  # MRN PAT0099 in labels: contradiction
    return {"root": root, "n_included": 16, "n_rejected": 10, "labels": {"normal": 10, "benign": 4, "malignant": 2},
            "stages": {"acquisition": 5, "dicom": 1, "metadata": 1, "labels": 1, "consistency": 1, "files": 1}}


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.helpers.pacs_export OUT --images N``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=64, help="image height in pixels (width = 3/4)")
    args = parser.parse_args(argv)
    write_pacs_export(args.out, images=args.images, size=(args.size, args.size * 3 // 4))
    print(f"wrote {args.images} DICOM files and labels.csv under {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
