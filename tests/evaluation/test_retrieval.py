"""Retrieval, freshness and day-over-day cosine on hand-written timelines with a transparent model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval_helpers import CUTOFF, DAY, HOUR, CategoryModel, timeline
from evaluation import retrieval
from evaluation.timelines import Timelines

TYPES = ("apply", "save")


@pytest.fixture()
def category_model() -> CategoryModel:
    return CategoryModel()
END = CUTOFF + 14 * DAY


def _tls(**users) -> Timelines:
    return Timelines.from_timelines({u: timeline(e) for u, e in users.items()})


def test_cutoff_targets_keep_new_positives_of_users_with_history():
    tls = _tls(a=[(CUTOFF - DAY, "view", 1), (CUTOFF - HOUR, "apply", 4), (CUTOFF + HOUR, "apply", 7),
                  (CUTOFF + 2 * HOUR, "save", 4), (END + HOUR, "apply", 10)],
               b=[(CUTOFF + HOUR, "apply", 5)])  # no history before the cutoff: not a retrieval user
    [(user, relevant, seen)] = retrieval.cutoff_targets(tls, CUTOFF, END, TYPES)
    assert user == "a" and relevant.tolist() == [7] and seen.tolist() == [4]  # 4: already applied; 10: too late


def test_retrieval_at_cutoff_by_hand(category_model):
    tls = _tls(a=[(CUTOFF - DAY, "view", 1), (CUTOFF - HOUR, "apply", 4), (CUTOFF + HOUR, "apply", 7)])
    m = retrieval.retrieval_at_cutoff(category_model, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
    # the user's latest job is category 1: jobs 1, 7, 10, … score 1; job 4 (applied) is removed → 7 ranks 2nd
    assert m["users"] == 1 and m["recall@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert m["coverage_p90@10"] == pytest.approx(9 / 39)  # 10 slots: 90% = 9 distinct jobs of 39


def test_refresh_times():
    t = CUTOFF + 3 * DAY + 5 * HOUR + 17
    assert retrieval.refresh_time(t, CUTOFF, 0) == t
    assert retrieval.refresh_time(t, CUTOFF, HOUR) == CUTOFF + 3 * DAY + 5 * HOUR
    assert retrieval.refresh_time(t, CUTOFF, DAY) == CUTOFF + 3 * DAY
    assert retrieval.refresh_time(t, CUTOFF, None) == CUTOFF


def test_freshness_rewards_recent_embeddings(category_model):
    # before the cutoff the user applied to a category-2 job; 3 h after it they view a category-0 job, and
    # apply to another category-0 job 2 h later: only embeddings computed after the view can find it
    tls = _tls(c=[(CUTOFF - DAY, "apply", 2), (CUTOFF + 3 * HOUR, "view", 3), (CUTOFF + 5 * HOUR, "apply", 6)])
    m = retrieval.freshness(category_model, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
    assert {p: m[p]["hr@10"] for p in retrieval.POLICIES} == {
        "per_event": 1.0, "hourly": 1.0, "daily": 0.0, "weekly": 0.0, "once": 0.0}
    assert m["per_event"]["targets"] == 1
    assert m["once"]["median_age_hours"] == pytest.approx(5.0)


def test_day_over_day_cosine_separates_active_users(category_model):
    tls = _tls(still=[(CUTOFF - 3 * DAY, "view", 1)],
               moved=[(CUTOFF - 3 * DAY, "view", 1), (CUTOFF - HOUR, "view", 2)],
               new=[(CUTOFF - HOUR, "view", 2)])  # no embedding the day before: not a pair
    c = retrieval.day_over_day_cosine(category_model, tls, window=8, cutoff=CUTOFF)
    assert c["pairs"] == 2 and c["active_pairs"] == 1 and c["inactive_pairs"] == 1
    assert c["inactive_quantiles"][0.5] == pytest.approx(1.0)
    assert c["active_quantiles"][0.5] == pytest.approx(0.0)  # category 1 → category 2: orthogonal
    assert sum(c["active_hist"]) == 1 and sum(c["inactive_hist"]) == 1


def test_popularity_baseline_ranks_by_recent_positives():
    tls = _tls(a=[(CUTOFF - DAY, "apply", 5), (CUTOFF + HOUR, "apply", 9)],
               b=[(CUTOFF - DAY, "save", 5), (CUTOFF - 2 * DAY, "apply", 9), (CUTOFF - 30 * DAY, "apply", 3)])
    pop = retrieval.Popularity(tls, 12, CUTOFF, TYPES)
    assert pop.counts[5] == 2 and pop.counts[9] == 1 and pop.counts[3] == 0  # job 3: older than 14 days
    m = retrieval.retrieval_at_cutoff(pop, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
    assert m["recall@10"] == 1.0 and m["ndcg@10"] == pytest.approx(1.0)  # 5 is excluded for a; 9 comes first
    assert np.allclose(pop.scores(np.zeros((2, 1))), pop.counts)
