"""The ingest job's declarative parts (:mod:`spark_jobs.ingest`): input mapping, arguments, reason codes (its
counts: :mod:`spark_jobs.ingest_counts`).

A platform's export rarely follows the contract (``jobtrail.contracts.RAW_EVENT``) by name. A small JSON
file, passed as ``--mapping path.json``, says how to read it. Every key is optional; without a file the
mapping is the identity (our synthetic raw events already follow the contract)::

    {
      "format": "csv",
      "columns": {"uid": "user_id", "action": "event_type", "timestamp": "ts", "job": "job_id", "id": "event_id",
                  "channel": {"constant": "web"}},
      "event_types": {"bookmark": "save", "delete": "dismiss"},
      "ts_floor": "2000-01-01",
      "epoch_unit": "s",
      "ts_format": null,
      "timezone": "Europe/Berlin",
      "date_only": "refuse",
      "csv": {"header": true, "sep": ",", "quote": "\\"", "escape": "\\\\", "encoding": "UTF-8"}
    }

| key | meaning | default |
|---|---|---|
| ``format`` | ``parquet``, ``json`` (JSON lines) or ``csv``; ``--format`` overrides it | ``parquet`` |
| ``columns`` | input column name → contract column name. A contract column not named here is read from an input column of the same name (identity); input columns that map to nothing are ignored (they stay visible in the quarantine's raw row). A contract column as the key with ``{"constant": "<value>"}`` sets it on every row (a single-action export: ``"event_type": {"constant": "apply"}``; not for ``event_id``, ``user_id``, ``ts``) | ``{}`` |
| ``event_types`` | input value → contract event type (one of ``EVENT_TYPES``). Values are trimmed and lower-cased before the lookup (keys are normalised the same way); unmapped values pass through and are quarantined as ``unknown_event_type`` unless they already are contract types | ``{}`` |
| ``ts_floor`` | ISO date or date-time (naive = UTC); earlier timestamps are quarantined as ``ts_before_floor``; ``--ts-floor`` overrides it | ``2000-01-01`` |
| ``epoch_unit`` | unit of numeric timestamps (numbers, or strings of digits): ``s``, ``ms`` or ``us`` | ``s`` |
| ``ts_format`` | a Spark datetime pattern for timestamp strings that are not ISO-8601 (``null``: ISO-8601 with or without an offset) | ``null`` |
| ``timezone`` | the zone of *naive* timestamps (strings without an offset, ``TIMESTAMP_NTZ`` columns), e.g. ``UTC`` or ``America/New_York``; ``null``: naive timestamps are refused (quarantined as ``naive_ts``) — an export's local times are never silently taken as UTC. Epochs, offsets and Parquet timestamps are unambiguous and ignore it | ``null`` |
| ``date_only`` | a date without a time (``DATE`` columns, ``YYYY-MM-DD``, a ``ts_format`` without hours): ``refuse`` (quarantined as ``date_only_ts``: a day is not an instant) or ``midnight`` (the start of the day in ``timezone``) | ``refuse`` |
| ``csv`` | CSV reader options: ``header``, ``sep``, ``quote``, ``escape``, ``encoding`` | as shown |

Required input columns (after the mapping): ``user_id``, ``event_type``, ``ts`` and ``job_id`` (the last is
required as a column because every non-search event needs it; its *values* may be missing on searches).
A missing one stops the job with :class:`jobtrail.errors.DataContractError` naming the column and the mapping.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobtrail.argtypes import cli_path, iso_datetime, location, number
from jobtrail.contracts import DEFAULT_MAX_QUARANTINE_SHARE, EVENT_TYPES, RAW_EVENT, REQUIRED_EVENT_COLUMNS, Tables
from jobtrail.errors import ConfigError, DataContractError
from spark_jobs.common import add_data_root, data_root, iso_date

FORMATS: tuple[str, ...] = ("parquet", "json", "csv")
DATE_ONLY: tuple[str, ...] = ("refuse", "midnight")
"""How a date without a time is read: quarantined as ``date_only_ts``, or midnight in ``timezone``."""
NO_CONSTANT: tuple[str, ...] = ("event_id", "user_id", "ts")
"""Contract columns a mapping may not set to a constant."""
EPOCH_UNITS: dict[str, int] = {"s": 1_000_000, "ms": 1_000, "us": 1}
"""Microseconds per unit of a numeric timestamp."""
DEFAULT_TS_FLOOR = datetime(2000, 1, 1, tzinfo=timezone.utc)
REASONS: tuple[str, ...] = (
    "malformed_row", "missing_user_id", "missing_event_type", "unknown_event_type", "missing_job_id",
    "missing_ts", "unparseable_ts", "date_only_ts", "naive_ts", "ts_before_floor", "future_ts", "wrong_day",
)
"""Quarantine reason codes in the order they are checked: a row gets the first that applies."""
REASON_HINTS: dict[str, str] = {
    "malformed_row": "the mapping's format and csv options (sep, quote, encoding), or --format",
    "missing_user_id": "the mapping's columns (which input column is user_id?)",
    "missing_event_type": "the mapping's columns (which input column is event_type, or a constant?)",
    "unknown_event_type": "the mapping's event_types (every input value → one of " + ", ".join(EVENT_TYPES) + ")",
    "missing_job_id": "the mapping's columns (which input column is job_id?)",
    "missing_ts": "the mapping's columns (which input column is ts?)",
    "unparseable_ts": "the mapping's ts_format (a Spark datetime pattern) or epoch_unit",
    "date_only_ts": "the mapping's date_only (\"midnight\" reads a date as midnight in the timezone) or columns",
    "naive_ts": "the mapping's timezone (the zone of timestamps without an offset, e.g. \"UTC\")",
    "ts_before_floor": "the mapping's epoch_unit (s, ms or us?) or ts_floor",
    "future_ts": "the mapping's epoch_unit (s, ms or us?) or --now",
    "wrong_day": "--ds / --start and --end (the rows' UTC days lie outside them)",
}
"""Per reason, the mapping key or flag to check when a run quarantines most of its input."""
REQUIRED_INPUT_COLUMNS: tuple[str, ...] = (*REQUIRED_EVENT_COLUMNS, "job_id")
"""Contract columns an input must provide (by name or through ``columns``)."""


def parse_utc(value: str | datetime | date, *, what: str = "timestamp") -> datetime:
    """An ISO date or date-time as an aware UTC datetime; naive values are UTC, dates are midnight UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError as e:
            raise ConfigError(f"{what} {value!r} is not an ISO date or date-time, e.g. 2026-10-01T00:00:00Z") from e
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


@dataclass(frozen=True)
class CsvOptions:
    """Options of Spark's CSV reader that an export may need."""

    header: bool = True
    sep: str = ","
    quote: str = '"'
    escape: str = "\\"
    encoding: str = "UTF-8"

    def reader_options(self) -> dict[str, str]:
        return {"header": str(self.header).lower(), "sep": self.sep, "quote": self.quote,
                "escape": self.escape, "encoding": self.encoding}


@dataclass(frozen=True)
class IngestConfig:
    """How to read one platform's raw events: format, column and event-type mappings, timestamp rules."""

    columns: Mapping[str, str] = field(default_factory=dict)
    event_types: Mapping[str, str] = field(default_factory=dict)
    format: str = "parquet"
    ts_floor: datetime = DEFAULT_TS_FLOOR
    epoch_unit: str = "s"
    ts_format: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    constants: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None
    date_only: str = "refuse"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"format {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.date_only not in DATE_ONLY:
            raise ConfigError(f"date_only {self.date_only!r} is not one of {', '.join(DATE_ONLY)}")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as e:
                raise ConfigError(f"timezone {self.timezone!r} is not a time zone name (e.g. UTC, Europe/Berlin, "
                                  "America/New_York)") from e
        bad_constants = sorted(set(self.constants) - set(RAW_EVENT.names) | set(self.constants) & set(NO_CONSTANT))
        if bad_constants:
            raise ConfigError(f"columns {bad_constants} cannot be a constant; constants may set "
                              f"{[c for c in RAW_EVENT.names if c not in NO_CONSTANT]}")
        mapped_too = sorted(set(self.constants) & set(self.columns.values()))
        if mapped_too:
            raise ConfigError(f"columns maps an input column to {mapped_too} and also gives a constant; keep one")
        if self.epoch_unit not in EPOCH_UNITS:
            raise ConfigError(f"epoch_unit {self.epoch_unit!r} is not one of {', '.join(EPOCH_UNITS)}")
        unknown = {k: v for k, v in self.columns.items() if v not in RAW_EVENT.names}
        if unknown:
            raise ConfigError(f"columns {unknown} map to no contract column; targets must be among {RAW_EVENT.names}")
        targets = list(self.columns.values())
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise ConfigError(f"columns maps several input columns to {twice}; keep one input column per target")
        events = {str(k).strip().lower(): str(v).strip().lower() for k, v in self.event_types.items()}
        bad = {k: v for k, v in events.items() if v not in EVENT_TYPES}
        if bad:
            raise ConfigError(f"event_types {bad} map to unknown event types; targets must be among {EVENT_TYPES}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "constants", MappingProxyType({k: str(v) for k, v in self.constants.items()}))
        object.__setattr__(self, "event_types", MappingProxyType(events))
        object.__setattr__(self, "ts_floor", parse_utc(self.ts_floor, what="ts_floor"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "mapping") -> "IngestConfig":
        """Build from the JSON layout of the module docstring; unknown keys are errors (typos would be silent)."""
        allowed = {"format", "columns", "event_types", "ts_floor", "epoch_unit", "ts_format", "csv", "timezone",
                   "date_only"}
        extra = sorted(set(data) - allowed)
        if extra:
            raise ConfigError(f"{source}: unknown keys {extra}; allowed keys are {sorted(allowed)}")
        csv_data = data.get("csv") or {}
        csv_extra = sorted(set(csv_data) - set(CsvOptions.__dataclass_fields__))
        if csv_extra:
            allowed_csv = sorted(CsvOptions.__dataclass_fields__)
            raise ConfigError(f"{source}: unknown csv options {csv_extra}; allowed: {allowed_csv}")
        kwargs = {k: data[k] for k in ("format", "epoch_unit", "ts_format", "ts_floor", "timezone", "date_only")
                  if data.get(k) is not None}
        columns = data.get("columns") or {}
        if isinstance(columns, Mapping):  # {"event_type": {"constant": "apply"}}: a contract column set to a value
            constants = {k: v for k, v in columns.items() if isinstance(v, Mapping)}
            if any(set(v) != {"constant"} or not isinstance(v["constant"], str) for v in constants.values()):
                raise ConfigError(f"{source}: a column given as an object must be {{\"constant\": \"<value>\"}}, "
                                  f"got {constants}")
            kwargs["constants"] = {k: v["constant"] for k, v in constants.items()}
            data = {**data, "columns": {k: v for k, v in columns.items() if k not in constants}}
        for key in ("columns", "event_types"):
            value = data.get(key) or {}
            if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(f"{source}: {key!r} must be an object of strings, e.g. {{\"uid\": \"user_id\"}}")
            kwargs[key] = dict(value)
        return cls(csv=CsvOptions(**csv_data), **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of the module docstring (recorded with every run's counts)."""
        return {
            "format": self.format,
            "columns": {**self.columns, **{k: {"constant": v} for k, v in self.constants.items()}},
            "event_types": dict(self.event_types),
            "ts_floor": self.ts_floor.isoformat(),
            "epoch_unit": self.epoch_unit,
            "ts_format": self.ts_format,
            "timezone": self.timezone,
            "date_only": self.date_only,
            "csv": asdict(self.csv),
        }

    def with_overrides(self, *, format: str | None = None, ts_floor: datetime | None = None) -> "IngestConfig":
        """This config with command-line overrides applied (``None`` keeps the configured value)."""
        changes: dict[str, Any] = {}
        if format is not None:
            changes["format"] = format
        if ts_floor is not None:
            changes["ts_floor"] = ts_floor
        return replace(self, **changes) if changes else self


def load_config(path: str | Path | None) -> IngestConfig:
    """The config in the JSON file at ``path``; the identity mapping when ``path`` is ``None``."""
    if path is None:
        return IngestConfig()
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"mapping file {path} does not exist; check --mapping") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"mapping file {path} is not valid JSON ({e}); see spark_jobs/ingest_config.py") from e
    except (OSError, ValueError) as e:  # a folder, no permission, not UTF-8
        raise ConfigError(f"mapping file {path} cannot be read ({e}); give a JSON file "
                          "(see spark_jobs/ingest_config.py)") from e
    if not isinstance(data, dict):
        raise ConfigError(f"mapping file {path} must hold a JSON object; see spark_jobs/ingest_config.py")
    try:
        return IngestConfig.from_dict(data, source=str(path))
    except TypeError as e:
        raise ConfigError(f"mapping file {path}: {e}; see spark_jobs/ingest_config.py") from e


def resolve_columns(input_columns: Sequence[str], config: IngestConfig, *, source: str) -> dict[str, str | None]:
    """Contract column → input column (``None`` when absent) for an input with ``input_columns``.

    A contract column that is a target of ``config.columns`` is read only from the input column named there;
    the others are read from an input column of their own name.
    Raises :class:`DataContractError` naming every missing required column, the mapping used and the input's
    columns.
    """
    present = set(input_columns)
    by_target = {target: name for name, target in config.columns.items()}
    resolved: dict[str, str | None] = {}
    for column in RAW_EVENT.names:
        name = by_target.get(column, column)
        resolved[column] = name if name in present and column not in config.constants else None
    missing = [c for c in REQUIRED_INPUT_COLUMNS if resolved[c] is None and c not in config.constants]
    if missing:
        expected = {c: [n for n, t in config.columns.items() if t == c] or [c] for c in missing}
        raise DataContractError(
            f"input {source} has no column for required contract column(s) {missing} "
            f"(looked for input columns {expected}; mapping used: {json.dumps(dict(config.columns))}; "
            f"input columns: {sorted(present)}). Map the input's column names to the contract in a --mapping "
            f"JSON file, e.g. {{\"columns\": {{\"<input name>\": \"{missing[0]}\"}}}} "
            "(see spark_jobs/ingest_config.py)."
        )
    return resolved


@dataclass(frozen=True)
class IngestArgs:
    """One run: its days, the inputs and how to read them, the three output tables and the run's clock."""

    start: date
    end: date
    inputs: tuple[str, ...]
    config: IngestConfig
    clean_path: Path
    quarantine_path: Path
    counts_path: Path
    now: datetime
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
    dry_run: bool = False

    @property
    def source(self) -> str:
        """The inputs as one string (recorded with the counts and in the commits)."""
        return ",".join(self.inputs)


def parse_args(argv: list[str] | None = None) -> IngestArgs:
    """The command line of ``spark_jobs/ingest.py`` (see its docstring) as :class:`IngestArgs`."""
    parser = argparse.ArgumentParser(description="Ingest raw events of one day or a range of days into the "
                                                 "clean events table.")
    days = parser.add_mutually_exclusive_group(required=True)
    days.add_argument("--ds", type=iso_date, help="one run day (UTC), YYYY-MM-DD (= --start D --end D)")
    days.add_argument("--start", type=iso_date, help="first day of a range (UTC), YYYY-MM-DD; needs --end")
    parser.add_argument("--end", type=iso_date, default=None, help="last day of the range (inclusive)")
    parser.add_argument("--input", type=location, required=True, action="append",
                        help="folder or file of raw events (path or URI): a day's export, a whole history in one "
                             "file, or ds=YYYY-MM-DD folders; repeat for several sources")
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: the mapping's, else parquet")
    parser.add_argument("--mapping", type=cli_path, default=None, help="JSON config (see spark_jobs/ingest_config.py)")
    parser.add_argument("--clean-path", type=cli_path, default=None, help="default <data-root>/clean_events")
    parser.add_argument("--quarantine-path", type=cli_path, default=None, help="default <data-root>/quarantine_events")
    parser.add_argument("--counts-path", type=cli_path, default=None, help="default <data-root>/ingest_counts")
    parser.add_argument("--now", type=iso_datetime, default=None,
                        help="the run's time (ISO, naive = UTC; default: now); later timestamps are future_ts")
    parser.add_argument("--ts-floor", type=iso_datetime, default=None,
                        help="earliest valid ts (ISO; default: the mapping's, 2000-01-01)")
    parser.add_argument("--max-quarantine-share", type=number(0, 1), default=DEFAULT_MAX_QUARANTINE_SHARE,
                        help="exit non-zero (after writing) when more of the input is quarantined "
                             f"(default {DEFAULT_MAX_QUARANTINE_SHARE}; 1 never fails)")
    parser.add_argument("--dry-run", action="store_true",
                        help="report per column how many rows parse and per reason how many would be quarantined, "
                             "with samples; write nothing")
    add_data_root(parser)
    a = parser.parse_args(argv)
    if a.start is not None and a.end is None:
        parser.error("argument --start: needs --end (the last day of the range)")
    if a.ds is not None and a.end is not None:
        parser.error("argument --end: goes with --start, not --ds")
    start, end = (a.ds, a.ds) if a.ds is not None else (a.start, a.end)
    if end < start:
        parser.error(f"argument --end: {end} is before --start {start}")
    root = data_root(a.data_root)
    try:
        config = load_config(a.mapping).with_overrides(format=a.format, ts_floor=a.ts_floor)
    except ConfigError as e:
        parser.error(f"argument --mapping: {e}")
    now = a.now or datetime.now(timezone.utc)
    return IngestArgs(
        start=start, end=end, inputs=tuple(a.input), config=config, now=now,
        clean_path=a.clean_path or root / Tables.CLEAN_EVENTS,
        quarantine_path=a.quarantine_path or root / Tables.QUARANTINE,
        counts_path=a.counts_path or root / Tables.INGEST_COUNTS,
        max_quarantine_share=a.max_quarantine_share, dry_run=a.dry_run,
    )
