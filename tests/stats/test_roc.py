"""ROC points and the validation AUC without scikit-learn: the same arrays and float as scikit-learn's."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from mammobench.stats.roc import roc_points, validation_auc


def test_roc_points_equal_sklearn_bit_for_bit_with_ties():
    rng = np.random.default_rng(2)
    for trial in range(300):
        n = int(rng.integers(3, 200))
        y = rng.integers(0, 2, n)
        if y.min() == y.max():
            continue
        score = rng.integers(0, 6, n) / 5 if trial % 2 else rng.random(n).astype(np.float32)
        fpr, tpr, auc = roc_points(y, score)
        ref_fpr, ref_tpr, _ = roc_curve(y, score)
        assert np.array_equal(fpr, ref_fpr) and np.array_equal(tpr, ref_tpr)
        assert auc == roc_auc_score(y, score)  # exact: the training harness picks its kept epoch by this float
        assert validation_auc(y.astype(np.float32), score) == roc_auc_score(y, score)  # float32 targets, as trained


def test_one_class_is_nan_for_validation_and_an_error_for_the_curve():
    assert np.isnan(validation_auc([1.0, 1.0], [0.2, 0.3]))
    with pytest.raises(ValueError, match="both classes"):
        roc_points([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="1 of 3 are NaN or infinite"):
        validation_auc([0, 1, 1], [0.2, float("nan"), 0.4])
