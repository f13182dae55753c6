"""Sequence aggregators: a user's events → one output per position (causal) and the user embedding.

Every aggregator is a ``tf.keras.layers.Layer`` (registered as ``jobtrail>ClassName``) with two calls::

    layer.sequence(inputs, training=None) -> float32 [B, L, layer.user_dim(D)]   # output at every position
    layer(inputs, training=None)          -> float32 [B, layer.user_dim(D)]      # the last real position's

The output at position t depends only on the events up to and including t (causal: the transformers use a
causal attention mask, the CNN causal convolutions, mean and decay running sums), so one forward pass
trains every position of a sequence, and the user embedding that inference writes — the last position's
output, :func:`tf_models.causal.last_position` of :meth:`sequence` — is computed by the very same function.

``inputs`` is a dict (B batch, L positions, D = job embedding size):

- ``embeddings`` float [B, L, D] — the job's embedding (a search event: its query's embedding);
- ``event_type`` int [B, L] — :data:`jobtrail.contracts.EVENT_TYPE_IDS`, 0 = padding;
- ``log_gap`` float [B, L] — log1p(seconds since the previous event);
- ``log_time_to_target`` float [B, L] — log1p(seconds from the event until the embedding is used: the start of
  its target window in training, the cutoff in inference); only position t's own value reaches output t;
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

from jobtrail.errors import ConfigError
from jobtrail.tables import EVENT_TYPE_IDS
from tf_models.causal import (Inputs, SequenceAggregator, check_dropout, check_positive_int, decayed_prefix_mean, get_event_type,
                              get_mask, prefix_max, prefix_mean, zero_padding)
from tf_models.config import ACTION_TYPES, AGGREGATOR_NAMES as AGGREGATORS, DECAY_GRID  # noqa: F401
from tf_models.transformers import NUM_EVENT_TYPES, MultiSequenceTransformer, TransformerAggregator


def check_action_types(action_types: Any) -> tuple[str, ...]:
    """``action_types`` as a non-empty tuple of distinct known event types, or ConfigError."""
    types = tuple(action_types) if isinstance(action_types, (list, tuple)) else ()
    if not types or len(set(types)) != len(types) or not set(types) <= set(EVENT_TYPE_IDS):
        raise ConfigError(f"action_types must be distinct event types ({', '.join(EVENT_TYPE_IDS)}), "
                          f"got {action_types!r}")
    return types


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class DecayAggregator(SequenceAggregator):
    """Geometrically decaying mean per action type → [B, L, k·D] (k = len(action_types)); no weights.

    At position t, within one type's events up to t (the newest has c = n), the weights are ∝ rate^(n − c_i),
    normalised to sum 1, so the newest event of each type weighs most; a type without events yet gives 0.
    ``rate`` in (0, 1] is fixed (grid-searched over DECAY_GRID); ``action_types`` come from the training data's
    label types (the positive types plus dismiss by default), so a views-only platform averages its views.
    """

    def __init__(self, rate: float = 0.8, action_types: tuple[str, ...] | list[str] = ACTION_TYPES,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 < rate <= 1.0:
            raise ConfigError(f"decay rate must be in (0, 1], got {rate!r}")
        self.rate = float(rate)
        self.action_types = check_action_types(action_types)

    def user_dim(self, job_dim: int) -> int:
        return len(self.action_types) * job_dim

    def sequence(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        embeddings = tf.cast(inputs["embeddings"], tf.float32)
        event_type = get_event_type(inputs)
        parts = [decayed_prefix_mean(embeddings, tf.equal(event_type, EVENT_TYPE_IDS[name]), self.rate)
                 for name in self.action_types]
        return zero_padding(tf.concat(parts, axis=-1), get_mask(inputs))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "action_types": list(self.action_types)}


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class MeanAggregator(DecayAggregator):
    """Mean job embedding per action type → [B, L, k·D]: :class:`DecayAggregator` with rate 1; no weights."""

    def __init__(self, action_types: tuple[str, ...] | list[str] = ACTION_TYPES, **kwargs: Any) -> None:
        kwargs.pop("rate", None)
        super().__init__(rate=1.0, action_types=action_types, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("rate")
        return config


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class CNNAggregator(SequenceAggregator):
    """Causal 1-D CNN over [embedding ‖ one-hot(event_type)] of the interleaved sequence → [B, L, output_dim].

    ``conv_layers`` ReLU Conv1D with causal (left) padding, so output t sees events t − k + 1 .. t of each
    layer; padding positions (all after the real events) are re-zeroed after every layer. Each position is
    pooled over the conv outputs up to it (running mean ‖ running max) → Dropout → Dense(output_dim).
    """

    def __init__(self, output_dim: int = 64, filters: int = 128, kernel_size: int = 3, conv_layers: int = 2,
                 dropout: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.conv_layers = check_positive_int("conv_layers", conv_layers)
        self.dropout = check_dropout(dropout)
        self.convs = [tf.keras.layers.Conv1D(filters, kernel_size, padding="causal", activation="relu",
                                             name=f"conv_{i}") for i in range(conv_layers)]
        self.drops = [tf.keras.layers.Dropout(dropout) for _ in range(conv_layers + 1)]
        self.head = tf.keras.layers.Dense(output_dim, name="head")

    def user_dim(self, job_dim: int) -> int:
        return self.output_dim

    def sequence(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        mask = get_mask(inputs)
        embeddings = zero_padding(inputs["embeddings"], mask)
        one_hot = tf.one_hot(get_event_type(inputs), NUM_EVENT_TYPES, dtype=embeddings.dtype)
        x = zero_padding(tf.concat([embeddings, one_hot], axis=-1), mask)
        for conv, drop in zip(self.convs, self.drops):
            x = zero_padding(drop(conv(x), training=training), mask)
        pooled = tf.concat([prefix_mean(x, mask), prefix_max(x, mask)], axis=-1)
        return zero_padding(self.head(self.drops[-1](pooled, training=training)), mask)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_dim": self.output_dim, "filters": self.filters,
                "kernel_size": self.kernel_size, "conv_layers": self.conv_layers, "dropout": self.dropout}


# --------------------------------------------------------------------------------------------- factory
def aggregator_classes() -> dict[str, type[tf.keras.layers.Layer]]:
    """Name → layer class for every name in :data:`AGGREGATORS`."""
    return {"mean": MeanAggregator, "decay": DecayAggregator, "cnn": CNNAggregator,
            "transformer": TransformerAggregator, "multiseq": MultiSequenceTransformer}


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
