"""Spark job: ingest one day of raw events — map, validate, normalise to UTC, deduplicate, quarantine.

Run::

    spark-submit spark_jobs/ingest.py --ds 2026-10-03 --input data/synthetic/raw_events/ds=2026-10-03 --format parquet
    spark-submit spark_jobs/ingest.py --ds 2026-10-03 --input exports/2026-10-03 --format csv \\
        --mapping mapping.json --now 2026-10-04T02:00:00Z [--data-root data] [--ts-floor 2020-01-01]

Input: Parquet, JSON lines or CSV under ``--input``; names and event types are mapped by ``--mapping``
(:class:`~spark_jobs.ingest_config.IngestConfig`; JSON layout there, e.g. ``{"columns": {"uid": "user_id",
"action": "event_type", "timestamp": "ts"}, "event_types": {"bookmark": "save", "delete": "dismiss"}}``).
Ids are cast to strings; text is trimmed of white space, control and invisible format characters at both
ends (:data:`BLANK_CHARS`), and what is then empty is missing. Timestamps: timestamp types, ISO-8601 strings
with an offset (normalised to UTC) or without (= UTC), epoch numbers (``epoch_unit``). The Parquet files of
one day may differ in their columns (the schemas are merged: no file's columns are dropped) but not in a
column's type (:class:`~jobtrail.errors.DataContractError` naming the column). A missing required column
raises :class:`~jobtrail.errors.DataContractError` before anything is written.

Every input row ends in exactly one place, and ``input = clean + duplicates + quarantined`` is checked before
anything is written (the job raises otherwise):

- ``<data-root>/clean_events`` (Delta, by ``ds``): contract ``with_partition(RAW_EVENT)``; day ``--ds`` replaced.
- ``<data-root>/quarantine_events`` (Delta, by ``ds`` = the run day): ``raw`` (the input row as JSON of all
  its columns, unknown ones and ``_corrupt_record`` included), ``reason``, ``source_file``, ``ingested_at``, ``ds``.
- duplicates: valid rows sharing an ``event_id`` keep one representative, the smallest by
  (``ts``, ``user_id``, ``event_type``, ``job_id``, ``query``, ``channel``), nulls first. A missing ``event_id``
  (no column, or null) is ``sha2(user_id ␟ event_type ␟ coalesce(job_id,'') ␟ coalesce(query,'') ␟
  unix_micros(ts), 256)`` (␟ = ``\\x1f``, fields after mapping and UTC normalisation), so rows without ids
  deduplicate on (user, type, job, query, ts).
- ``<data-root>/ingest_counts`` (Delta, by ``ds``, one row per run day): see :data:`COUNTS_DDL`.

Reason codes, in the order they are checked (a row gets the first that applies; :data:`REASONS`):
``malformed_row`` (JSON/CSV line that does not parse), ``missing_user_id``, ``missing_event_type``,
``unknown_event_type`` (after mapping), ``missing_job_id`` (non-search events), ``missing_ts``,
``unparseable_ts``, ``ts_before_floor`` (``--ts-floor``, default 2000-01-01), ``future_ts`` (after ``--now``),
``wrong_day`` (the UTC date of ``ts`` is not ``--ds``: re-ingest it with its own day).
``ingested_at`` is ``--now`` (default: the wall clock at start), so a rerun with the same ``--now`` writes
identical rows. Reruns replace the day in all three tables (``replaceWhere``); other days are untouched.
An empty input folder or file writes zero counts and leaves the day empty.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, NumericType, StringType, TimestampNTZType, TimestampType

from jobtrail.contracts import EVENT_TYPES, RAW_EVENT, with_partition
from jobtrail.errors import ConfigError, DataContractError
from spark_jobs.common import write_days
from spark_jobs.ingest_config import (
    EPOCH_UNITS, REASONS, IngestArgs, IngestConfig, IngestCounts, parse_args, parse_utc, resolve_columns,
)
from spark_jobs.schemas import spark_schema

COUNTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ds", "date"), ("input_rows", "bigint"), ("clean_rows", "bigint"), ("duplicate_rows", "bigint"),
    ("quarantined_rows", "bigint"), ("quarantined_by_reason", "map<string,bigint>"), ("input", "string"),
    ("config", "string"), ("ingested_at", "timestamp"),
)
COUNTS_DDL = ", ".join(f"{name} {kind}" for name, kind in COUNTS_COLUMNS)
"""Schema of the ``ingest_counts`` table: one row per run day; the map holds every code of :data:`REASONS`."""
RAW, TS_INPUT, REASON, OUTCOME = "_raw", "_ts_input", "reason", "outcome"
SOURCE_FILE, CORRUPT = "_source_file", "_corrupt_record"
CLEAN_SCHEMA = spark_schema(with_partition(RAW_EVENT))
_STRING_COLUMNS = [c for c in RAW_EVENT.names if c != "ts"]
_EPOCH_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_MIN_US, _MAX_US = -62_135_596_800_000_000, 253_402_300_799_999_999  # 0001-01-01 .. 9999-12-31 UTC
DEDUPE_ORDER = ("ts", "user_id", "event_type", "job_id", "query", "channel")
BLANK_CHARS = "".join(map(chr, [
    *range(0x00, 0x21), *range(0x7F, 0xA1), 0xAD, 0x1680, 0x180E, *range(0x2000, 0x2010), 0x2028, 0x2029,
    *range(0x202A, 0x2030), 0x205F, *range(0x2060, 0x2065), 0x3000, 0xFEFF,
]))
"""Trimmed off both ends of text: C0/C1 controls, Unicode spaces, zero-width and bidi marks, BOM, soft hyphen."""


def read_input(spark: SparkSession, path: str, *, config: IngestConfig) -> DataFrame:
    """The input rows as read (JSON/CSV lines that do not parse carry ``_corrupt_record``) + ``_source_file``.

    A folder without data files gives an empty frame; a nonexistent path raises :class:`DataContractError`.
    """
    local = "://" not in path and not any(ch in path for ch in "*?[{")  # URIs and globs: Spark checks
    if local and not Path(path.removeprefix("file:")).exists():
        raise DataContractError(f"input path {path} does not exist; check --input (has the day's export landed?)")
    reader = spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
    try:
        if config.format == "parquet":  # merged: a column only some files have is not dropped
            df = reader.option("mergeSchema", "true").parquet(path)
        elif config.format == "json":
            df = reader.json(path)
            if df.columns == [CORRUPT]:  # no line parsed; Spark refuses to query only this column
                lines = spark.read.text(path).select(F.col("value").alias(CORRUPT), F.col("_metadata.file_path"))
                return lines.where(F.trim(CORRUPT) != "").withColumnRenamed("file_path", SOURCE_FILE)
        else:
            options = config.csv.reader_options()
            header = spark.read.options(**options).csv(path).columns
            if not header:  # empty files only
                return spark.createDataFrame([], f"{SOURCE_FILE} string")
            schema = ", ".join(f"`{c.replace('`', '``')}` string" for c in [*header, CORRUPT])
            df = reader.options(**options).schema(schema).csv(path)
    except AnalysisException as e:
        condition = e.getCondition() or ""
        if condition == "UNABLE_TO_INFER_SCHEMA":  # a folder without data files: an empty day
            return spark.createDataFrame([], f"{SOURCE_FILE} string")
        if condition == "PATH_NOT_FOUND":
            raise DataContractError(f"input path {path} does not exist; check --input") from e
        raise DataContractError(f"cannot read {path} as {config.format}: {e}; check --format and --mapping") from e
    except Py4JJavaError as e:  # Spark does not translate a failed schema merge into a Python exception
        message = str(e.java_exception.getMessage())
        if "CANNOT_MERGE_SCHEMAS" not in message:
            raise
        raise DataContractError(
            f"the Parquet files under {path} disagree on the type of column(s) {_type_conflicts(message)}; "
            "re-export the day with one type per column (e.g. ids always as strings)") from e
    return df.select("*", F.col("_metadata.file_path").alias(SOURCE_FILE))


def _type_conflicts(message: str) -> str:
    """``name: TYPE vs TYPE`` per top-level column whose type differs in a CANNOT_MERGE_SCHEMAS message."""
    schemas = [dict(re.findall(r"([^<>,:\s]+): ([A-Z]+)", s)) for s in re.findall(r'"STRUCT<(.*)>"', message)]
    if len(schemas) == 2:
        first, other = schemas
        if conflicts := [f"{c}: {first[c]} vs {other[c]}" for c in first if other.get(c, first[c]) != first[c]]:
            return ", ".join(conflicts)
    return " ".join(message.split())


def _col(name: str) -> Column:
    return F.col("`" + name.replace("`", "``") + "`")


def _text(value: Column) -> Column:
    """String trimmed of :data:`BLANK_CHARS`; empty → null."""
    trimmed = F.btrim(value.cast("string"), F.lit(BLANK_CHARS))
    return F.when(trimmed != "", trimmed)


def apply_mapping(raw: DataFrame, *, config: IngestConfig, source: str = "input") -> DataFrame:
    """Input columns (+ ``_source_file``) → contract names: strings for ids and text, the event type mapped.

    Output columns: ``event_id``, ``user_id``, ``event_type``, ``job_id``, ``query``, ``channel`` (trimmed
    strings, blank = null; ``event_type`` lower-cased and mapped), ``_ts_input`` (the timestamp as read),
    ``_corrupt_record``, ``_raw`` (JSON of every input column) and ``_source_file``. Raises
    :class:`DataContractError` when a required column is missing — unless the input has no columns at all
    (nothing to infer a schema from: an empty file, or JSON lines none of which parsed), where absent
    columns are null and rows, if any, are quarantined as ``malformed_row``.
    """
    inputs = [c for c in raw.columns if c != SOURCE_FILE]
    data_columns = [c for c in inputs if c != CORRUPT]
    if data_columns:
        resolved = resolve_columns(data_columns, config, source=source)
    else:
        resolved = {c: None for c in RAW_EVENT.names}

    def column(name: str) -> Column:
        return _col(resolved[name]) if resolved[name] is not None else F.lit(None).cast("string")

    strings = {c: _text(column(c)) for c in _STRING_COLUMNS}
    event_type = F.lower(strings["event_type"])
    if config.event_types:
        lookup = F.create_map(*[F.lit(x) for pair in config.event_types.items() for x in pair])
        event_type = F.coalesce(F.try_element_at(lookup, event_type), event_type)
    strings["event_type"] = event_type
    return raw.select(
        *[strings[c].alias(c) for c in _STRING_COLUMNS],
        column("ts").alias(TS_INPUT),
        (_col(CORRUPT) if CORRUPT in inputs else F.lit(None).cast("string")).alias(CORRUPT),
        (F.to_json(F.struct(*[_col(c) for c in inputs])) if inputs else F.lit("{}")).alias(RAW),
        _col(SOURCE_FILE).alias(SOURCE_FILE),
    )


def parse_timestamp(value: Column, dtype: DataType, *, epoch_unit: str = "s", ts_format: str | None = None) -> Column:
    """``value`` of type ``dtype`` as a UTC timestamp; null when it cannot be parsed.

    Timestamps pass through; timestamps without zone and dates are UTC; numbers (and strings of digits)
    are epochs in ``epoch_unit``; other strings are ISO-8601 (an offset is honoured, naive = UTC — the
    session time zone, which :func:`spark_jobs.session.create_session` sets to UTC) or ``ts_format``.
    """
    def epoch(v: Column) -> Column:
        micros = (v.try_cast("decimal(30,6)") * F.lit(EPOCH_UNITS[epoch_unit])).try_cast("long")
        return F.when(micros.between(_MIN_US, _MAX_US), F.timestamp_micros(micros))

    if isinstance(dtype, TimestampType):
        return value
    if isinstance(dtype, (TimestampNTZType, DateType)):
        return value.cast("timestamp")
    if isinstance(dtype, NumericType):
        return epoch(value)
    if isinstance(dtype, StringType):
        text = F.trim(value)
        parsed = F.try_to_timestamp(text, F.lit(ts_format)) if ts_format else F.try_to_timestamp(text)
        return F.when(text.rlike(_EPOCH_PATTERN), epoch(text)).otherwise(parsed)
    return F.lit(None).cast("timestamp")


def parse_and_validate(
    mapped: DataFrame, *, ds: date, now: datetime, ts_floor: datetime, epoch_unit: str = "s",
    ts_format: str | None = None,
) -> DataFrame:
    """Parse ``_ts_input`` into ``ts`` (UTC), add ``ds`` (its UTC date) and ``reason`` (null = valid).

    ``reason`` is the first failing rule, checked in the order of :data:`REASONS`. ``_raw`` is kept only
    for rows with a reason.
    """
    dtype = mapped.schema[TS_INPUT].dataType
    ts_in = F.col(TS_INPUT)
    ts = parse_timestamp(ts_in, dtype, epoch_unit=epoch_unit, ts_format=ts_format)
    missing_ts = ts_in.isNull() | (F.trim(ts_in) == "") if isinstance(dtype, StringType) else ts_in.isNull()
    withts = mapped.withColumn("ts", ts).withColumn("ds", F.to_date("ts"))
    failed: dict[str, Column] = {
        "malformed_row": F.col(CORRUPT).isNotNull(),
        "missing_user_id": F.col("user_id").isNull(),
        "missing_event_type": F.col("event_type").isNull(),
        "unknown_event_type": ~F.col("event_type").isin(*EVENT_TYPES),
        "missing_job_id": (F.col("event_type") != "search") & F.col("job_id").isNull(),
        "missing_ts": missing_ts,
        "unparseable_ts": F.col("ts").isNull(),
        "ts_before_floor": F.col("ts") < F.lit(parse_utc(ts_floor)),
        "future_ts": F.col("ts") > F.lit(parse_utc(now)),
        "wrong_day": F.col("ds") != F.lit(ds),
    }
    reason: Column = F.lit(None).cast("string")
    for code in reversed(REASONS):  # the first failing rule wins
        reason = F.when(failed[code], F.lit(code)).otherwise(reason)
    return (
        withts.withColumn(REASON, reason)
        .withColumn(RAW, F.when(F.col(REASON).isNotNull(), F.col(RAW)))
        .drop(TS_INPUT)
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


def quarantine_rows(labeled: DataFrame, *, ds: date, ingested_at: datetime) -> DataFrame:
    """The ``quarantined`` rows: ``raw``, ``reason``, ``source_file``, ``ingested_at``, ``ds`` (the run day)."""
    return labeled.where(F.col(OUTCOME) == "quarantined").select(
        F.col(RAW).alias("raw"),
        F.col(REASON).alias("reason"),
        F.col(SOURCE_FILE).alias("source_file"),
        F.lit(parse_utc(ingested_at)).alias("ingested_at"),
        F.lit(ds).alias("ds"),
    )


def count_outcomes(labeled: DataFrame) -> DataFrame:
    """Rows per (``outcome``, ``reason``) of :func:`mark_duplicates`'s output, as column ``n``."""
    return labeled.groupBy(OUTCOME, REASON).agg(F.count(F.lit(1)).alias("n"))


def counts_frame(spark: SparkSession, counts: IngestCounts, *, ds: date, source: str, config: IngestConfig,
                 ingested_at: datetime) -> DataFrame:
    """The run's one row of the ``ingest_counts`` table (:data:`COUNTS_DDL`), built without Python workers."""
    by_reason = F.create_map(*[F.lit(x) for code in REASONS for x in (code, counts.quarantined.get(code, 0))])
    values = [F.lit(ds), F.lit(counts.input_rows), F.lit(counts.clean_rows), F.lit(counts.duplicate_rows),
              F.lit(counts.quarantined_rows), by_reason, F.lit(source),
              F.lit(json.dumps(config.to_dict(), sort_keys=True)), F.lit(parse_utc(ingested_at))]
    return spark.range(1).select(*[v.cast(kind).alias(name) for v, (name, kind) in zip(values, COUNTS_COLUMNS)])


def _require_utc_session(spark: SparkSession) -> None:
    tz = spark.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise ConfigError(f"spark.sql.session.timeZone is {tz!r}; ingest needs UTC (create the session with "
                          "spark_jobs.session.create_session, or set it to UTC)")


def run(spark: SparkSession, args: IngestArgs) -> dict[str, object]:
    """Ingest ``args.input`` for ``args.ds``: write clean, quarantine and counts; return the counts."""
    _require_utc_session(spark)
    cfg = args.config
    raw = read_input(spark, args.input, config=cfg)
    input_rows = raw.count()
    labeled = mark_duplicates(fill_event_id(parse_and_validate(
        apply_mapping(raw, config=cfg, source=args.input),
        ds=args.ds, now=args.now, ts_floor=cfg.ts_floor, epoch_unit=cfg.epoch_unit, ts_format=cfg.ts_format,
    ))).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = IngestCounts.from_rows(count_outcomes(labeled).collect(), input_rows=input_rows)
        counts.check(source=args.input, ds=args.ds)
        meta = json.dumps({"job": "ingest", "ds": args.ds.isoformat(), "input": args.input,
                           "now": args.now.isoformat()})
        write_days(clean_events(labeled), args.clean_path, args.ds, user_metadata=meta)
        write_days(quarantine_rows(labeled, ds=args.ds, ingested_at=args.now), args.quarantine_path, args.ds,
                   user_metadata=meta)
        frame = counts_frame(spark, counts, ds=args.ds, source=args.input, config=cfg, ingested_at=args.now)
        write_days(frame, args.counts_path, args.ds, user_metadata=meta)
    finally:
        labeled.unpersist()
    return counts.as_dict()


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    counts = run(create_session("jobtrail-ingest"), args)
    print(json.dumps({"job": "ingest", "ds": args.ds.isoformat(), **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
