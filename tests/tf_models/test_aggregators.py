"""Behaviour of the sequence aggregators (tf_models.aggregators, tf_models.transformers).

Run: ``.venv/bin/python -m pytest tests/tf_models/test_aggregators.py -q -p no:cacheprovider``
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf  # Keras 2: tests/conftest.py sets TF_USE_LEGACY_KERAS=1 before this import

from jobtrail.errors import ConfigError
from jobtrail.tables import EVENT_TYPE_IDS
from tf_models.aggregators import AGGREGATORS, DECAY_GRID, DecayAggregator, MeanAggregator, build_aggregator
from tf_models.causal import causal_attention_mask, decayed_prefix_mean, last_position, prefix_max, prefix_mean
from tf_models.transformers import STREAMS

B, L, D = 4, 7, 8
LENGTHS = (4, 7, 0, 2)  # real events per row; row 2 is empty
SMALL = {
    "mean": {},
    "decay": {"rate": 0.7},
    "cnn": {"output_dim": 6, "filters": 8, "kernel_size": 3, "conv_layers": 2},
    "transformer": {"output_dim": 6, "d_model": 8, "heads": 2, "layers": 2, "ff_dim": 16, "max_len": 16},
    "multiseq": {"output_dim": 6, "d_model": 8, "heads": 2, "layers": 1, "ff_dim": 16, "max_len": 16},
}
T = EVENT_TYPE_IDS


def make_batch(seed: int = 0, lengths: tuple[int, ...] = LENGTHS) -> dict[str, np.ndarray]:
    """Random real events first in each row, zeros as padding."""
    rng = np.random.default_rng(seed)
    rows, length = len(lengths), L
    mask = np.arange(length)[None, :] < np.array(lengths)[:, None]
    batch = {
        "embeddings": rng.normal(size=(rows, length, D)).astype(np.float32),
        "event_type": rng.integers(1, max(T.values()) + 1, size=(rows, length)).astype(np.int32),
        "log_gap": rng.uniform(0, 12, size=(rows, length)).astype(np.float32),
        "log_time_to_target": rng.uniform(0, 14, size=(rows, length)).astype(np.float32),
        "session_position": rng.integers(0, 5, size=(rows, length)).astype(np.int32),
        "mask": mask,
    }
    return pad_with(batch, lambda shape, dtype: np.zeros(shape, dtype))


def pad_with(batch: dict[str, np.ndarray], fill) -> dict[str, np.ndarray]:
    """The batch with every padded position's features replaced by ``fill(shape, dtype)`` values."""
    out = {}
    for key, value in batch.items():
        if key == "mask":
            out[key] = value
            continue
        where = batch["mask"] if value.ndim == 2 else batch["mask"][..., None]
        out[key] = np.where(where, value, fill(value.shape, value.dtype)).astype(value.dtype)
    return out


def garbage(seed: int):
    rng = np.random.default_rng(seed)

    def fill(shape, dtype):
        if np.issubdtype(dtype, np.integer):
            return rng.integers(0, 9, size=shape).astype(dtype)
        return (rng.normal(size=shape) * 1e3).astype(dtype)
    return fill


def run(layer: tf.keras.layers.Layer, batch: dict[str, np.ndarray], training: bool = False) -> np.ndarray:
    return layer({k: tf.constant(v) for k, v in batch.items()}, training=training).numpy()


def build(name: str) -> tf.keras.layers.Layer:
    tf.keras.utils.set_random_seed(1)
    return build_aggregator(name, **SMALL[name])


# ------------------------------------------------------------------------------------------ all layers
@pytest.mark.parametrize("name", AGGREGATORS)
def test_output_shape_is_user_dim_and_finite(name):
    layer = build(name)
    out = run(layer, make_batch())
    assert out.shape == (B, layer.user_dim(D))
    assert out.dtype == np.float32
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name", AGGREGATORS)
def test_padding_values_and_amount_never_matter(name):
    layer = build(name)
    batch = make_batch()
    reference = run(layer, batch)
    for seed in (1, 2):
        np.testing.assert_allclose(run(layer, pad_with(batch, garbage(seed))), reference, atol=1e-6)
    nan_padded = pad_with(batch, lambda shape, dtype: np.full(shape, np.nan if dtype == np.float32 else 3, dtype))
    np.testing.assert_allclose(run(layer, nan_padded), reference, atol=1e-6)
    longer = {k: np.concatenate([v, np.zeros_like(v[:, :3])], axis=1) for k, v in batch.items()}  # 3 more pads
    np.testing.assert_allclose(run(layer, longer), reference, atol=1e-5)


@pytest.mark.parametrize("name", AGGREGATORS)
def test_row_without_events_is_finite(name):
    out = run(build(name), pad_with(make_batch(), garbage(3)))
    assert np.isfinite(out[2]).all()
    if name in ("mean", "decay"):
        assert (out[2] == 0).all()


@pytest.mark.parametrize("name", ["cnn", "transformer", "multiseq"])
def test_gradients_are_finite_with_nan_padding(name):
    layer = build(name)
    batch = pad_with(make_batch(), lambda shape, dtype: np.full(shape, np.nan if dtype == np.float32 else 0, dtype))
    inputs = {k: tf.constant(v) for k, v in batch.items()}
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(inputs, training=True) ** 2)
    grads = tape.gradient(loss, layer.trainable_variables)
    assert layer.trainable_variables
    assert all(g is None or np.isfinite(tf.convert_to_tensor(g).numpy()).all() for g in grads)


@pytest.mark.parametrize("name", AGGREGATORS)
def test_config_round_trips_and_class_is_registered(name):
    layer = build(name)
    config = layer.get_config()
    assert layer.__class__.from_config(config).get_config() == config
    assert tf.keras.utils.get_registered_object(f"jobtrail>{type(layer).__name__}") is type(layer)
    for key, value in SMALL[name].items():
        assert config[key] == value


def _functional(layer: tf.keras.layers.Layer, length: int) -> tf.keras.Model:
    specs = {"embeddings": ((length, D), tf.float32), "event_type": ((length,), tf.int32),
             "log_gap": ((length,), tf.float32), "log_time_to_target": ((length,), tf.float32),
             "session_position": ((length,), tf.int32), "mask": ((length,), tf.bool)}
    inputs = {k: tf.keras.Input(shape=shape, dtype=dtype, name=k) for k, (shape, dtype) in specs.items()}
    return tf.keras.Model(inputs, layer(inputs))


@pytest.mark.parametrize("name", ["decay", "cnn", "transformer"])
def test_saved_model_reload_gives_same_outputs(name, tmp_path):
    layer = build(name)
    model = _functional(layer, L)
    batch = {k: tf.constant(v) for k, v in make_batch(seed=5).items()}
    before = model(batch, training=False).numpy()
    model.save(tmp_path / "model")
    loaded = tf.keras.models.load_model(tmp_path / "model")
    np.testing.assert_allclose(loaded(batch, training=False).numpy(), before, atol=1e-6)
    assert any(type(sub) is type(layer) for sub in loaded.layers)


# --------------------------------------------------------------------------------------- fixed formulas
def _hand_row():
    e = np.arange(1, 6, dtype=np.float32)[:, None] * np.ones((1, D), np.float32)  # e_k = k+1 everywhere
    types = [T["apply"], T["view"], T["save"], T["apply"], T["dismiss"], T["apply"], 0]
    batch = {"embeddings": np.zeros((1, L, D), np.float32), "event_type": np.array([types], np.int32),
             "log_gap": np.zeros((1, L), np.float32), "log_time_to_target": np.zeros((1, L), np.float32),
             "session_position": np.zeros((1, L), np.int32), "mask": np.array([[True] * 6 + [False]])}
    batch["embeddings"][0, :5] = e
    batch["embeddings"][0, 5] = 10.0
    return batch


def test_mean_aggregator_exact_numbers():
    out = run(MeanAggregator(), _hand_row())[0]
    apply, save, dismiss = out[:D], out[D:2 * D], out[2 * D:]
    np.testing.assert_allclose(apply, np.full(D, (1 + 4 + 10) / 3), rtol=1e-6)
    np.testing.assert_allclose(save, np.full(D, 3.0))
    np.testing.assert_allclose(dismiss, np.full(D, 5.0))


def test_decay_aggregator_exact_numbers():
    out = run(DecayAggregator(rate=0.5), _hand_row())[0]
    # three applies, oldest first: weights 1/7, 2/7, 4/7
    np.testing.assert_allclose(out[:D], np.full(D, (1 * 1 + 2 * 4 + 4 * 10) / 7), rtol=1e-6)
    np.testing.assert_allclose(out[D:], np.concatenate([np.full(D, 3.0), np.full(D, 5.0)]))


def test_decay_rate_one_is_the_mean():
    batch = make_batch(seed=7)
    np.testing.assert_allclose(run(DecayAggregator(rate=1.0), batch), run(MeanAggregator(), batch), atol=1e-6)


@pytest.mark.parametrize("rate", [0.0, -0.5, 1.5, float("nan"), "0.8", True])
def test_decay_rate_is_validated(rate):
    with pytest.raises(ConfigError, match="rate"):
        DecayAggregator(rate=rate)


def test_decay_grid_is_valid():
    assert DECAY_GRID == (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    assert all(DecayAggregator(rate=r).rate == r for r in DECAY_GRID)


def test_causal_pooling_helpers():
    x = tf.constant([[[1.0, -5.0], [3.0, -1.0], [100.0, 100.0]], [[7.0, 7.0], [8.0, 8.0], [9.0, 9.0]]])
    mask = tf.constant([[True, True, False], [False, False, False]])
    np.testing.assert_allclose(prefix_mean(x, mask).numpy()[0, :2], [[1.0, -5.0], [2.0, -3.0]])
    np.testing.assert_allclose(prefix_max(x, mask).numpy()[0, :2], [[1.0, -5.0], [3.0, -1.0]])
    np.testing.assert_allclose(prefix_mean(x, mask).numpy()[1], 0.0)
    np.testing.assert_allclose(prefix_max(x, mask).numpy()[1], 0.0)
    np.testing.assert_allclose(last_position(x, mask).numpy(), [[3.0, -1.0], [0.0, 0.0]])
    # running max over a longer sequence equals numpy's cumulative max (the log-step scan)
    rng = np.random.default_rng(0)
    long = rng.normal(size=(2, 37, 3)).astype(np.float32)
    np.testing.assert_allclose(prefix_max(tf.constant(long), tf.ones((2, 37), tf.bool)).numpy(),
                               np.maximum.accumulate(long, axis=1))
    np.testing.assert_array_equal(causal_attention_mask(tf.constant([[True, True, False]])).numpy()[0],
                                  [[True, False, False], [True, True, False], [False, False, False]])
    # decay: rate^(newer selected events) weights, here the selected positions 0, 2, 3
    select = tf.constant([[True, False, True, True]])
    values = tf.constant([[[1.0], [50.0], [2.0], [4.0]]])
    got = decayed_prefix_mean(values, select, 0.5).numpy()[0, :, 0]
    np.testing.assert_allclose(got, [1.0, 1.0, (0.5 * 1 + 2) / 1.5, (0.25 * 1 + 0.5 * 2 + 4) / 1.75], rtol=1e-6)


# ------------------------------------------------------------------------------------- causality
@pytest.mark.parametrize("name", AGGREGATORS)
def test_changing_later_events_never_changes_an_earlier_output(name):
    """Output t depends on the events up to t only: every later event is rewritten (embedding, type, gap,
    time to target), and outputs 0..t stay equal; the last real position's output is the user embedding."""
    layer = build(name)
    batch = make_batch(seed=4, lengths=(L, L, 3, 0))
    sequence = layer.sequence({k: tf.constant(v) for k, v in batch.items()}).numpy()
    assert sequence.shape == (4, L, layer.user_dim(D))
    rng = np.random.default_rng(9)
    for t in range(L - 1):
        changed = {k: v.copy() for k, v in batch.items()}
        changed["embeddings"][:, t + 1:] = rng.normal(size=changed["embeddings"][:, t + 1:].shape)
        changed["event_type"][:, t + 1:] = rng.integers(1, max(T.values()) + 1, size=changed["event_type"][:, t + 1:].shape)
        changed["log_gap"][:, t + 1:] = rng.uniform(0, 12)
        changed["log_time_to_target"][:, t + 1:] = rng.uniform(0, 14)
        again = layer.sequence({k: tf.constant(v) for k, v in changed.items()}).numpy()
        np.testing.assert_allclose(again[:, :t + 1], sequence[:, :t + 1], atol=1e-5, err_msg=f"position {t}")
        assert np.abs(again[:2, t + 1:] - sequence[:2, t + 1:]).max() > 1e-4  # later outputs do see them
    users = run(layer, batch)
    np.testing.assert_allclose(users[:2], sequence[:2, L - 1], atol=1e-6)
    np.testing.assert_allclose(users[2], sequence[2, 2], atol=1e-6)
    assert (users[3] == 0).all()


def test_mean_and_decay_average_the_configured_action_types():
    batch = _hand_row()
    views = run(MeanAggregator(action_types=("view",)), batch)[0]
    np.testing.assert_allclose(views, np.full(D, 2.0))  # the one view's embedding
    assert MeanAggregator(action_types=["view", "apply"]).user_dim(8) == 16
    with pytest.raises(ConfigError, match="action_types"):
        DecayAggregator(action_types=("view", "view"))


# ----------------------------------------------------------------------------------------- order
def _reverse_real_events(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {k: v.copy() for k, v in batch.items()}
    for row, n in enumerate(batch["mask"].sum(axis=1)):
        for key in out:
            out[key][row, :n] = batch[key][row, :n][::-1]
    return out


@pytest.mark.parametrize("name", ["transformer", "multiseq", "cnn"])
def test_learned_aggregators_are_order_sensitive(name):
    layer = build(name)
    batch = make_batch()
    batch["event_type"][:, :] = T["apply"]  # one stream, so every layer sees the whole reversed sequence
    before, after = run(layer, batch), run(layer, _reverse_real_events(batch))
    for row, n in enumerate(LENGTHS):
        assert (np.abs(before[row] - after[row]).max() > 1e-4) == (n >= 2)


def test_mean_is_order_insensitive():
    batch = make_batch()
    np.testing.assert_allclose(run(MeanAggregator(), _reverse_real_events(batch)),
                               run(MeanAggregator(), batch), atol=1e-6)


def test_multiseq_sees_each_stream_on_its_own():
    """Interleaving the streams differently (each stream's own order kept) leaves the output unchanged,
    while the unified transformer notices."""
    search, browse, engage = STREAMS["search"][0], STREAMS["browse"][1], STREAMS["engage"][1]
    batch = make_batch(lengths=(6,))
    batch["event_type"][0, :6] = [search, browse, engage, search, browse, engage]
    order = [0, 3, 1, 4, 2, 5, 6]  # grouped by stream, each stream's order kept
    regrouped = {k: v[:, order] for k, v in batch.items()}
    multiseq, unified = build("multiseq"), build("transformer")
    np.testing.assert_allclose(run(multiseq, regrouped), run(multiseq, batch), atol=1e-5)
    assert np.abs(run(unified, regrouped) - run(unified, batch)).max() > 1e-4


# -------------------------------------------------------------------------------------------- factory
def test_build_aggregator_names_and_user_dims():
    assert AGGREGATORS == ("mean", "decay", "cnn", "transformer", "multiseq")
    assert build_aggregator("mean").user_dim(64) == 192
    assert build_aggregator("decay", rate=0.9).user_dim(32) == 96
    assert build_aggregator("cnn", output_dim=48).user_dim(64) == 48
    assert build_aggregator("transformer", name="agg").name == "agg"


def test_build_aggregator_errors():
    with pytest.raises(ConfigError, match="unknown aggregator 'lstm'.*mean, decay, cnn, transformer, multiseq"):
        build_aggregator("lstm")
    with pytest.raises(ConfigError, match="'cnn' takes no hyper-parameter rate"):
        build_aggregator("cnn", rate=0.5)
    with pytest.raises(ConfigError, match="'mean' takes no hyper-parameter output_dim"):
        build_aggregator("mean", output_dim=8)
    with pytest.raises(ConfigError, match="multiple of heads"):
        build_aggregator("transformer", d_model=10, heads=3)
    with pytest.raises(ConfigError, match="dropout"):
        build_aggregator("multiseq", dropout=1.0)
    with pytest.raises(ConfigError, match="filters"):
        build_aggregator("cnn", filters=0)
