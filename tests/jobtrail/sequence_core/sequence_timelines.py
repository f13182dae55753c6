"""Timelines for the sequence-core tests: built from readable events, and generated (many users, ties, every type)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from jobtrail.contracts import EVENT_TYPE_IDS
from jobtrail.sequence_core.chunks import DAY_US
from jobtrail.sequence_core.windows import SECOND_US, UserTimeline


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * SECOND_US


def timeline(events: list[tuple[str, str, str, int]], q: int = 4) -> UserTimeline:
    """events: (event_id, ISO time, event type, job_index), in (ts, event_id) order."""
    ts = np.array([us(t) for _, t, _, _ in events], np.int64)
    gaps = np.diff(ts, prepend=ts[:1]) / SECOND_US
    return UserTimeline(
        event_id=np.array([e for e, *_ in events], dtype=object), ts=ts,
        event_type=np.array([EVENT_TYPE_IDS[k] for _, _, k, _ in events], np.int32),
        job_index=np.array([j for *_, j in events], np.int32),
        session_position=np.arange(len(events), dtype=np.int32), gap_s=gaps.astype(np.float64),
        query_tokens=np.zeros((len(events), q), np.int32), day=(ts // DAY_US).astype(np.int32))


def generated_timelines(seed: int, users: int = 150) -> tuple[list[UserTimeline], dict[int, np.ndarray]]:
    """``users`` random timelines over 20 days from 2026-10-01 (1..89 events, 10% tied times, jobs 1..59) and pools of
    jobs 1..79 for every day."""
    rng = np.random.default_rng(seed)
    kinds = ["search", "impression", "view", "click", "save", "apply", "dismiss"]
    start = us("2026-10-01T00:00:00")
    out = []
    for u in range(users):
        n = int(rng.integers(1, 90))
        ts = np.sort(start + rng.integers(0, 20 * DAY_US // SECOND_US, n) * SECOND_US)
        ts[rng.random(n) < 0.1] = ts[0]  # ties
        ts.sort()
        types = rng.choice(kinds, n, p=[0.1, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1])
        jobs = np.where(types == "search", 0, rng.integers(1, 60, n))
        iso = [datetime.fromtimestamp(t / SECOND_US, timezone.utc).replace(tzinfo=None).isoformat() for t in ts]
        out.append(timeline([(f"u{u}e{i:03d}", iso[i], types[i], int(jobs[i])) for i in range(n)]))
    first, last = us("2026-09-30T00:00:00") // DAY_US, us("2026-10-25T00:00:00") // DAY_US
    return out, {d: np.arange(1, 80, dtype=np.int32) for d in range(first, last)}
