"""Sequence aggregators: a user's context sequence → one user embedding, as tf.keras layers.

Every aggregator is a ``tf.keras.layers.Layer`` (registered as ``jobtrail>ClassName``) with the same call::

    layer(inputs, training=None) -> float32 [B, layer.user_dim(D)]

``inputs`` is a dict (B batch, L = window - 1, D = job embedding size):

- ``embeddings`` float [B, L, D] — the job's embedding (a search event: its query's embedding);
- ``event_type`` int [B, L] — :data:`jobtrail.contracts.EVENT_TYPE_IDS`, 0 = padding;
- ``log_gap`` / ``log_time_to_target`` float [B, L] — log1p(seconds since the previous event / until the
  prediction time);
- ``session_position`` int [B, L] — accepted for a uniform interface; no aggregator uses it yet;
- ``mask`` bool [B, L] — True on real events (oldest → newest first, padding after; a row may be empty).

Values at padding positions never matter: every layer selects with ``tf.where`` before any arithmetic, so
even NaN there neither reaches the output nor the gradients. The fixed formulas live here
(:class:`MeanAggregator`, :class:`DecayAggregator`) with :class:`CNNAggregator` and
:func:`build_aggregator`; the two transformers live in :mod:`tf_models.transformers`.

Run the tests: ``.venv/bin/python -m pytest tests/tf_models/test_aggregators.py -q``
"""

from __future__ import annotations

import inspect
from typing import Any

import tensorflow as tf

from jobtrail.contracts import EVENT_TYPE_IDS
from jobtrail.errors import ConfigError
from tf_models.config import DECAY_GRID  # noqa: F401  (the decay rates to grid-search, re-exported)

NUM_EVENT_TYPES = max(EVENT_TYPE_IDS.values()) + 1
"""Size of the event-type vocabulary, padding (0) included."""

ACTION_TYPES: tuple[str, ...] = ("apply", "save", "dismiss")
"""The action types the fixed formulas average, in output order."""

AGGREGATORS: tuple[str, ...] = ("mean", "decay", "cnn", "transformer", "multiseq")

Inputs = dict[str, tf.Tensor]


# ---------------------------------------------------------------------------------------------- helpers
def get_mask(inputs: Inputs) -> tf.Tensor:
    """The boolean [B, L] mask of real events."""
    return tf.cast(inputs["mask"], tf.bool)


def get_event_type(inputs: Inputs) -> tf.Tensor:
    """Event types as int32 [B, L], 0 (padding) wherever the mask is False."""
    event_type = tf.cast(inputs["event_type"], tf.int32)
    return tf.where(get_mask(inputs), event_type, tf.zeros_like(event_type))


def zero_padding(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """``x`` [B, L, ...] with every padded position replaced by exact zeros (NaN-safe)."""
    while len(mask.shape) < len(x.shape):
        mask = mask[..., tf.newaxis]
    return tf.where(mask, x, tf.zeros_like(x))


def weighted_mean(x: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
    """Σ w·x / Σ w over axis 1: x [B, L, F], weights [B, L] ≥ 0 (0 excludes) → [B, F]; all-zero weights → 0."""
    weights = tf.cast(weights, x.dtype)
    x = zero_padding(x, weights > 0)
    total = tf.einsum("bl,blf->bf", weights, x)
    norm = tf.reduce_sum(weights, axis=1, keepdims=True)
    return tf.math.divide_no_nan(total, norm)


def masked_mean(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Mean of x [B, L, F] over the positions where mask [B, L] is True → [B, F]; no position → 0."""
    return weighted_mean(x, tf.cast(mask, x.dtype))


def masked_max(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Max of x [B, L, F] over the positions where mask [B, L] is True → [B, F]; no position → 0."""
    lowest = tf.fill(tf.shape(x), tf.constant(x.dtype.min, x.dtype))
    best = tf.reduce_max(tf.where(mask[..., tf.newaxis], x, lowest), axis=1)
    return tf.where(tf.reduce_any(mask, axis=1, keepdims=True), best, tf.zeros_like(best))


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int ≥ 1, or ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_dropout(value: Any) -> float:
    """``value`` as a float in [0, 1), or ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ConfigError(f"dropout must be a number in [0, 1), got {value!r}")
    return float(value)


def per_type_decayed_means(inputs: Inputs, rate: float) -> tf.Tensor:
    """For each of :data:`ACTION_TYPES`: Σ rate^(n-1-i)·e_i / Σ rate^(n-1-i) over that type's n events
    (i = 0 oldest); concatenated → [B, 3·D]. rate = 1 is the plain mean; a type with no events gives 0."""
    embeddings = tf.cast(inputs["embeddings"], tf.float32)
    event_type = get_event_type(inputs)
    parts = []
    for name in ACTION_TYPES:
        selected = tf.cast(tf.equal(event_type, EVENT_TYPE_IDS[name]), tf.float32)
        newer = tf.cumsum(selected, axis=1, exclusive=True, reverse=True)  # same-type events after i
        parts.append(weighted_mean(embeddings, selected * tf.pow(tf.constant(rate, tf.float32), newer)))
    return tf.concat(parts, axis=-1)


# ---------------------------------------------------------------------------------------------- layers
@tf.keras.utils.register_keras_serializable(package="jobtrail")
class MeanAggregator(tf.keras.layers.Layer):
    """Mean job embedding per action type (apply, save, dismiss) → [B, 3·D]; no weights."""

    def user_dim(self, job_dim: int) -> int:
        return len(ACTION_TYPES) * job_dim

    def call(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        return per_type_decayed_means(inputs, 1.0)


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class DecayAggregator(tf.keras.layers.Layer):
    """Geometrically decaying mean per action type (apply, save, dismiss) → [B, 3·D]; no weights.

    Within one type's n events (i = 0 oldest) the weights are ∝ rate^(n-1-i), normalised to sum 1, so the
    newest event of each type weighs most. ``rate`` in (0, 1] is fixed (grid-searched over DECAY_GRID).
    """

    def __init__(self, rate: float = 0.8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 < rate <= 1.0:
            raise ConfigError(f"DecayAggregator rate must be a number in (0, 1], got {rate!r}; "
                              f"try one of {DECAY_GRID}")
        self.rate = float(rate)

    def user_dim(self, job_dim: int) -> int:
        return len(ACTION_TYPES) * job_dim

    def call(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        return per_type_decayed_means(inputs, self.rate)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate}


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class CNNAggregator(tf.keras.layers.Layer):
    """1-D CNN over [embedding ‖ one-hot(event_type)] of the interleaved sequence → [B, output_dim].

    ``conv_layers`` ReLU Conv1D ("same" padding), padding positions re-zeroed before and after every conv
    (so the output depends neither on padding values nor on how much padding there is), then masked mean ‖
    masked max pooling → Dropout → Dense(output_dim).
    """

    def __init__(self, output_dim: int = 64, filters: int = 128, kernel_size: int = 3, conv_layers: int = 2,
                 dropout: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.conv_layers = check_positive_int("conv_layers", conv_layers)
        self.dropout = check_dropout(dropout)
        self.convs = [tf.keras.layers.Conv1D(filters, kernel_size, padding="same", activation="relu",
                                             name=f"conv_{i}") for i in range(conv_layers)]
        self.drops = [tf.keras.layers.Dropout(dropout) for _ in range(conv_layers + 1)]
        self.head = tf.keras.layers.Dense(output_dim, name="head")

    def user_dim(self, job_dim: int) -> int:
        return self.output_dim

    def call(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        mask = get_mask(inputs)
        embeddings = zero_padding(inputs["embeddings"], mask)
        one_hot = tf.one_hot(get_event_type(inputs), NUM_EVENT_TYPES, dtype=embeddings.dtype)
        x = zero_padding(tf.concat([embeddings, one_hot], axis=-1), mask)
        for conv, drop in zip(self.convs, self.drops):
            x = zero_padding(drop(conv(x), training=training), mask)
        pooled = tf.concat([masked_mean(x, mask), masked_max(x, mask)], axis=-1)
        return self.head(self.drops[-1](pooled, training=training))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_dim": self.output_dim, "filters": self.filters,
                "kernel_size": self.kernel_size, "conv_layers": self.conv_layers, "dropout": self.dropout}


# --------------------------------------------------------------------------------------------- factory
def aggregator_classes() -> dict[str, type[tf.keras.layers.Layer]]:
    """Name → layer class for every name in :data:`AGGREGATORS`."""
    return {"mean": MeanAggregator, "decay": DecayAggregator, "cnn": CNNAggregator,
            "transformer": _transformers.TransformerAggregator,
            "multiseq": _transformers.MultiSequenceTransformer}


def build_aggregator(name: str, /, **hparams: Any) -> tf.keras.layers.Layer:
    """The aggregator layer called ``name`` (one of :data:`AGGREGATORS`) built with ``hparams``.

    Raises ConfigError for an unknown name, a hyper-parameter the layer does not take, or a bad value.
    """
    classes = aggregator_classes()
    if name not in classes:
        raise ConfigError(f"unknown aggregator {name!r}; choose one of {', '.join(AGGREGATORS)}")
    cls = classes[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")] + ["name"]
    unknown = sorted(set(hparams) - set(accepted))
    if unknown:
        raise ConfigError(f"aggregator {name!r} takes no hyper-parameter {', '.join(unknown)}; "
                          f"it takes: {', '.join(accepted)}")
    return cls(**hparams)


# Imported last so that importing either module registers every aggregator; transformers imports the
# helpers above, which exist by now whichever of the two modules is imported first.
from tf_models import transformers as _transformers  # noqa: E402
