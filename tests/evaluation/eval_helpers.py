"""Helpers for the evaluation tests: hand-written timelines and a transparent stand-in for a SavedModel.

(A module of its own, not conftest.py: several test folders have a conftest.py, so ``from conftest import``
would pick whichever was imported first.)
"""

from __future__ import annotations

import numpy as np

from jobtrail.sequence_core.windows import UserTimeline
from jobtrail.tables import EVENT_TYPE_IDS

HOUR = 3_600 * 1_000_000
DAY = 24 * HOUR
CUTOFF = 20_000 * DAY  # 2024-10-04 00:00 UTC


def timeline(events: list[tuple[int, str, int]], q: int = 4) -> UserTimeline:
    """A UserTimeline from (ts µs, event type, job index) triples (sorted here)."""
    events = sorted(events)
    n = len(events)
    ts = np.array([e[0] for e in events], np.int64)
    return UserTimeline(
        event_id=np.array([f"e{i}" for i in range(n)], dtype=object), ts=ts,
        event_type=np.array([EVENT_TYPE_IDS[e[1]] for e in events], np.int32),
        job_index=np.array([e[2] for e in events], np.int32), session_position=np.zeros(n, np.int32),
        gap_s=np.r_[0.0, np.diff(ts) / 1e6] if n else np.zeros(0), query_tokens=np.zeros((n, q), np.int32),
        day=(ts // DAY).astype(np.int32))


class CategoryModel:
    """A stand-in with Embedder's interface: job j ≥ 1 has category j % 3 (one-hot job embedding); a user's
    embedding is the one-hot category of the latest (``first=True``: the oldest) job in their context;
    score = dot product."""

    def __init__(self, n_jobs: int = 40, first: bool = False) -> None:
        self.first = first
        self.jobs = np.zeros((n_jobs, 3), np.float32)
        self.jobs[np.arange(1, n_jobs), np.arange(1, n_jobs) % 3] = 1.0

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    def users(self, contexts: dict[str, np.ndarray]) -> np.ndarray:
        out = np.zeros((len(contexts["context_length"]), 3), np.float32)
        for b, n in enumerate(contexts["context_length"]):
            jobs = contexts["ctx_job_index"][b, :n]
            jobs = jobs[jobs > 0]
            if len(jobs):
                out[b] = self.jobs[jobs[0] if self.first else jobs[-1]]
        return out

    def scores(self, users: np.ndarray) -> np.ndarray:
        return users.astype(np.float64) @ self.jobs.T.astype(np.float64)

    def pair_logits(self, users: np.ndarray, jobs: np.ndarray) -> np.ndarray:
        return (users * jobs).sum(axis=1)
