"""The batch cut (jobtrail.sequence_core.batch_sequences) gives exactly the per-user reference's rows (chunks.user_sequences)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from jobtrail.contracts import TRAINING_SEQUENCE
from jobtrail.sequence_core import batch_sequences as bs
from jobtrail.sequence_core.arrow_io import rows_to_table
from jobtrail.sequence_core.chunks import SequenceConfig, chunk_bounds, user_sequences
from jobtrail.sequence_core.windows import UserTimeline
from sequence_timelines import generated_timelines, us

VALID_FROM, END = us("2026-10-15T00:00:00"), us("2026-10-21T00:00:00")


def packed(timelines: list[UserTimeline], q: int = 4) -> pa.RecordBatch:
    """Timelines as ``spark_jobs.sequences.user_sequences`` packs them (one row per user, an array of event structs)."""
    events = [[{"ts_us": int(tl.ts[i]), "event_id": str(tl.event_id[i]), "event_type_id": int(tl.event_type[i]),
                "job_index": int(tl.job_index[i]), "session_position": int(tl.session_position[i]),
                "gap_s": float(tl.gap_s[i]), "query_tokens": tl.query_tokens[i, :q].tolist(), "day": int(tl.day[i])}
               for i in range(len(tl))] for tl in timelines]
    event = pa.struct([("ts_us", pa.int64()), ("event_id", pa.string()), ("event_type_id", pa.int32()),
                       ("job_index", pa.int32()), ("session_position", pa.int32()), ("gap_s", pa.float64()),
                       ("query_tokens", pa.list_(pa.int32())), ("day", pa.int32())])
    return pa.RecordBatch.from_arrays([pa.array([f"u{u}" for u in range(len(timelines))]),
                                       pa.array(events, pa.list_(event))], names=["user_id", "events"])


def reference(timelines: list[UserTimeline], pools, cfg: SequenceConfig, first_user: int = 0) -> pa.Table:
    rows = [row for u, tl in enumerate(timelines, start=first_user)
            for row in user_sequences(f"u{u}", tl, pools, cfg, VALID_FROM, END)]
    return rows_to_table(rows, TRAINING_SEQUENCE)


CONFIGS = [
    SequenceConfig(window=8),
    SequenceConfig(window=16, chunk_stride=5, target_gap=3600),
    SequenceConfig(window=8, chunk_stride=12, min_events=1, future_targets=3, dismisses_per_position=0,
                   negatives_per_position=2, horizon_days=2),
    SequenceConfig(window=32, dismisses_per_position=4, negatives_per_position=0, target_gap=0, seed=11),
]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_the_batch_cut_equals_the_per_user_reference(cfg):
    timelines, pools = generated_timelines(5)
    want = reference(timelines, pools, cfg)
    got = bs.batch_sequences(packed(timelines), pools, cfg, VALID_FROM, END)
    assert got.num_rows == want.num_rows > 100
    assert got.equals(want)


def test_draws_that_hit_touched_jobs_and_empty_pools_follow_the_reference():
    timelines, _ = generated_timelines(7, users=60)
    # small pools mostly of jobs the users touched (retries, exhausted pools), some days without a pool
    pools = {d: np.arange(1, 9, dtype=np.int32) for d in range(20_727, 20_750) if d % 3}
    cfg = SequenceConfig(window=8, negatives_per_position=3)
    want = reference(timelines, pools, cfg)
    assert got_equals(timelines, pools, cfg, want)
    weights = np.asarray(want.column("negative_weight").combine_chunks().flatten())
    assert (weights == 0).any() and (weights == cfg.random_negative_weight).any()


def got_equals(timelines, pools, cfg, want) -> bool:
    return bs.batch_sequences(packed(timelines), pools, cfg, VALID_FROM, END).equals(want)


def test_a_sliced_batch_and_key_overflow_slices_give_the_same_rows(monkeypatch):
    timelines, pools = generated_timelines(3, users=40)
    cfg = SequenceConfig(window=8)
    batch = packed(timelines)
    assert bs.batch_sequences(batch.slice(10, 20), pools, cfg, VALID_FROM, END).equals(
        reference(timelines[10:30], pools, cfg, first_user=10))
    span = int(max(tl.ts.max() for tl in timelines) - min(tl.ts.min() for tl in timelines)) + 3
    monkeypatch.setattr(bs, "_KEY_LIMIT", span * 7)  # 7 users per slice
    assert bs.batch_sequences(batch, pools, cfg, VALID_FROM, END).equals(reference(timelines, pools, cfg))


def test_no_users_or_no_events_before_the_split_give_no_rows():
    cfg = SequenceConfig(window=8)
    empty = bs.batch_sequences(packed([]), {}, cfg, VALID_FROM, END)
    assert empty.num_rows == 0 and empty.schema.equals(TRAINING_SEQUENCE)
    late, pools = generated_timelines(4, users=5)
    late = [tl.take(np.flatnonzero(tl.ts >= VALID_FROM)) for tl in late]
    assert bs.batch_sequences(packed(late), pools, cfg, VALID_FROM, END).num_rows == 0


@pytest.mark.parametrize("window,stride,min_events", [(8, 7, 4), (8, 3, 1), (8, 12, 1), (16, 15, 4), (8, 1, 2), (9, 200, 1)])
def test_chunk_starts_and_stops_are_chunk_bounds_of_every_user(window, stride, min_events):
    cfg = SequenceConfig(window=window, chunk_stride=stride, min_events=min_events)
    n = np.arange(0, 120)
    user, start, stop = bs._chunks(n, cfg)
    for u in n:
        want = chunk_bounds(int(u), cfg) if u >= min_events else []
        assert list(zip(start[user == u].tolist(), stop[user == u].tolist())) == want


def test_first_distinct_takes_first_appearances_in_order_and_skips_excluded_values():
    values = np.array([5, 5, 3, 7, 3, 9, 2, 8], np.int32)
    prev = np.array([-1, 0, -1, -1, 2, -1, -1, -1])
    lo, hi = np.array([0, 1, 2, 4, 3]), np.array([8, 5, 8, 4, 8])
    got = bs.first_distinct(values, prev, lo, hi, 3, exclude=np.array([[0], [5], [7], [0], [3]]), block=2)
    assert got.tolist() == [[5, 3, 7], [3, 7, 0], [3, 9, 2], [0, 0, 0], [7, 9, 2]]
