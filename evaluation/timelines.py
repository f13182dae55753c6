"""Users' whole timelines in memory, and contexts cut at any time with the pipeline's own window function.

    tls = Timelines.load(prepared.sequences)
    batch = tls.contexts([("u00000001", cutoff_us), ...], window=32)   # the encode_users inputs, stacked

Contexts come from :func:`jobtrail.sequence_core.windows.context` — the function the examples job and the inference
inputs job use — so an embedding computed here at time t is exactly the one the daily job would compute
with a cutoff t (latest W − 1 events strictly before t, "time to target" measured to t).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from jobtrail.sequence_core.arrow_io import user_timelines
from jobtrail.sequence_core.windows import UserTimeline, WindowConfig, context
from jobtrail.tables import EVENT_TYPE_IDS
from tf_models.signatures import CONTEXT_FEATURES

DAY_US = 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000


@dataclass
class Timelines:
    """user_id → :class:`UserTimeline` (events sorted by (ts, event_id), job indices of the side table)."""

    by_user: dict[str, UserTimeline]
    query_tokens: int
    _positives: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, sequences: str | Path, query_tokens: int = 4) -> "Timelines":
        by_user: dict[str, UserTimeline] = {}
        for path in sorted(Path(sequences).glob("*.parquet")):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
                by_user.update(user_timelines(batch, query_tokens))
        return cls(by_user, query_tokens)

    @classmethod
    def from_timelines(cls, timelines: dict[str, UserTimeline], query_tokens: int = 4) -> "Timelines":
        return cls(dict(timelines), query_tokens)

    def contexts(self, requests: Iterable[tuple[str, int]], window: int) -> dict[str, np.ndarray]:
        """Stacked context arrays (the ``encode_users`` inputs) of each (user, time µs) request."""
        cfg = WindowConfig(window=window, query_tokens=self.query_tokens, min_events=1)
        rows = [context(self.by_user[user], int(ts), cfg) for user, ts in requests]
        if not rows:
            length = window - 1
            empty = {n: np.zeros((0, length), np.int32) for n in CONTEXT_FEATURES}
            empty["ctx_query_tokens"] = np.zeros((0, length * self.query_tokens), np.int32)
            empty["context_length"] = np.zeros(0, np.int32)
            for n in ("ctx_log_gap", "ctx_log_time_to_target"):
                empty[n] = empty[n].astype(np.float32)
            return empty
        out = {}
        for name in CONTEXT_FEATURES:
            values = np.stack([r[name] for r in rows]) if name != "context_length" else np.array(
                [r[name] for r in rows])
            out[name] = values.astype(np.float32 if name in ("ctx_log_gap", "ctx_log_time_to_target") else np.int32)
        return out

    def events_before(self, user: str, ts: int) -> int:
        return int(np.searchsorted(self.by_user[user].ts, ts, side="left"))

    def positives(self, user: str, types: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(times, job indices) of the user's events of ``types`` (e.g. apply, save), in time order (cached)."""
        key = (user, types)
        if key not in self._positives:
            tl = self.by_user[user]
            mask = np.isin(tl.event_type, [EVENT_TYPE_IDS[t] for t in types]) & (tl.job_index > 0)
            self._positives[key] = (tl.ts[mask], tl.job_index[mask])
        return self._positives[key]

    def events(self, start_us: int, end_us: int, types: tuple[str, ...]) -> list[tuple[str, int, int]]:
        """Every (user, ts, job index) event of ``types`` with a job, in [start, end)."""
        ids = [EVENT_TYPE_IDS[t] for t in types]
        out = []
        for user, tl in self.by_user.items():
            mask = (tl.ts >= start_us) & (tl.ts < end_us) & np.isin(tl.event_type, ids) & (tl.job_index > 0)
            out.extend((user, int(t), int(j)) for t, j in zip(tl.ts[mask], tl.job_index[mask]))
        return out
