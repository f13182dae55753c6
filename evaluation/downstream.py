"""Downstream lift: a ranker on ordinary features, with and without the user embedding.

Label rows are events of the test horizon [C, C + H), each with the user's features as of its day's
00:00 UTC (what a downstream model joining the daily feature table would see — point-in-time correct):

- ``click`` (synthetic data): every impression; label 1 when the user clicked, viewed, saved or applied to the
  same job within the hour after it;
- ``liked`` (MovieLens): every rating; label 1 for a rating ≥ 4 (``apply``).

Ordinary features: the job's popularity (events on it by anyone in the 7 days before the day, and its
positives before the day), its posting age (side table ``log_posted_age_days``), the user's event counts by
type before the day, their total and the hours since their last event. "With embedding" adds the user
embedding of that day and the model's ``score`` logit of (user, job). The ranker is scikit-learn's
HistGradientBoostingClassifier, fitted on the horizon's first half and tested on the second half (a time
split again). Lift = relative ROC-AUC lift (:func:`tf_models.metrics.relative_lift`), AUC from
:func:`tf_models.metrics.ranking_metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from evaluation.timelines import DAY_US, HOUR_US, Timelines
from jobtrail.job_table_io import load_job_table
from jobtrail.tables import EVENT_TYPE_IDS, EVENT_TYPES
from tf_models.metrics import ranking_metrics, relative_lift

ENGAGED = ("click", "view", "save", "apply")

if TYPE_CHECKING:
    from evaluation.embedder import Embedder


def label_rows(tls: Timelines, kind: str, start: int, end: int) -> list[tuple[str, int, int, int]]:
    """(user, ts, job index, label) of the horizon's label rows (see the module docstring)."""
    rows = []
    if kind == "click":
        engaged = [EVENT_TYPE_IDS[t] for t in ENGAGED]
        for user, tl in tls.by_user.items():
            for i in np.flatnonzero((tl.ts >= start) & (tl.ts < end) & (tl.event_type == EVENT_TYPE_IDS["impression"])):
                later = (tl.ts > tl.ts[i]) & (tl.ts <= tl.ts[i] + HOUR_US) & (tl.job_index == tl.job_index[i])
                clicked = int(np.isin(tl.event_type[later], engaged).any())
                rows.append((user, int(tl.ts[i]), int(tl.job_index[i]), clicked))
    elif kind == "liked":
        rated = [EVENT_TYPE_IDS[t] for t in ("apply", "view", "dismiss")]
        for user, tl in tls.by_user.items():
            mask = (tl.ts >= start) & (tl.ts < end) & np.isin(tl.event_type, rated) & (tl.job_index > 0)
            for i in np.flatnonzero(mask):
                liked = int(tl.event_type[i] == EVENT_TYPE_IDS["apply"])
                rows.append((user, int(tl.ts[i]), int(tl.job_index[i]), liked))
    else:
        raise ValueError(f"unknown downstream label kind {kind!r}")
    return sorted(rows, key=lambda r: (r[1], r[0]))


@dataclass
class Downstream:
    """Label rows, their ordinary features and the time split, built once per dataset."""

    rows: list[tuple[str, int, int, int]]
    ordinary: np.ndarray
    labels: np.ndarray
    train: np.ndarray
    day_starts: np.ndarray
    baseline: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def build(cls, tls: Timelines, job_table, kind: str, start: int, end: int) -> "Downstream":
        rows = label_rows(tls, kind, start, end)
        day = np.array([(t // DAY_US) * DAY_US for _, t, _, _ in rows], np.int64)
        table, _ = load_job_table(job_table)
        posted_age = table.column("log_posted_age_days").to_numpy()
        job_times = _job_event_index(tls)
        positive_ids = [EVENT_TYPE_IDS[t] for t in ("save", "apply")]
        job_pos = _job_event_index(tls, positive_ids)
        feats = []
        for (user, _, job, _), d in zip(rows, day):
            tl = tls.by_user[user]
            n = int(np.searchsorted(tl.ts, d))
            counts = np.bincount(tl.event_type[:n], minlength=len(EVENT_TYPES) + 2)[1:len(EVENT_TYPES) + 1]
            since = np.log1p((d - tl.ts[n - 1]) / HOUR_US) if n else -1.0
            feats.append([_count(job_times, job, d - 7 * DAY_US, d), _count(job_pos, job, 0, d),
                          posted_age[job], *counts, n, since])
        labels = np.array([r[3] for r in rows], np.int64)
        middle = start + ((end - start) // (2 * DAY_US)) * DAY_US
        return cls(rows, np.asarray(feats, np.float64).reshape(len(rows), -1), labels, day < middle, day)

    def fit_auc(self, features: np.ndarray, seed: int) -> dict[str, Any]:
        """Fit the ranker on the first half, return AUC / log loss on the second half."""
        train, test = self.train, ~self.train
        if len(np.unique(self.labels[train])) < 2 or len(np.unique(self.labels[test])) < 2:
            return {"auc": None, "log_loss": None, "train_rows": int(train.sum()), "test_rows": int(test.sum())}
        model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, early_stopping=False,
                                               random_state=seed)
        with threadpool_limits(1):  # OpenMP threads spin against TensorFlow's on 2 cores: one is much faster
            model.fit(features[train], self.labels[train])
            p = np.clip(model.predict_proba(features[test])[:, 1], 1e-7, 1 - 1e-7)
        m = ranking_metrics(self.labels[test], np.log(p / (1 - p)), np.ones(int(test.sum())))
        return {"auc": m["auc"], "log_loss": m["log_loss"], "train_rows": int(train.sum()),
                "test_rows": int(test.sum()), "positive_rate": float(self.labels.mean())}

    def without(self, seed: int) -> dict[str, Any]:
        if seed not in self.baseline:
            self.baseline[seed] = self.fit_auc(self.ordinary, seed)
        return self.baseline[seed]

    def lift(self, emb: Embedder, tls: Timelines, window: int, seed: int) -> dict[str, Any]:
        """Downstream AUC without / with the embedding (+ its score of the row's job) and the relative lift."""
        if not self.rows:
            return {"auc_without": None, "auc_with": None, "lift": None, "rows": 0}
        keys = sorted({(u, int(d)) for (u, _, _, _), d in zip(self.rows, self.day_starts)})
        where = {k: i for i, k in enumerate(keys)}
        users = emb.users(tls.contexts(keys, window))
        per_row = users[[where[(u, int(d))] for (u, _, _, _), d in zip(self.rows, self.day_starts)]]
        logit = emb.pair_logits(per_row, emb.jobs[[r[2] for r in self.rows]])
        base, with_emb = self.without(seed), self.fit_auc(np.hstack([self.ordinary, per_row, logit[:, None]]), seed)
        return {"auc_without": base["auc"], "auc_with": with_emb["auc"],
                "lift": relative_lift(with_emb["auc"], base["auc"]), "rows": len(self.rows),
                "train_rows": base["train_rows"], "test_rows": base["test_rows"],
                "positive_rate": base.get("positive_rate")}


def _job_event_index(tls: Timelines, types: list[int] | None = None) -> np.ndarray:
    """Sorted keys job << 32 | seconds-since-2^31-offset of every event (of ``types``) on a job."""
    keys = []
    for tl in tls.by_user.values():
        mask = tl.job_index > 0 if types is None else (tl.job_index > 0) & np.isin(tl.event_type, types)
        keys.append(_key(tl.job_index[mask], tl.ts[mask]))
    return np.sort(np.concatenate(keys)) if keys else np.zeros(0, np.int64)


def _key(job, ts) -> np.ndarray:
    seconds = np.asarray(ts, np.int64) // 1_000_000 - 800_000_000  # fits 32 bits for 1995 .. 2093
    return (np.asarray(job, np.int64) << 32) | np.clip(seconds, 0, 2**32 - 1)


def _count(index: np.ndarray, job: int, start: int, end: int) -> int:
    """Events on ``job`` with start <= ts < end."""
    lo, hi = _key(job, max(start, 800_000_000 * 1_000_000)), _key(job, end)
    return int(np.searchsorted(index, hi) - np.searchsorted(index, lo))
