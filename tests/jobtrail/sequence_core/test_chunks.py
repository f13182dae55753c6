"""Per-position training sequences (jobtrail.sequence_core.chunks), pure numpy: golden rows, chunking, invariants, small users."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from jobtrail.contracts import EVENT_TYPE_IDS, TRAINING_SEQUENCE
from jobtrail.errors import ConfigError
from jobtrail.sequence_core.arrow_io import rows_to_table
from jobtrail.sequence_core.chunks import DAY_US, SequenceConfig, chunk_bounds, target_window_start, user_sequences
from jobtrail.sequence_core.windows import SECOND_US, UserTimeline
from sequence_timelines import generated_timelines, timeline, us

POSITIVE = {EVENT_TYPE_IDS["apply"], EVENT_TYPE_IDS["save"]}
DISMISS = EVENT_TYPE_IDS["dismiss"]


def day(text: str) -> int:
    return us(text) // DAY_US


# golden: W = 8 (L = 7), K = 2 future targets, 1 dismiss + 1 random negative slot per position
CFG = SequenceConfig(window=8, future_targets=2, dismisses_per_position=1, negatives_per_position=1)
VALID_FROM, END = us("2026-10-05T00:00:00"), us("2026-10-07T00:00:00")
EVENTS = [
    ("e01", "2026-10-01T09:00:00", "search", 0),
    ("e02", "2026-10-01T09:05:00", "view", 1),
    ("e03", "2026-10-01T09:10:00", "save", 1),
    ("e04", "2026-10-01T09:10:00", "apply", 2),  # same time as e03: neither is the other's target
    ("e05", "2026-10-01T20:00:00", "dismiss", 3),
    ("e06", "2026-10-02T08:00:00", "view", 4),
    ("e07", "2026-10-02T09:00:00", "apply", 4),
    ("e08", "2026-10-03T10:00:00", "dismiss", 5),
    ("e09", "2026-10-04T23:00:00", "view", 6),
    ("e10", "2026-10-05T10:00:00", "apply", 6),  # validation from here on
    ("e11", "2026-10-06T10:00:00", "dismiss", 7),
    ("e12", "2026-10-06T11:00:00", "save", 8),
    ("e13", "2026-10-07T01:00:00", "apply", 9),  # after the end of the range: never a target
]
# per day, the jobs anyone interacted with; for each day exactly one job this user never touched
POOLS = {day("2026-10-01T00:00:00"): np.array([1, 2, 3, 20], np.int32),
         day("2026-10-02T00:00:00"): np.array([4, 21], np.int32),
         day("2026-10-04T00:00:00"): np.array([6, 22], np.int32)}


def by_position(row: dict, name: str, width: int) -> list[list[int]]:
    return np.asarray(row[name]).reshape(CFG.context_size, width).tolist()


def test_golden_rows():
    rows = {r["sequence_id"]: r for r in user_sequences("u1", timeline(EVENTS), POOLS, CFG, VALID_FROM, END)}
    assert list(rows) == ["u1:e01", "u1:e03", "u1:validation"]  # chunks end at e09, then 7 earlier: e01..e02
    first, second, valid = rows.values()
    assert (first["split"], second["split"], valid["split"]) == ("train", "train", "validation")

    # chunk e01..e02 (shorter, starts at event 0), padded at the end
    assert first["context_length"] == 2 and first["n_targets"] == 2
    assert first["ctx_job_index"].tolist() == [0, 1, 0, 0, 0, 0, 0]
    assert first["next_job_index"].tolist() == [1, 1, 0, 0, 0, 0, 0]  # e03's save of j1
    assert by_position(first, "future_job_index", 2)[:3] == [[4, 0], [4, 0], [0, 0]]  # from 10-02 00:00: e07
    assert by_position(first, "negative_job_index", 2)[:3] == [[3, 20], [3, 20], [0, 0]]  # e05's dismiss; random
    np.testing.assert_allclose(by_position(first, "negative_weight", 2)[:3], [[1.0, 0.3], [1.0, 0.3], [0.0, 0.0]])
    np.testing.assert_allclose(first["ctx_log_time_to_target"][:3],
                               [np.log1p(15 * 3600.0), np.log1p(14 * 3600.0 + 55 * 60), 0.0], rtol=1e-6)

    # chunk e03..e09: targets stop before valid_from (e10 is validation), same-time e04 is not e03's next
    assert second["context_length"] == 7 and second["n_targets"] == 4
    assert second["ctx_job_index"].tolist() == [1, 2, 3, 4, 4, 5, 6]
    assert second["next_job_index"].tolist() == [4, 4, 4, 4, 0, 0, 0]
    assert by_position(second, "future_job_index", 2) == [[4, 0]] * 3 + [[0, 0]] * 4
    assert by_position(second, "negative_job_index", 2) == [[3, 20], [3, 20], [5, 20], [5, 21], [5, 0], [0, 0], [0, 0]]
    np.testing.assert_allclose(by_position(second, "negative_weight", 2),
                               [[1.0, 0.3]] * 4 + [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])

    # validation: the latest 7 events before valid_from, targets only at the last real position (e09)
    assert valid["context_length"] == 7 and valid["n_targets"] == 1
    assert valid["ctx_job_index"].tolist() == second["ctx_job_index"].tolist()
    assert valid["next_job_index"].tolist() == [0] * 6 + [6]
    assert by_position(valid, "future_job_index", 2) == [[0, 0]] * 6 + [[6, 8]]  # e13 is after the end
    assert by_position(valid, "negative_job_index", 2) == [[0, 0]] * 6 + [[7, 22]]
    np.testing.assert_allclose(by_position(valid, "negative_weight", 2), [[0.0, 0.0]] * 6 + [[1.0, 0.3]])
    np.testing.assert_allclose(valid["ctx_log_time_to_target"][-1], np.log1p(3600.0), rtol=1e-6)  # to valid_from
    table = rows_to_table(list(rows.values()), TRAINING_SEQUENCE)
    assert table.schema.equals(TRAINING_SEQUENCE) and table.num_rows == 3


def test_chunk_bounds_and_target_window():
    assert chunk_bounds(9, CFG) == [(0, 2), (2, 9)]
    assert chunk_bounds(7, CFG) == [(0, 7)]
    overlapping = chunk_bounds(10, replace(CFG, chunk_stride=3))
    assert overlapping == [(0, 7), (3, 10)]  # the earliest chunk starts at event 0, then no more
    assert chunk_bounds(20, replace(CFG, chunk_stride=10)) == [(3, 10), (13, 20)]  # stride > L skips events
    ts = np.array([us("2026-10-01T23:59:59"), us("2026-10-02T00:00:00")])
    assert target_window_start(ts, CFG).tolist() == [us("2026-10-02T00:00:00"), us("2026-10-03T00:00:00")]
    assert target_window_start(ts, replace(CFG, target_gap=60)).tolist() == (ts + 60 * SECOND_US).tolist()


def test_config_rules():
    assert SequenceConfig().chunk_stride == 31 and SequenceConfig(window=16).negative_slots == 3
    for bad in ({"window": 7}, {"chunk_stride": 0}, {"future_targets": 0}, {"horizon_days": 0},
                {"target_gap": "noon"}, {"target_gap": -1}, {"random_negative_weight": 1.0},
                {"positive_types": ("apply",), "negative_types": ("apply",)}, {"dismisses_per_position": -1}):
        with pytest.raises(ConfigError):
            SequenceConfig(**bad)


def test_users_with_one_to_three_events_give_no_train_rows():
    few = EVENTS[6:9] + EVENTS[9:10]  # e07, e08, e09 before valid_from, e10 after
    for n in (1, 2, 3):
        rows = user_sequences("u", timeline(few[3 - n:]), POOLS, CFG, VALID_FROM, END)
        assert [r["split"] for r in rows] == ["validation"]
        assert rows[0]["context_length"] == n and rows[0]["next_job_index"][n - 1] == 6
    assert user_sequences("u", timeline(EVENTS[:1]), POOLS, CFG, VALID_FROM, END) == []  # no positive afterwards
    assert user_sequences("u", timeline(EVENTS[9:12]), POOLS, CFG, VALID_FROM, END) == []  # nothing before


# --- invariants over generated timelines ----------------------------------------------------------------------------

def generated(seed: int, users: int = 150) -> list[tuple[UserTimeline, dict[int, np.ndarray]]]:
    timelines, pools = generated_timelines(seed, users)
    return [(tl, pools) for tl in timelines]


def oracle(tl: UserTimeline, i: int, ref: int, limit: int, cfg: SequenceConfig) -> tuple[int, list[int], list[int]]:
    """next, future and dismiss jobs of position ``i``, by brute force over the events."""
    later = [j for j in range(len(tl)) if tl.ts[i] < tl.ts[j] < limit and tl.job_index[j] > 0]
    positives = [j for j in later if tl.event_type[j] in POSITIVE]
    nxt = int(tl.job_index[positives[0]]) if positives else 0
    future = list(dict.fromkeys(int(tl.job_index[j]) for j in positives
                                if ref <= tl.ts[j] < ref + cfg.horizon_days * DAY_US))[:cfg.future_targets]
    dismissed = [int(tl.job_index[j]) for j in later if tl.event_type[j] == DISMISS
                 and tl.ts[j] < ref + cfg.horizon_days * DAY_US and tl.job_index[j] not in {nxt, *future}]
    return nxt, future, list(dict.fromkeys(dismissed))[:cfg.dismisses_per_position]


@pytest.mark.parametrize("cfg", [SequenceConfig(window=8), SequenceConfig(window=16, chunk_stride=5, target_gap=3600)])
def test_invariants_over_generated_timelines(cfg):
    valid_from, end = us("2026-10-15T00:00:00"), us("2026-10-21T00:00:00")
    length, k, m, d = cfg.context_size, cfg.future_targets, cfg.negative_slots, cfg.dismisses_per_position
    checked = 0
    for u, (tl, pools) in enumerate(generated(5)):
        rows = user_sequences(f"u{u}", tl, pools, cfg, valid_from, end)
        again = rows_to_table(user_sequences(f"u{u}", tl, pools, cfg, valid_from, end), TRAINING_SEQUENCE)
        assert rows_to_table(rows, TRAINING_SEQUENCE).equals(again)  # deterministic
        touched = set(tl.job_index.tolist())
        n_before = int(np.searchsorted(tl.ts, valid_from))
        ids = list(tl.event_id)
        for row in rows:
            n = row["context_length"]
            nxt = row["next_job_index"]
            future = row["future_job_index"].reshape(length, k)
            negative, weight = row["negative_job_index"].reshape(length, m), row["negative_weight"].reshape(length, m)
            assert (nxt[n:] == 0).all() and (future[n:] == 0).all() and (weight[n:] == 0).all()
            assert row["n_targets"] == (nxt > 0).sum() > 0
            if row["split"] == "train":
                assert n_before >= cfg.min_events
                first = ids.index(row["sequence_id"].split(":", 1)[1])
                positions, limit = range(first, first + n), valid_from
                assert first + n <= n_before  # context and targets before valid_from
                refs = target_window_start(tl.ts[first:first + n], cfg)
            else:
                assert row["sequence_id"] == f"u{u}:validation"
                positions, limit = range(n_before - n, n_before), end
                refs = np.full(n, valid_from)
                assert (nxt[:n - 1] == 0).all() and (weight[:n - 1] == 0).all()
            for t, i in enumerate(positions):
                assert tl.job_index[i] == row["ctx_job_index"][t]
                if row["split"] == "validation" and t < n - 1:
                    continue
                after = {int(tl.job_index[j]) for j in range(len(tl)) if tl.ts[i] < tl.ts[j] < limit}
                targets = {int(nxt[t]), *future[t].tolist(), *negative[t, :d].tolist()} - {0}
                assert targets <= after  # no target at or before its position, none past the split's limit
                want_next, want_future, want_dismissed = oracle(tl, i, int(refs[t]), limit, cfg)
                assert nxt[t] == want_next and future[t].tolist() == want_future + [0] * (k - len(want_future))
                assert negative[t, :d].tolist() == want_dismissed + [0] * (d - len(want_dismissed))
                randoms = negative[t, d:][weight[t, d:] > 0]
                assert len(randoms) == (cfg.negatives_per_position if nxt[t] else 0)
                assert not set(randoms.tolist()) & touched  # a random negative is never a job the user touched
                assert set(randoms.tolist()) <= set(pools[int(tl.day[i])].tolist())
                checked += 1
    assert checked > 1000


def test_default_stride_covers_each_event_at_most_once():
    cfg = SequenceConfig(window=8)
    for u, (tl, pools) in enumerate(generated(9, users=40)):
        rows = [r for r in user_sequences(f"u{u}", tl, pools, cfg, us("2026-10-15T00:00:00"), us("2026-10-21T00:00:00"))
                if r["split"] == "train"]
        starts = [list(tl.event_id).index(r["sequence_id"].split(":", 1)[1]) for r in rows]
        covered = [i for s, r in zip(starts, rows) for i in range(s, s + r["context_length"])]
        assert len(covered) == len(set(covered))
