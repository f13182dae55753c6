"""Model configuration: which aggregator, how wide, which objectives — a frozen dataclass, stored with the model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.knobs import AGGREGATORS as AGGREGATOR_NAMES  # noqa: F401  (declared once, with the DAGs' list)
from jobtrail.knobs import OBJECTIVES  # noqa: F401  (dense: tf_models.sequence_model; next-action: tf_models.model)

FIXED_FORMULA = ("mean", "decay")
ACTION_TYPES: tuple[str, ...] = ("apply", "save", "dismiss")
"""The action types mean and decay average by default (the training data's label types), in output order."""
DECAY_GRID: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
"""Decay rates to grid-search for ``tf_models.aggregators.DecayAggregator`` (here: no TensorFlow import)."""


@dataclass(frozen=True)
class ModelConfig:
    """What to build. ``aggregator_params`` go to the aggregator layer (e.g. ``{"rate": 0.8}`` for decay).

    ``objective`` picks the training task (:data:`OBJECTIVES`). ``dense``: sampled softmax over mixed negatives
    (``sampled_negatives`` uniform draws plus the batch's targets — 0: in-batch only; ``full_softmax``: the whole
    catalogue) with
    ``temperature``, pairs weighted ``next_weight`` / ``future_weight``, plus ``bce_weight`` × the weighted BCE
    on dismisses and random negatives. ``next-action``: weighted BCE, and ``retrieval_weight`` > 0 adds the
    in-batch retrieval loss. ``job_ids``: a learned job-id embedding next to the content encoder.
    ``action_types``: what mean and decay average (the data's label types). ``job_dim`` is D, the job
    embedding width (learned aggregators output D too).
    """

    aggregator: str = "transformer"
    job_dim: int = 64
    aggregator_params: dict[str, Any] = field(default_factory=dict)
    retrieval_weight: float = 0.0
    categorical_dim: int = 16
    token_dim: int = 32
    cross_layers: int = 2
    job_hidden: tuple[int, ...] = (128,)
    objective: str = "dense"
    temperature: float = 0.05
    sampled_negatives: int = 1024
    full_softmax: bool = False
    next_weight: float = 1.0
    future_weight: float = 1.0
    bce_weight: float = 0.1
    job_ids: bool = True
    action_types: tuple[str, ...] = ACTION_TYPES

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if not self.temperature > 0 or self.sampled_negatives < 0:
            raise ConfigError("temperature must be > 0 and sampled_negatives >= 0")
        if min(self.next_weight, self.future_weight, self.bce_weight) < 0 or not self.next_weight + self.future_weight > 0:
            raise ConfigError("loss weights must be >= 0, and next_weight + future_weight > 0")
        if self.aggregator not in AGGREGATOR_NAMES:
            raise ConfigError(f"unknown aggregator {self.aggregator!r}; choose one of {', '.join(AGGREGATOR_NAMES)}")
        if self.job_dim < 2:
            raise ConfigError(f"job_dim must be at least 2, got {self.job_dim}")
        if self.retrieval_weight < 0:
            raise ConfigError(f"retrieval_weight must be >= 0, got {self.retrieval_weight}")

    def aggregator_kwargs(self) -> dict[str, Any]:
        """The aggregator's constructor arguments: learned ones output ``job_dim`` unless told otherwise."""
        if self.aggregator in FIXED_FORMULA:
            return {"action_types": self.action_types, **self.aggregator_params}
        return {"output_dim": self.job_dim, **self.aggregator_params}

    def without_retrieval(self) -> "ModelConfig":
        """This configuration without the next-action model's in-batch retrieval head."""
        return replace(self, retrieval_weight=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "job_hidden": list(self.job_hidden), "action_types": list(self.action_types)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        return cls(**{**d, "job_hidden": tuple(d.get("job_hidden", (128,))),
                      "action_types": tuple(d.get("action_types", ACTION_TYPES))})
