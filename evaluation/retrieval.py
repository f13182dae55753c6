"""Retrieval against every job, its freshness curve, and the day-over-day cosine of daily embeddings.

Retrieval at the cutoff C (:func:`retrieval_at_cutoff`, the headline, what the promotion gate reads): each
user with an event before C and a positive (apply/save) in the horizon [C, C + H) gets one embedding at C,
computed as daily inference computes it; all jobs are ranked by the model's ``score`` logit. Recall@10 and
NDCG@10 (:mod:`tf_models.metrics`) of the *new* positives (jobs the user had not applied to/saved before C;
those earlier jobs removed from the ranking) and of *all* the horizon's positives (nothing removed), and
P90 coverage@10 over everyone's top 10.

Freshness (:func:`freshness`): every new positive event at time t in the horizon is a target; the user's
embedding is computed at s(t) according to a refresh policy — ``per_event`` (s = t), ``hourly``,
``daily`` (the daily job: s = t's day 00:00), ``weekly`` and ``once`` (s = C) — but never after the target's
own funnel began (:func:`funnel_start`: the impression and click of the same job seconds before an apply would
hand a per-event embedding its answer), and the target's job is ranked among all jobs (jobs applied to/saved
before s removed). HR@10 and NDCG@10 per policy: the cost of staleness.

Day-over-day cosine (:func:`day_over_day_cosine`): the definition of the monitoring job
(``feature_store.monitoring``): per user, the cosine between the embeddings of two consecutive daily runs
(cutoffs C − 1 day and C), split into active users (an event between the two cutoffs) and inactive ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from evaluation.timelines import DAY_US, HOUR_US, Timelines
from tf_models.metrics import coverage_at_k, hit_ndcg_at_k, mean_sd, ndcg_at_k, rank_of_target, recall_at_k, top_k

K = 10
POLICIES = {"per_event": 0, "hourly": HOUR_US, "daily": DAY_US, "weekly": 7 * DAY_US, "once": None}
"""Refresh policy → refresh interval (µs); ``once`` = a single embedding at the cutoff."""
COSINE_BINS = np.linspace(-1.0, 1.0, 41)

if TYPE_CHECKING:
    from evaluation.embedder import Embedder


def cutoff_targets(tls: Timelines, cutoff: int, horizon_end: int, types: tuple[str, ...]):
    """[(user, positive jobs in the horizon, those new to the user, jobs with a positive before the cutoff)] for
    users with an event before the cutoff and a positive in the horizon."""
    out = []
    for user in tls.by_user:
        if tls.events_before(user, cutoff) == 0:
            continue
        ts, jobs = tls.positives(user, types)
        seen = np.unique(jobs[ts < cutoff])
        horizon = np.unique(jobs[(ts >= cutoff) & (ts < horizon_end)])
        if len(horizon):
            out.append((user, horizon, np.setdiff1d(horizon, seen), seen))
    return out


def retrieval_at_cutoff(emb: Embedder, tls: Timelines, *, window: int, cutoff: int, horizon_end: int,
                        types: tuple[str, ...], chunk: int = 1024) -> dict[str, Any]:
    """Recall@10 / NDCG@10 of the horizon's positives from the embedding as of the cutoff: ``recall@10`` of the
    jobs new to the user (their earlier positives removed from the ranking; users with one), ``recall_all@10``
    of every positive (nothing removed); P90 coverage@10 of the first."""
    targets = cutoff_targets(tls, cutoff, horizon_end, types)
    new_metrics, all_metrics, tops = ([], []), ([], []), []
    for i in range(0, len(targets), chunk):
        part = targets[i:i + chunk]
        scores = emb.scores(emb.users(tls.contexts([(u, cutoff) for u, *_ in part], window)))
        ranked_new = top_k(scores, K, exclude=[np.concatenate([[0], seen]) for *_, seen in part])
        ranked_all = top_k(scores, K, exclude=[np.array([0])] * len(part))
        for new_row, all_row, (_, horizon, new, _) in zip(ranked_new, ranked_all, part):
            all_metrics[0].append(recall_at_k(all_row, horizon, K))
            all_metrics[1].append(ndcg_at_k(all_row, horizon, K))
            if len(new):
                new_metrics[0].append(recall_at_k(new_row, new, K))
                new_metrics[1].append(ndcg_at_k(new_row, new, K))
                tops.append(new_row)
    top_lists = np.stack(tops) if tops else np.zeros((0, K), np.int64)
    return {"users": len(new_metrics[0]), f"recall@{K}": mean_sd(new_metrics[0])[0],
            f"ndcg@{K}": mean_sd(new_metrics[1])[0], f"coverage_p90@{K}": coverage_at_k(top_lists, emb.n_jobs - 1),
            "users_all": len(all_metrics[0]), f"recall_all@{K}": mean_sd(all_metrics[0])[0],
            f"ndcg_all@{K}": mean_sd(all_metrics[1])[0]}


def freshness_targets(tls: Timelines, cutoff: int, horizon_end: int, types: tuple[str, ...]):
    """[(user, t, job)] of new positives in the horizon (a job the user had no positive on before t)."""
    out = []
    for user in tls.by_user:
        ts, jobs = tls.positives(user, types)
        first = {}
        for t, j in zip(ts, jobs):
            first.setdefault(int(j), int(t))
        out.extend((user, int(t), int(j)) for t, j in zip(ts, jobs)
                   if cutoff <= t < horizon_end and first[int(j)] == int(t) and tls.events_before(user, int(t)) > 0)
    return out


def refresh_time(t: int, cutoff: int, interval: int | None) -> int:
    """When the embedding used at time t was computed under a refresh ``interval`` (None: once, at the cutoff)."""
    if interval is None:
        return cutoff
    if interval == 0:
        return t
    return cutoff + ((t - cutoff) // interval) * interval


def funnel_start(tls: Timelines, user: str, t: int, job: int) -> int:
    """When the run of events on ``job`` that ends with the user's event at ``t`` began (impression → click →
    apply of one job, seconds apart): an embedding computed after it has seen the target coming."""
    tl = tls.by_user[user]
    i = int(np.searchsorted(tl.ts, t, "left"))
    while i > 0 and tl.job_index[i - 1] == job:
        i -= 1
    return int(tl.ts[i]) if i < len(tl.ts) else t


def freshness(emb: Embedder, tls: Timelines, *, window: int, cutoff: int, horizon_end: int,
              types: tuple[str, ...], chunk: int = 2048) -> dict[str, dict[str, Any]]:
    targets = freshness_targets(tls, cutoff, horizon_end, types)
    funnels = [funnel_start(tls, u, t, j) for u, t, j in targets]
    out = {}
    for policy, interval in POLICIES.items():
        ranks, ages = [], []
        for i in range(0, len(targets), chunk):
            part = targets[i:i + chunk]
            at = [min(refresh_time(t, cutoff, interval), f) for (_, t, _), f in zip(part, funnels[i:i + chunk])]
            scores = emb.scores(emb.users(tls.contexts([(u, s) for (u, _, _), s in zip(part, at)], window)))
            scores[:, 0] = -np.inf
            for row, (user, _, job), s in zip(scores, part, at):
                ts, jobs = tls.positives(user, types)
                row[np.setdiff1d(jobs[ts < s], [job])] = -np.inf
            target = scores[np.arange(len(part)), [j for _, _, j in part]]
            ranks.append(rank_of_target(target, scores))
            ages.extend((t - s) / HOUR_US for (_, t, _), s in zip(part, at))
        ranks_all = np.concatenate(ranks) if ranks else np.zeros(0)
        out[policy] = {"targets": len(targets), **hit_ndcg_at_k(ranks_all, K),
                       "median_age_hours": float(np.median(ages)) if ages else None}
    return out


def day_over_day_cosine(emb: Embedder, tls: Timelines, *, window: int, cutoff: int) -> dict[str, Any]:
    """Cosine of each user's embeddings at cutoffs C − 1 day and C (users with an event before C − 1 day)."""
    before = cutoff - DAY_US
    users = [u for u in tls.by_user if tls.events_before(u, before) > 0]
    if not users:
        return {"pairs": 0}
    a = emb.users(tls.contexts([(u, before) for u in users], window)).astype(np.float64)
    b = emb.users(tls.contexts([(u, cutoff) for u in users], window)).astype(np.float64)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.where(norm > 0, (a * b).sum(axis=1) / np.where(norm > 0, norm, 1.0), np.nan)
    active = np.array([tls.events_before(u, cutoff) > tls.events_before(u, before) for u in users])
    out: dict[str, Any] = {"pairs": len(users), "bins": COSINE_BINS.tolist()}
    for name, mask in (("active", active), ("inactive", ~active)):
        values = cos[mask & np.isfinite(cos)]
        out[f"{name}_pairs"] = int(len(values))
        out[f"{name}_hist"] = np.histogram(np.clip(values, -1, 1), COSINE_BINS)[0].tolist()
        out[f"{name}_quantiles"] = ({q: float(np.quantile(values, q)) for q in (0.05, 0.5, 0.95)}
                                    if len(values) else None)
    return out


class Popularity:
    """The no-model baseline with an Embedder's interface: every user gets the same ranking, jobs by their
    positives (``types``) in the ``days`` before the cutoff (ties: lower index first)."""

    def __init__(self, tls: Timelines, n_jobs: int, cutoff: int, types: tuple[str, ...], days: int = 14) -> None:
        self.n_jobs, self.counts = n_jobs, np.zeros(n_jobs, np.float64)
        for user in tls.by_user:
            ts, jobs = tls.positives(user, types)
            np.add.at(self.counts, jobs[(ts >= cutoff - days * DAY_US) & (ts < cutoff)], 1.0)

    def users(self, contexts: dict[str, np.ndarray]) -> np.ndarray:
        return np.zeros((len(contexts["context_length"]), 1), np.float32)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))
