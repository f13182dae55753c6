"""Timelines: (ts, event_id) order, sessions split exactly where the gap exceeds the threshold."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobtrail.contracts import RAW_EVENT, TIMELINE, with_partition
from spark_jobs.schemas import spark_schema
from spark_jobs.timelines import TimelineArgs, events_between, run, sessionize

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
D1 = date(2026, 10, 1)


def ev(spark, rows):
    """rows: (event_id, user, type, job, minutes after T0)."""
    data = [(e, u, t, j, None, T0 + timedelta(minutes=m), "search", (T0 + timedelta(minutes=m)).date())
            for e, u, t, j, m in rows]
    return spark.createDataFrame(data, spark_schema(with_partition(RAW_EVENT)))


def test_golden_sessions_positions_and_gaps(spark):
    events = ev(spark, [
        ("b", "u1", "view", "j1", 0), ("a", "u1", "impression", "j1", 0),  # same ts: event_id orders them
        ("c", "u1", "apply", "j1", 30),  # exactly 30 min: same session
        ("d", "u1", "view", "j2", 60.5),  # 30.5 min: new session
        ("e", "u2", "view", "j3", 5),
    ])
    got = sessionize(events).select("user_id", "event_id", "position", "session_id", "session_position", "gap_s")
    expected = spark.createDataFrame(
        [("u1", "a", 0, 0, 0, None), ("u1", "b", 1, 0, 1, 0.0), ("u1", "c", 2, 0, 2, 1800.0),
         ("u1", "d", 3, 1, 0, 1830.0), ("u2", "e", 0, 0, 0, None)],
        "user_id string, event_id string, position int, session_id int, session_position int, gap_s double",
    )
    assertDataFrameEqual(got, expected)
    assert sessionize(events).columns == TIMELINE.names


@pytest.mark.parametrize("gap_minutes, sessions", [(10, 3), (30, 2), (45, 1)])
def test_threshold_is_configurable(spark, gap_minutes, sessions):
    events = ev(spark, [("a", "u", "view", "j", 0), ("b", "u", "view", "j", 20), ("c", "u", "view", "j", 55)])
    assert sessionize(events, session_gap_minutes=gap_minutes).agg(F.max("session_id")).first()[0] == sessions - 1


def test_sessions_split_exactly_where_gap_exceeds_threshold(spark, synthetic_dir):
    raw = spark.read.parquet(str(synthetic_dir / "raw_events"))
    tl = sessionize(events_between(raw, start=D1, end=date(2026, 10, 10)))
    bad = tl.where(
        ((F.col("session_position") == 0) & (F.col("position") > 0) & (F.col("gap_s") <= 1800))
        | ((F.col("session_position") > 0) & (F.col("gap_s") > 1800))
    )
    assert bad.count() == 0
    assert tl.where("session_id > 0").count() > 0


def test_job_replaces_its_range_only(spark, tmp_path):
    events_path, out = tmp_path / "clean", tmp_path / "timelines"
    ev(spark, [("a", "u", "view", "j", 0), ("b", "u", "view", "j", 60 * 24), ("c", "u", "view", "j", 60 * 48)]) \
        .write.format("delta").partitionBy("ds").save(str(events_path))
    args = TimelineArgs(D1, date(2026, 10, 3), events_path, out)
    assert run(spark, args) == {"events": 3, "users": 1}
    first = spark.read.format("delta").load(str(out)).collect()
    assert run(spark, args) == {"events": 3, "users": 1}  # rerun: replaced, not appended
    assert sorted(spark.read.format("delta").load(str(out)).collect()) == sorted(first)
    run(spark, TimelineArgs(date(2026, 10, 2), date(2026, 10, 3), events_path, out))
    days = {r.ds: r.position for r in spark.read.format("delta").load(str(out)).collect()}
    assert days == {D1: 0, date(2026, 10, 2): 0, date(2026, 10, 3): 1}  # day 1 untouched, 2-3 rebuilt
