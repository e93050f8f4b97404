"""Regression tests for hardening findings (first pinned as strict xfails, now fixed).

Each test states the correct behaviour: a documented MammoBenchError naming the file/key.
"""
from __future__ import annotations

import pytest

from mammobench.errors import ConfigError, MammoBenchError, StatisticsError


def _predictions():
    from mammobench.evaluation.fixtures import make_predictions

    return make_predictions(n_patients=30, seeds=(0,))


def test_answers_non_utf8_is_config_error(tmp_path):
    from mammobench.report.checklists import load_answers

    path = tmp_path / "answers.yaml"
    path.write_bytes(b"CLAIM-1: \xff\n")
    with pytest.raises(ConfigError, match="answers.yaml"):
        load_answers(path, ["CLAIM-1"])


def test_checklist_non_utf8_is_config_error(tmp_path):
    from mammobench.report.checklists import load_checklist

    path = tmp_path / "c.yaml"
    path.write_bytes(b"id: \xff\n")
    with pytest.raises(ConfigError, match="c.yaml"):
        load_checklist(path)


def test_checklist_items_not_a_list_is_config_error(tmp_path):
    from mammobench.report.checklists import load_checklist

    path = tmp_path / "c.yaml"
    path.write_text("id: X\ntitle: t\nsource: s\nreports: [html]\nitems: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="items"):
        load_checklist(path)


@pytest.mark.parametrize("method", ["bonferroni", "fdr_bh"])
def test_every_config_multiplicity_is_accepted_by_evaluation(method):
    from mammobench.evaluation import evaluate_run
    from mammobench.pipeline.config import MULTIPLICITY

    assert method in MULTIPLICITY
    evaluate_run(_predictions(), {"n_boot": 10, "multiplicity": method})


@pytest.mark.parametrize("key,value", [("n_boot", "abc"), ("min_group_size", "x"), ("seed", -5), ("alpha", 2.0)])
def test_plan_bad_values_are_statistics_errors(key, value):
    from mammobench.evaluation import evaluate_run

    with pytest.raises(StatisticsError, match=key):
        evaluate_run(_predictions(), {"n_boot": 10, key: value})


@pytest.mark.parametrize("column,value", [("ratio", "x"), ("seed", "s"), ("patient_id", None)])
def test_predictions_bad_columns_are_statistics_errors(column, value):
    from mammobench.evaluation import evaluate_run

    df = _predictions()
    df[column] = df[column].astype(object)
    df.loc[df.index[0], column] = value
    with pytest.raises(StatisticsError, match=column):
        evaluate_run(df, {"n_boot": 10})


def test_open_bug_tests_use_project_errors():
    """Guard: the expectations above are project error types (so a fix cannot pick a bare exception)."""
    assert issubclass(ConfigError, MammoBenchError) and issubclass(StatisticsError, MammoBenchError)


def test_seed_without_validation_rows_is_statistics_error():
    from mammobench.evaluation import evaluate_run
    from mammobench.evaluation.fixtures import make_predictions

    df = make_predictions(n_patients=30, seeds=(0, 1))
    df = df.loc[~((df["split"] == "val") & (df["seed"] == 0))]
    with pytest.raises(StatisticsError, match="seed"):
        evaluate_run(df, {"n_boot": 10})
