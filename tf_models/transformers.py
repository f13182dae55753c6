"""Transformer aggregators: the unified-timeline transformer and the multi-sequence one (for ablation).

Same contract as every aggregator (see :mod:`tf_models.aggregators`): ``sequence(inputs)`` → float32
[B, L, output_dim], causal; ``layer(inputs)`` → the last real position's [B, output_dim].

Both are built from :class:`TimelineEncoder`. Its input at each selected position is
``Dense(d_model)(embedding) + Embedding(event_type) + Embedding(position) + Dense(d_model)(time)`` where
position counts the selected events from the start of the sequence (oldest = 0, clipped at ``max_len - 1``;
SASRec's learned absolute positions — causal, unlike a count back from the newest event) and the time
embedding is a Dense layer on ``log_gap / TIME_SCALE`` (continuous rather than bucketised: log1p-seconds are
smooth and already compress the range; the scale keeps them O(1)). Blocks are pre-LN (LayerNorm →
MultiHeadAttention → residual, LayerNorm → ReLU FFN → residual) with a final LayerNorm; position t attends
to the selected positions ≤ t only (a causal mask, as in SASRec). Padded positions are zeroed before and
after every block, so padding values and the amount of padding never change the output, and an empty row
is finite. ``log_time_to_target`` (how long until the embedding is used) enters the head of position t only.

Run the tests: ``.venv/bin/python -m pytest tests/tf_models/test_aggregators.py -q``
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_recommenders as tfrs

from jobtrail.errors import ConfigError
from jobtrail.tables import EVENT_TYPE_IDS
from tf_models.causal import (Inputs, SequenceAggregator, causal_attention_mask, check_dropout, check_positive_int,
                              get_event_type, get_mask, prefix_mean, zero_padding)

NUM_EVENT_TYPES = max(EVENT_TYPE_IDS.values()) + 1
"""Size of the event-type vocabulary, padding (0) included."""

TIME_SCALE = 10.0
"""log1p(seconds) features are divided by this before the time embedding's Dense layer."""

STREAMS: dict[str, tuple[int, ...]] = {
    "search": (EVENT_TYPE_IDS["search"],),
    "browse": (EVENT_TYPE_IDS["impression"], EVENT_TYPE_IDS["view"], EVENT_TYPE_IDS["click"]),
    "engage": (EVENT_TYPE_IDS["save"], EVENT_TYPE_IDS["apply"]),
    "negative": (EVENT_TYPE_IDS["dismiss"], EVENT_TYPE_IDS["random_negative"]),
}
"""The action streams of :class:`MultiSequenceTransformer`, in output order."""


def positions(mask: tf.Tensor) -> tf.Tensor:
    """int32 [B, L]: how many selected events come before each position (oldest selected = 0; others 0)."""
    before = tf.cumsum(tf.cast(mask, tf.int32), axis=1, exclusive=True)
    return tf.where(mask, before, tf.zeros_like(before))


def skip_pool(block_inputs: tf.Tensor, block_outputs: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """At each t: running mean of the encoder outputs plus running mean of its inputs (the skip connection)
    over the selected positions ≤ t → [B, L, d]."""
    return prefix_mean(block_outputs, mask) + prefix_mean(block_inputs, mask)


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class TransformerBlock(tf.keras.layers.Layer):
    """One pre-LN transformer block over x [B, L, d_model] with a boolean attention mask [B, L, L]."""

    def __init__(self, d_model: int = 64, heads: int = 2, ff_dim: int = 128, dropout: float = 0.1,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.d_model, self.heads, self.ff_dim, self.dropout = d_model, heads, ff_dim, dropout
        self.attention_norm = tf.keras.layers.LayerNormalization(epsilon=1e-6)
        self.attention = tf.keras.layers.MultiHeadAttention(heads, key_dim=d_model // heads, dropout=dropout)
        self.ffn_norm = tf.keras.layers.LayerNormalization(epsilon=1e-6)
        self.ffn_in = tf.keras.layers.Dense(ff_dim, activation="relu")
        self.ffn_out = tf.keras.layers.Dense(d_model)
        self.attention_drop = tf.keras.layers.Dropout(dropout)
        self.ffn_drop = tf.keras.layers.Dropout(dropout)

    def build(self, input_shape: tf.TensorShape) -> None:
        # Build the attention's variables here, not lazily at its first call: a MultiHeadAttention that is
        # unbuilt when a SavedModel is loaded gets fresh weights instead of the saved ones (tf-keras #514).
        self.attention._build_from_signature(query=input_shape, value=input_shape)
        super().build(input_shape)

    def call(self, x: tf.Tensor, attention_mask: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        h = self.attention_norm(x)
        h = self.attention(h, h, attention_mask=attention_mask, training=training)
        x = x + self.attention_drop(h, training=training)
        h = self.ffn_out(self.ffn_in(self.ffn_norm(x)))
        return x + self.ffn_drop(h, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "d_model": self.d_model, "heads": self.heads, "ff_dim": self.ff_dim,
                "dropout": self.dropout}


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class TimelineEncoder(tf.keras.layers.Layer):
    """Input embedding + transformer blocks over the positions selected by a mask.

    ``call(inputs, mask)`` → (block inputs, block outputs), both [B, L, d_model], zero where mask is False.
    ``mask`` may select a subset of the real events (one stream); positions are counted within that subset.
    """

    def __init__(self, d_model: int = 64, heads: int = 2, layers: int = 2, ff_dim: int = 128,
                 dropout: float = 0.1, max_len: int = 256, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.d_model, self.heads, self.layers, self.ff_dim = d_model, heads, layers, ff_dim
        self.dropout, self.max_len = dropout, max_len
        self.item_projection = tf.keras.layers.Dense(d_model, name="item_projection")
        self.type_embedding = tf.keras.layers.Embedding(NUM_EVENT_TYPES, d_model, name="type_embedding")
        self.position_embedding = tf.keras.layers.Embedding(max_len, d_model, name="position_embedding")
        self.time_embedding = tf.keras.layers.Dense(d_model, name="time_embedding")
        self.input_drop = tf.keras.layers.Dropout(dropout)
        self.blocks = [TransformerBlock(d_model, heads, ff_dim, dropout, name=f"block_{i}") for i in range(layers)]
        self.final_norm = tf.keras.layers.LayerNormalization(epsilon=1e-6)

    def embed(self, inputs: Inputs, mask: tf.Tensor) -> tf.Tensor:
        """The summed input embedding [B, L, d_model], zero at unselected positions."""
        embeddings = zero_padding(inputs["embeddings"], mask)
        time = zero_padding(tf.cast(inputs["log_gap"], embeddings.dtype)[..., tf.newaxis], mask) / TIME_SCALE
        position = tf.minimum(positions(mask), self.max_len - 1)
        x = (self.item_projection(embeddings) + self.type_embedding(get_event_type(inputs))
             + self.position_embedding(position) + self.time_embedding(time))
        return zero_padding(x, mask)

    def call(self, inputs: Inputs, mask: tf.Tensor, training: bool | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        x0 = self.embed(inputs, mask)
        attention_mask = causal_attention_mask(mask)
        x = self.input_drop(x0, training=training)
        for block in self.blocks:
            x = zero_padding(block(x, attention_mask, training=training), mask)
        return x0, zero_padding(self.final_norm(x), mask)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "d_model": self.d_model, "heads": self.heads, "layers": self.layers,
                "ff_dim": self.ff_dim, "dropout": self.dropout, "max_len": self.max_len}


class _TransformerBase(SequenceAggregator):
    """Validated hyper-parameters shared by the two transformer aggregators; subclasses add their layers
    in :meth:`make_layers` (so both keep this explicit constructor signature)."""

    def __init__(self, output_dim: int = 64, d_model: int = 64, heads: int = 2, layers: int = 2,
                 ff_dim: int = 128, dropout: float = 0.1, max_len: int = 256, cross_layers: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.d_model = check_positive_int("d_model", d_model)
        self.heads = check_positive_int("heads", heads)
        self.layers = check_positive_int("layers", layers)
        self.ff_dim = check_positive_int("ff_dim", ff_dim)
        self.dropout = check_dropout(dropout)
        self.max_len = check_positive_int("max_len", max_len)
        if isinstance(cross_layers, bool) or not isinstance(cross_layers, int) or cross_layers < 0:
            raise ConfigError(f"cross_layers must be an integer >= 0, got {cross_layers!r}")
        self.cross_layers = cross_layers
        if d_model % heads:
            raise ConfigError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
        self.head = tf.keras.layers.Dense(output_dim, name="head")
        self.make_layers()

    def make_layers(self) -> None:
        """Create the encoder(s): each subclass (unified, multi-sequence) defines its own."""
        raise TypeError(f"{type(self).__name__} must define make_layers() (the base class builds no encoder)")

    def encoder(self, name: str) -> TimelineEncoder:
        return TimelineEncoder(self.d_model, self.heads, self.layers, self.ff_dim, self.dropout, self.max_len,
                               name=name)

    def user_dim(self, job_dim: int) -> int:
        return self.output_dim

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_dim": self.output_dim, "d_model": self.d_model,
                "heads": self.heads, "layers": self.layers, "ff_dim": self.ff_dim, "dropout": self.dropout,
                "max_len": self.max_len, "cross_layers": self.cross_layers}


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class TransformerAggregator(_TransformerBase):
    """Transformer over the unified timeline → [B, L, output_dim].

    Pooling at t: [running mean(outputs) + running mean(inputs) ‖ output t ‖ log_time_to_target t / TIME_SCALE]
    (2·d_model + 1), then a DCN head: ``cross_layers`` × ``tfrs.layers.dcn.Cross`` and Dense(output_dim).
    """

    def make_layers(self) -> None:
        self.timeline = self.encoder("timeline")
        self.crosses = [tfrs.layers.dcn.Cross(name=f"cross_{i}") for i in range(self.cross_layers)]

    def sequence(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        mask = get_mask(inputs)
        block_inputs, block_outputs = self.timeline(inputs, mask, training=training)
        until_used = tf.cast(inputs["log_time_to_target"], block_outputs.dtype)[..., tf.newaxis] / TIME_SCALE
        pooled = tf.concat([skip_pool(block_inputs, block_outputs, mask), block_outputs,
                            zero_padding(until_used, mask)], axis=-1)
        x = pooled
        for cross in self.crosses:
            x = cross(pooled, x)
        return zero_padding(self.head(x), mask)


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class MultiSequenceTransformer(_TransformerBase):
    """One transformer encoder per action stream (:data:`STREAMS`) → [B, L, output_dim].

    Each encoder (own weights) sees only its stream's events (causal attention, positions and pooling
    restricted to them); at each position t, the per-stream running skip pools over the stream's events up
    to t (zeros for a stream without events yet) are concatenated (4·d_model) → Dense(output_dim).
    ``cross_layers`` is accepted for a uniform interface and unused.
    """

    def make_layers(self) -> None:
        self.streams = [self.encoder(f"stream_{name}") for name in STREAMS]

    def sequence(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        event_type = get_event_type(inputs)
        pooled = []
        for encoder, types in zip(self.streams, STREAMS.values()):
            mask = tf.reduce_any(tf.equal(event_type[..., tf.newaxis], tf.constant(types, tf.int32)), axis=-1)
            block_inputs, block_outputs = encoder(inputs, mask, training=training)
            pooled.append(skip_pool(block_inputs, block_outputs, mask))
        return zero_padding(self.head(tf.concat(pooled, axis=-1)), get_mask(inputs))

