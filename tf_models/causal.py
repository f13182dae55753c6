"""Causal sequence helpers: per-position pooling that only looks at the events up to each position.

Every aggregator computes one output per position of a sequence ``[B, L, ...]`` from the events up to and
including that position (training puts a loss on every position; the user embedding that inference writes
is the last real position's output). Sequences are left-aligned: real events first (oldest → newest),
padding after, ``mask`` [B, L] True on real events. These helpers are the building blocks:

- :func:`prefix_mean` / :func:`prefix_max` — running mean / max over the selected positions ≤ t;
- :func:`causal_attention_mask` — position t attends to selected positions ≤ t;
- :func:`last_position` — the output at each row's newest real event (zeros for an empty row);
- :func:`decayed_prefix_mean` — Σ rate^(c_t − c_i)·x_i / Σ rate^(c_t − c_i) over selected i ≤ t, where c counts
  the selected events (the decaying mean of the fixed-formula aggregators, at every position).

Values at unselected positions never reach a selected position's output (``tf.where`` before arithmetic).

Run the tests: ``.venv/bin/python -m pytest tests/tf_models/test_aggregators.py -q``
"""

from __future__ import annotations

import tensorflow as tf

from jobtrail.errors import ConfigError

MAX_LENGTH = 256
"""The longest sequence a window allows (W ≤ 256)."""

Inputs = dict[str, tf.Tensor]


def _zero(x: tf.Tensor, select: tf.Tensor) -> tf.Tensor:
    while len(select.shape) < len(x.shape):
        select = select[..., tf.newaxis]
    return tf.where(select, x, tf.zeros_like(x))


def prefix_mean(x: tf.Tensor, select: tf.Tensor) -> tf.Tensor:
    """[B, L, F]: at each t the mean of x over the selected positions ≤ t (0 when none is selected yet)."""
    total = tf.cumsum(_zero(x, select), axis=1)
    count = tf.cumsum(tf.cast(select, x.dtype), axis=1)[..., tf.newaxis]
    return tf.math.divide_no_nan(total, count)


def prefix_max(x: tf.Tensor, select: tf.Tensor) -> tf.Tensor:
    """[B, L, F]: at each t the max of x over the selected positions ≤ t (0 when none is selected yet).

    A log-step (Hillis–Steele) scan: ⌈log2 L⌉ shifted maxima instead of an [L, L] comparison.
    """
    out = tf.where(select[..., tf.newaxis], x, tf.fill(tf.shape(x), tf.constant(x.dtype.min, x.dtype)))
    length = x.shape[1] or MAX_LENGTH  # static in export; a training batch's length: enough steps for any window
    shift = 1
    while shift < length:
        shifted = tf.pad(out, [[0, 0], [shift, 0], [0, 0]], constant_values=x.dtype.min)[:, :tf.shape(out)[1]]
        out = tf.maximum(out, shifted)
        shift *= 2
    seen = tf.cumsum(tf.cast(select, tf.int32), axis=1) > 0
    return tf.where(seen[..., tf.newaxis], out, tf.zeros_like(out))


def causal_attention_mask(select: tf.Tensor) -> tf.Tensor:
    """bool [B, L, L]: query t may attend key i when both are selected and i ≤ t."""
    length = tf.shape(select)[1]
    lower = tf.linalg.band_part(tf.ones([length, length], tf.int32), -1, 0) > 0
    return tf.logical_and(tf.logical_and(select[:, :, tf.newaxis], select[:, tf.newaxis, :]), lower[tf.newaxis])


def last_position(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """[B, F]: x at each row's newest real event; zeros for a row without events."""
    count = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
    picked = tf.gather(x, tf.maximum(count - 1, 0), axis=1, batch_dims=1)
    return tf.where((count > 0)[:, tf.newaxis], picked, tf.zeros_like(picked))


def decayed_prefix_mean(x: tf.Tensor, select: tf.Tensor, rate: float) -> tf.Tensor:
    """[B, L, F]: Σ_i w_ti·x_i / Σ_i w_ti with w_ti = rate^(c_t − c_i) for selected i ≤ t, c = running count of
    selected events; rate = 1 is :func:`prefix_mean`. Exponents are ≥ 0, so nothing overflows."""
    if rate == 1.0:
        return prefix_mean(x, select)
    chosen = tf.cast(select, x.dtype)
    count = tf.cumsum(chosen, axis=1)
    length = tf.shape(x)[1]
    lower = tf.linalg.band_part(tf.ones([length, length], x.dtype), -1, 0)
    exponent = tf.maximum(count[:, :, tf.newaxis] - count[:, tf.newaxis, :], 0.0)
    weights = tf.pow(tf.constant(rate, x.dtype), exponent) * lower[tf.newaxis] * chosen[:, tf.newaxis, :]
    total = tf.einsum("bti,bif->btf", weights, _zero(x, select))
    return tf.math.divide_no_nan(total, tf.reduce_sum(weights, axis=2, keepdims=True))


# ------------------------------------------------------------------------- inputs and hyper-parameters
def get_mask(inputs: dict[str, tf.Tensor]) -> tf.Tensor:
    """The boolean [B, L] mask of real events."""
    return tf.cast(inputs["mask"], tf.bool)


def get_event_type(inputs: dict[str, tf.Tensor]) -> tf.Tensor:
    """Event types as int32 [B, L], 0 (padding) wherever the mask is False."""
    event_type = tf.cast(inputs["event_type"], tf.int32)
    return tf.where(get_mask(inputs), event_type, tf.zeros_like(event_type))


def zero_padding(x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """``x`` [B, L, ...] with every padded position replaced by exact zeros (NaN-safe)."""
    return _zero(x, mask)


def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int ≥ 1, or ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_dropout(value: object) -> float:
    """``value`` as a float in [0, 1), or ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ConfigError(f"dropout must be a number in [0, 1), got {value!r}")
    return float(value)


class SequenceAggregator(tf.keras.layers.Layer):
    """Base class: :meth:`call` is the last real position of :meth:`sequence`, which subclasses define."""

    def sequence(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        raise TypeError(f"{type(self).__name__} must define sequence() (the per-position outputs)")

    def call(self, inputs: Inputs, training: bool | None = None) -> tf.Tensor:
        return last_position(self.sequence(inputs, training=training), get_mask(inputs))
