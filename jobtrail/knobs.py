"""Run knobs declared once: the trigger forms, the plans, every command line and the evaluation read them here.

A knob shared by several interfaces (the window W and the lookback of examples, inference inputs, the DAG forms
and the demo; the aggregator, objective and baseline names of training, the DAGs, the demo and the evaluation) is
one declaration below. Change a default, a bound or a name here, and ``tests/orchestration/test_knobs.py`` checks
that every interface follows: the Params' schemas, each CLI's parser, the plans and the evaluation's specs.
The training hyper-parameters (:data:`TRAINING`) are knobs too: ``jobtrail train``'s options and ``TrainArgs``'
defaults are generated from them, the training form and plan read the ones an operator sets, and the
evaluation's presets are checked against their bounds. Ground floor: no third-party import.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from jobtrail.argtypes import int_range, number
from jobtrail.errors import ConfigError


class _Option:
    """What both knob kinds give a command line: the option ``--name-with-dashes``, typed by the knob's
    ``argtype()`` (its bounds), with its ``help``."""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        """The knob's option: its type checks the bounds, its help says them."""
        parser.add_argument(self.flag, type=self.argtype(), default=self.default, help=self.help)


@dataclass(frozen=True)
class IntKnob(_Option):
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
        """``value`` if a whole number inside the bounds, else a ConfigError naming the knob."""
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise ConfigError(f"{self.title} must be a whole number between {self.minimum} and {self.maximum}, "
                              f"got {value!r}")
        return value

    def argtype(self) -> Callable[[str], int]:
        return int_range(self.minimum, self.maximum)


@dataclass(frozen=True)
class NumberKnob(_Option):
    """A real-valued knob; ``above``: strictly greater than ``minimum`` (a learning rate of 0 trains nothing)."""

    name: str
    title: str
    default: float
    minimum: float
    maximum: float
    meaning: str
    above: bool = False

    def __post_init__(self) -> None:
        if not self._inside(self.default):
            raise ValueError(f"{self.name}: default {self.default} outside {self.range}")

    def _inside(self, value: float) -> bool:
        low_ok = value > self.minimum if self.above else value >= self.minimum
        return low_ok and value <= self.maximum

    @property
    def range(self) -> str:
        return f"{'above ' if self.above else ''}{self.minimum:g}..{self.maximum:g}"

    @property
    def help(self) -> str:
        return f"{self.meaning} ({self.range}, default {self.default:g})"

    def check(self, value: float) -> float:
        """``value`` if a number inside the bounds, else a ConfigError naming the knob."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not self._inside(value):
            raise ConfigError(f"{self.title} must be a number {self.range}, got {value!r}")
        return float(value)

    def argtype(self) -> Callable[[str], float]:
        return number(self.minimum, self.maximum, above=self.above)


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

EPOCHS = IntKnob("epochs", "epochs", 5, 1, 1000, "at most this many passes; early stopping may end sooner")
BATCH_SIZE = IntKnob("batch_size", "batch size", 512, 8, 65536,
                     "sequences (dense) or windows (next-action) per training step, over all workers")
EMBEDDING_DIM = IntKnob("embedding_dim", "embedding size D", 64, 8, 512,
                        "width of the user and job embeddings (the feature table's)")
LEARNING_RATE = NumberKnob("learning_rate", "learning rate", 1e-3, 0, 1, "Adam's step size", above=True)
SEED = IntKnob("seed", "seed", 7, 0, 2**31 - 1,
               "seeds the initialisation, shuffling and sampled negatives: the same seed on the same examples "
               "trains the same model")
RANDOM_NEGATIVES = IntKnob("negatives_per_positive", "random negatives", 1, 0, 64,
                           "uniform random jobs per trained position (dense) or per positive (next-action), for "
                           "the auxiliary BCE")
"""Cut into the examples (``examples --negatives-per-position`` / ``--negatives-per-positive``)."""

TRAINING: tuple[IntKnob | NumberKnob, ...] = (
    EPOCHS, BATCH_SIZE, EMBEDDING_DIM, LEARNING_RATE, SEED,
    IntKnob("patience", "patience", 2, 0, 1000, "early stopping: epochs without a better validation score"),
    NumberKnob("retrieval_weight", "retrieval weight", 0.0, 0, 100, "next-action: > 0 adds the in-batch retrieval loss"),
    IntKnob("d_model", "model width", 64, 1, 4096, "transformers: model width"),
    IntKnob("heads", "attention heads", 2, 1, 64, "transformers: attention heads"),
    IntKnob("layers", "layers", 2, 1, 64, "transformers: blocks"),
    NumberKnob("dropout", "dropout", 0.1, 0, 0.99, "cnn and transformers: dropout rate"),
    IntKnob("filters", "filters", 128, 1, 4096, "cnn: filters per convolution"),
    IntKnob("kernel_size", "kernel size", 3, 1, 256, "cnn: convolution width"),
    NumberKnob("temperature", "temperature", 0.05, 0, 10, "dense: softmax temperature", above=True),
    IntKnob("sampled_negatives", "sampled negatives", 1024, 0, 2**20,
            "dense: uniform random jobs shared by a batch as extra softmax candidates (0: in-batch only)"),
    NumberKnob("next_weight", "next weight", 1.0, 0, 100, "dense: weight of next-target pairs"),
    NumberKnob("future_weight", "future weight", 1.0, 0, 100, "dense: weight of future-window pairs"),
    NumberKnob("bce_weight", "BCE weight", 0.1, 0, 100, "dense: auxiliary BCE on the random negatives"),
)
"""Every numeric hyper-parameter of ``jobtrail train``, in the order its ``--help`` lists them."""
TRAINING_BY_NAME = {knob.name: knob for knob in TRAINING}
