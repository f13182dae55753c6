"""The metric code (tf_models/metrics.py) against examples computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tf_models.metrics import (coverage_at_k, hit_ndcg_at_k, mean_sd, ndcg_at_k, rank_of_target, ranking_metrics,
                               recall_at_k, relative_lift, top_k)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_auc_and_log_loss_by_hand():
    # positives score 0.9 and 0.4, negatives 0.1 (a dismiss) and 0.6 (a random negative):
    # of the 4 positive/negative pairs, 3 are ordered correctly → AUC 0.75
    labels, logits = np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.4, 0.6])
    m = ranking_metrics(labels, logits, np.ones(4), kinds=np.array([0, 1, 0, 2]))
    assert m["auc"] == pytest.approx(0.75)
    assert m["auc_dismiss"] == pytest.approx(1.0)  # both positives above the dismiss
    assert m["auc_random_negative"] == pytest.approx(0.5)  # one of two above the random negative
    expected = -(math.log(_sigmoid(0.9)) + math.log(1 - _sigmoid(0.1)) + math.log(_sigmoid(0.4))
                 + math.log(1 - _sigmoid(0.6))) / 4
    assert m["log_loss"] == pytest.approx(expected)


def test_auc_is_weighted_and_undefined_for_one_class():
    # the negative scored 0.6 weighs 3: pairs weigh w_pos·w_neg; correct ones 0.9>0.1, 0.9>0.6, 0.4>0.1
    m = ranking_metrics(np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.4, 0.6]), np.array([1.0, 1.0, 1.0, 3.0]))
    assert m["auc"] == pytest.approx((1 + 3 + 1 + 0) / 8)
    assert ranking_metrics(np.array([1, 1]), np.array([0.2, 0.3]), np.ones(2))["auc"] is None


def test_top_k_orders_breaks_ties_and_excludes():
    scores = np.array([[0.1, 0.5, 0.3, 0.5], [4.0, 3.0, 2.0, 1.0]])
    assert top_k(scores, 2).tolist() == [[1, 3], [0, 1]]
    assert top_k(scores, 2, exclude=[np.array([1]), np.array([0, 2])]).tolist() == [[3, 2], [1, 3]]
    # ties at the boundary go to the lowest indices, whatever order a partial sort leaves them in
    flat = np.zeros((2, 50))
    flat[0, 37], flat[1, [5, 45]] = 1.0, [2.0, -1.0]
    assert top_k(flat, 4).tolist() == [[37, 0, 1, 2], [5, 0, 1, 2]]
    assert top_k(flat, 4, exclude=[np.array([0, 1]), np.array([])]).tolist() == [[37, 2, 3, 4], [5, 0, 1, 2]]
    assert scores[0, 1] == 0.5  # the caller's scores are not modified


def test_recall_and_ndcg_at_k_by_hand():
    ranked = np.array([3, 1, 2])
    assert recall_at_k(ranked, {1, 5}, k=2) == pytest.approx(0.5)
    # one hit at position 2 (1-based): DCG = 1/log2(3); ideal = 1 + 1/log2(3) (two relevant items, k = 2)
    assert ndcg_at_k(ranked, {1, 5}, k=2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(ranked, {3}, k=10) == pytest.approx(1.0)
    assert recall_at_k(ranked, {7}, k=3) == 0.0 and ndcg_at_k(ranked, {7}, k=3) == 0.0
    assert recall_at_k(ranked, set(), k=3) is None and ndcg_at_k(ranked, set(), k=3) is None


def test_p90_coverage_by_hand():
    lists = np.array([[1, 2], [1, 3], [1, 2], [1, 4]])  # 8 slots; item 1 fills 4, item 2 fills 2, 3 and 4 one each
    # 90% of 8 = 7.2 slots need items 1, 2, 3 and 4 (4 + 2 + 1 = 7 < 7.2) → 4 of a 10-job catalogue
    assert coverage_at_k(lists, n_items=10) == pytest.approx(0.4)
    assert coverage_at_k(lists, n_items=10, share=0.5) == pytest.approx(0.1)  # item 1 alone fills half
    collapsed = np.tile([1, 2], (50, 1))
    assert coverage_at_k(collapsed, n_items=100) == pytest.approx(0.02)
    assert coverage_at_k(np.zeros((0, 10)), n_items=10) is None


def test_sampled_ranks_hit_rate_and_ndcg_by_hand():
    # target 0.5 against [0.9, 0.5, 0.1]: one candidate above, one tie (counts half) → rank 1.5
    assert rank_of_target(np.array([0.5]), np.array([[0.9, 0.5, 0.1]])).tolist() == [1.5]
    m = hit_ndcg_at_k(np.array([0.0, 1.5, 12.0]), k=10)
    assert m["hr@10"] == pytest.approx(2 / 3)
    assert m["ndcg@10"] == pytest.approx((1.0 + 1 / math.log2(3) + 0.0) / 3)
    # a constant scorer puts the target in the middle of 101 candidates: rank 50 → no hit at 10
    assert rank_of_target(np.zeros(1), np.zeros((1, 100))).tolist() == [50.0]


def test_relative_lift_and_mean_sd():
    assert relative_lift(0.70, 0.68) == pytest.approx(0.02 / 0.68)
    assert relative_lift(0.69, 0.69) == 0.0
    assert relative_lift(None, 0.5) is None and relative_lift(0.5, None) is None
    mean, sd, n = mean_sd([1.0, 2.0, 3.0, None, float("nan")])
    assert (mean, n) == (2.0, 3) and sd == pytest.approx(1.0)
    assert mean_sd([0.5]) == (0.5, None, 1) and mean_sd([None]) == (None, None, 0)
