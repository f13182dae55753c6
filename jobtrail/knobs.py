"""Run knobs declared once: the trigger forms, the plans, every command line and the evaluation read them here.

A knob shared by several interfaces (the window W and the lookback of examples, inference inputs, the DAG forms
and the demo; the aggregator, objective and baseline names of training, the DAGs, the demo and the evaluation) is
one declaration below. Change a default, a bound or a name here, and ``tests/orchestration/test_knobs.py`` checks
that every interface follows: the Params' schemas, each CLI's parser, the plans and the evaluation's specs.
Ground floor: no third-party import.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobtrail.errors import ConfigError


@dataclass(frozen=True)
class IntKnob:
    """An integer knob: default, inclusive bounds, and what it means (help and form text)."""

    name: str
    title: str
    default: int
    minimum: int
    maximum: int
    meaning: str

    def __post_init__(self) -> None:
        if not self.minimum <= self.default <= self.maximum:
            raise ValueError(f"{self.name}: default {self.default} outside {self.minimum}..{self.maximum}")

    @property
    def help(self) -> str:
        """argparse help: the meaning, the range and the default."""
        return f"{self.meaning} ({self.minimum}..{self.maximum}, default {self.default})"

    def check(self, value: int) -> int:
        """``value`` if inside the bounds, else a ConfigError naming the knob."""
        if not self.minimum <= value <= self.maximum:
            raise ConfigError(f"{self.title} must be between {self.minimum} and {self.maximum}, got {value}")
        return value


WINDOW = IntKnob("window", "window size W", 32, 8, 256, "W: a context holds the latest W-1 events")
"""The window of training examples and inference contexts (the model takes its window from the examples)."""
LOOKBACK_DAYS = IntKnob("lookback_days", "lookback", 90, 1, 730, "days before the cutoff whose events count")
"""How far back inference inputs look; the per-user state keeps users active within the longest lookback."""

AGGREGATORS: tuple[str, ...] = ("mean", "decay", "cnn", "transformer", "multiseq")
"""Every sequence aggregator (``tf_models.aggregators.aggregator_classes`` builds each)."""
AGGREGATOR_LABELS = {"mean": "mean per action type", "decay": "decaying mean", "cnn": "1-D CNN",
                     "transformer": "unified-timeline transformer", "multiseq": "multi-sequence transformer"}
"""How forms and reports name each aggregator."""
BASELINES: tuple[str, ...] = ("mean", "decay")
"""The aggregators the training DAG can train beside the candidate, for comparison."""
OBJECTIVES: tuple[str, ...] = ("dense", "next-action")
"""Training objectives: per-position dense retrieval (default) or the seeds' one-target windows."""
