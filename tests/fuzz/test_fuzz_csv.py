"""Fuzzing the dataset adapters' CSV inputs (every built-in adapter, incl. the generic CSV+YAML one).

Each adapter's tiny replica (``tests/helpers/data_replicas.py``) is built once per module; an example then
mutates one of its CSV files (random bytes, truncation, byte flips, dropped columns, NaN/inf/unknown
codes in cells) and loads the dataset with ``verify='none'`` (the DICOM reader has its own fuzz
file). Only project errors may escape, and a successful load must give a valid manifest with every
source record either kept or listed as a reject.
"""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import event, given, strategies as st

import tests.helpers.data_replicas as rep
import tests.helpers.data_replicas_misc as misc
import tests.helpers.data_replicas_tcia as tcia
from mammobench.data.ingest import load_dataset
from mammobench.data.manifest import validate_manifest
from mammobench.errors import MammoBenchError
from tests.helpers.fuzz_budget import ci

BUILDERS = {"vindr": rep.make_vindr, "virtual_cohort": rep.make_virtual_cohort, "cbis_ddsm": tcia.make_cbis,
            "rsna": rep.make_rsna, "cmmd": lambda root: tcia.make_cmmd(root, sheet="csv"),
            "inbreast": lambda root: misc.make_inbreast(root, table="csv"), "embed": rep.make_embed,
            "csaw_cc": misc.make_csaw, "manifest": misc.make_hospital_export}
ODD_CELLS = ["", "nan", "NaN", "inf", "-inf", "1e309", "-1", "0", "9999", "DENSITY Z", "E", "5", "['Mass'",
             "[]", "None", "null", "\u00e9", "LEFT", "X", "054Y", "999Y", "1;2", '"', "\n", "BI-RADS 7", "Mass]"]
_REPLICAS: dict[str, tuple[Path, dict[str, bytes]]] = {}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Build every replica once: {adapter: (root, {csv relative path: original bytes})}."""
    if not _REPLICAS:
        for name, build in BUILDERS.items():
            root = tmp_path_factory.mktemp(name)
            build(root)
            tables = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.csv"))}
            _REPLICAS[name] = (root, tables)
    return _REPLICAS


def _mutate_cells(data: bytes, edits: list[tuple[int, int, str]], drop: int | None) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not rows:
        return data
    for r, c, value in edits:
        row = rows[1 + r % max(1, len(rows) - 1)] if len(rows) > 1 else rows[0]
        if row:
            row[c % len(row)] = value
    if drop is not None and rows[0]:
        k = drop % len(rows[0])
        rows = [row[:k] + row[k + 1:] for row in rows]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _mutate_bytes(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data[: max(0, min(cut, len(data)))])
    for pos, val in flips:
        if buf:
            buf[pos % len(buf)] = val
    return bytes(buf)


def _load_and_check(name: str, root: Path) -> None:
    try:
        res = load_dataset(name, root, verify="none")
    except MammoBenchError as err:
        assert str(root) in str(err) or name in str(err) or ".csv" in str(err) or ".yaml" in str(err), err
        event(type(err).__name__)
        return
    event("loaded" + (" with rejects" if len(res.rejects) else ""))
    validate_manifest(res.manifest)
    assert set(res.rejects.columns) >= {"path", "image_id", "reason"}
    included = next(step for step in res.flow if step["stage"] == "included")
    assert included["n_images"] == len(res.manifest)


def _with_table(replicas, name: str, which: int, make_bytes) -> None:
    root, tables = replicas[name]
    rel = sorted(tables)[which % len(tables)]
    path = root / rel
    try:
        path.write_bytes(make_bytes(tables[rel]))
        _load_and_check(name, root)
    finally:
        path.write_bytes(tables[rel])


adapters = st.sampled_from(sorted(BUILDERS))
cell_edits = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.sampled_from(ODD_CELLS) | st.text(max_size=8)),
                      max_size=6)


def _cells_case(replicas, name, which, edits, drop):
    _with_table(replicas, name, which, lambda b: _mutate_cells(b, edits, drop))


def _bytes_case(replicas, name, which, cut, flips):
    _with_table(replicas, name, which, lambda b: _mutate_bytes(b, cut, flips))


@ci(30)
@given(name=adapters, which=st.integers(0, 5), edits=cell_edits, drop=st.none() | st.integers(0, 30))
def test_adapters_odd_cells_and_missing_columns(replicas, name, which, edits, drop):
    _cells_case(replicas, name, which, edits, drop)


@ci(60)
@given(name=adapters, which=st.integers(0, 5), cut=st.integers(0, 3000),
       flips=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), max_size=6))
def test_adapters_truncated_and_flipped_csv_bytes(replicas, name, which, cut, flips):
    _bytes_case(replicas, name, which, cut, flips)


@ci(20)
@given(name=adapters, which=st.integers(0, 5), raw=st.binary(max_size=300))
def test_adapters_random_csv_bytes(replicas, name, which, raw):
    _with_table(replicas, name, which, lambda _b: raw)


MAPPING_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=4),
                              max_leaves=12)


@ci(40)
@given(key=st.sampled_from(["table", "separator", "columns", "values", "constants", "box", "dataset", "bogus"]),
       value=MAPPING_VALUES)
def test_manifest_mapping_wrong_types(replicas, key, value):
    import yaml

    root, _tables = replicas["manifest"]
    path = root / "mammobench_mapping.yaml"
    original = path.read_bytes()
    mapping = yaml.safe_load(original)
    mapping[key] = value
    try:
        path.write_text(yaml.safe_dump(mapping), encoding="utf-8")
        _load_and_check("manifest", root)
    finally:
        path.write_bytes(original)


# ---------------------------------------------------------------- long campaign (-m fuzz)
@pytest.mark.fuzz
@given(name=adapters, which=st.integers(0, 5),
       edits=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.sampled_from(ODD_CELLS) | st.text(max_size=8)),
                      max_size=20), drop=st.none() | st.integers(0, 30))
def test_adapters_odd_cells_long(replicas, name, which, edits, drop):
    _cells_case(replicas, name, which, edits, drop)


@pytest.mark.fuzz
@given(name=adapters, which=st.integers(0, 5), cut=st.integers(0, 3000),
       flips=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), max_size=30))
def test_adapters_csv_bytes_long(replicas, name, which, cut, flips):
    _bytes_case(replicas, name, which, cut, flips)


@pytest.mark.fuzz
@given(key=st.sampled_from(["table", "separator", "columns", "values", "constants", "box", "dataset", "bogus"]),
       value=MAPPING_VALUES)
def test_manifest_mapping_long(replicas, key, value):
    test_manifest_mapping_wrong_types.hypothesis.inner_test(replicas, key, value)


def teardown_module(module):
    for root, _ in _REPLICAS.values():
        shutil.rmtree(root, ignore_errors=True)
    _REPLICAS.clear()
