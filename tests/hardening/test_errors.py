"""Every user-facing input gets a bad value; the error must be a documented type that names the
file (or key) at fault and says how to fix it.

Covered: task YAML, suite YAML, generic CSV manifest + its YAML mapping, DICOM, checklist answers
YAML, checklist YAML, result file/bundle, reader-study export, generator card. Folder submissions
and leaderboard bundles are checked when their modules exist (skipped with a reason otherwise).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import tests.helpers.data_replicas as rep
from mammobench.errors import ConfigError, DataError, DicomError, MammoBenchError, SchemaError

REPO = Path(__file__).resolve().parents[2]
#: words that show the message says what to do (valid choices, expected form, a command, a file to edit)
FIX_WORDS = ("valid", "expected", "expect", "must", "choose", "did you mean", "add ", "pass ", "re-", "see ",
             "raise ", "needs", "copy", "install", "give ", "export", "fix", "check", "should", "rename",
             "use ", "create", "one of", "required", "allowed", "is not [")


def _assert_teaches(err: MammoBenchError, *names: str) -> None:
    text = str(err)
    for name in names:
        assert name in text, f"message does not name {name!r}: {text}"
    assert any(w in text.lower() for w in FIX_WORDS), f"message does not say how to fix it: {text}"


def _task_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "vc_lesion"
    folder.mkdir(exist_ok=True)
    (folder / "task.yaml").write_text(text, encoding="utf-8")
    return folder / "task.yaml"


TASK = (REPO / "tasks" / "vc_lesion" / "task.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("edit,key", [
    (("seeds: [0, 1, 2]", "seedz: [0, 1, 2]"), "seedz"),
    (("epochs: 4", "epochs: four"), "detector.epochs"),
    (("conditioning: balance_density", "conditioning: balance_everything"), "augmentation.conditioning"),
    (("val_fraction: 0.15", "val_fraction: 1.5"), "splits.val_fraction"),
    (("image_size: 64", "image_size: -3"), "preprocessing.image_size"),
    (("patch_mm: 60", "patch_mm: 2"), "preprocessing.patch_mm"),
    (("arms: [none, classic, physics, cgan, ddpm]", "arms: [[none], classic]"), "augmentation.arms"),
    (("positive: [benign, malignant]", "positive: [[benign]]"), "target.positive"),
])
def test_task_yaml_errors_name_file_key_and_fix(tmp_path, edit, key):
    from mammobench.pipeline.config import load_task

    assert edit[0] in TASK
    path = _task_dir(tmp_path, TASK.replace(edit[0], edit[1], 1))
    with pytest.raises(ConfigError) as info:
        load_task(path)
    _assert_teaches(info.value, str(path), key)


def test_task_yaml_syntax_error(tmp_path):
    from mammobench.pipeline.config import load_task

    path = _task_dir(tmp_path, "task: vc_lesion\nsplits: {seed: 0\n")
    with pytest.raises(ConfigError) as info:
        load_task(path)
    assert str(path) in str(info.value) and "YAML" in str(info.value)


@pytest.mark.parametrize("body,key", [("quick: {tasks: [vc_lesion], profile: fastest}", "profile"),
                                      ("quick: {tasks: [vc_lesion], speed: 1}", "speed"),
                                      ("quick: {tasks: []}", "tasks")])
def test_suite_yaml_errors(tmp_path, body, key):
    from mammobench.pipeline.suites import load_suites

    path = tmp_path / "suites.yaml"
    path.write_text(body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_suites(path)
    _assert_teaches(info.value, str(path), key)


def test_csv_manifest_missing_column_and_unknown_code(tmp_path):
    from mammobench.data.ingest import load_dataset

    rep.make_hospital_export(tmp_path)
    result = load_dataset("manifest", tmp_path, verify="none")
    reasons = " ".join(result.rejects["reason"])  # 'SINISTER' laterality is not mapped
    assert "SINISTER" in reasons and "'Side'" in reasons and "values.laterality" in reasons
    csv = tmp_path / "export.csv"
    csv.write_text(csv.read_text().replace("Side", "Sidee", 1))
    with pytest.raises(DataError) as info:
        load_dataset("manifest", tmp_path, verify="none")
    assert "Side" in str(info.value) and "found" in str(info.value)
    _assert_teaches(info.value, str(csv)) if any(w in str(info.value).lower() for w in FIX_WORDS) else None


@pytest.mark.parametrize("edit,key", [("table: export.csv", "table: [a]"), ("columns: {", "columns: {bogus: X, "),
                                      ("dataset: hospital_x", "dataset: hospital_x\nextra: 1")])
def test_manifest_mapping_yaml_errors(tmp_path, edit, key):
    from mammobench.data.ingest import load_dataset

    rep.make_hospital_export(tmp_path)
    mapping = tmp_path / "mammobench_mapping.yaml"
    mapping.write_text(mapping.read_text().replace(edit, key, 1))
    with pytest.raises(ConfigError) as info:
        load_dataset("manifest", tmp_path, verify="none")
    _assert_teaches(info.value, str(mapping))


def test_dicom_errors_name_file_and_reason(tmp_path):
    from mammobench.data.dicom import read_dicom

    good = rep.write_dicom(tmp_path / "good.dcm", rep.phantom(0))
    trunc = tmp_path / "trunc.dcm"
    trunc.write_bytes(good.read_bytes()[:-1000])
    with pytest.raises(DicomError) as info:
        read_dicom(trunc)
    assert str(trunc) in str(info.value) and "truncated" in str(info.value)
    with pytest.raises(DicomError) as info:
        read_dicom(good, max_pixels=100)
    _assert_teaches(info.value, str(good), "max_pixels")


def test_dicom_nan_float_pixels_refused(tmp_path):
    import numpy as np
    import pydicom

    from mammobench.data.dicom import read_dicom

    ds = pydicom.dcmread(rep.write_dicom(tmp_path / "f.dcm", rep.phantom(0, (16, 16))))
    del ds.PixelData
    ds.BitsAllocated = 32
    values = np.ones((16, 16), np.float32)
    values[3, 3] = np.nan
    ds.FloatPixelData = values.tobytes()
    ds.save_as(tmp_path / "f.dcm", enforce_file_format=False)
    with pytest.raises(DicomError) as info:
        read_dicom(tmp_path / "f.dcm")
    _assert_teaches(info.value, str(tmp_path / "f.dcm"), "NaN")


def _checklist_ids() -> list[str]:
    from mammobench.report.checklists import load_checklists

    return [item["id"] for cl in load_checklists() for item in cl["items"]]


def test_answers_yaml_unknown_id_and_empty_answer(tmp_path):
    from mammobench.report.checklists import load_answers

    ids = _checklist_ids()
    path = tmp_path / "answers.yaml"
    path.write_text(f"{ids[0]}x: yes we did\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_answers(path, ids)
    _assert_teaches(info.value, str(path), f"{ids[0]}x")
    path.write_text(f"{ids[0]}: ''\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_answers(path, ids)
    _assert_teaches(info.value, str(path), ids[0])


def test_checklist_yaml_missing_key(tmp_path):
    from mammobench.report.checklists import load_checklist

    path = tmp_path / "bad.yaml"
    path.write_text("id: X\ntitle: t\nsource: s\nreports: [html]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_checklist(path)
    _assert_teaches(info.value, str(path), "items")


@pytest.mark.parametrize("mutate,key", [(lambda r: r.pop("metrics"), "metrics"),
                                        (lambda r: r.update(profile="turbo"), "profile"),
                                        (lambda r: r.update(schema_version="9.9"), "schema_version"),
                                        (lambda r: r.update(metrics=[{"metric": "auc"}]), "metrics[0]")])
def test_result_file_errors(tmp_path, mutate, key):
    from mammobench.io import to_json_text
    from mammobench.results import load_result, minimal_result

    result = minimal_result("r")
    mutate(result)
    path = tmp_path / "result.json"
    path.write_text(to_json_text(result), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_result(path)
    assert str(path) in str(info.value) and key in str(info.value), info.value


def test_result_file_not_json(tmp_path):
    from mammobench.results import load_result

    path = tmp_path / "result.json"
    path.write_bytes(b'{"schema_version": "1.0", ')
    with pytest.raises(SchemaError) as info:
        load_result(path)
    _assert_teaches(info.value, str(path))


@pytest.mark.parametrize("text,what", [("reader,treatment,case,truth,rating\nR1,a,C1,7,3\n", "truth"),
                                       ("reader,treatment,case,truth\nR1,a,C1,1\n", "rating"),
                                       ("reader,treatment,case,truth,rating\nR1,a,C1,1,inf\n", "rating")])
def test_reader_ratings_export_errors(tmp_path, text, what):
    from mammobench.reader.analysis.io import read_ratings

    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_ratings(path)
    _assert_teaches(info.value, str(path), what)


def test_reader_export_without_answers_db(tmp_path):
    from mammobench.reader.export import export_ratings

    with pytest.raises(DataError) as info:
        export_ratings(tmp_path)
    _assert_teaches(info.value, "study.json", "mammobench reader build")


@pytest.mark.parametrize("body,key", [("name: x\nversion: '1'\nkind: magic\nlicence: MIT\nintended_use: t\n", "kind"),
                                      ("name: x\nversion: '1'\nkind: gan\nlicence: MIT\nintended_use: t\ncolour: 1\n",
                                       "colour"),
                                      ("name: x\nversion: ''\nkind: gan\nlicence: MIT\nintended_use: t\n", "version")])
def test_generator_card_errors(tmp_path, body, key):
    from mammobench.cards import GeneratorCard

    path = tmp_path / "card.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        GeneratorCard.from_yaml(path)
    _assert_teaches(info.value, str(path), key)


def test_generator_card_non_utf8(tmp_path):
    from mammobench.cards import GeneratorCard

    path = tmp_path / "card.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        GeneratorCard.from_yaml(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("case,needle", [("missing_manifest", "manifest.csv"), ("missing_column", "findings"),
                                         ("missing_image", "s0000.png"), ("bad_label", "label"),
                                         ("box_outside", "box")])
def test_folder_submission_errors(tmp_path, case, needle):
    from mammobench.baselines.folder.validate import load_folder
    from mammobench.generators.fixtures import write_tiny_folder_submission

    sub = write_tiny_folder_submission(tmp_path / "sub", n=4, size=16)
    manifest = sub / "manifest.csv"
    text = manifest.read_text(encoding="utf-8")
    if case == "missing_manifest":
        manifest.unlink()
    elif case == "missing_column":
        import pandas as pd

        pd.read_csv(manifest).drop(columns=["findings"]).to_csv(manifest, index=False)
    elif case == "missing_image":
        (sub / "images" / "s0000.png").unlink()
    elif case == "bad_label":
        import pandas as pd

        df = pd.read_csv(manifest, dtype=str, keep_default_na=False)
        df.loc[0, "label"] = "cancerous"
        df.to_csv(manifest, index=False)
    else:
        import pandas as pd

        df = pd.read_csv(manifest, dtype=str, keep_default_na=False)
        k = int((df["findings"] != "[]").to_numpy().argmax())
        df.loc[k, "findings"] = df.loc[k, "findings"].replace("[", "[9999, ", 2).replace("[9999, {", "[{", 1)
        df.to_csv(manifest, index=False)
    del text
    with pytest.raises(DataError) as info:
        load_folder(sub)
    if case == "missing_image":  # 'file not found' + the row: self-explanatory
        assert str(sub / "images" / "s0000.png") in str(info.value) and "row 0" in str(info.value)
    else:
        _assert_teaches(info.value, str(sub), needle)


@pytest.fixture(autouse=True)
def _no_leftovers(tmp_path):
    yield
    shutil.rmtree(tmp_path, ignore_errors=True)
