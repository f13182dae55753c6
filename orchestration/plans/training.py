"""The training run's plan over ``start..end``: timelines → job side table (fresh vocabulary, snapshot ``end``) →
examples (validation targets from ``valid_from``) → train → promote when better than the champion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
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
    OBJECTIVES,
    RANDOM_NEGATIVES,
    SEED,
    WINDOW,
)
from jobtrail.rules import (
    check_bool,
    check_choice,
    check_int,
    check_model_name,
    check_number,
    optional_date,
    run_key,
    shown,
)
from jobtrail.tables import Tables
from orchestration.plans.catalog import CatalogSource, catalog_source
from orchestration.plans.form import CATALOG_PARAMS, DEFAULT_ALIAS, DEFAULT_MODEL_NAME, arg, check_known, knob_value

TRAINING_DAYS = 28
"""Default training range: the 28 days ending the day before the run."""
VALIDATION_DAYS = 3
"""Default validation split: targets in the last 3 days of the range."""
TRAINING_PARAMS: tuple[str, ...] = ("start", "end", "valid_from", *CATALOG_PARAMS, "window", "stride", "objective",
                                    "negatives_per_positive", "aggregator", "embedding_dim", "model_name", "epochs",
                                    "batch_size", "learning_rate", "seed", "baselines", "min_improvement",
                                    "refresh_daily")


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
        return ["--start", arg(self.start), "--end", arg(self.end), "--data-root", str(self.data_root)]

    def job_table_args(self) -> list[str]:
        """A fresh vocabulary from the ``end`` snapshot, next to the examples that reference it."""
        return ["--ds", arg(self.end), *self.catalog.args(),
                "--events", str(self.data_root / Tables.CLEAN_EVENTS), "--start", arg(self.start), "--end", arg(self.end),
                "--out", str(self.examples_dir / "job_side_table"),
                "--data-root", str(self.data_root)]

    def examples_args(self) -> list[str]:
        """Per-position sequences for the dense objective, one-target windows for the next-action baseline."""
        args = ["--start", arg(self.start), "--end", arg(self.end), "--valid-from", arg(self.valid_from),
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
        return {"start": arg(self.start), "end": arg(self.end), "valid_from": arg(self.valid_from),
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
        window=knob_value(params, WINDOW),
        stride=(None if params.get("stride") is None
                else check_int(params.get("stride"), "stride", minimum=1, maximum=256)),
        objective=check_choice(params.get("objective", "dense"), "objective", OBJECTIVES),
        negatives_per_positive=knob_value(params, RANDOM_NEGATIVES),
        epochs=knob_value(params, EPOCHS),
        embedding_dim=knob_value(params, EMBEDDING_DIM),
        batch_size=knob_value(params, BATCH_SIZE),
        learning_rate=knob_value(params, LEARNING_RATE),
        seed=knob_value(params, SEED),
        model_name=check_model_name(params.get("model_name") or DEFAULT_MODEL_NAME),
        baselines=tuple(check_choice(b, "baselines", BASELINES) for b in baselines),
        min_improvement=check_number(params.get("min_improvement", 0.0), "min_improvement", minimum=0.0, maximum=1.0),
    )

