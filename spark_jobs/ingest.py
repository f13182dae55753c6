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
ends (:data:`BLANK_CHARS`), and what is then empty is missing. Timestamps: timestamp types, ISO-8601 strings
with an offset (normalised to UTC), epoch numbers (``epoch_unit``); naive ones only in the mapping's ``timezone``
(:func:`parse_timestamp`). CSV files are read by their own header: files of one folder with different headers
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
  reconciles on its own): see :data:`COUNTS_DDL`.

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
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, NumericType, StringType, TimestampNTZType, TimestampType

from jobtrail.contracts import EVENT_TYPES, RAW_EVENT, with_partition
from jobtrail.errors import ConfigError, DataContractError
from spark_jobs.common import days, write_days
from spark_jobs.events_input import CORRUPT, SOURCE_FILE, UNTERMINATED, _col, read_inputs
from spark_jobs.ingest_config import (
    EPOCH_UNITS, REASON_HINTS, REASONS, IngestArgs, IngestConfig, IngestCounts, parse_args, parse_utc,
    resolve_columns,
)
from spark_jobs.schemas import spark_schema

COUNTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ds", "date"), ("input_rows", "bigint"), ("clean_rows", "bigint"), ("duplicate_rows", "bigint"),
    ("quarantined_rows", "bigint"), ("quarantined_by_reason", "map<string,bigint>"), ("input", "string"),
    ("config", "string"), ("ingested_at", "timestamp"),
)
COUNTS_DDL = ", ".join(f"{name} {kind}" for name, kind in COUNTS_COLUMNS)
"""Schema of the ``ingest_counts`` table: one row per run day; the map holds every code of :data:`REASONS`."""
RAW, TS_REASON, REASON, OUTCOME, DAY = "_raw", "_ts_reason", "reason", "outcome", "_day"
CLEAN_SCHEMA = spark_schema(with_partition(RAW_EVENT))
_STRING_COLUMNS = [c for c in RAW_EVENT.names if c != "ts"]
_EPOCH_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_DATE_ONLY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?"
                r" ?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?|UTC|GMT)?)?$")
_OFFSET_PATTERN = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2}){0,2}|UTC|GMT|\[[^]]+\])$"
_MIN_US, _MAX_US = -62_135_596_800_000_000, 253_402_300_799_999_999  # 0001-01-01 .. 9999-12-31 UTC
DEDUPE_ORDER = ("ts", "user_id", "event_type", "job_id", "query", "channel")
BLANK_CHARS = "".join(map(chr, [
    *range(0x00, 0x21), *range(0x7F, 0xA1), 0xAD, 0x1680, 0x180E, *range(0x2000, 0x2010), 0x2028, 0x2029,
    *range(0x202A, 0x2030), 0x205F, *range(0x2060, 0x2065), 0x3000, 0xFEFF,
]))
"""Trimmed off both ends of text: C0/C1 controls, Unicode spaces, zero-width and bidi marks, BOM, soft hyphen."""


def _text(value: Column) -> Column:
    """String trimmed of :data:`BLANK_CHARS`; empty → null."""
    trimmed = F.btrim(value.cast("string"), F.lit(BLANK_CHARS))
    return F.when(trimmed != "", trimmed)


def apply_mapping(raw: DataFrame, *, config: IngestConfig, source: str = "input") -> DataFrame:
    """Input columns (+ ``_source_file``) → contract names: strings for ids and text, the event type mapped,
    the timestamp parsed.

    Output columns: ``event_id``, ``user_id``, ``event_type``, ``job_id``, ``query``, ``channel`` (trimmed
    strings, blank = null; ``event_type`` lower-cased and mapped; a ``constant`` of the mapping where it
    gives one), ``ts`` (UTC) and ``_ts_reason`` (:func:`parse_timestamp`), ``_corrupt_record``, ``_raw``
    (JSON of every input column) and ``_source_file``. Raises :class:`DataContractError` when a required
    column is missing — unless the input has no columns at all (nothing to infer a schema from: an empty
    file, or JSON lines none of which parsed), where absent columns are null and rows, if any, are
    quarantined as ``malformed_row``.
    """
    inputs = [c for c in raw.columns if c not in (SOURCE_FILE, UNTERMINATED)]
    data_columns = [c for c in inputs if c != CORRUPT]
    if data_columns:
        resolved = resolve_columns(data_columns, config, source=source)
    else:
        resolved = {c: None for c in RAW_EVENT.names}

    def column(name: str) -> Column:
        if name in config.constants:
            return F.lit(config.constants[name])
        return _col(resolved[name]) if resolved[name] is not None else F.lit(None).cast("string")

    strings = {c: _text(column(c)) for c in _STRING_COLUMNS}
    event_type = F.lower(strings["event_type"])
    if config.event_types:
        lookup = F.create_map(*[F.lit(x) for pair in config.event_types.items() for x in pair])
        event_type = F.coalesce(F.try_element_at(lookup, event_type), event_type)
    strings["event_type"] = event_type
    ts_dtype = raw.schema[resolved["ts"]].dataType if resolved["ts"] else StringType()
    ts, ts_reason = parse_timestamp(column("ts"), ts_dtype, epoch_unit=config.epoch_unit,
                                    ts_format=config.ts_format, timezone=config.timezone,
                                    date_only=config.date_only)
    return raw.select(
        *[strings[c].alias(c) for c in _STRING_COLUMNS],
        ts.alias("ts"),
        ts_reason.alias(TS_REASON),
        (_col(CORRUPT) if CORRUPT in inputs else F.lit(None).cast("string")).alias(CORRUPT),
        (F.to_json(F.struct(*[_col(c) for c in inputs])) if inputs else F.lit("{}")).alias(RAW),
        _col(SOURCE_FILE).alias(SOURCE_FILE),
        (F.col(UNTERMINATED) if UNTERMINATED in raw.columns else F.lit(False)).alias(UNTERMINATED),
    )


def _zone_aware(ts_format: str) -> bool:
    """Whether a Spark datetime pattern reads a zone or offset (letters outside quotes: V z O X x Z)."""
    return bool(re.search(r"[VzOXxZ]", re.sub(r"'[^']*'", "", ts_format)))


def _has_time(ts_format: str) -> bool:
    return bool(re.search(r"[HhKkmsaS]", re.sub(r"'[^']*'", "", ts_format)))


def parse_timestamp(value: Column, dtype: DataType, *, epoch_unit: str = "s", ts_format: str | None = None,
                    timezone: str | None = None, date_only: str = "refuse") -> tuple[Column, Column]:
    """``value`` of type ``dtype`` as (a UTC timestamp, the ts quarantine reason or null).

    Unambiguous values: timestamp types, numbers (and strings of digits: epochs in ``epoch_unit``), strings
    with an offset (ISO-8601, or ``ts_format`` with a zone letter). Naive values — strings without an offset,
    ``TIMESTAMP_NTZ`` — are read in ``timezone``; without one they are ``naive_ts``. Date-only values — ``DATE``,
    ``YYYY-MM-DD`` strings, a ``ts_format`` without a time — are ``date_only_ts`` unless ``date_only`` is
    ``midnight`` (then a naive midnight). The reason is ``missing_ts`` (null or blank), ``unparseable_ts``,
    ``date_only_ts``, ``naive_ts`` or null.
    """
    def epoch(v: Column) -> Column:
        micros = (v.try_cast("decimal(30,6)") * F.lit(EPOCH_UNITS[epoch_unit])).try_cast("long")
        return F.when(micros.between(_MIN_US, _MAX_US), F.timestamp_micros(micros))

    def local(wall: Column) -> Column:  # a naive wall-clock time (read as UTC by the session) in `timezone`
        return F.to_utc_timestamp(wall, timezone) if timezone else wall

    none = F.lit(None).cast("string")
    naive_reason = none if timezone else F.lit("naive_ts")
    date_reason = F.lit("date_only_ts") if date_only == "refuse" else naive_reason
    if isinstance(dtype, TimestampType):
        ts, reason = value, none
    elif isinstance(dtype, TimestampNTZType):
        ts, reason = local(value.cast("timestamp")), naive_reason
    elif isinstance(dtype, DateType):
        ts, reason = local(value.cast("timestamp")), date_reason
    elif isinstance(dtype, NumericType):
        ts, reason = epoch(value), none
    elif isinstance(dtype, StringType):
        text = F.trim(value)
        parsed = F.try_to_timestamp(text, F.lit(ts_format)) if ts_format else F.try_to_timestamp(text)
        is_epoch = text.rlike(_EPOCH_PATTERN)
        if ts_format:
            aware, dated = F.lit(_zone_aware(ts_format)), F.lit(not _has_time(ts_format))
        else:  # only whole ISO-8601 values: Spark's parser would read a cut-off '2026-10-02T1' as 01:00
            parsed = F.when(text.rlike(_ISO_PATTERN), parsed)
            dated = text.rlike(_DATE_ONLY_PATTERN)
            aware = ~dated & text.rlike(_OFFSET_PATTERN)
        ts = F.when(is_epoch, epoch(text)).when(aware, parsed).otherwise(local(parsed))
        reason = (F.when(is_epoch | aware, none).when(dated, date_reason).otherwise(naive_reason))
    else:
        ts, reason = F.lit(None).cast("timestamp"), none
    missing = value.isNull() | (F.trim(value.cast("string")) == "")
    reason = F.when(missing, F.lit("missing_ts")).when(ts.isNull(), F.lit("unparseable_ts")).otherwise(reason)
    return ts, reason


def validate(mapped: DataFrame, *, start: date, end: date | None = None, now: datetime,
             ts_floor: datetime) -> DataFrame:
    """Add ``ds`` (the UTC date of ``ts``), ``reason`` (null = valid) and ``_day`` (the run day the row is
    counted in) to :func:`apply_mapping`'s output.

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


def count_outcomes(labeled: DataFrame) -> DataFrame:
    """Rows per (``_day``, ``outcome``, ``reason``) of :func:`mark_duplicates`'s output, as column ``n``."""
    return labeled.groupBy(DAY, OUTCOME, REASON).agg(F.count(F.lit(1)).alias("n"))


def day_counts(outcomes: Iterable[Row], *, input_rows: int, start: date, end: date,
               source: str) -> dict[date, IngestCounts]:
    """Every run day's :class:`IngestCounts` from the outcome rows (:func:`count_outcomes`); days without rows get
    zeros. A day's input is the rows the run assigned to it (``_day``); the run's total is checked against
    ``input_rows``, counted on the input as read, independently of the labelling. Raises
    :class:`DataContractError` before anything is written when the counts do not reconcile.
    """
    by_day: dict[date, list[Row]] = {}
    for row in outcomes:
        by_day.setdefault(row[DAY], []).append(row)
    if unexpected := sorted(set(by_day) - set(days(start, end))):
        raise DataContractError(f"ingest of {source} counted rows on days {unexpected} outside {start}..{end}; "
                                "report it as a bug in the ingest job")
    counts = {}
    for day in days(start, end):
        rows = by_day.get(day, [])
        counts[day] = IngestCounts.from_rows(rows, input_rows=sum(r["n"] for r in rows))
    whole = total(counts)
    IngestCounts(input_rows, whole.clean_rows, whole.duplicate_rows, whole.quarantined).check(
        source=source, ds=start if start == end else f"{start}..{end}")
    return counts


def counts_frame(spark: SparkSession, counts: Mapping[date, IngestCounts], *, source: str, config: IngestConfig,
                 ingested_at: datetime) -> DataFrame:
    """One row per run day of the ``ingest_counts`` table (:data:`COUNTS_DDL`), built without Python workers."""
    rows = []
    for ds, c in sorted(counts.items()):
        by_reason = F.create_map(*[F.lit(x) for code in REASONS for x in (code, c.quarantined.get(code, 0))])
        values = [F.lit(ds), F.lit(c.input_rows), F.lit(c.clean_rows), F.lit(c.duplicate_rows),
                  F.lit(c.quarantined_rows), by_reason, F.lit(source),
                  F.lit(json.dumps(config.to_dict(), sort_keys=True)), F.lit(parse_utc(ingested_at))]
        rows.append(F.struct(*[v.cast(kind).alias(name) for v, (name, kind) in zip(values, COUNTS_COLUMNS)]))
    return spark.range(1).select(F.inline(F.array(*rows)))


def total(counts: Mapping[date, IngestCounts]) -> IngestCounts:
    """The run's counts over all its days."""
    parts = list(counts.values())
    return IngestCounts(
        input_rows=sum(c.input_rows for c in parts), clean_rows=sum(c.clean_rows for c in parts),
        duplicate_rows=sum(c.duplicate_rows for c in parts),
        quarantined={code: sum(c.quarantined.get(code, 0) for c in parts) for code in REASONS},
    )


def check_quarantine_share(counts: IngestCounts, args: IngestArgs) -> None:
    """Raise :class:`DataContractError` when the run quarantined more than ``--max-quarantine-share`` of its
    input, naming the top reason and the mapping key or flag to check."""
    if not counts.input_rows or counts.quarantined_rows / counts.input_rows <= args.max_quarantine_share:
        return
    reason, n = max(counts.quarantined.items(), key=lambda kv: kv[1])
    where = "would be" if args.dry_run else f"were written to {args.quarantine_path}; they"
    raise DataContractError(
        f"ingest of {args.source} for {args.start}..{args.end} quarantined {counts.quarantined_rows:,} of "
        f"{counts.input_rows:,} rows ({counts.quarantined_rows / counts.input_rows:.0%}), above "
        f"--max-quarantine-share {args.max_quarantine_share}; top reason {reason} ({n:,} rows): check "
        f"{REASON_HINTS[reason]}. The rows {where} can be re-ingested after fixing the mapping "
        "(ingest --dry-run shows samples per reason)."
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
    present = [F.count(F.col(c)).alias(c) for c in (*_STRING_COLUMNS, "ts")]
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
