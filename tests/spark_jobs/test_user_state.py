"""The per-user timeline state: inference inputs made from it equal the full recompute from the history, through
folds, reruns, a re-ingested (late) day, an out-of-order backfill and a lookback shorter than the history."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from jobtrail.contracts import RAW_EVENT, with_partition
from spark_jobs import inference_inputs, user_state

DAY1 = date(2026, 10, 1)
USERS = [f"u{i}" for i in range(24)]
JOBS = [f"j{i}" for i in range(30)]  # j25..j29 are missing from the side table (index 0)
TYPES = ("search", "impression", "view", "click", "save", "apply", "dismiss")
WINDOW = 8  # inference inputs keep the latest W - 1 = 7 events per user in the state


def day_events(day: date, rng: np.random.Generator, *, n: int, tag: str = "") -> pd.DataFrame:
    """Events of one day, many near its two midnights so sessions cross them; a few users each day."""
    users = rng.choice(USERS, size=min(n, 9), replace=False)
    rows = []
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    for i in range(n):
        user = users[i % len(users)]
        near = rng.random() < 0.6
        offset = rng.integers(0, 40 * 60) if near and i % 2 else (86_399 - rng.integers(0, 40 * 60) if near
                                                                   else rng.integers(0, 86_400))
        kind = TYPES[rng.integers(0, len(TYPES))]
        rows.append({
            "event_id": f"{day:%m%d}{tag}-{i}", "user_id": user, "event_type": kind,
            "job_id": None if kind == "search" else JOBS[rng.integers(0, len(JOBS))],
            "query": f"data engineer {rng.integers(0, 5)}" if kind == "search" else None,
            "ts": pd.Timestamp(midnight + timedelta(seconds=int(offset))), "channel": None, "ds": day,
        })
    return pd.DataFrame(rows)


@pytest.fixture
def tables(spark, tmp_path):
    side = spark.createDataFrame([(j, i + 1) for i, j in enumerate(JOBS[:25])], "job_id string, job_index int")
    side.write.parquet(str(tmp_path / "jobs"))
    return tmp_path


def ingest(spark, root, day: date, events: pd.DataFrame) -> None:
    """Replace one day of the clean events, as the ingest job does (new data files each time)."""
    schema = ", ".join(f"{f.name} {t}" for f, t in zip(with_partition(RAW_EVENT), (
        "string", "string", "string", "string", "string", "timestamp", "string", "date")))
    (spark.createDataFrame(events[list(with_partition(RAW_EVENT).names)], schema).write.format("delta")
     .mode("overwrite").option("replaceWhere", f"ds = '{day}'").partitionBy("ds").save(str(root / "clean")))


def inputs(spark, root, as_of: date, source: str, lookback: int = 30) -> tuple[pd.DataFrame, dict]:
    out = root / f"inputs_{source}"
    args = inference_inputs.parse_args([
        "--as-of", str(as_of), "--lookback-days", str(lookback), "--job-table", str(root / "jobs"),
        "--events", str(root / "clean"), "--out", str(out), "--state", str(root / "state"), "--source", source,
        "--window", str(WINDOW), "--min-events", "3"])
    counts = inference_inputs.run(spark, args)
    rows = spark.read.format("delta").load(str(out)).where(f"as_of_date = '{as_of}'").toPandas()
    return rows.sort_values("user_id").reset_index(drop=True), counts.get("state", {})


def assert_same_as_history(spark, root, as_of: date, lookback: int = 30) -> dict:
    got, made = inputs(spark, root, as_of, "state", lookback)
    expected, _ = inputs(spark, root, as_of, "history", lookback)
    assert len(got) > 0 and list(got.user_id) == list(expected.user_id)
    for column in got.columns:
        for user, a, b in zip(got.user_id, got[column], expected[column]):
            assert np.array_equal(np.asarray(a), np.asarray(b)), (as_of, column, user, a, b)
    return made


def test_state_inputs_equal_the_full_recompute_through_folds_reruns_late_days_and_backfills(spark, tables):
    rng = np.random.default_rng(5)
    days = {DAY1 + timedelta(days=i): day_events(DAY1 + timedelta(days=i), rng, n=40) for i in range(5)}
    for day, events in days.items():
        ingest(spark, tables, day, events)

    def ensure(as_of: date, keep_events: int = WINDOW - 1) -> dict:
        return user_state.ensure(spark, user_state.StateArgs(as_of, tables / "clean", tables / "state",
                                                             keep_events=keep_events))

    assert assert_same_as_history(spark, tables, date(2026, 10, 3))["source"] == "rebuild"
    # folded from the 10-03 snapshot; a lookback shorter than the state: its first event starts the timeline
    assert assert_same_as_history(spark, tables, date(2026, 10, 6), lookback=2) == {
        "as_of": "2026-10-06", "source": "fold", "from": "2026-10-03", "days_folded": 3}
    assert ensure(date(2026, 10, 6))["source"] == "kept"  # a rerun changes nothing

    # late events: day 2 re-ingested with more rows invalidates every later snapshot (rebuilt, not folded)
    late = day_events(date(2026, 10, 2), rng, n=15, tag="late")
    ingest(spark, tables, date(2026, 10, 2), pd.concat([days[date(2026, 10, 2)], late]))
    assert assert_same_as_history(spark, tables, date(2026, 10, 6))["source"] == "rebuild"

    # out-of-order backfill of an earlier day: the later snapshot stays valid and is kept
    assert assert_same_as_history(spark, tables, date(2026, 10, 4))["source"] == "rebuild"
    assert ensure(date(2026, 10, 6))["source"] == "kept"

    # day 5 re-ingested: the 10-04 snapshot is still valid, so only days 4 and 5 are folded again
    ingest(spark, tables, date(2026, 10, 5), day_events(date(2026, 10, 5), rng, n=30, tag="again"))
    assert assert_same_as_history(spark, tables, date(2026, 10, 6)) == {
        "as_of": "2026-10-06", "source": "fold", "from": "2026-10-04", "days_folded": 2}

    # a wider window than the snapshot kept (a new champion): rebuilt once; the wider snapshot serves W = 8 as is
    assert ensure(date(2026, 10, 6), keep_events=user_state.STATE_EVENTS)["source"] == "rebuild"
    assert assert_same_as_history(spark, tables, date(2026, 10, 6))["source"] == "kept"


def test_fold_keeps_the_latest_events_and_continues_a_session_across_midnight(spark):
    day = pd.Timestamp("2026-10-01T23:50:00Z")
    rows = pd.DataFrame({
        "event_id": ["a", "b", "c", "d"], "user_id": "u", "event_type": ["view", "view", "apply", "view"],
        "job_id": ["j1", "j2", "j2", "j3"], "query": None,
        "ts": [day, day + pd.Timedelta(minutes=5), day + pd.Timedelta(minutes=20), day + pd.Timedelta(hours=3)],
    })
    rows["ds"] = rows.ts.dt.date
    events = spark.createDataFrame(rows)
    first = user_state.fold(None, events.where("ds = '2026-10-01'"), as_of=date(2026, 10, 2), keep_events=3)
    second = user_state.fold(first, events.where("ds = '2026-10-02'"), as_of=date(2026, 10, 3), keep_events=3)
    (row,) = second.collect()
    assert [e.event_id for e in row.events] == ["b", "c", "d"]  # the latest 3 of 4
    assert [e.session_id for e in row.events] == [0, 0, 1]  # c continues the session begun the day before
    assert [e.session_position for e in row.events] == [1, 2, 0]
    assert [e.gap_s for e in row.events] == [300.0, 900.0, 9_600.0]
    assert row.n_events == 4 and [(c.day, c.n) for c in row.day_counts] == [(20_727, 2), (20_728, 2)]
