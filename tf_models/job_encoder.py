"""The job encoder and the query encoder: side-table features → job embeddings in one space.

``JobEncoder`` takes the encoder-ready columns of the job side table (contract ``JOB_SIDE_TABLE``, see
``spark_jobs/job_table.py``) as a dict of tensors with any leading shape ``[...]``:

- ``company_id`` / ``location_id`` / ``category_id`` int32 ``[...]``: 0 missing, 1 out of vocabulary, 2..
  values — each has its own learned embedding row, so "missing" and "unknown" are explicit, never a crash;
  ids beyond the vocabulary the model was built with fold into the out-of-vocabulary row;
- ``title_tokens`` / ``skill_tokens`` int32 ``[..., T]``: hashed ids, 0 padding — a masked mean of token
  embeddings (a bag of tokens; an empty bag gives zeros);
- the six float32 numerics (already normalised, with their ``has_*`` flags).

They are concatenated and passed through a Deep & Cross Network (``tfrs.layers.dcn.Cross``) and an MLP
to a ``dim``-wide embedding. With ``id_rows`` > 0 a learned job-id embedding (``job_id_row`` int32 ``[...]``:
0 padding, 1 a job outside the training vocabulary, 2.. known jobs; see ``spark_jobs/job_table.py``) is added
to that content embedding. Its rows start at zero and only known jobs (row ≥ 2) use it, so a new posting,
or a job the training data never touched, is embedded by its content alone. ``QueryEncoder`` maps a search query's hashed tokens ``[..., Q]`` into the same
space with a token bag of its own and a projection. Both are registered serializable Keras layers.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_recommenders as tfrs

from tf_models.signatures import JOB_FLOAT_FEATURES, JOB_ID_FEATURE, JOB_INT_FEATURES, JOB_TOKEN_FEATURES

OOV_ID = 1
FIRST_KNOWN_ROW = 2


def token_bag(embedding: tf.keras.layers.Embedding, tokens: tf.Tensor) -> tf.Tensor:
    """Masked mean of the embeddings of the valid ``tokens`` ``[..., T]`` → ``[..., E]`` (zeros if none).

    Token 0 is padding; ids outside ``1..buckets`` (a side table hashed with more buckets) are ignored.
    """
    tokens = tf.cast(tokens, tf.int32)
    tokens = tf.where((tokens < 0) | (tokens >= embedding.input_dim), tf.zeros_like(tokens), tokens)
    vectors = embedding(tokens)
    mask = tf.cast(tokens > 0, vectors.dtype)[..., None]
    total = tf.reduce_sum(vectors * mask, axis=-2)
    return total / tf.maximum(tf.reduce_sum(mask, axis=-2), 1.0)


def _fold_unknown(ids: tf.Tensor, size: int) -> tf.Tensor:
    """Ids outside ``0..size-1`` (a vocabulary grown after training) become the out-of-vocabulary id."""
    ids = tf.cast(ids, tf.int32)
    return tf.where((ids < 0) | (ids >= size), tf.constant(OOV_ID, tf.int32), ids)


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class JobEncoder(tf.keras.layers.Layer):
    """Job side-table features → job embedding ``[..., dim]`` (categorical + token bags + numerics → DCN + MLP)."""

    def __init__(self, vocab_sizes: dict[str, int], token_buckets: int, dim: int = 64,
                 categorical_dim: int = 16, token_dim: int = 32, cross_layers: int = 2,
                 hidden: tuple[int, ...] = (128,), id_rows: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.id_rows = int(id_rows)
        self.ids = (tf.keras.layers.Embedding(self.id_rows, dim, embeddings_initializer="zeros", name="job_id_embedding")
                    if self.id_rows > 0 else None)
        self.vocab_sizes = {name: int(vocab_sizes[name]) for name in JOB_INT_FEATURES}
        self.token_buckets, self.dim = int(token_buckets), int(dim)
        self.categorical_dim, self.token_dim = int(categorical_dim), int(token_dim)
        self.cross_layers, self.hidden = int(cross_layers), tuple(int(h) for h in hidden)
        self.categorical = {name: tf.keras.layers.Embedding(size, self.categorical_dim, name=f"{name}_embedding")
                            for name, size in self.vocab_sizes.items()}
        self.tokens = {name: tf.keras.layers.Embedding(self.token_buckets + 1, self.token_dim, name=f"{name}_embedding")
                       for name in JOB_TOKEN_FEATURES}
        self.crosses = [tfrs.layers.dcn.Cross(name=f"cross_{i}") for i in range(self.cross_layers)]
        self.mlp = [tf.keras.layers.Dense(h, activation="relu") for h in self.hidden]
        self.out = tf.keras.layers.Dense(self.dim, name="job_embedding")

    def call(self, features: dict[str, tf.Tensor]) -> tf.Tensor:
        parts = [self.categorical[name](_fold_unknown(features[name], size)) for name, size in self.vocab_sizes.items()]
        parts += [token_bag(self.tokens[name], features[name]) for name in JOB_TOKEN_FEATURES]
        parts.append(tf.stack([tf.cast(features[name], tf.float32) for name in JOB_FLOAT_FEATURES], axis=-1))
        x0 = tf.concat(parts, axis=-1)
        x = x0
        for cross in self.crosses:
            x = cross(x0, x)
        for dense in self.mlp:
            x = dense(x)
        content = self.out(x)
        if self.ids is None:
            return content
        rows = tf.cast(features[JOB_ID_FEATURE], tf.int32)
        known = (rows >= FIRST_KNOWN_ROW) & (rows < self.id_rows)
        return content + self.ids(tf.where(known, rows, tf.zeros_like(rows))) * tf.cast(known, content.dtype)[..., None]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_sizes": self.vocab_sizes, "token_buckets": self.token_buckets,
                "dim": self.dim, "categorical_dim": self.categorical_dim, "token_dim": self.token_dim,
                "cross_layers": self.cross_layers, "hidden": list(self.hidden), "id_rows": self.id_rows}


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class QueryEncoder(tf.keras.layers.Layer):
    """Hashed query tokens ``[..., Q]`` → ``[..., dim]`` in the job space (token bag → projection)."""

    def __init__(self, token_buckets: int, dim: int = 64, token_dim: int = 32, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token_buckets, self.dim, self.token_dim = int(token_buckets), int(dim), int(token_dim)
        self.embedding = tf.keras.layers.Embedding(self.token_buckets + 1, self.token_dim, name="query_tokens")
        self.project = tf.keras.layers.Dense(self.dim, name="query_embedding")

    def call(self, tokens: tf.Tensor) -> tf.Tensor:
        return self.project(token_bag(self.embedding, tokens))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "token_buckets": self.token_buckets, "dim": self.dim,
                "token_dim": self.token_dim}
