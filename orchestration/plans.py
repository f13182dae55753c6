"""What each DAG run does, as data: validated parameters → dates, paths and the exact argument lists of every job.

Pure functions, no Airflow: the DAG tasks call them with the run's params and dates, the tests call them
directly and feed the argument lists to each job's own ``parse_args``. Every list is what a data engineer
would type after ``spark-submit spark_jobs/<job>.py`` (or ``jobtrail``); paths are absolute, inside the data
root, and ``--data-root`` is always explicit so a job never depends on the environment of a remote driver.

Daily run for day ``ds`` (the events of that UTC day): ingest ``ds`` → job side table of the ``ds`` snapshot
with the model's vocabulary → inference inputs and embeddings *as of* ``ds + 1`` (00:00 UTC, so every event
of ``ds`` counts) → monitoring → publish. ``ingest --now`` is the end of ``ds``, so a rerun writes
identical rows (ingest's ``ingested_at``).

Training run over ``start..end``: timelines → job side table (fresh vocabulary, snapshot ``end``) →
examples (validation targets from ``valid_from``) → train → promote when better than the champion.

History load over ``start..end`` (a platform's export, before any model exists): range ingest → timelines →
job side table of ``end`` (fresh vocabulary) → inference inputs and the per-user state as of ``end + 1``.

Every DAG names its job attributes the way ``job-table`` does (:class:`CatalogSource`): catalogue snapshots on
the contract, an export in its own layout read through a catalogue mapping, or none at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.knobs import (
    AGGREGATORS,
    BASELINES,
    BATCH_SIZE,
    EMBEDDING_DIM,
    EPOCHS,
    LEARNING_RATE,
    LOOKBACK_DAYS,
    OBJECTIVES,
    RANDOM_NEGATIVES,
    SEED,
    WINDOW,
    IntKnob,
    NumberKnob,
)
from jobtrail.tables import DEFAULT_MAX_QUARANTINE_SHARE, Tables
from jobtrail.rules import (
    check_alias,
    check_bool,
    check_choice,
    check_int,
    check_model_name,
    check_number,
    inside_root,
    optional_date,
    run_key,
    shown,
)

INPUT_FORMATS: tuple[str, ...] = ("parquet", "json", "csv")
DEFAULT_MODEL_NAME = "jobtrail_user_embeddings"
DEFAULT_ALIAS = "champion"
TRAINING_DAYS = 28
"""Default training range: the 28 days ending the day before the run."""
VALIDATION_DAYS = 3
"""Default validation split: targets in the last 3 days of the range."""
CATALOG_PARAMS: tuple[str, ...] = ("catalog", "catalog_mapping", "no_catalog")
"""Where job attributes come from, in every DAG's form (:func:`catalog_source`)."""
DAILY_PARAMS: tuple[str, ...] = ("ds", "incremental", "lookback_days", "model_name", "model_alias", "model_version",
                                 "raw_input", "input_format", "mapping", *CATALOG_PARAMS)
TRAINING_PARAMS: tuple[str, ...] = ("start", "end", "valid_from", *CATALOG_PARAMS, "window", "stride", "objective",
                                    "negatives_per_positive", "aggregator", "embedding_dim", "model_name", "epochs",
                                    "batch_size", "learning_rate", "seed", "baselines", "min_improvement",
                                    "refresh_daily")
HISTORY_PARAMS: tuple[str, ...] = ("start", "end", "inputs", "input_format", "mapping", "max_quarantine_share",
                                   *CATALOG_PARAMS, "window", "lookback_days")
MAX_HISTORY_DAYS = 3 * 366
"""The longest range one history load takes (three years; load longer exports in several runs)."""


def check_known(params: Mapping[str, Any], known: tuple[str, ...], dag: str) -> None:
    """Refuse conf keys the DAG does not define (a typo would otherwise silently fall back to a default)."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"{dag}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(known)}")


def _s(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _midnight_utc(day: date) -> str:
    """``ingest --now``: the start of ``day`` (the end of the ingested days), so a rerun writes identical rows."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")



def _knob(params: Mapping[str, Any], knob: IntKnob | NumberKnob) -> Any:
    """The form's value of ``knob`` (its default when absent), checked against the knob's bounds."""
    value = params.get(knob.name, knob.default)
    if isinstance(knob, IntKnob):
        return check_int(value, knob.name, minimum=knob.minimum, maximum=knob.maximum)
    try:
        return knob.check(value)
    except ConfigError:
        raise ConfigError(f"{knob.name}={shown(value)} must be a number {knob.range}") from None


@dataclass(frozen=True)
class CatalogSource:
    """Where the job side table takes job attributes from — ``job-table``'s flags.

    ``path`` alone: catalogue snapshots on the contract (``<path>/ds=D/*.parquet``); with ``mapping``: an export in
    its own layout read through a catalogue mapping (``spark_jobs/catalog_input.py``: catalogue rows, or the
    events' export with the attributes on each event); ``path`` None: no catalogue, id-only jobs from the events.
    """

    path: Path | None
    mapping: Path | None = None

    def args(self) -> list[str]:
        if self.path is None:
            return ["--no-catalog"]
        return ["--catalog", str(self.path), *(["--catalog-mapping", str(self.mapping)] if self.mapping else [])]

    def to_xcom(self) -> dict[str, str | None]:
        return {"catalog": None if self.path is None else str(self.path),
                "catalog_mapping": None if self.mapping is None else str(self.mapping)}

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> "CatalogSource":
        path, mapping = value.get("catalog"), value.get("catalog_mapping")
        return cls(Path(path) if path else None, Path(mapping) if mapping else None)


def catalog_source(params: Mapping[str, Any], data_root: Path, ds: date | None = None) -> CatalogSource:
    """The form's ``catalog`` / ``catalog_mapping`` / ``no_catalog`` checked (paths inside the data root; ``{ds}``
    in a path becomes the run's day)."""
    if check_bool(params.get("no_catalog", False), "no_catalog"):
        if params.get("catalog_mapping"):
            raise ConfigError("no_catalog takes every job from the events: leave catalog_mapping empty")
        return CatalogSource(None)

    def path(value: object, what: str) -> Path:
        text = value.replace("{ds}", ds.isoformat()) if isinstance(value, str) and ds else value
        return inside_root(data_root, text, what)

    mapping = params.get("catalog_mapping")
    return CatalogSource(path(params.get("catalog") or Tables.JOB_CATALOG, "catalog"),
                         None if mapping in (None, "") else path(mapping, "catalog_mapping"))


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
        now = _midnight_utc(self.as_of)
        args = ["--ds", _s(self.ds), "--input", str(self.raw_input), "--now", now, "--data-root", str(self.data_root)]
        if self.input_format:
            args += ["--format", self.input_format]
        if self.mapping:
            args += ["--mapping", str(self.mapping)]
        return args

    def job_table_args(self, model_dir: str | Path) -> list[str]:
        """The ``ds`` snapshot's side table with the model's vocabulary, so job ids match training."""
        return ["--ds", _s(self.ds), *self.catalog.args(),
                "--events", str(self.data_root / Tables.CLEAN_EVENTS),
                "--start", _s(self.as_of - timedelta(days=self.lookback_days)), "--end", _s(self.ds),
                "--vocab", str(Path(model_dir) / "assets" / "job_vocab.json"), "--out", str(self.job_table),
                "--data-root", str(self.data_root)]

    def inference_inputs_args(self, *, window: int, query_tokens: int | None = None) -> list[str]:
        args = ["--as-of", _s(self.as_of), "--job-table", str(self.job_table),
                "--lookback-days", str(self.lookback_days), "--window", str(window), "--data-root", str(self.data_root)]
        if query_tokens:
            args += ["--query-tokens", str(query_tokens)]
        return args

    def to_xcom(self) -> dict[str, Any]:
        return {"ds": _s(self.ds), "as_of": _s(self.as_of), "data_root": str(self.data_root),
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
        lookback_days=_knob(params, LOOKBACK_DAYS),
    )


@dataclass(frozen=True)
class TrainingPlan:
    """One training run: the date range, the examples folder, the model folders and every hyper-parameter."""

    start: date
    end: date
    valid_from: date
    data_root: Path
    catalog: CatalogSource
    run_dir_key: str
    aggregator: str = "transformer"
    window: int = WINDOW.default
    stride: int | None = None
    negatives_per_positive: int = RANDOM_NEGATIVES.default
    objective: str = "dense"
    epochs: int = EPOCHS.default
    embedding_dim: int = EMBEDDING_DIM.default
    batch_size: int = BATCH_SIZE.default
    learning_rate: float = LEARNING_RATE.default
    seed: int = SEED.default
    model_name: str = DEFAULT_MODEL_NAME
    baselines: tuple[str, ...] = field(default_factory=tuple)
    min_improvement: float = 0.0

    @property
    def examples_dir(self) -> Path:
        return self.data_root / Tables.TRAINING_EXAMPLES / self.run_dir_key

    def model_dir(self, aggregator: str | None = None) -> Path:
        return self.data_root / "models" / self.model_name / self.run_dir_key / (aggregator or self.aggregator)

    def timelines_args(self) -> list[str]:
        return ["--start", _s(self.start), "--end", _s(self.end), "--data-root", str(self.data_root)]

    def job_table_args(self) -> list[str]:
        """A fresh vocabulary from the ``end`` snapshot, next to the examples that reference it."""
        return ["--ds", _s(self.end), *self.catalog.args(),
                "--events", str(self.data_root / Tables.CLEAN_EVENTS), "--start", _s(self.start), "--end", _s(self.end),
                "--out", str(self.examples_dir / "job_side_table"),
                "--data-root", str(self.data_root)]

    def examples_args(self) -> list[str]:
        """Per-position sequences for the dense objective, one-target windows for the next-action baseline."""
        args = ["--start", _s(self.start), "--end", _s(self.end), "--valid-from", _s(self.valid_from),
                "--out", str(self.examples_dir), "--window", str(self.window), "--seed", str(self.seed),
                "--data-root", str(self.data_root)]
        if self.objective == "dense":
            args += ["--format", "sequences", "--negatives-per-position", str(self.negatives_per_positive)]
            return args + (["--chunk-stride", str(self.stride)] if self.stride is not None else [])
        return args + ["--format", "windows", "--stride", str(self.stride or 1),
                       "--negatives-per-positive", str(self.negatives_per_positive)]

    def train_args(self, aggregator: str | None = None, *, register: bool = True) -> list[str]:
        """``jobtrail`` arguments (after the program name) training ``aggregator`` (default: the candidate)."""
        args = ["train", "--model", aggregator or self.aggregator, "--examples", str(self.examples_dir),
                "--out", str(self.model_dir(aggregator)), "--epochs", str(self.epochs),
                "--batch-size", str(self.batch_size), "--embedding-dim", str(self.embedding_dim),
                "--learning-rate", repr(float(self.learning_rate)), "--seed", str(self.seed),
                "--objective", self.objective, "--data-root", str(self.data_root)]
        if register:
            args += ["--registered-name", self.model_name]
        return args

    def baseline_args(self) -> list[list[str]]:
        """One ``jobtrail train`` argument list per baseline (not registered: they are only compared)."""
        return [self.train_args(b, register=False) for b in self.baselines if b != self.aggregator]

    def promote_args(self, version: str, baseline_models: Sequence[Path] = ()) -> list[str]:
        """The gate's arguments; ``baseline_models``: the baselines' SavedModels the candidate must beat too."""
        args = ["promote", "--name", self.model_name, "--version", str(version), "--examples", str(self.examples_dir),
                "--alias", DEFAULT_ALIAS, "--min-improvement", repr(float(self.min_improvement)),
                "--data-root", str(self.data_root)]
        for path in baseline_models:
            args += ["--baseline-model", str(path)]
        return args

    def baseline_models(self) -> list[Path]:
        """The SavedModels of the baselines trained beside the candidate (not the candidate's own aggregator)."""
        return [self.model_dir(b) / "saved_model" for b in self.baselines if b != self.aggregator]

    def to_xcom(self) -> dict[str, Any]:
        return {"start": _s(self.start), "end": _s(self.end), "valid_from": _s(self.valid_from),
                "data_root": str(self.data_root), "examples_dir": str(self.examples_dir),
                "model_dir": str(self.model_dir()), "model_name": self.model_name, "aggregator": self.aggregator,
                "timelines_args": self.timelines_args(), "job_table_args": self.job_table_args(),
                "examples_args": self.examples_args(), "train_args": self.train_args(),
                "baseline_args": self.baseline_args(), "baseline_dirs": [str(self.model_dir(b)) for b in self.baselines
                                                                         if b != self.aggregator],
                "plan": {"aggregator": self.aggregator, "objective": self.objective, "window": self.window,
                         "stride": self.stride,
                         "negatives_per_positive": self.negatives_per_positive, "epochs": self.epochs,
                         "embedding_dim": self.embedding_dim, "batch_size": self.batch_size,
                         "learning_rate": self.learning_rate, "seed": self.seed,
                         "min_improvement": self.min_improvement, "baselines": list(self.baselines)}}


def training_plan(params: Mapping[str, Any], *, run_after: datetime, run_id: str, data_root: Path) -> TrainingPlan:
    """Validate the training DAG's params into a :class:`TrainingPlan`.

    Defaults: ``end`` = the day before ``run_after``; ``start`` = ``end`` − 27 days;
    ``valid_from`` = ``end`` − 2 days.
    """
    check_known(params, TRAINING_PARAMS, "jobtrail_training")
    end = optional_date(params.get("end"), "end") or (run_after.astimezone(timezone.utc).date() - timedelta(days=1))
    start = optional_date(params.get("start"), "start") or end - timedelta(days=TRAINING_DAYS - 1)
    valid_from = optional_date(params.get("valid_from"), "valid_from") or end - timedelta(days=VALIDATION_DAYS - 1)
    if not start < valid_from <= end:
        raise ConfigError(f"need start < valid_from <= end, got start={start} valid_from={valid_from} end={end}: "
                          "training targets come before valid_from, validation targets from it on")
    if (end - start).days > 366:
        raise ConfigError(f"start={start} .. end={end} spans more than a year; train on a shorter range")
    check_bool(params.get("refresh_daily", False), "refresh_daily")  # read by the last task: refuse it at once
    baselines = params.get("baselines") or []
    if not isinstance(baselines, (list, tuple)):
        raise ConfigError(f"baselines={shown(baselines)} must be a list drawn from {', '.join(BASELINES)}")
    return TrainingPlan(
        start=start, end=end, valid_from=valid_from, data_root=data_root,
        catalog=catalog_source(params, data_root, end),
        run_dir_key=run_key(run_id),
        aggregator=check_choice(params.get("aggregator", "transformer"), "aggregator", AGGREGATORS),
        window=_knob(params, WINDOW),
        stride=(None if params.get("stride") is None
                else check_int(params.get("stride"), "stride", minimum=1, maximum=256)),
        objective=check_choice(params.get("objective", "dense"), "objective", OBJECTIVES),
        negatives_per_positive=_knob(params, RANDOM_NEGATIVES),
        epochs=_knob(params, EPOCHS),
        embedding_dim=_knob(params, EMBEDDING_DIM),
        batch_size=_knob(params, BATCH_SIZE),
        learning_rate=_knob(params, LEARNING_RATE),
        seed=_knob(params, SEED),
        model_name=check_model_name(params.get("model_name") or DEFAULT_MODEL_NAME),
        baselines=tuple(check_choice(b, "baselines", BASELINES) for b in baselines),
        min_improvement=check_number(params.get("min_improvement", 0.0), "min_improvement", minimum=0.0, maximum=1.0),
    )


@dataclass(frozen=True)
class HistoryPlan:
    """One history load: a platform's export of ``start..end`` into the tables a first training and the daily runs
    read — range ingest, timelines, the ``end`` job side table, inference inputs (and user state) as of ``end + 1``."""

    start: date
    end: date
    data_root: Path
    inputs: tuple[Path, ...]
    catalog: CatalogSource
    input_format: str | None = None
    mapping: Path | None = None
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
    window: int = WINDOW.default
    lookback_days: int = LOOKBACK_DAYS.default

    @property
    def as_of(self) -> date:
        return self.end + timedelta(days=1)

    @property
    def job_table(self) -> Path:
        return self.data_root / Tables.JOB_SIDE_TABLE / f"ds={self.end}"

    def ingest_args(self) -> list[str]:
        """One range run; ``--now`` is the end of the range, so a rerun writes identical rows."""
        now = _midnight_utc(self.as_of)
        args = ["--start", _s(self.start), "--end", _s(self.end)]
        for path in self.inputs:
            args += ["--input", str(path)]
        args += ["--now", now, "--max-quarantine-share", repr(float(self.max_quarantine_share)),
                 "--data-root", str(self.data_root)]
        if self.input_format:
            args += ["--format", self.input_format]
        if self.mapping:
            args += ["--mapping", str(self.mapping)]
        return args

    def timelines_args(self) -> list[str]:
        return ["--start", _s(self.start), "--end", _s(self.end), "--data-root", str(self.data_root)]

    def job_table_args(self) -> list[str]:
        """A fresh vocabulary from the range's last day, every job of the range's events in it."""
        return ["--ds", _s(self.end), *self.catalog.args(), "--events", str(self.data_root / Tables.CLEAN_EVENTS),
                "--start", _s(self.start), "--end", _s(self.end), "--out", str(self.job_table),
                "--data-root", str(self.data_root)]

    def inference_inputs_args(self) -> list[str]:
        return ["--as-of", _s(self.as_of), "--job-table", str(self.job_table), "--lookback-days",
                str(self.lookback_days), "--window", str(self.window), "--data-root", str(self.data_root)]

    def to_xcom(self) -> dict[str, Any]:
        return {"start": _s(self.start), "end": _s(self.end), "as_of": _s(self.as_of),
                "data_root": str(self.data_root), "inputs": [str(p) for p in self.inputs], **self.catalog.to_xcom(),
                "job_table": str(self.job_table), "ingest_args": self.ingest_args(),
                "timelines_args": self.timelines_args(), "job_table_args": self.job_table_args(),
                "inference_inputs_args": self.inference_inputs_args()}


def history_plan(params: Mapping[str, Any], *, data_root: Path) -> HistoryPlan:
    """Validate the history-load DAG's params into a :class:`HistoryPlan`."""
    check_known(params, HISTORY_PARAMS, "jobtrail_history_load")
    start, end = optional_date(params.get("start"), "start"), optional_date(params.get("end"), "end")
    if start is None or end is None:
        raise ConfigError("give start and end: the first and last UTC day of the export to load")
    if end < start:
        raise ConfigError(f"end={end} is before start={start}")
    if (end - start).days >= MAX_HISTORY_DAYS:
        raise ConfigError(f"start={start} .. end={end} spans more than {MAX_HISTORY_DAYS} days; load it in "
                          "several runs of consecutive ranges")
    inputs = params.get("inputs") or [Tables.RAW_EVENTS]
    if not isinstance(inputs, (list, tuple)):
        raise ConfigError(f"inputs={shown(inputs)} must be a list of paths relative to the data root")
    mapping, fmt = params.get("mapping"), params.get("input_format")
    return HistoryPlan(
        start=start, end=end, data_root=data_root,
        inputs=tuple(inside_root(data_root, p, "inputs") for p in inputs),
        catalog=catalog_source(params, data_root, end),
        input_format=None if fmt in (None, "") else check_choice(fmt, "input_format", INPUT_FORMATS),
        mapping=None if mapping in (None, "") else inside_root(data_root, mapping, "mapping"),
        max_quarantine_share=check_number(params.get("max_quarantine_share", DEFAULT_MAX_QUARANTINE_SHARE),
                                          "max_quarantine_share", minimum=0.0, maximum=1.0),
        window=_knob(params, WINDOW),
        lookback_days=_knob(params, LOOKBACK_DAYS),
    )
