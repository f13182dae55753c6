"""Window rules on hand-made timelines (pure numpy, no Spark)."""

from __future__ import annotations

import numpy as np
import pytest

from jobtrail.contracts import EVENT_TYPE_IDS as T
from jobtrail.errors import ConfigError
from jobtrail.sequence_core.windows import SECOND_US, UserTimeline, WindowConfig, context, expected_count, kept_targets, user_examples

DAY = 20_000  # days since epoch of every event below


def timeline(types: list[str], jobs: list[int], seconds: list[int]) -> UserTimeline:
    n = len(types)
    return UserTimeline(
        event_id=np.array([f"e{i}" for i in range(n)], dtype=object),
        ts=np.array(seconds, dtype=np.int64) * SECOND_US,
        event_type=np.array([T[t] for t in types], np.int32),
        job_index=np.array(jobs, np.int32),
        session_position=np.arange(n, dtype=np.int32),
        gap_s=np.diff(np.array(seconds, float), prepend=seconds[0]),
        query_tokens=np.zeros((n, 4), np.int32),
        day=np.full(n, DAY, np.int32),
    )


TL = timeline(
    ["search", "impression", "click", "view", "apply", "impression", "dismiss", "view", "save", "apply"],
    [0, 11, 11, 11, 11, 12, 12, 13, 13, 14],
    [0, 5, 10, 12, 40, 100, 110, 200, 210, 300],
)
POOL = {DAY: np.array([11, 12, 13, 14, 15, 16, 17], np.int32)}


def test_context_is_latest_events_strictly_before_and_padded():
    cfg = WindowConfig(window=8)
    ctx = context(TL, 110 * SECOND_US, cfg)  # before the dismiss at t=110
    assert ctx["context_length"] == 6
    assert ctx["ctx_job_index"].tolist() == [0, 11, 11, 11, 11, 12, 0]
    assert ctx["ctx_event_type"].tolist() == [T["search"], T["impression"], T["click"], T["view"], T["apply"], T["impression"], 0]
    assert ctx["ctx_log_time_to_target"][0] == pytest.approx(np.log1p(110))
    assert ctx["ctx_log_time_to_target"][6] == 0
    long = context(TL, 1_000 * SECOND_US, cfg)
    assert long["context_length"] == 7
    assert long["ctx_job_index"].tolist() == [11, 11, 12, 12, 13, 13, 14]  # the last W-1 = 7 events


def test_targets_stride_and_documented_count():
    cfg = WindowConfig(window=8)
    assert kept_targets(TL, cfg).tolist() == [4, 6, 8, 9]  # apply, dismiss, save, apply
    assert kept_targets(TL, WindowConfig(window=8, stride=2)).tolist() == [6, 9]  # every 2nd from the latest
    assert kept_targets(TL, WindowConfig(window=8, stride=3)).tolist() == [4, 9]
    assert expected_count(TL, cfg) == 4 + 3  # 4 targets + 1 negative per positive (3 positives)
    assert kept_targets(timeline(["view", "apply", "save"], [1, 1, 1], [0, 1, 2]), cfg).size == 0  # < 4 events


def test_examples_labels_weights_and_negatives():
    cfg = WindowConfig(window=8)
    rows = user_examples("u1", TL, POOL, cfg, valid_from_us=250 * SECOND_US)
    assert len(rows) == expected_count(TL, cfg)
    kinds = [(r["label_kind"], r["label"], r["weight"], r["split"]) for r in rows]
    assert kinds[:4] == [("positive", 1, 1.0, "train"), ("dismiss", 0, 1.0, "train"),
                         ("positive", 1, 1.0, "train"), ("positive", 1, 1.0, "validation")]
    negatives = rows[4:]
    touched = set(TL.job_index.tolist())
    assert all(r["label_kind"] == "random_negative" and r["weight"] == pytest.approx(0.3) for r in negatives)
    assert {r["target_job_index"] for r in negatives} <= {15, 16, 17} and not touched & {r["target_job_index"] for r in negatives}
    for neg, pos in zip(negatives, [rows[0], rows[2], rows[3]]):
        assert 0 < neg["target_ts"] - pos["target_ts"] < 60 * SECOND_US
        assert neg["ctx_job_index"].tolist() == pos["ctx_job_index"].tolist()  # targets-only: same context
    again = user_examples("u1", TL, POOL, cfg, valid_from_us=250 * SECOND_US)
    assert [r["target_job_index"] for r in again] == [r["target_job_index"] for r in rows]


def test_negatives_in_timeline_appear_in_later_contexts():
    cfg = WindowConfig(window=16, negatives_in_timeline=True)
    rows = user_examples("u1", TL, POOL, cfg, valid_from_us=10**18)
    last = rows[3]  # the final apply at t=300
    assert T["random_negative"] in last["ctx_event_type"].tolist()
    for r in rows:  # every context event strictly before its target
        n = r["context_length"]
        assert n > 0 and (np.exp(r["ctx_log_time_to_target"][:n]) - 1 > 0).all()


def test_exhausted_pool_yields_no_negative():
    rows = user_examples("u1", TL, {DAY: np.array([11, 12, 13, 14], np.int32)}, WindowConfig(window=8), 10**18)
    assert [r["label_kind"] for r in rows] == ["positive", "dismiss", "positive", "positive"]


@pytest.mark.parametrize("kwargs", [{"window": 7}, {"window": 257}, {"random_negative_weight": 1.5},
                                    {"positive_types": ("apply",), "negative_types": ("apply",)}, {"stride": 0}])
def test_bad_window_config(kwargs):
    with pytest.raises(ConfigError):
        WindowConfig(**kwargs)
