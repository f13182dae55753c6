"""The SASRec protocol pieces: held-out cases, sampled and full-catalogue ranks (no TensorFlow, no Spark)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from eval_helpers import DAY, timeline
from evaluation.sasrec import _timelines, held_out_cases, rank
from evaluation.timelines import Timelines
from jobtrail.contracts import RAW_EVENT


def test_ranks_by_hand():
    scores = np.array([[0.0, 0.5, 0.9, 0.1, 0.3, 0.2],    # user 0: target 2 beats everything
                       [0.0, 0.8, 0.1, 0.7, 0.2, 0.9]])   # user 1: target 4 (0.2)
    m = rank(lambda i, j: scores[i:j], np.array([2, 4]), np.array([[1, 3], [1, 5]]),
             [np.array([1]), np.array([], np.int64)], n_rows=6)
    # sampled: user 0 rank 0, user 1 rank 2 (items 1 and 5 above) → both hits
    assert m["hr@10"] == 1.0 and m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / 2)
    # full: user 0's history (item 1) is removed, rank 0; user 1: items 1, 3, 5 above → rank 3
    assert m["full_hr@10"] == 1.0 and m["full_ndcg@10"] == pytest.approx((1 + 1 / math.log2(5)) / 2)
    assert m["test_users"] == 2


def test_held_out_cases_follow_the_protocol():
    tls = Timelines.from_timelines({
        "short": timeline([(DAY, "view", 1), (2 * DAY, "view", 2)]),  # < 3 items: training only
        "long": timeline([(k * DAY, "view", j) for k, j in enumerate([5, 6, 7, 8], start=1)])})
    requests, targets, sampled, histories = held_out_cases(tls, n_items=30, negatives=100)
    assert requests == [("long", 4 * DAY)] and targets.tolist() == [8]  # the last item, context before it
    assert sampled.shape == (1, 100) and not set(sampled[0]) & {5, 6, 7, 8} and sampled.min() >= 1
    assert sorted(histories[0].tolist()) == [5, 6, 7]  # removed from the full ranking, the target kept
    again = held_out_cases(tls, n_items=30, negatives=100)[2]
    assert np.array_equal(sampled, again)  # the negatives are seeded


def test_timelines_keep_each_users_order():
    events = pa.table({
        "event_id": ["b", "a", "c"], "user_id": ["u2", "u1", "u1"], "event_type": ["view"] * 3,
        "job_id": ["i9", "i7", "i8"], "query": pa.nulls(3, pa.string()),
        "ts": pa.array([0, 86_400_000_000, 0], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "channel": ["amazon"] * 3}, schema=RAW_EVENT)
    tls = _timelines(events, {"i7": 1, "i8": 2, "i9": 3}, q=4)
    assert tls["u1"].job_index.tolist() == [2, 1] and tls["u2"].job_index.tolist() == [3]
    assert tls["u1"].gap_s.tolist() == [0.0, 86_400.0] and tls["u1"].query_tokens.shape == (2, 4)
