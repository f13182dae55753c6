"""Model configuration: which aggregator, how wide, which objectives — a frozen dataclass, stored with the model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from jobtrail.errors import ConfigError

AGGREGATOR_NAMES = ("mean", "decay", "cnn", "transformer", "multiseq")
FIXED_FORMULA = ("mean", "decay")
DECAY_GRID: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
"""Decay rates to grid-search for ``tf_models.aggregators.DecayAggregator`` (here: no TensorFlow import)."""


@dataclass(frozen=True)
class ModelConfig:
    """What to build. ``aggregator_params`` go to the aggregator layer (e.g. ``{"rate": 0.8}`` for decay).

    ``retrieval_weight`` > 0 adds the in-batch retrieval objective (with logQ popularity correction) to the
    next-action ranking loss; ``job_dim`` is D, the job embedding width (learned aggregators output D too).
    """

    aggregator: str = "transformer"
    job_dim: int = 64
    aggregator_params: dict[str, Any] = field(default_factory=dict)
    retrieval_weight: float = 0.0
    categorical_dim: int = 16
    token_dim: int = 32
    cross_layers: int = 2
    job_hidden: tuple[int, ...] = (128,)

    def __post_init__(self) -> None:
        if self.aggregator not in AGGREGATOR_NAMES:
            raise ConfigError(f"unknown aggregator {self.aggregator!r}; choose one of {', '.join(AGGREGATOR_NAMES)}")
        if self.job_dim < 2:
            raise ConfigError(f"job_dim must be at least 2, got {self.job_dim}")
        if self.retrieval_weight < 0:
            raise ConfigError(f"retrieval_weight must be >= 0, got {self.retrieval_weight}")

    def aggregator_kwargs(self) -> dict[str, Any]:
        """The aggregator's constructor arguments: learned ones output ``job_dim`` unless told otherwise."""
        if self.aggregator in FIXED_FORMULA:
            return dict(self.aggregator_params)
        return {"output_dim": self.job_dim, **self.aggregator_params}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "job_hidden": list(self.job_hidden)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        return cls(**{**d, "job_hidden": tuple(d.get("job_hidden", (128,)))})
