"""Study builder, de-identification, reading app, export and key-free package."""
from __future__ import annotations

import json
import threading

import pandas as pd
import pytest
from pydicom.dataset import Dataset

from mammobench.commands import reader as reader_cmd
from mammobench.errors import DataError, IntegrityError
from mammobench.reader.app import make_server
from mammobench.reader.builder import build_study
from mammobench.reader.deid import deidentify_dataset, png_metadata_chunks, remaining_identifiers
from mammobench.reader.export import check_package, export_package, export_ratings
from mammobench.reader.study import load_key, load_study
from tests.helpers.reader import Client, make_folder


@pytest.fixture()
def turing_study(tmp_path):
    real = make_folder(tmp_path / "real", 24, "real", seed=1)
    synth = make_folder(tmp_path / "synth", 24, "synth", seed=2)
    out = tmp_path / "study"
    summary = build_study(real=real, synthetic=synth, design="turing", out=out, n_cases=16, seed=7)
    return out, summary


@pytest.fixture()
def running(turing_study):
    study, _ = turing_study
    server = make_server(study, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield study, f"http://127.0.0.1:{server.server_address[1]}", server
    server.shutdown()
    server.server_close()


def test_turing_build_is_balanced_blinded_and_deterministic(turing_study, tmp_path):
    study_dir, summary = turing_study
    key = load_key(study_dir)
    assert len(key) == 16 and key["truth"].sum() == 8
    assert summary["matched_pairs"] == 8
    pairs = key.groupby(["source", "density", "lesion_type"]).size().unstack("source")
    assert (pairs["real"] == pairs["synthetic"]).all()  # matched within strata
    assert pairs.index.get_level_values("density").nunique() == 4
    study = load_study(study_dir)
    public = json.dumps(study)
    assert "truth" not in public and "synthetic\"" not in public and "patient" not in public
    assert all(not png_metadata_chunks(p) for p in (study_dir / "images").glob("*.png"))
    assert sorted(p.stem for p in (study_dir / "images").glob("*.png")) == sorted(key["case_id"])
    assert (study_dir / "README.md").is_file() and json.loads((study_dir / "power.json").read_text())["text"]
    again = build_study(real=tmp_path / "real", synthetic=tmp_path / "synth", design="turing",
                        out=tmp_path / "again", n_cases=16, seed=7)
    assert again["strata"] == summary["strata"]
    assert load_key(tmp_path / "again").equals(key)
    with pytest.raises(DataError, match="not empty"):
        build_study(real=tmp_path / "real", synthetic=tmp_path / "synth", design="turing", out=study_dir,
                    n_cases=16, seed=7)


def test_diagnostic_build_with_ai_scores(tmp_path):
    real = make_folder(tmp_path / "real", 30, "real", seed=3)
    manifest = pd.read_csv(real / "manifest.csv")
    scores = tmp_path / "ai.csv"
    pd.DataFrame({"image_id": manifest["file"], "score": 0.3}).to_csv(scores, index=False)
    build_study(real=real, synthetic=None, design="diagnostic", out=tmp_path / "d", n_cases=12, seed=0,
                ai_scores=scores)
    study, key = load_study(tmp_path / "d"), load_key(tmp_path / "d")
    assert study["treatments"] == ["unaided", "aided"] and key["truth"].sum() == 6
    assert {c["ai_score"] for c in study["cases"]} == {30.0}


def test_app_keeps_answers_resumes_and_isolates_readers(running):
    study, base, server = running
    r1, r2 = Client(base), Client(base)
    assert r1.get("/api/next")[0] == 401 and r1.get("/images/x.png")[0] == 401
    status, state = r1.signin(study, "R01")
    assert status == 200 and state["position"] == 1 and state["total"] == 16
    seen = []
    for k in range(3):
        seen.append(state["case_id"])
        status, state = r1.post("/api/answer", {"case_id": state["case_id"], "treatment": "turing",
                                                "call": "synthetic", "confidence": k + 1})
        assert status == 200 and state["saved"]
    assert r1.post("/api/answer", {"case_id": seen[0], "treatment": "turing", "call": "real",
                                   "confidence": 1})[0] == 409
    assert r1.post("/api/answer", {"case_id": state["case_id"], "treatment": "turing", "call": "maybe",
                                   "confidence": 1})[0] == 400
    assert r1.get(f"/images/{seen[0]}.png")[0] == 200
    for path in ("/key/key.csv", "/study.json", "/answers.sqlite", "/images/../key/key.csv"):
        assert r1.get(path)[0] == 404
    _, other = r2.signin(study, "R02")
    assert other["answered"] == 0  # R2 sees only their own progress
    assert r2.post("/api/signin", {"reader": "R01"})[0] == 400  # an id alone is not a credential
    assert r2.post("/api/signin", {"code": "not-a-code"})[0] == 403
    # a new server on the same database resumes R1 at the next case
    server2 = make_server(study, port=0)
    threading.Thread(target=server2.serve_forever, daemon=True).start()
    _, resumed = Client(f"http://127.0.0.1:{server2.server_address[1]}").signin(study, "R01")
    server2.shutdown()
    server2.server_close()
    assert resumed["answered"] == 3 and resumed["case_id"] == state["case_id"]
    table = export_ratings(study)
    assert sorted(table["case"]) == sorted(seen) and set(table["call"]) == {1}
    assert table["rating"].tolist() == [6.0, 7.0, 8.0]


def test_export_analyze_and_key_free_package(running, tmp_path, capsys):
    study, base, _ = running
    key = load_key(study).set_index("case_id")["truth"]
    for reader in ("R01", "R02", "R03"):
        client = Client(base)
        _, state = client.signin(study, reader)
        while not state["done"]:
            call = "synthetic" if key[state["case_id"]] == 1 else "real"
            _, state = client.post("/api/answer", {"case_id": state["case_id"], "treatment": "turing",
                                                   "call": call, "confidence": 4})
    assert reader_cmd.main(["analyze", str(study), "--json", "--n-boot", "100"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["design"] == "turing" and res["pooled"]["accuracy"] == 1.0 and res["fleiss"]["kappa"] == 1.0
    package = tmp_path / "share"
    assert reader_cmd.main(["export", str(study), "--package", str(package)]) == 0
    files = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert not any(f.startswith("key") or f.endswith((".sqlite", ".csv")) for f in files)
    blob = b"".join((package / f).read_bytes() for f in files)
    for origin in load_key(study)["origin_id"]:
        assert origin.encode() not in blob and b"patient" not in blob
    (package / "README.md").write_text("leak: " + load_key(study)["origin_id"].iloc[0])
    with pytest.raises(IntegrityError, match="README.md"):
        check_package(package, load_key(study))
    with pytest.raises(DataError, match="not empty"):
        export_package(study, package)


def test_dicom_basic_profile_removes_identifiers():
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", "MRN-0042", "19600101"
    ds.InstitutionName, ds.PatientAge, ds.StudyInstanceUID = "General Hospital", "064Y", "1.2.3.4"
    ds.OperatorsName, ds.AccessionNumber = "Smith^Bob", "ACC99"
    ds.add_new(0x00091010, "LO", "private vendor id")
    clean = deidentify_dataset(ds, pseudonym="c0123")
    assert remaining_identifiers(clean) == []
    text = str(clean)
    for secret in ("Doe", "MRN-0042", "19600101", "General Hospital", "064Y", "Smith", "ACC99", "1.2.3.4"):
        assert secret not in text
    assert clean.PatientID == "c0123" and clean.PatientIdentityRemoved == "YES"
    burned = Dataset()
    burned.BurnedInAnnotation = "YES"
    with pytest.raises(DataError, match="burned-in"):
        deidentify_dataset(burned, pseudonym="c1")


def test_build_from_image_cache_with_manifest(tmp_path):
    from mammobench.data.cache import build_cache
    from mammobench.data.ingest import load_dataset
    from tests.helpers.data_replicas import make_virtual_cohort

    make_virtual_cohort(tmp_path / "vc")
    cohort = load_dataset("virtual_cohort", tmp_path / "vc", split_seed=0)
    build_cache(cohort.manifest, cohort.root, tmp_path / "cache", size=32, workers=1, progress=False)
    cohort.manifest.to_csv(tmp_path / "manifest.csv", index=False)
    build_study(real=tmp_path / "cache", synthetic=None, design="diagnostic", out=tmp_path / "s", n_cases=4,
                seed=0, real_manifest=tmp_path / "manifest.csv")
    key = load_key(tmp_path / "s")
    assert key["truth"].sum() == 1 and set(key["origin_id"]) <= set(cohort.manifest["image_id"])
    assert set(key["density"]) == {"A", "C"}
