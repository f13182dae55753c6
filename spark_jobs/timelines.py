"""Spark job: unified per-user timelines — every event type in one sequence, sessionized.

For each user, events of ``--start``..``--end`` from the clean events table are ordered by
(``ts``, ``event_id``) and get ``position``, ``session_id`` (a new session starts when the gap to the
previous event exceeds ``--session-gap-minutes``, default 30: a gap of exactly 30 minutes stays in the
session), ``session_position`` and ``gap_s`` (seconds since the previous event, null for the first).
The output (contract ``TIMELINE``) replaces the range's partitions of the timelines Delta table.

    spark-submit spark_jobs/timelines.py --start 2026-10-01 --end 2026-10-30 [--data-root data]
    jobtrail timelines --start 2026-10-01 --end 2026-10-30
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobtrail.argtypes import cli_path, number
from jobtrail.contracts import TIMELINE, Tables
from spark_jobs.common import add_data_root, data_root, iso_date, read_delta, write_days

ORDER = ("ts", "event_id")


def events_between(events: DataFrame, *, start: date, end: date) -> DataFrame:
    """Rows of ``events`` whose ``ds`` is within ``start``..``end`` (inclusive)."""
    return events.where(F.col("ds").between(F.lit(start), F.lit(end)))


def sessionize(events: DataFrame, *, session_gap_minutes: float = 30.0) -> DataFrame:
    """Add ``position``, ``session_id``, ``session_position`` and ``gap_s`` per user (contract TIMELINE).

    One ordering per user serves every column (a session's position = the event's position − the position of the
    session's first event), so Spark sorts the events once."""
    by_user = Window.partitionBy("user_id").orderBy(*ORDER)
    running = by_user.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    gap = F.col("ts").cast("double") - F.lag(F.col("ts").cast("double")).over(by_user)
    ordered = events.withColumn("gap_s", gap).withColumn("position", (F.row_number().over(by_user) - 1).cast("int"))
    new = F.col("gap_s").isNull() | (F.col("gap_s") > session_gap_minutes * 60)
    sessions = ordered.withColumn("_new", F.when(new, 1).otherwise(0)).withColumn(
        "_start", F.when(new, F.col("position")))
    return sessions.select(
        *[c for c in TIMELINE.names if c not in ("position", "session_id", "session_position", "gap_s")],
        "position",
        (F.sum("_new").over(running) - 1).cast("int").alias("session_id"),
        (F.col("position") - F.max("_start").over(running)).cast("int").alias("session_position"),
        "gap_s",
    )


@dataclass(frozen=True)
class TimelineArgs:
    start: date
    end: date
    events_path: Path
    out: Path
    session_gap_minutes: float = 30.0


def parse_args(argv: list[str] | None = None) -> TimelineArgs:
    parser = argparse.ArgumentParser(description="Build sessionized per-user timelines.")
    parser.add_argument("--start", type=iso_date, required=True)
    parser.add_argument("--end", type=iso_date, required=True)
    parser.add_argument("--events", type=cli_path, default=None, help="clean events Delta table")
    parser.add_argument("--out", type=cli_path, default=None, help="timelines Delta table")
    parser.add_argument("--session-gap-minutes", type=number(0, 10_080, above=True), default=30.0)
    add_data_root(parser)
    a = parser.parse_args(argv)
    if a.end < a.start:
        parser.error(f"--end {a.end} is before --start {a.start}")
    root = data_root(a.data_root)
    return TimelineArgs(a.start, a.end, a.events or root / Tables.CLEAN_EVENTS, a.out or root / Tables.TIMELINES,
                        a.session_gap_minutes)


def run(spark: SparkSession, args: TimelineArgs) -> dict[str, int]:
    events = events_between(read_delta(spark, args.events_path), start=args.start, end=args.end)
    timeline = sessionize(events, session_gap_minutes=args.session_gap_minutes)
    meta = json.dumps({"job": "timelines", "start": str(args.start), "end": str(args.end)})
    write_days(timeline, args.out, args.start, args.end, user_metadata=meta)
    written = events_between(read_delta(spark, args.out), start=args.start, end=args.end)
    return {"events": written.count(), "users": written.select("user_id").distinct().count()}


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    counts = run(create_session("jobtrail-timelines"), args)
    print(json.dumps({"job": "timelines", **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
