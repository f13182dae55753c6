"""What an evaluation run trains and measures: datasets, training settings, comparisons — two presets.

``SMALL`` is the default of ``jobtrail evaluate`` / ``make evaluate``; ``LARGE`` is the documented larger
configuration. Each dataset's ``TrainSpec`` was chosen on seed 1 of the small preset (2026-12-06): synthetic
data train the dense objective with mixed negatives for up to 15 epochs (validation Recall@10 still rising at 10;
the full softmax gave 0.128 against 0.142 test Recall@10); MovieLens-100K with the full softmax over its 1,682
movies (Recall@10 0.144 against 0.102 with sampled negatives and their logQ correction: popularity, which the
correction takes out, is most of what predicts a movie there; temperature 0.1 with learning rate 3e-3: 0.117;
D = 64: 0.116). Its 78 validation users make early stopping noisy. Both are frozen
dataclasses; the CLI can narrow them (``--datasets``, ``--models``, ``--seeds``) but never changes what a
named preset means, so a figure in docs/evaluation.md always names the preset that produced it.

Every dataset is split by time only: training targets before ``valid_from``; validation targets (early
stopping, the decay grid) in ``valid_from`` .. ``cutoff``; test targets, retrieval ground truth, freshness,
downstream label rows and probes in ``cutoff`` .. ``cutoff + horizon_days``. No context reaches past its
target (the examples job guarantees it; the evaluation builds contexts with the same function).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from jobtrail.errors import ConfigError
from jobtrail.knobs import TRAINING_BY_NAME, WINDOW
from tf_models.config import AGGREGATOR_NAMES, DECAY_GRID

if TYPE_CHECKING:
    from tf_models.train import TrainArgs

WINDOWS = (8, 16, 32, 64, 128, 256)
"""The window lengths W the write-ups compare (contexts hold W − 1 events)."""

BASE_WINDOW = WINDOW.default
"""The window of the headline runs: the pipeline's default (jobtrail.knobs.WINDOW)."""


@dataclass(frozen=True)
class DatasetSpec:
    """One event dataset on the contracts, and its time split.

    ``kind``: ``synthetic`` (generated with ``users`` × ``days``, with ground truth), ``movielens``
    (MovieLens-100K; ratings ≥ 4 are ``apply``, ≤ 2 ``dismiss``) or ``lake`` (a data root's ``clean_events`` at
    Delta version ``source_version`` and the job side table ``job_table``, or id-only jobs when None:
    :mod:`evaluation.own_data`). ``stride`` thins the training windows
    (every S-th target per user, counted back from the latest) to bound the cost of the small preset.
    ``downstream``: the label of the downstream ranker's rows — ``click`` (an impression followed by a
    click/view/save/apply of the same job within an hour) or ``liked`` (a rated movie rated ≥ 4).
    """

    name: str
    kind: str
    start: date
    end: date
    valid_from: date
    cutoff: date
    horizon_days: int = 14
    users: int = 0
    seed: int = 7
    stride: int = 1
    downstream: str = "click"
    data_root: str | None = None
    job_table: str | None = None
    source_version: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("synthetic", "movielens", "lake"):
            raise ConfigError(f"dataset kind must be synthetic, movielens or lake, got {self.kind!r}")
        if (self.kind == "lake") != (self.data_root is not None):
            raise ConfigError(f"{self.name}: a lake dataset and only it names its data root")
        if not self.start < self.valid_from < self.cutoff <= self.end:
            raise ConfigError(f"{self.name}: need start < valid_from < cutoff <= end, got {self}")
        if self.cutoff + timedelta(days=self.horizon_days - 1) > self.end:
            raise ConfigError(f"{self.name}: the {self.horizon_days}-day horizon after {self.cutoff} passes {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def horizon_end(self) -> date:
        """The first day after the test horizon."""
        return self.cutoff + timedelta(days=self.horizon_days)

    def key(self) -> str:
        """A short stable hash of the spec: prepared data is cached under it."""
        fields = {k: v for k, v in asdict(self).items() if v is not None}  # unset lake fields: the same keys as before
        return hashlib.sha1(json.dumps(fields, default=str, sort_keys=True).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class TrainSpec:
    """A preset's hyper-parameters of ``jobtrail train`` for every run (the seed varies); each value is checked
    against its knob's bounds (:data:`jobtrail.knobs.TRAINING`), as the command line checks it."""

    epochs: int = 3
    batch_size: int = 256
    embedding_dim: int = 32
    d_model: int = 32
    heads: int = 2
    layers: int = 1
    filters: int = 64
    learning_rate: float = 2e-3
    patience: int = 1
    dropout: float = 0.1
    temperature: float = 0.05
    sampled_negatives: int = 1024
    full_softmax: bool = False
    future_weight: float = 1.0
    lr_schedule: str = "constant"

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if name in TRAINING_BY_NAME:
                TRAINING_BY_NAME[name].check(value)

    def train_args(self, **run: Any) -> TrainArgs:
        """``jobtrail train``'s arguments: these hyper-parameters, then ``run`` (model, paths, seed, the variant's
        overrides) on top — built directly, no command line in between."""
        from tf_models.train import TrainArgs

        return TrainArgs(**{**asdict(self), **run})

    @property
    def key(self) -> str:
        """A short stable hash of the settings: a cached run is reused only under the same ones."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


OBJECTIVES = ("dense", "next", "next-action")
"""What a variant trains on: ``dense`` every position retrieves its next positive and its future window's
(``jobtrail train --objective dense``), ``next`` every position its next positive only (``--future-weight 0``),
``next-action`` one target per window with BCE against a dismiss or a random negative (the seeds' objective)."""

NEGATIVES = ("mixed", "in-batch")
"""The dense softmax's candidates: the batch's targets plus uniform draws (``mixed``), or the batch's alone."""


@dataclass(frozen=True)
class Variant:
    """One trained configuration: aggregator, window W, objective, softmax negatives, job-id embedding."""

    model: str
    window: int = BASE_WINDOW
    objective: str = "dense"
    negatives: str = "mixed"
    job_ids: bool = True

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES or self.negatives not in NEGATIVES:
            raise ConfigError(f"objective must be one of {OBJECTIVES} and negatives one of {NEGATIVES}, got {self}")
        if self.objective == "next-action" and self.negatives != "mixed":
            raise ConfigError("in-batch negatives apply to the softmax objectives (dense, next) only")

    @property
    def examples_key(self) -> str:
        """The training data this variant reads: per-position sequences ``seq-w32``, one-target windows ``w32``."""
        return f"w{self.window}" if self.objective == "next-action" else f"seq-w{self.window}"

    @property
    def is_base(self) -> bool:
        """The default configuration of its aggregator (the full set of measurements is taken on these)."""
        return (self.window == BASE_WINDOW and self.objective == "dense" and self.negatives == "mixed"
                and self.job_ids)

    @property
    def name(self) -> str:
        parts = [self.model, f"w{self.window}"]
        if self.objective != "dense":
            parts.append(self.objective)
        if self.negatives != "mixed":
            parts.append(self.negatives)
        if not self.job_ids:
            parts.append("no-ids")
        return "-".join(parts)


@dataclass(frozen=True)
class AmazonSpec:
    """Amazon Games under the SASRec protocol: the models trained, their window and training thinning."""

    models: tuple[str, ...] = ("transformer",)
    window: int = 50
    stride: int | None = None
    negatives: int = 100
    token_buckets: int = 2**14
    objective: str = "dense"
    future_targets: int = 4
    horizon_days: int = 4

    @property
    def key(self) -> str:
        """The prepared folder's name: everything that changes the training data."""
        return (f"{self.objective}-w{self.window}-s{self.stride}-b{self.token_buckets}"
                f"-k{self.future_targets}-h{self.horizon_days}")


@dataclass(frozen=True)
class EvalConfig:
    """A preset: datasets, seeds, training settings and the comparisons to run."""

    name: str
    datasets: tuple[DatasetSpec, ...]
    train: dict[str, TrainSpec]
    seeds: tuple[int, ...] = (1, 2, 3)
    models: tuple[str, ...] = AGGREGATOR_NAMES
    decay_grid: tuple[float, ...] = (0.5, 0.8, 0.95)
    window_model: str = "cnn"
    windows: tuple[int, ...] = WINDOWS
    ablation_model: str = "transformer"
    amazon: AmazonSpec | None = field(default_factory=AmazonSpec)
    amazon_train: TrainSpec = field(default_factory=lambda: TrainSpec(epochs=2, batch_size=512))
    ablations: bool = True
    """The window lengths of ``window_model`` and the objective, negatives and job-id comparisons of
    ``ablation_model`` (off: the aggregators only)."""

    def __post_init__(self) -> None:
        unknown = set(self.models) - set(AGGREGATOR_NAMES)
        if unknown or not self.models:
            raise ConfigError(f"unknown or no models {sorted(unknown)}; choose among {', '.join(AGGREGATOR_NAMES)}")
        if not self.seeds:
            raise ConfigError("at least one seed is needed")

    def groups(self) -> dict[str, list[Variant]]:
        """Comparison name → the variants it compares (variants shared between groups are trained once)."""
        groups = {"aggregators": [Variant(m) for m in self.models]}
        if self.ablations and self.window_model in self.models:
            groups["window"] = [Variant(self.window_model, w) for w in self.windows]
        if self.ablations and self.ablation_model in self.models:
            m = self.ablation_model
            groups["objective"] = [Variant(m, objective=o) for o in ("next-action", "next", "dense")]
            groups["negatives"] = [Variant(m, negatives="in-batch"), Variant(m)]
            groups["job_ids"] = [Variant(m, job_ids=False), Variant(m)]
        return groups

    def variants(self) -> list[Variant]:
        """Every distinct variant to train, in a stable order."""
        seen: dict[Variant, None] = {}
        for variants in self.groups().values():
            seen.update(dict.fromkeys(variants))
        return list(seen)

    def examples_keys(self) -> list[str]:
        """The training data to prepare; ``w32`` (one-target windows) always: the proxy AUC's test rows."""
        return sorted({v.examples_key for v in self.variants()} | {f"w{BASE_WINDOW}"})

    def narrowed(self, *, datasets: list[str] | None = None, models: list[str] | None = None,
                 seeds: int | None = None, amazon: bool = True) -> "EvalConfig":
        """This preset restricted to some datasets / models / the first ``seeds`` seeds."""
        cfg = self
        if datasets is not None:
            known = {d.name for d in self.datasets}
            if set(datasets) - known - {"amazon"}:
                raise ConfigError(f"unknown datasets {sorted(set(datasets) - known - {'amazon'})}; "
                                  f"choose among {', '.join(sorted(known | {'amazon'}))}")
            cfg = replace(cfg, datasets=tuple(d for d in self.datasets if d.name in datasets))
            amazon = amazon and "amazon" in datasets
        if models is not None:
            cfg = replace(cfg, models=tuple(models))
        if seeds is not None:
            if seeds < 1:
                raise ConfigError("--seeds must be at least 1")
            cfg = replace(cfg, seeds=tuple(range(1, seeds + 1)))
        return cfg if amazon else replace(cfg, amazon=None)


def _synthetic(users: int, stride: int = 1) -> DatasetSpec:
    start = date(2026, 10, 1)
    return DatasetSpec(name="synthetic", kind="synthetic", users=users, start=start,
                       end=start + timedelta(days=44), valid_from=start + timedelta(days=24),
                       cutoff=start + timedelta(days=31), horizon_days=14, stride=stride, downstream="click")


def _movielens(stride: int) -> DatasetSpec:
    # MovieLens-100K spans 1997-09-20 .. 1998-04-22; the last four weeks are the test horizon.
    return DatasetSpec(name="movielens", kind="movielens", start=date(1997, 9, 20), end=date(1998, 4, 22),
                       valid_from=date(1998, 3, 1), cutoff=date(1998, 3, 26), horizon_days=28,
                       stride=stride, downstream="liked")


SMALL = EvalConfig(
    name="small",
    datasets=(_synthetic(2_000), _movielens(stride=16)),
    train={"synthetic": TrainSpec(epochs=15, batch_size=64, patience=4),
           "movielens": TrainSpec(epochs=12, batch_size=64, patience=4, full_softmax=True)},
    windows=(8, BASE_WINDOW, 256),
    amazon=AmazonSpec(),
    amazon_train=TrainSpec(epochs=2, batch_size=128, embedding_dim=64, d_model=64, heads=1, layers=2,
                           learning_rate=1e-3, patience=2, dropout=0.3),
)

MEDIUM = replace(SMALL, name="medium", datasets=(_synthetic(3_000), _movielens(stride=12)), windows=WINDOWS)
"""The small preset on 1.5× the synthetic users, denser MovieLens windows (the proxy's) and every window length
(see :data:`evaluation.cli.MEASURED`)."""

SASREC_TRAIN = TrainSpec(epochs=14, batch_size=128, embedding_dim=64, d_model=64, heads=1, layers=2,
                         learning_rate=1e-3, patience=3, dropout=0.3, temperature=0.1, sampled_negatives=4096)
"""SASRec's shape (2 blocks, one head, batch 128, learning rate 1e-3, maxlen 50) at D = 64, trained with the dense
objective (sampled softmax over mixed negatives: the batch's targets and 4,096 uniform draws, temperature 0.1) for
up to 14 epochs, early stopping on the validation Recall@10. Measured on seed 1 at 6 epochs (HR@10 / NDCG@10,
2026-12-06): temperature 0.05 0.721 / 0.514, 0.1 0.732 / 0.528, 0.2 0.727 / 0.518; with 4,096 uniform draws
(0.1) 0.735 / 0.533; 10 epochs (0.1, 1,024 draws) 0.739 / 0.541. Tried and not kept: dropout 0.5 (0.694 / 0.481),
auxiliary BCE weight 1.0 (0.712 / 0.505), future weight 0.25 (0.723 / 0.518; with a cosine learning-rate decay
and temperature 0.1, 0.729), batch 256 with learning rate 2e-3 (epochs 1.5× faster, half the gain per epoch),
``--length-buckets`` (epochs 1.3× faster, less gain per epoch) and 2^17 title-token buckets instead of 2^14 (fewer
items sharing a hashed title token: 0.736 / 0.534 against 0.735 / 0.533, no change)."""

SASREC = EvalConfig(name="sasrec", datasets=(), train={}, amazon=AmazonSpec(), amazon_train=SASREC_TRAIN)
"""Amazon Games alone, trained to convergence: the dedicated preset for the SASRec comparison (3 seeds)."""

_WIDE = TrainSpec(epochs=4, batch_size=512, embedding_dim=64, d_model=64, layers=2, filters=128, learning_rate=1e-3,
                  patience=1)

LARGE = EvalConfig(
    name="large",
    datasets=(_synthetic(10_000), _movielens(stride=4)),
    train={"synthetic": _WIDE, "movielens": _WIDE},
    decay_grid=DECAY_GRID,
    amazon=AmazonSpec(models=("transformer",)),
    amazon_train=SASREC_TRAIN,
)

PRESETS = {"small": SMALL, "medium": MEDIUM, "large": LARGE, "sasrec": SASREC}
