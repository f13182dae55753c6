"""The daily run's plan for day ``ds`` (the events of that UTC day): ingest ``ds`` → job side table of the ``ds``
snapshot with the model's vocabulary → inference inputs and embeddings *as of* ``ds + 1`` (00:00 UTC, so every
event of ``ds`` counts) → monitoring → publish. ``ingest --now`` is the end of ``ds``, so a rerun writes
identical rows (ingest's ``ingested_at``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.knobs import LOOKBACK_DAYS
from jobtrail.rules import (
    check_alias,
    check_bool,
    check_choice,
    check_int,
    check_model_name,
    inside_root,
    optional_date,
    shown,
)
from jobtrail.tables import Tables
from orchestration.plans.catalog import CatalogSource, catalog_source
from orchestration.plans.form import (
    CATALOG_PARAMS,
    DEFAULT_ALIAS,
    DEFAULT_MODEL_NAME,
    INPUT_FORMATS,
    arg,
    check_known,
    knob_value,
    midnight_utc,
)

DAILY_PARAMS: tuple[str, ...] = ("ds", "incremental", "lookback_days", "model_name", "model_alias", "model_version",
                                 "raw_input", "input_format", "mapping", *CATALOG_PARAMS)


@dataclass(frozen=True)
class DailyPlan:
    """One daily-embeddings run: the day, the cutoff, where everything is, and which model to use."""

    ds: date
    data_root: Path
    raw_input: Path
    catalog: CatalogSource
    model_name: str
    model_alias: str
    model_version: int | None = None
    input_format: str | None = None
    mapping: Path | None = None
    incremental: bool = False
    lookback_days: int = LOOKBACK_DAYS.default

    @property
    def as_of(self) -> date:
        """The cutoff date: embeddings use every event strictly before ``as_of`` 00:00 UTC (all of ``ds``)."""
        return self.ds + timedelta(days=1)

    @property
    def model_uri(self) -> str:
        if self.model_version is not None:
            return f"models:/{self.model_name}/{self.model_version}"
        return f"models:/{self.model_name}@{self.model_alias}"

    @property
    def job_table(self) -> Path:
        return self.data_root / Tables.JOB_SIDE_TABLE / f"ds={self.ds}"

    @property
    def feature_table(self) -> Path:
        return self.data_root / Tables.FEATURE_TABLE

    def ingest_args(self) -> list[str]:
        now = midnight_utc(self.as_of)
        args = ["--ds", arg(self.ds), "--input", str(self.raw_input), "--now", now, "--data-root", str(self.data_root)]
        if self.input_format:
            args += ["--format", self.input_format]
        if self.mapping:
            args += ["--mapping", str(self.mapping)]
        return args

    def job_table_args(self, model_dir: str | Path) -> list[str]:
        """The ``ds`` snapshot's side table with the model's vocabulary, so job ids match training."""
        return ["--ds", arg(self.ds), *self.catalog.args(),
                "--events", str(self.data_root / Tables.CLEAN_EVENTS),
                "--start", arg(self.as_of - timedelta(days=self.lookback_days)), "--end", arg(self.ds),
                "--vocab", str(Path(model_dir) / "assets" / "job_vocab.json"), "--out", str(self.job_table),
                "--data-root", str(self.data_root)]

    def inference_inputs_args(self, *, window: int, query_tokens: int | None = None) -> list[str]:
        args = ["--as-of", arg(self.as_of), "--job-table", str(self.job_table),
                "--lookback-days", str(self.lookback_days), "--window", str(window), "--data-root", str(self.data_root)]
        if query_tokens:
            args += ["--query-tokens", str(query_tokens)]
        return args

    def to_xcom(self) -> dict[str, Any]:
        return {"ds": arg(self.ds), "as_of": arg(self.as_of), "data_root": str(self.data_root),
                "raw_input": str(self.raw_input), **self.catalog.to_xcom(), "model_uri": self.model_uri,
                "model_name": self.model_name, "model_alias": self.model_alias, "model_version": self.model_version,
                "input_format": self.input_format, "mapping": str(self.mapping) if self.mapping else None,
                "incremental": self.incremental, "lookback_days": self.lookback_days,
                "job_table": str(self.job_table), "feature_table": str(self.feature_table),
                "ingest_args": self.ingest_args()}

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> "DailyPlan":
        return cls(
            ds=date.fromisoformat(value["ds"]), data_root=Path(value["data_root"]), raw_input=Path(value["raw_input"]),
            catalog=CatalogSource.from_xcom(value), model_name=value["model_name"], model_alias=value["model_alias"],
            model_version=value["model_version"], input_format=value["input_format"],
            mapping=Path(value["mapping"]) if value["mapping"] else None, incremental=bool(value["incremental"]),
            lookback_days=int(value["lookback_days"]),
        )


def run_day(param_ds: object, *, data_interval_start: datetime | None, run_after: datetime | None) -> date:
    """The day a daily run processes: the ``ds`` Param when given, else the data interval's start date, else
    (a manual run without a logical date) the day before ``run_after`` — the last complete UTC day."""
    given = optional_date(param_ds, "ds")
    if given is not None:
        return given
    if data_interval_start is not None:
        return data_interval_start.astimezone(timezone.utc).date()
    if run_after is None:
        raise ConfigError("no ds Param, no data interval and no run_after: give ds=YYYY-MM-DD")
    return run_after.astimezone(timezone.utc).date() - timedelta(days=1)


def daily_plan(params: Mapping[str, Any], *, ds: date, data_root: Path) -> DailyPlan:
    """Validate the daily DAG's params (see :mod:`orchestration.params`) into a :class:`DailyPlan`."""
    check_known(params, DAILY_PARAMS, "jobtrail_daily_embeddings")
    raw = params.get("raw_input") or f"{Tables.RAW_EVENTS}/ds={{ds}}"
    if not isinstance(raw, str):
        raise ConfigError(f"raw_input={shown(raw)} must be a path relative to the data root")
    version = params.get("model_version")
    mapping = params.get("mapping")
    fmt = params.get("input_format")
    return DailyPlan(
        ds=ds,
        data_root=data_root,
        raw_input=inside_root(data_root, raw.replace("{ds}", ds.isoformat()), "raw_input"),
        catalog=catalog_source(params, data_root, ds),
        model_name=check_model_name(params.get("model_name") or DEFAULT_MODEL_NAME),
        model_alias=check_alias(params.get("model_alias") or DEFAULT_ALIAS),
        model_version=None if version in (None, "") else check_int(version, "model_version", minimum=1, maximum=10**9),
        input_format=None if fmt in (None, "") else check_choice(fmt, "input_format", INPUT_FORMATS),
        mapping=None if mapping in (None, "") else inside_root(data_root, mapping, "mapping"),
        incremental=check_bool(params.get("incremental", False), "incremental"),
        lookback_days=knob_value(params, LOOKBACK_DAYS),
    )

