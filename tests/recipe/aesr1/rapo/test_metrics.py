"""rapo/* metrics against hand computations."""

import math

import numpy as np
import pytest
from scipy import stats

from recipe.aesr1.rapo.metrics import rapo_step_metrics


def test_metrics_by_hand():
    uids = ["a", "a", "b", "b"]
    preds = [0.2, float("nan"), 0.6, 0.9]
    gt = [0.1, 0.1, 0.7, 0.7]
    m = rapo_step_metrics(uids, preds, gt, {"error": [1.0, 0.0, 0.5, 0.5]}, [1.5, 0.0, 1.0, 2.5], [10, 20, 30, 40])
    assert m["rapo/parse_failure_rate"] == 0.25
    assert m["rapo/pred/mean"] == pytest.approx(np.mean([0.2, 0.6, 0.9]))
    assert m["rapo/pred/std"] == pytest.approx(np.std([0.2, 0.6, 0.9]))
    assert m["rapo/label/mean"] == pytest.approx(0.4)  # one label per image, not per output
    assert m["rapo/label/std"] == pytest.approx(0.3)
    assert m["rapo/batch_plcc"] == pytest.approx(stats.pearsonr([0.2, 0.6, 0.9], [0.1, 0.7, 0.7])[0])
    assert m["rapo/batch_srcc"] == pytest.approx(stats.spearmanr([0.2, 0.6, 0.9], [0.1, 0.7, 0.7])[0])
    assert m["rapo/reward/error/mean"] == 0.5
    assert m["rapo/reward/total/mean"] == 1.25
    assert m["rapo/response_length/mean"] == 25


def test_undefined_correlations_are_nan_not_errors():
    m = rapo_step_metrics(["a", "b"], [0.5, 0.5], [0.2, 0.8], {}, [0, 0], [1, 1])
    assert math.isnan(m["rapo/batch_plcc"]) and math.isnan(m["rapo/batch_srcc"])
    m = rapo_step_metrics(["a", "b"], [float("nan")] * 2, [0.2, 0.8], {}, [0, 0], [1, 1])
    assert m["rapo/parse_failure_rate"] == 1.0 and math.isnan(m["rapo/pred/mean"])


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="2 uids"):
        rapo_step_metrics(["a", "b"], [0.1], [0.1], {}, [0], [1])


def test_batch_correlations_are_the_evaluation_metrics():
    # the one statistics module: two points are no correlation (scipy says +-1), float spellings of one
    # number are a constant
    m = rapo_step_metrics(["a", "b"], [0.3, 0.6], [0.2, 0.8], {}, [0, 0], [1, 1])
    assert math.isnan(m["rapo/batch_plcc"]) and math.isnan(m["rapo/batch_srcc"])
    m = rapo_step_metrics(["a", "b", "c"], [0.7, 0.7000000000000001, 0.6999999999999998], [0.2, 0.5, 0.8], {},
                          [0] * 3, [1] * 3)
    assert math.isnan(m["rapo/batch_plcc"]) and math.isnan(m["rapo/batch_srcc"])
