"""Spark job: ingest raw events of one day or a range of days — map, validate, normalise to UTC, deduplicate,
quarantine.

Run::

    spark-submit spark_jobs/ingest.py --ds 2026-10-03 --input data/synthetic/raw_events/ds=2026-10-03 --format parquet
    spark-submit spark_jobs/ingest.py --ds 2026-10-03 --input exports/2026-10-03 --format csv \\
        --mapping mapping.json --now 2026-10-04T02:00:00Z [--data-root data] [--ts-floor 2020-01-01]
    spark-submit spark_jobs/ingest.py --start 2026-04-01 --end 2026-10-06 --input exports/history.csv \\
        --mapping mapping.json [--dry-run] [--max-quarantine-share 0.5]

A range (``--start``/``--end``) reads its inputs once — one big file, many files, ``ds=`` folders — and writes
every day of the range in one commit per table; ``--ds D`` is the range ``D..D`` (the daily DAG's run).

Input: Parquet, JSON lines or CSV under ``--input``; names and event types are mapped by ``--mapping``
(:class:`~spark_jobs.ingest_config.IngestConfig`; JSON layout there, e.g. ``{"columns": {"uid": "user_id",
"action": "event_type", "timestamp": "ts"}, "event_types": {"bookmark": "save", "delete": "dismiss"}}``).
Ids are cast to strings; text is trimmed of white space, control and invisible format characters at both
ends (:data:`~spark_jobs.event_fields.BLANK_CHARS`), and what is then empty is missing. Timestamps: timestamp types, ISO-8601 strings
with an offset (normalised to UTC), epoch numbers (``epoch_unit``); naive ones only in the mapping's ``timezone``
(:func:`~spark_jobs.event_fields.parse_timestamp`). CSV files are read by their own header: files of one folder with different headers
are each mapped (a layout the mapping cannot map is refused naming its file). The Parquet files of
one day may differ in their columns (the schemas are merged: no file's columns are dropped) but not in a
column's type (:class:`~jobtrail.errors.DataContractError` naming the column). A missing required column
raises :class:`~jobtrail.errors.DataContractError` before anything is written.

Every input row ends in exactly one place, and ``input = clean + duplicates + quarantined`` is checked before
anything is written (the job raises otherwise):

- ``<data-root>/clean_events`` (Delta, by ``ds``): contract ``with_partition(RAW_EVENT)``; the run's days replaced.
- ``<data-root>/quarantine_events`` (Delta, by ``ds`` = the row's run day: the UTC date of its ``ts`` when that
  lies in the range, else the range's last day): ``raw`` (the input row as JSON of all
  its columns, unknown ones and ``_corrupt_record`` included), ``reason``, ``source_file``, ``ingested_at``, ``ds``.
- duplicates: valid rows sharing an ``event_id`` keep one representative, the smallest by
  (``ts``, ``user_id``, ``event_type``, ``job_id``, ``query``, ``channel``), nulls first. A missing ``event_id``
  (no column, or null) is ``sha2(user_id ␟ event_type ␟ coalesce(job_id,'') ␟ coalesce(query,'') ␟
  unix_micros(ts), 256)`` (␟ = ``\\x1f``, fields after mapping and UTC normalisation), so rows without ids
  deduplicate on (user, type, job, query, ts).
- ``<data-root>/ingest_counts`` (Delta, by ``ds``, one row per run day, zeros for a day without rows; each
  reconciles on its own): see :data:`~spark_jobs.ingest_counts.COUNTS_DDL`.

Reason codes, in the order they are checked (a row gets the first that applies; :data:`REASONS`):
``malformed_row`` (JSON/CSV line that does not parse), ``missing_user_id``, ``missing_event_type``,
``unknown_event_type`` (after mapping), ``missing_job_id`` (non-search events), ``missing_ts``,
``unparseable_ts``, ``date_only_ts`` and ``naive_ts`` (a date without a time, a time without an offset: read only
as the mapping's ``date_only`` / ``timezone`` say), ``ts_before_floor`` (``--ts-floor``, default 2000-01-01),
``future_ts`` (after ``--now``), ``wrong_day`` (the UTC date of ``ts`` is outside the run's days: re-ingest it
with its own day).
``ingested_at`` is ``--now`` (default: the wall clock at start), so a rerun with the same ``--now`` writes
identical rows. Reruns replace the run's days in all three tables (``replaceWhere``); other days are untouched.
An empty input folder or file writes zero counts and leaves the day empty. A run that quarantines more than
``--max-quarantine-share`` (default 0.5) of its input raises :class:`DataContractError` *after* writing (nothing
is lost), naming the top reason and the mapping key to check; ``--dry-run`` reports per column how many rows
have a value and per reason how many rows would be quarantined, with samples, and writes nothing.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobtrail.contracts import EVENT_TYPES, RAW_EVENT, with_partition
from jobtrail.errors import ConfigError, DataContractError
from spark_jobs.common import write_days
from spark_jobs.event_fields import RAW, TEXT_COLUMNS, TS_REASON, apply_mapping
from spark_jobs.events_input import CORRUPT, SOURCE_FILE, UNTERMINATED, read_inputs
from spark_jobs.ingest_config import REASONS, IngestArgs, parse_args, parse_utc
from spark_jobs.ingest_counts import (
    DAY,
    OUTCOME,
    REASON,
    IngestCounts,
    check_quarantine_share,
    count_outcomes,
    counts_frame,
    day_counts,
    total,
)
from spark_jobs.schemas import spark_schema

CLEAN_SCHEMA = spark_schema(with_partition(RAW_EVENT))
DEDUPE_ORDER = ("ts", "user_id", "event_type", "job_id", "query", "channel")


def validate(mapped: DataFrame, *, start: date, end: date | None = None, now: datetime,
             ts_floor: datetime) -> DataFrame:
    """Add ``ds`` (the UTC date of ``ts``), ``reason`` (null = valid) and ``_day`` (the run day the row is
    counted in) to :func:`~spark_jobs.event_fields.apply_mapping`'s output.

    ``reason`` is the first failing rule, checked in the order of :data:`REASONS`; ``wrong_day`` = the UTC
    date of ``ts`` is outside ``start``..``end`` (default ``end = start``). ``_day`` is ``ds`` when it lies
    in the range, else ``end`` (rows without a usable timestamp or outside the range are counted on the
    run's last day). ``_raw`` and ``_source_file`` are kept only for rows with a reason.
    """
    end = end or start
    withts = mapped.withColumn("ds", F.to_date("ts"))
    ts_reason = F.col(TS_REASON)
    failed: dict[str, Column] = {
        "malformed_row": F.col(CORRUPT).isNotNull(),
        "missing_user_id": F.col("user_id").isNull(),
        "missing_event_type": F.col("event_type").isNull(),
        "unknown_event_type": ~F.col("event_type").isin(*EVENT_TYPES),
        "missing_job_id": (F.col("event_type") != "search") & F.col("job_id").isNull(),
        **{code: ts_reason == code for code in ("missing_ts", "unparseable_ts", "date_only_ts", "naive_ts")},
        "ts_before_floor": F.col("ts") < F.lit(parse_utc(ts_floor)),
        "future_ts": F.col("ts") > F.lit(parse_utc(now)),
        "wrong_day": ~F.col("ds").between(F.lit(start), F.lit(end)),
    }
    reason: Column = F.lit(None).cast("string")
    for code in reversed(REASONS):  # the first failing rule wins
        reason = F.when(failed[code], F.lit(code)).otherwise(reason)
    # a file's unterminated last line that fails a rule was cut off mid-write: malformed, whatever else fails
    reason = F.when(F.col(UNTERMINATED) & reason.isNotNull(), F.lit("malformed_row")).otherwise(reason)
    in_range = F.col("ds").between(F.lit(start), F.lit(end))
    return (
        withts.withColumn(REASON, reason)
        .withColumn(RAW, F.when(F.col(REASON).isNotNull(), F.col(RAW)))
        .withColumn(SOURCE_FILE, F.when(F.col(REASON).isNotNull(), F.col(SOURCE_FILE)))
        .withColumn(DAY, F.when(in_range, F.col("ds")).otherwise(F.lit(end)))
        .drop(TS_REASON, UNTERMINATED)
    )


def fill_event_id(events: DataFrame) -> DataFrame:
    """``event_id`` where missing: sha2 of the canonical fields (see the module docstring)."""
    canonical = F.concat_ws(
        "\x1f", "user_id", "event_type", F.coalesce("job_id", F.lit("")), F.coalesce("query", F.lit("")),
        F.unix_micros("ts").cast("string"),
    )
    return events.withColumn("event_id", F.coalesce("event_id", F.sha2(canonical, 256)))


def mark_duplicates(validated: DataFrame) -> DataFrame:
    """Add ``outcome``: ``quarantined`` (has a reason), else ``clean`` for the first valid row per
    ``event_id`` in :data:`DEDUPE_ORDER` (nulls first), else ``duplicate``."""
    valid = F.col(REASON).isNull()
    window = Window.partitionBy("event_id", valid).orderBy(*[F.col(c).asc_nulls_first() for c in DEDUPE_ORDER])
    return validated.withColumn(
        OUTCOME,
        F.when(~valid, F.lit("quarantined")).when(F.row_number().over(window) == 1, F.lit("clean"))
        .otherwise(F.lit("duplicate")),
    )


def clean_events(labeled: DataFrame) -> DataFrame:
    """The ``clean`` rows with exactly the contract columns ``with_partition(RAW_EVENT)``."""
    rows = labeled.where(F.col(OUTCOME) == "clean")
    return rows.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in CLEAN_SCHEMA.fields])


ROWS_PER_WRITE_TASK = 100_000
"""Rows per writing task at most: a small or long-and-thin input is written by fewer tasks (each task writes
one file per day it holds, so 4 tasks × 189 days of a small export would be 756 tiny files)."""


def write_tasks(frame: DataFrame, rows: int) -> DataFrame:
    """``frame`` (of ``rows`` rows) coalesced to ``ceil(rows / ROWS_PER_WRITE_TASK)`` tasks when it has more (no shuffle)."""
    wanted = max(1, -(-rows // ROWS_PER_WRITE_TASK))
    return frame.coalesce(wanted) if wanted < frame.rdd.getNumPartitions() else frame


def quarantine_rows(labeled: DataFrame, *, ingested_at: datetime) -> DataFrame:
    """The ``quarantined`` rows: ``raw``, ``reason``, ``source_file``, ``ingested_at``, ``ds`` (the row's run
    day, ``_day``)."""
    return labeled.where(F.col(OUTCOME) == "quarantined").select(
        F.col(RAW).alias("raw"),
        F.col(REASON).alias("reason"),
        F.col(SOURCE_FILE).alias("source_file"),
        F.lit(parse_utc(ingested_at)).alias("ingested_at"),
        F.col(DAY).alias("ds"),
    )


def _require_utc_session(spark: SparkSession) -> None:
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise ConfigError(f"spark.sql.session.timeZone is {tz!r}; ingest needs UTC (create the session with "
                          "spark_jobs.session.create_session, or set it to UTC)")


def label(spark: SparkSession, args: IngestArgs) -> tuple[DataFrame, list[DataFrame]]:
    """Every input row mapped (each layout by its own columns) and validated (:func:`validate`), and the input
    frames as read (to count them independently)."""
    frames = read_inputs(spark, args.inputs, config=args.config)
    mapped = [apply_mapping(frame, config=args.config, source=source) for source, frame in frames]
    validated = validate(reduce(DataFrame.unionByName, mapped), start=args.start, end=args.end, now=args.now,
                         ts_floor=args.config.ts_floor)
    return validated, [frame for _, frame in frames]


def run(spark: SparkSession, args: IngestArgs) -> dict[str, object]:
    """Ingest ``args.inputs`` for the days ``args.start``..``args.end``: write clean, quarantine and counts
    (one commit per table, replacing exactly those days); return the counts (totals and per day).

    Raises :class:`DataContractError` when a day does not reconcile (nothing written) or, after writing,
    when the quarantined share exceeds ``args.max_quarantine_share``. ``args.dry_run``: see :func:`dry_run`.
    """
    _require_utc_session(spark)
    if args.dry_run:
        return dry_run(label(spark, args)[0], args)
    labeled, counts = outcomes(spark, args)
    try:
        meta = json.dumps({"job": "ingest", "start": args.start.isoformat(), "end": args.end.isoformat(),
                           "input": args.source, "now": args.now.isoformat()})
        clean = write_tasks(clean_events(labeled), total(counts).clean_rows)
        write_days(clean, args.clean_path, args.start, args.end, user_metadata=meta)
        quarantine = write_tasks(quarantine_rows(labeled, ingested_at=args.now), total(counts).quarantined_rows)
        write_days(quarantine, args.quarantine_path, args.start, args.end, user_metadata=meta)
        frame = counts_frame(spark, counts, source=args.source, config=args.config, ingested_at=args.now)
        write_days(frame, args.counts_path, args.start, args.end, user_metadata=meta)
    finally:
        labeled.unpersist()
    result = {"start": args.start.isoformat(), "end": args.end.isoformat(), **total(counts).as_dict(),
              "days": [{"ds": ds.isoformat(), **c.as_dict()} for ds, c in sorted(counts.items())]}
    check_quarantine_share(total(counts), args)
    return result


def outcomes(spark: SparkSession, args: IngestArgs) -> tuple[DataFrame, dict[date, IngestCounts]]:
    """Every input row labelled (:func:`mark_duplicates`, persisted: the caller unpersists) and every run day's
    reconciled counts (:func:`day_counts`)."""
    validated, frames = label(spark, args)
    input_rows = sum(frame.count() for frame in frames)  # Parquet: from the footers
    labeled = mark_duplicates(fill_event_id(validated)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return labeled, day_counts(count_outcomes(labeled).collect(), input_rows=input_rows, start=args.start,
                                   end=args.end, source=args.source)
    except BaseException:
        labeled.unpersist()
        raise


def dry_run(validated: DataFrame, args: IngestArgs, *, samples: int = 3) -> dict[str, object]:
    """What a run would do, writing nothing: per contract column how many rows have a value (``ts``: parse),
    per reason how many rows would be quarantined with up to ``samples`` raw rows each, and the rows that
    would be clean before deduplication. Raises like :func:`run` when the quarantined share is too high."""
    present = [F.count(F.col(c)).alias(c) for c in (*TEXT_COLUMNS, "ts")]
    per_column = validated.agg(F.count(F.lit(1)).alias("_rows"), *present).first().asDict()
    rows = per_column.pop("_rows")
    by_reason = (validated.where(F.col(REASON).isNotNull()).groupBy(REASON)
                 .agg(F.count(F.lit(1)).alias("n"), F.slice(F.collect_list(RAW), 1, samples).alias("samples"))
                 .collect())
    quarantined = {r[REASON]: {"rows": r["n"], "samples": list(r["samples"])} for r in by_reason}
    counts = IngestCounts(rows, clean_rows=rows - sum(q["rows"] for q in quarantined.values()),
                          quarantined={code: quarantined.get(code, {}).get("rows", 0) for code in REASONS})
    report = {"dry_run": True, "start": args.start.isoformat(), "end": args.end.isoformat(), "input_rows": rows,
              "valid_rows": counts.clean_rows, "columns_with_value": per_column,
              "quarantined": {code: quarantined[code] for code in REASONS if code in quarantined}}
    try:
        check_quarantine_share(counts, args)
    except DataContractError as e:
        report["error"] = str(e)
    return report


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    counts = run(create_session("jobtrail-ingest"), args)
    print(json.dumps({"job": "ingest", **counts}))
    return 1 if "error" in counts else 0


if __name__ == "__main__":
    sys.exit(main())
