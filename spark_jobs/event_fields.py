"""An export's columns onto the event contract, as Spark columns: ids and text trimmed (blank = missing), event
types lower-cased and mapped, timestamps parsed to UTC beside the reason a value cannot be used.

Used by the ingest job (:mod:`spark_jobs.ingest`) and by catalogue exports (:mod:`spark_jobs.catalog_input`).
Timestamps: timestamp types, ISO-8601 strings with an offset (normalised to UTC), epoch numbers
(``epoch_unit``); naive ones only in the mapping's ``timezone`` (:func:`parse_timestamp`).
"""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, NumericType, StringType, TimestampNTZType, TimestampType

from jobtrail.contracts import RAW_EVENT
from spark_jobs.events_input import CORRUPT, SOURCE_FILE, UNTERMINATED, _col
from spark_jobs.ingest_config import EPOCH_UNITS, IngestConfig, resolve_columns

RAW, TS_REASON = "_raw", "_ts_reason"
"""The input row as JSON of all its columns; the timestamp's quarantine reason (null: usable)."""
TEXT_COLUMNS = [c for c in RAW_EVENT.names if c != "ts"]
"""The contract's columns read as text (all but ``ts``)."""
_EPOCH_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_DATE_ONLY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,9})?)?"
                r" ?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?|UTC|GMT)?)?$")
_OFFSET_PATTERN = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2}){0,2}|UTC|GMT|\[[^]]+\])$"
_MIN_US, _MAX_US = -62_135_596_800_000_000, 253_402_300_799_999_999  # 0001-01-01 .. 9999-12-31 UTC
BLANK_CHARS = "".join(map(chr, [
    *range(0x00, 0x21), *range(0x7F, 0xA1), 0xAD, 0x1680, 0x180E, *range(0x2000, 0x2010), 0x2028, 0x2029,
    *range(0x202A, 0x2030), 0x205F, *range(0x2060, 0x2065), 0x3000, 0xFEFF,
]))
"""Trimmed off both ends of text: C0/C1 controls, Unicode spaces, zero-width and bidi marks, BOM, soft hyphen."""


def clean_text(value: Column) -> Column:
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

    strings = {c: clean_text(column(c)) for c in TEXT_COLUMNS}
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
        *[strings[c].alias(c) for c in TEXT_COLUMNS],
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
