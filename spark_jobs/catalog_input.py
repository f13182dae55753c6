"""The job catalogue of a snapshot from what a platform actually exports: a mapped catalogue file, the job
attributes carried on its events, or nothing at all.

:mod:`spark_jobs.job_table` builds the side table from a snapshot in contract ``JOB``. It gets one of:

- **a snapshot folder** ``<catalog>/ds=YYYY-MM-DD/*.parquet`` already in contract ``JOB`` (the synthetic data,
  a pipeline that writes the contract): ``job_table --catalog <root>``;
- **a catalogue export** — one file or a folder (CSV, JSON lines or Parquet), columns named the platform's way —
  read as the snapshot through a mapping: ``job_table --catalog jobs.csv --catalog-mapping jobs.json``;
- **job attributes on the events** (title, company, city on every view) — the same kind of mapping with
  ``"rows": "events"`` over the *events'* export: per job the latest non-empty value of each attribute by
  ``ts`` up to the end of the snapshot day;
- **nothing** (``job_table --no-catalog``): every job comes from the clean events with its id only; the model
  learns it through the id embedding (and the output says so).

The mapping (JSON; every key but ``columns`` optional)::

    {
      "format": "csv",
      "rows": "jobs",
      "columns": {"posting": "job_id", "job_title": "title", "employer": "company", "city": "location",
                  "sector": "category", "tags": "skills", "level": "seniority", "pay_from": "salary_min",
                  "pay_to": "salary_max", "published": "posted_ts"},
      "lists": {"skills": ";"},
      "decimal_comma": false,
      "epoch_unit": "s",
      "timezone": "UTC",
      "csv": {"header": true, "sep": ","}
    }

| key | meaning | default |
|---|---|---|
| ``format`` | ``parquet``, ``json`` (lines) or ``csv`` | ``csv`` |
| ``rows`` | ``jobs``: one row per job (a job twice, or without an id, is refused naming it); ``events``: many rows per job, each attribute's latest non-empty value by ``ts`` (map a ``ts`` column) up to the end of the snapshot day | ``jobs`` |
| ``columns`` | input column → ``JOB`` column (``job_id``, ``title``, ``company``, ``location``, ``category``, ``skills``, ``seniority``, ``salary_min``, ``salary_max``, ``posted_ts``; ``ts`` with ``rows: events``). Unmapped ``JOB`` columns are read from a column of their own name, else missing; ``job_id`` is required | ``{}`` |
| ``lists`` | ``JOB`` list column → separator of a text list (``"python; sql"``); a list-typed input is taken as it is | ``{"skills": ";"}`` |
| ``decimal_comma`` | numbers written ``45.000,50`` (else ``45,000.50``); thousands separators and currency signs are dropped | ``false`` |
| ``epoch_unit``, ``ts_format`` | as in the events' mapping (:mod:`spark_jobs.ingest_config`), for ``posted_ts`` and ``ts`` | ``s``, ``null`` |
| ``timezone`` | zone of naive timestamps; dates are read as that zone's midnight (a posting date is a day) | ``UTC`` |
| ``csv`` | CSV reader options as in the events' mapping | header, ``,`` |
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType

from jobtrail.contracts import JOB
from jobtrail.errors import ConfigError, DataContractError
from spark_jobs.event_fields import clean_text, parse_timestamp
from spark_jobs.events_input import SOURCE_FILE, UNTERMINATED, _col, read_inputs
from spark_jobs.ingest_config import EPOCH_UNITS, FORMATS, CsvOptions, IngestConfig
from spark_jobs.schemas import spark_schema

ROWS: tuple[str, ...] = ("jobs", "events")
TEXT = ("title", "company", "location", "category")
NUMBERS = {"seniority": "int", "salary_min": "double", "salary_max": "double"}


@dataclass(frozen=True)
class CatalogMapping:
    """How to read one platform's job attributes into contract ``JOB`` (the JSON layout of the module docstring)."""

    columns: Mapping[str, str] = field(default_factory=dict)
    format: str = "csv"
    rows: str = "jobs"
    lists: Mapping[str, str] = field(default_factory=lambda: {"skills": ";"})
    decimal_comma: bool = False
    epoch_unit: str = "s"
    ts_format: str | None = None
    timezone: str = "UTC"
    csv: CsvOptions = field(default_factory=CsvOptions)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"catalogue format {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.rows not in ROWS:
            raise ConfigError(f"rows {self.rows!r} is not one of {', '.join(ROWS)}")
        if self.epoch_unit not in EPOCH_UNITS:
            raise ConfigError(f"epoch_unit {self.epoch_unit!r} is not one of {', '.join(EPOCH_UNITS)}")
        targets = [*JOB.names, *(["ts"] if self.rows == "events" else [])]
        if unknown := {k: v for k, v in self.columns.items() if v not in targets}:
            raise ConfigError(f"catalogue columns {unknown} map to no JOB column; targets must be among {targets}")
        if bad := sorted(set(self.lists) - {"skills"}):
            raise ConfigError(f"lists {bad}: only skills is a list column")
        if self.rows == "events" and "ts" not in self.columns.values():
            raise ConfigError('rows "events" needs a "ts" column in columns (which input column is the time?)')
        IngestConfig(timezone=self.timezone)  # the same zone rule as the events' mapping
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))
        object.__setattr__(self, "lists", MappingProxyType(dict(self.lists)))

    @classmethod
    def load(cls, path: Path) -> "CatalogMapping":
        """The mapping in the JSON file at ``path``; unknown keys are errors (typos would be silent)."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"catalogue mapping {path} cannot be read as JSON ({e}); see "
                              "spark_jobs/catalog_input.py") from e
        allowed = {"format", "rows", "columns", "lists", "decimal_comma", "epoch_unit", "ts_format", "timezone", "csv"}
        if not isinstance(data, dict) or (extra := sorted(set(data) - allowed)):
            raise ConfigError(f"catalogue mapping {path}: a JSON object with keys among {sorted(allowed)} "
                              f"(unknown: {extra if isinstance(data, dict) else data!r})")
        return cls(**{**data, "csv": CsvOptions(**data.get("csv", {}))})

    def reader(self) -> IngestConfig:
        """The events' reader settings for this file (format, CSV options): the same readers as ingest."""
        return IngestConfig(format=self.format, csv=self.csv)


def _number(value: Column, kind: str, *, decimal_comma: bool) -> Column:
    """A number from text like ``45,000.50``, ``45.000,50 €`` or ``3``; null when none is there."""
    text = F.regexp_replace(value.cast("string"), r"[^0-9,.\-]", "")
    text = F.regexp_replace(F.regexp_replace(text, r"\.", ""), ",", ".") if decimal_comma \
        else F.regexp_replace(text, ",", "")
    return text.try_cast("double").try_cast(kind) if kind == "int" else text.try_cast(kind)


def mapped_rows(raw: DataFrame, mapping: CatalogMapping, *, source: str) -> DataFrame:
    """One input layout's rows in contract ``JOB`` (+ ``ts`` with ``rows: events``), values parsed."""
    present = [c for c in raw.columns if c not in (SOURCE_FILE, UNTERMINATED, "_corrupt_record")]
    by_target = {target: name for name, target in mapping.columns.items()}
    wanted = [*JOB.names, *(["ts"] if mapping.rows == "events" else [])]
    resolved = {c: by_target.get(c, c) if by_target.get(c, c) in present else None for c in wanted}
    if missing := [c for c in ("job_id", "ts") if c in wanted and resolved[c] is None]:
        raise DataContractError(f"catalogue input {source} has no column for {missing} (mapping columns: "
                                f"{json.dumps(dict(mapping.columns))}; input columns: {sorted(present)})")

    def column(name: str) -> Column | None:
        return _col(resolved[name]) if resolved[name] is not None else None

    def timestamp(name: str) -> Column:
        value = column(name)
        if value is None:
            return F.lit(None).cast("timestamp")
        ts, _ = parse_timestamp(value, raw.schema[resolved[name]].dataType, epoch_unit=mapping.epoch_unit,
                                ts_format=mapping.ts_format, timezone=mapping.timezone, date_only="midnight")
        return ts

    out = {c: clean_text(column(c)) if column(c) is not None else F.lit(None).cast("string")
           for c in ("job_id", *TEXT)}
    skills = column("skills")
    if skills is None:
        out["skills"] = F.lit(None).cast("array<string>")
    elif isinstance(raw.schema[resolved["skills"]].dataType, ArrayType):
        out["skills"] = skills.cast("array<string>")
    else:
        parts = F.split(skills.cast("string"), re.escape(mapping.lists.get("skills", ";")))
        out["skills"] = F.filter(F.transform(parts, lambda s: F.trim(s)), lambda s: s != "")
    for name, kind in NUMBERS.items():
        value = column(name)
        out[name] = F.lit(None).cast(kind) if value is None else (
            value.cast(kind) if not isinstance(raw.schema[resolved[name]].dataType, StringType)
            else _number(value, kind, decimal_comma=mapping.decimal_comma))
    out["posted_ts"] = timestamp("posted_ts")
    if mapping.rows == "events":
        out["ts"] = timestamp("ts")
    return raw.select(*[v.alias(k) for k, v in out.items()])


def latest_per_job(rows: DataFrame, *, ds: date) -> DataFrame:
    """Per ``job_id``, each attribute's latest non-empty value by ``ts`` among rows before the end of ``ds``."""
    before = rows.where((F.col("ts") < F.lit(ds + timedelta(days=1))) & F.col("job_id").isNotNull())
    latest = [F.max_by(c, F.when(F.col(c).isNotNull() & (F.size(c) > 0) if c == "skills" else F.col(c).isNotNull(),
                                 F.col("ts"))).alias(c)
              for c in JOB.names if c != "job_id"]
    return before.groupBy("job_id").agg(*latest)


def check_snapshot(snapshot: DataFrame, *, source: str) -> DataFrame:
    """``snapshot`` cast to contract ``JOB``; raises naming a few null or duplicated job_ids."""
    typed = snapshot.select(*[F.col(f.name).cast(f.dataType) for f in spark_schema(JOB).fields])
    bad = typed.groupBy("job_id").count().where("job_id IS NULL OR count > 1").limit(5).collect()
    if bad:
        raise DataContractError(f"catalogue {source} has null or duplicate job_ids, e.g. "
                                f"{[(r.job_id, r['count']) for r in bad]}; fix it, or map it with "
                                '"rows": "events" when it lists a job once per event')
    return typed


def read_mapped_catalog(spark: SparkSession, path: str, mapping: CatalogMapping, *, ds: date) -> DataFrame:
    """The snapshot of ``ds`` (contract ``JOB``) from a catalogue or events export at ``path``."""
    frames = [mapped_rows(frame, mapping, source=source)
              for source, frame in read_inputs(spark, [path], config=mapping.reader()) if frame.columns != ["_source_file"]]
    if not frames:
        raise DataContractError(f"catalogue input {path} holds no rows; check --catalog")
    rows = reduce(DataFrame.unionByName, frames)
    if mapping.rows == "events":
        rows = latest_per_job(rows, ds=ds)
    return check_snapshot(rows, source=path)


def empty_snapshot(spark: SparkSession) -> DataFrame:
    """A snapshot without jobs (``--no-catalog``): every job of the events is id-only."""
    return spark.createDataFrame([], spark_schema(JOB))


def describe(kind: str, path: Any = None) -> dict[str, Any]:
    """What the side table's jobs were described by (recorded in ``_vocab.json`` and printed)."""
    notes = {"snapshot": "contract JOB snapshot", "export": "catalogue export through a mapping",
             "events": "attributes carried on the events (latest per job)",
             "none": "no catalogue: every job from the events, id-only (features missing)"}
    return {"kind": kind, "path": str(path) if path is not None else None, "note": notes[kind]}
