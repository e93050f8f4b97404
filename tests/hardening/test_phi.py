"""No PHI from DICOM headers reaches the manifest's free-text columns, the cohort flow or the report.

DICOMs carry fake PatientName / PatientBirthDate / AccessionNumber / OtherPatientIDs / physician
names and an MRN-style PatientID. They go through the generic manifest adapter with header
verification (ingest), and the ingested IDs then replace the patient/image IDs of a fake run
whose report is rendered. (The report engineer's test plants names in ``predictions.csv``
directly; this one starts from DICOM headers.)
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pydicom
import pytest

import tests.helpers.data_replicas as rep
from tests.helpers.run_fixture import fake_run_copy

PHI = {"PatientName": "PHITEST^JANE^Q", "PatientBirthDate": "19580214", "AccessionNumber": "ACCPHI77331",
       "OtherPatientIDs": "OTHERPHI5521", "ReferringPhysicianName": "DRPHI^HOUSE", "PatientAddress": "12 PHI Lane",
       "OperatorsName": "OPPHI^ANNA"}
MRNS = ["MRNPHI000101", "MRNPHI000202"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    from mammobench.data.ingest import load_dataset

    root = tmp_path_factory.mktemp("phi")
    rep.make_hospital_export(root)
    table = pd.read_csv(root / "export.csv", dtype=str, keep_default_na=False)
    table["PatID"] = [MRNS[k % 2] for k in range(len(table))]
    table.to_csv(root / "export.csv", index=False)
    for k, rel in enumerate(table["File"]):
        ds = pydicom.dcmread(root / rel)
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
        ds.PatientID = MRNS[k % 2]
        ds.save_as(root / rel)
    return load_dataset("manifest", root, verify="header")


def _needles() -> list[str]:
    return [*PHI.values(), "PHITEST", "JANE", "DRPHI", "OPPHI", "1958"]


def test_manifest_carries_no_header_phi(ingested):
    manifest = ingested.manifest
    assert len(manifest) >= 2 and set(manifest["patient_id"]) <= set(MRNS)
    text = manifest.drop(columns=["patient_id", "exam_id"]).to_csv(index=False)
    for needle in _needles():
        assert needle not in text, f"{needle} reached the manifest"
    flow = json.dumps(ingested.flow)
    for needle in [*_needles(), *MRNS]:
        assert needle not in flow, f"{needle} in the cohort flow"


@pytest.mark.slow  # renders a full report (~10 s idle, ~35 s on a loaded 2-core box)
def test_report_from_ingested_ids_has_no_phi(ingested, tmp_path):
    from mammobench.report.render import render_report

    run = fake_run_copy(tmp_path)
    pred = pd.read_csv(run / "predictions.csv", dtype={"patient_id": str, "image_id": str})
    patients = sorted(pred["patient_id"].unique())
    ids = list(ingested.manifest["patient_id"]) + MRNS
    pred["patient_id"] = pred["patient_id"].map({p: f"{ids[k % len(ids)]}{k:03d}" for k, p in enumerate(patients)})
    pred.to_csv(run / "predictions.csv", index=False)
    audits = sorted((run / "audits").glob("*.json")) if (run / "audits").is_dir() else []
    for path in audits:  # plant an ingested identifier in audit evidence, as a memorisation audit would
        path.write_text(path.read_text().replace("DOE^JANE-train0001", f"{MRNS[0]}000"))
    out = render_report(run)
    texts = {}
    for key in ("html", "md", "json"):
        texts[key] = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", out[key].read_text())
    needles = [*_needles(), *MRNS, *pred["patient_id"].unique()]
    for name, text in texts.items():
        for needle in needles:
            assert needle not in text, f"{needle} found in report.{name}"
