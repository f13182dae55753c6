"""Spark job: the per-user timeline state — each user's latest events as of a day, folded forward day by day.

Inference inputs need each user's latest W − 1 events, sessionized as the full history gives them. Re-reading and
re-sessionizing the whole lookback every day makes the daily cost grow with the history; this job keeps that
state instead, so a day costs the day's events plus one pass over the users.

Table ``user_state`` (contract ``USER_STATE``, partitioned by ``as_of_date``): snapshot A holds one row per user
with an event before A 00:00 UTC — the latest ``keep_events`` events with their session fields, the per-day
event counts (so a lookback's ``n_events`` stays exact) and the total. ``inference_inputs`` keeps exactly the
served model's context (W − 1 events), so a snapshot's size stops growing with the history once users have W − 1
events; ``jobtrail user-state`` defaults to the widest context (``--keep-events 255``).

How snapshot A is made (:func:`ensure`):

- **The latest valid snapshot S ≤ A is found.** Each snapshot's commit records (userMetadata) a fingerprint of
  the clean events' data files of every day before it, the session gap and how many events it kept: one that
  kept fewer events than asked for now (a model with a wider window was promoted) is not valid. Ingest
  replaces a day's files whenever it runs, so re-ingesting or backfilling day D invalidates exactly the
  snapshots after D; the fingerprints are read from the Delta log, not the data.
- **state(A) = fold(state(S), clean events of days S..A−1)**: the days' events continue each user's last session
  (gap and session numbering carried from the state's last event), are appended, and only the latest
  ``--keep-events`` are kept. With no valid snapshot (or ``--rebuild``) the fold starts from nothing over every
  clean event before A: the full rebuild, one command. A valid snapshot A itself is kept as it is (a rerun is a
  no-op).
- The write replaces partition A in one commit; snapshots more than ``--keep-days`` older than A are deleted
  afterwards (a backfill further back rebuilds from the clean events, which is slower, never wrong).

Users whose last event is more than the longest lookback (730 days) before A leave the state.

    spark-submit spark_jobs/user_state.py --as-of 2026-10-31 [--rebuild] [--data-root data]
    jobtrail user-state --as-of 2026-10-31
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobtrail.argtypes import cli_path, int_range, number
from jobtrail.contracts import USER_STATE, Tables
from jobtrail.errors import DataContractError
from jobtrail.knobs import LOOKBACK_DAYS, WINDOW
from spark_jobs.common import add_data_root, data_root, iso_date, read_delta, write_days
from spark_jobs.schemas import spark_schema
from spark_jobs.sequences import event_type_id

STATE_EVENTS = WINDOW.maximum - 1
"""The most events a snapshot keeps per user (the widest window's context); ``jobtrail user-state``'s default.
``inference_inputs`` keeps its own window's W − 1."""

MAX_LOOKBACK_DAYS = LOOKBACK_DAYS.maximum
"""Users idle for longer leave the state, and per-day counts older than this are dropped."""

EPOCH = date(1970, 1, 1)
_STATE_TYPE = spark_schema(USER_STATE)
_EVENTS_TYPE = _STATE_TYPE["events"].dataType


@dataclass(frozen=True)
class StateArgs:
    as_of: date
    events_path: Path
    state_path: Path
    session_gap_minutes: float = 30.0
    keep_events: int = STATE_EVENTS
    keep_days: int = 7
    rebuild: bool = False


def day_fingerprints(spark: SparkSession, events_path: Path, *, before: date) -> dict[str, str]:
    """``ds`` (ISO) → a digest of the names of that day's data files in the current Delta snapshot, days < ``before``."""
    names: dict[str, list[str]] = defaultdict(list)
    for uri in read_delta(spark, events_path).inputFiles():
        match = re.search(r"/ds=(\d{4}-\d{2}-\d{2})/", uri)
        if match is None:
            raise DataContractError(f"{events_path} is not partitioned by ds (file {uri}); the state needs day partitions")
        if date.fromisoformat(match.group(1)) < before:
            names[match.group(1)].append(uri.rsplit("/", 1)[1])
    return {day: hashlib.blake2b("\n".join(sorted(files)).encode(), digest_size=8).hexdigest()
            for day, files in sorted(names.items())}


def snapshots(spark: SparkSession, state_path: Path) -> dict[date, dict]:
    """as_of → the userMetadata of the commit that wrote it, for the snapshots present in the table."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, str(state_path)):
        return {}
    present = {d.isoformat() for d in _partitions(spark, state_path)}
    written: dict[date, dict] = {}
    for row in DeltaTable.forPath(spark, str(state_path)).history().orderBy("version").collect():
        meta = json.loads(row.userMetadata) if row.userMetadata else {}
        if meta.get("job") == "user_state" and meta.get("as_of") in present:
            written[date.fromisoformat(meta["as_of"])] = meta
    return written


def _partitions(spark: SparkSession, state_path: Path) -> set[date]:
    """The ``as_of_date`` values with data files in the state table's current snapshot (from its log)."""
    return {date.fromisoformat(m.group(1)) for uri in read_delta(spark, state_path).inputFiles()
            if (m := re.search(r"/as_of_date=(\d{4}-\d{2}-\d{2})/", uri))}


def latest_valid(written: dict[date, dict], current: dict[str, str], *, as_of: date,
                 session_gap_minutes: float, keep_events: int = STATE_EVENTS) -> date | None:
    """The latest snapshot ≤ ``as_of`` built from exactly today's clean events of its days, with the same session
    gap and at least ``keep_events`` events kept per user, or None."""
    for snap in sorted((d for d in written if d <= as_of), reverse=True):
        meta = written[snap]
        same_days = meta.get("days") == {d: fp for d, fp in current.items() if d < snap.isoformat()}
        enough = meta.get("keep_events", STATE_EVENTS) >= keep_events
        if same_days and enough and meta.get("session_gap_minutes") == session_gap_minutes:
            return snap
    return None


def continue_sessions(events: DataFrame, state: DataFrame | None, *, session_gap_minutes: float) -> DataFrame:
    """``events`` (clean events, all later than every event of ``state``) as state events (one row each, column
    ``event`` of STATE_EVENT), their sessions continuing from each user's last state event.

    Sessions follow :func:`spark_jobs.timelines.sessionize` (a gap above ``session_gap_minutes`` starts one; the
    gap is the same double subtraction), carried across the fold: the first new event's gap is measured to the
    user's last state event, and it stays in that session (numbered on) when the gap allows.
    """
    new = events.select(
        "user_id", "event_id", "ts", event_type_id(F.col("event_type")).alias("event_type_id"), "job_id", "query",
        F.datediff("ds", F.lit(EPOCH)).alias("day"), F.lit(False).alias("_seed"),
        F.lit(None).cast("int").alias("_sid"), F.lit(None).cast("int").alias("_sp"),
    )
    if state is not None:
        last = F.element_at("events", -1)
        seeds = state.join(new.select("user_id").distinct(), "user_id", "left_semi").select(
            "user_id", last.event_id.alias("event_id"), F.timestamp_micros(last.ts_us).alias("ts"),
            last.event_type_id.alias("event_type_id"), last.job_id.alias("job_id"), last.query.alias("query"),
            last.day.alias("day"), F.lit(True).alias("_seed"), last.session_id.alias("_sid"),
            last.session_position.alias("_sp"),
        )
        new = new.unionByName(seeds)
    user = Window.partitionBy("user_id")
    by_user = user.orderBy("ts", "event_id")
    gap = F.col("ts").cast("double") - F.lag(F.col("ts").cast("double")).over(by_user)
    starts = F.when(F.col("_seed"), 0).when(gap.isNull() | (gap > session_gap_minutes * 60), 1).otherwise(0)
    running = by_user.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    numbered = (
        new.withColumn("gap_s", gap).withColumn("_start", starts)
        .withColumn("_sid0", F.coalesce(F.max("_sid").over(user), F.lit(-1)))
        .withColumn("_sp0", F.coalesce(F.max("_sp").over(user), F.lit(-1)))
        .withColumn("session_id", (F.col("_sid0") + F.sum("_start").over(running)).cast("int"))
        .where(~F.col("_seed"))
    )
    in_session = Window.partitionBy("user_id", "session_id").orderBy("ts", "event_id")
    position = F.row_number().over(in_session) - 1 + F.when(
        F.col("session_id") == F.col("_sid0"), F.col("_sp0") + 1).otherwise(0)
    return numbered.select("user_id", "day", F.struct(
        F.unix_micros("ts").alias("ts_us"), "event_id", F.col("event_type_id").cast("int").alias("event_type_id"),
        "job_id", "query", "session_id", position.cast("int").alias("session_position"),
        F.coalesce("gap_s", F.lit(0.0)).alias("gap_s"), F.col("day").cast("int").alias("day"),
    ).alias("event"))


def fold(state: DataFrame | None, events: DataFrame, *, as_of: date, session_gap_minutes: float = 30.0,
         keep_events: int = STATE_EVENTS) -> DataFrame:
    """The state as of ``as_of`` (contract USER_STATE): ``state`` (None = empty) with ``events`` appended.

    ``events`` must all lie after every event of ``state`` and before ``as_of`` (the caller reads whole days
    between the two cutoffs).
    """
    typed = _EVENTS_TYPE
    counts_type = _STATE_TYPE["day_counts"].dataType
    new = continue_sessions(events, state, session_gap_minutes=session_gap_minutes)
    per_day = new.groupBy("user_id", "day").agg(F.collect_list("event").alias("events"), F.count("*").alias("n"))
    added = per_day.groupBy("user_id").agg(
        F.sort_array(F.flatten(F.collect_list("events"))).cast(typed).alias("new_events"),
        F.sort_array(F.collect_list(F.struct(F.col("day").cast("int").alias("day"), "n"))).cast(counts_type)
        .alias("new_counts"),
        F.sum("n").alias("new_n"),
    )
    if state is None:
        merged = added.select("user_id", F.array().cast(typed).alias("events"),
                              F.array().cast(counts_type).alias("day_counts"), F.lit(0).cast("long").alias("n_events"),
                              "new_events", "new_counts", "new_n")
    else:
        merged = state.select("user_id", "events", "day_counts", "n_events").join(added, "user_id", "full_outer")
    everything = F.concat(F.coalesce("events", F.array().cast(typed)), F.coalesce("new_events", F.array().cast(typed)))
    kept = F.slice(everything, F.greatest(F.size(everything) - keep_events + 1, F.lit(1)), keep_events)
    horizon = (as_of - timedelta(days=MAX_LOOKBACK_DAYS) - EPOCH).days
    counts = F.concat(F.coalesce("day_counts", F.array().cast(counts_type)),
                      F.coalesce("new_counts", F.array().cast(counts_type)))
    out = merged.select(
        "user_id", kept.alias("events"), F.filter(counts, lambda c: c.day >= horizon).alias("day_counts"),
        (F.coalesce("n_events", F.lit(0)) + F.coalesce("new_n", F.lit(0))).cast("long").alias("n_events"),
    ).withColumn("last_event_ts", F.timestamp_micros(F.element_at("events", -1).ts_us))
    return out.where(F.element_at("events", -1).day >= horizon).select(
        *[c for c in USER_STATE.names if c != "as_of_date"], F.lit(as_of).alias("as_of_date"))


def _day_range(column: str, start: date | None, end: date) -> Column:
    upper = F.col(column) <= F.lit(end)
    return upper if start is None else upper & (F.col(column) >= F.lit(start))


def ensure(spark: SparkSession, args: StateArgs) -> dict[str, object]:
    """Make snapshot ``args.as_of`` valid (see the module docstring); what was done, as a dict."""
    current = day_fingerprints(spark, args.events_path, before=args.as_of)
    written = {} if args.rebuild else snapshots(spark, args.state_path)
    base = latest_valid(written, current, as_of=args.as_of, session_gap_minutes=args.session_gap_minutes,
                        keep_events=args.keep_events)
    if base == args.as_of:
        return {"as_of": str(args.as_of), "source": "kept", "from": str(base), "days_folded": 0}
    clean = read_delta(spark, args.events_path)
    last_day = args.as_of - timedelta(days=1)
    if base is None:
        state, events = None, clean.where(_day_range("ds", None, last_day))
    else:
        state = read_delta(spark, args.state_path).where(F.col("as_of_date") == F.lit(base))
        events = clean.where(_day_range("ds", base, last_day))
    out = fold(state, events, as_of=args.as_of, session_gap_minutes=args.session_gap_minutes,
               keep_events=args.keep_events)
    meta = {"job": "user_state", "as_of": str(args.as_of), "from": str(base) if base else None,
            "session_gap_minutes": args.session_gap_minutes, "keep_events": args.keep_events, "days": current}
    write_days(out, args.state_path, args.as_of, partition_column="as_of_date", user_metadata=json.dumps(meta))
    _drop_old(spark, args)
    folded = (args.as_of - base).days if base else len(current)
    return {"as_of": str(args.as_of), "source": "fold" if base else "rebuild", "from": meta["from"],
            "days_folded": folded}


def _drop_old(spark: SparkSession, args: StateArgs) -> None:
    from delta.tables import DeltaTable

    oldest = args.as_of - timedelta(days=args.keep_days)
    if any(d < oldest for d in _partitions(spark, args.state_path)):
        DeltaTable.forPath(spark, str(args.state_path)).delete(F.col("as_of_date") < F.lit(oldest))


def read_state(spark: SparkSession, state_path: Path, as_of: date) -> DataFrame:
    return read_delta(spark, state_path).where(F.col("as_of_date") == F.lit(as_of))


def add_state_arguments(parser: argparse.ArgumentParser) -> None:
    """The state's options, shared with ``inference_inputs.py`` (which makes the snapshot it reads)."""
    parser.add_argument("--state", type=cli_path, default=None, help="user state Delta table")
    parser.add_argument("--keep-days", type=int_range(1, MAX_LOOKBACK_DAYS), default=7,
                        help="snapshots kept before the as-of date (older ones are deleted after a write)")
    parser.add_argument("--rebuild", action="store_true", help="ignore earlier snapshots: fold every clean event")


def state_args(a: argparse.Namespace, root: Path, events: Path, keep_events: int) -> StateArgs:
    return StateArgs(a.as_of, events, a.state or root / Tables.USER_STATE, a.session_gap_minutes,
                     keep_events, a.keep_days, a.rebuild)


def parse_args(argv: list[str] | None = None) -> StateArgs:
    parser = argparse.ArgumentParser(description="Fold the clean events into the per-user timeline state.")
    parser.add_argument("--as-of", type=iso_date, required=True, help="the state covers events before this date")
    parser.add_argument("--events", type=cli_path, default=None, help="clean events Delta table")
    parser.add_argument("--session-gap-minutes", type=number(0, 10_080, above=True), default=30.0)
    parser.add_argument("--keep-events", type=int_range(1, STATE_EVENTS), default=STATE_EVENTS,
                        help="events kept per user: the context of the widest window to be served (W - 1)")
    add_state_arguments(parser)
    add_data_root(parser)
    a = parser.parse_args(argv)
    root = data_root(a.data_root)
    return state_args(a, root, a.events or root / Tables.CLEAN_EVENTS, a.keep_events)


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "user_state", **ensure(create_session("jobtrail-user-state"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
