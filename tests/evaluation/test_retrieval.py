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
    [(user, horizon, new, seen)] = retrieval.cutoff_targets(tls, CUTOFF, END, TYPES)
    assert user == "a" and seen.tolist() == [4]  # 10: too late
    assert horizon.tolist() == [4, 7] and new.tolist() == [7]  # 4: applied to before the cutoff, not new


def test_retrieval_at_cutoff_by_hand(category_model):
    tls = _tls(a=[(CUTOFF - DAY, "view", 1), (CUTOFF - HOUR, "apply", 4), (CUTOFF + HOUR, "apply", 7)])
    m = retrieval.retrieval_at_cutoff(category_model, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
    # the user's latest job is category 1: jobs 1, 7, 10, … score 1; job 4 (applied) is removed → 7 ranks 2nd
    assert m["users"] == 1 and m["recall@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert m["coverage_p90@10"] == pytest.approx(9 / 39)  # 10 slots: 90% = 9 distinct jobs of 39
    # all positives, nothing removed: 7 ranks 3rd behind jobs 1 and 4 (the same category; lower index first)
    assert m["users_all"] == 1 and m["recall_all@10"] == 1.0 and m["ndcg_all@10"] == pytest.approx(0.5)


def test_all_positives_count_repeat_jobs_and_users_without_new_ones(category_model):
    # b re-applies to job 4 in the horizon (no new job): only "all positives" counts b (job 4 ranks 2nd)
    tls = _tls(a=[(CUTOFF - DAY, "view", 1), (CUTOFF - HOUR, "apply", 4), (CUTOFF + HOUR, "apply", 7)],
               b=[(CUTOFF - DAY, "apply", 4), (CUTOFF + HOUR, "apply", 4)])
    m = retrieval.retrieval_at_cutoff(category_model, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
    assert m["users"] == 1 and m["users_all"] == 2
    assert m["recall_all@10"] == 1.0 and m["ndcg_all@10"] == pytest.approx((0.5 + 1 / math.log2(3)) / 2)


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


def test_freshness_never_sees_the_targets_own_funnel(category_model):
    # the apply on job 6 follows its impression and click seconds earlier; the user's earlier interest (job 2,
    # category 2) is what every policy must work from: a per-event embedding after the impression would copy it
    second = 1_000_000
    tls = _tls(c=[(CUTOFF - DAY, "apply", 2), (CUTOFF + 5 * HOUR - 20 * second, "impression", 6),
                  (CUTOFF + 5 * HOUR - 10 * second, "click", 6), (CUTOFF + 5 * HOUR, "apply", 6)])
    assert retrieval.funnel_start(tls, "c", CUTOFF + 5 * HOUR, 6) == CUTOFF + 5 * HOUR - 20 * second
    m = retrieval.freshness(category_model, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
    assert {p: m[p]["hr@10"] for p in retrieval.POLICIES} == dict.fromkeys(retrieval.POLICIES, 0.0)
    assert m["per_event"]["median_age_hours"] == pytest.approx(20 / 3600)


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


class _CopyLastImpression:
    """A model that has learned the funnel, not the user: its embedding is the job of the latest impression."""

    n_jobs = 40

    def users(self, contexts: dict[str, np.ndarray]) -> np.ndarray:
        from jobtrail.tables import EVENT_TYPE_IDS

        out = np.zeros((len(contexts["context_length"]), self.n_jobs), np.float32)
        for b, n in enumerate(contexts["context_length"]):
            shown = contexts["ctx_job_index"][b, :n][contexts["ctx_event_type"][b, :n] == EVENT_TYPE_IDS["impression"]]
            if len(shown):
                out[b, shown[-1]] = 1.0
        return out

    def scores(self, users: np.ndarray) -> np.ndarray:
        return users.astype(np.float64)


class _Interest(CategoryModel):
    """A model that represents the user: the category of their applies (CategoryModel reads every event)."""

    def users(self, contexts: dict[str, np.ndarray]) -> np.ndarray:
        from jobtrail.tables import EVENT_TYPE_IDS

        applied = {**contexts, "ctx_job_index": np.where(contexts["ctx_event_type"] == EVENT_TYPE_IDS["apply"],
                                                         contexts["ctx_job_index"], 0)}
        applied["ctx_job_index"] = np.stack([np.r_[row[row > 0], row[row == 0]] for row in applied["ctx_job_index"]])
        applied["context_length"] = (applied["ctx_job_index"] > 0).sum(axis=1)
        return super().users(applied)


def test_copying_the_last_impression_loses_the_gate_to_representing_the_user():
    """Every apply follows an impression of the same job seconds earlier (the synthetic funnel). On the proxy
    task — a target scored with its own impression in the context — copying that impression wins; on the
    gate's task — the embedding as of the cutoff retrieving the horizon's new positives — it loses."""
    from tf_models.metrics import ranking_metrics
    from tf_models.promote import decide

    users = {}
    for u in range(9):
        c = u % 3  # the user's interest: category c (jobs c, c + 3, …); before the cutoff jobs 24+, after 12..21
        events = []
        for k, job in enumerate(j for j in range(24, 40) if j % 3 == c):
            events += [(CUTOFF - (10 - k) * HOUR, "impression", job), (CUTOFF - (10 - k) * HOUR + 30_000_000, "apply", job)]
        events.append((CUTOFF - HOUR // 2, "impression", 20 if c != 2 else 19))  # browsing another category
        for k, job in enumerate(j for j in range(12, 22) if j % 3 == c):
            events += [(CUTOFF + (k + 1) * DAY, "impression", job), (CUTOFF + (k + 1) * DAY + 30_000_000, "apply", job)]
        users[f"u{u}"] = events
    tls = _tls(**users)
    copier, interest = _CopyLastImpression(), _Interest()

    def proxy(model) -> float:  # each horizon apply vs two jobs of other categories, context up to the target
        labels, logits = [], []
        for user, events in users.items():
            for ts, kind, job in events:
                if kind == "apply" and ts >= CUTOFF:
                    scores = model.scores(model.users(tls.contexts([(user, ts)], 8)))[0]
                    labels += [1, 0, 0]
                    logits += [scores[job], scores[(job + 1) % 39 + 1], scores[(job + 2) % 39 + 1]]
        return ranking_metrics(np.array(labels), np.array(logits), np.ones(len(labels)))["auc"]

    assert proxy(copier) == 1.0 > proxy(interest)  # the leaky task prefers the copier
    gate = {name: retrieval.retrieval_at_cutoff(model, tls, window=8, cutoff=CUTOFF, horizon_end=END, types=TYPES)
            for name, model in (("copier", copier), ("interest", interest))}
    assert gate["interest"]["recall@10"] == 1.0 and gate["copier"]["recall@10"] == 0.0
    floor = {"name": "popularity ranking", "recall@10": 0.0}
    assert decide("recall@10", gate["interest"], gate["copier"], floor, 0.0, "champion")[0]  # replaces the copier
    assert not decide("recall@10", gate["copier"], gate["interest"], floor, 0.0, "champion")[0]
