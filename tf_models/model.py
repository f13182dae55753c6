"""The next-action model: job encoder + aggregator + scoring head, trained as a ``tfrs.Model``.

A batch from :mod:`tf_models.data` holds context sequences and a target job by side-table index. The model
keeps the side table's features as non-trainable variables on the device, gathers the features of the jobs a
batch references (each distinct job encoded once per step), builds each position's embedding (the job's, or
the query's for a search), aggregates the sequence into the user embedding and scores the target:

    logit = dense(user ⊙ target job)          (user embeddings of k·D, e.g. the mean's three vectors, are
                                                read as k vectors, each multiplied with the target)

Loss: weighted binary cross-entropy through ``tfrs.tasks.Ranking`` (metric: ROC-AUC, reported as ``auc`` and
``val_auc``), plus optionally ``retrieval_weight`` × an in-batch softmax over the batch's targets through
``tfrs.tasks.Retrieval`` with logQ correction by the targets' training popularity (positives only as
queries). Losses are averaged over the *global* batch, so they are right under any distribution strategy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from jobtrail.errors import ConfigError
from jobtrail.tables import EVENT_TYPE_IDS
from tf_models.aggregators import build_aggregator
from tf_models.config import ModelConfig
from tf_models.data import Shapes
from tf_models.job_encoder import JobEncoder, QueryEncoder
from tf_models.signatures import JOB_FEATURES

SEARCH = EVENT_TYPE_IDS["search"]


def aggregator_inputs(query_encoder: QueryEncoder, shapes: Shapes, batch: dict[str, tf.Tensor],
                      job_embeddings: tf.Tensor) -> dict[str, tf.Tensor]:
    """The aggregator's input dict for context sequences whose jobs are embedded as ``job_embeddings`` [B, L, D].

    Each position's embedding is its job's, its query's for a search, zeros for padding; the aggregator sees
    the embeddings, event types, gaps and the padding mask (shared by both objectives and the export).
    """
    event_type = tf.cast(batch["ctx_event_type"], tf.int32)
    length = tf.shape(event_type)[1]  # the batch's own length: training batches are cut to their longest row
    queries = query_encoder(tf.reshape(tf.cast(batch["ctx_query_tokens"], tf.int32),
                                       [-1, length, shapes.query_tokens]))
    has_job = tf.cast(batch["ctx_job_index"] > 0, job_embeddings.dtype)[..., None]
    embeddings = tf.where((event_type == SEARCH)[..., None], queries, job_embeddings * has_job)
    return {
        "embeddings": embeddings, "event_type": event_type,
        "mask": tf.sequence_mask(batch["context_length"], length),
        "log_gap": tf.cast(batch["ctx_log_gap"], tf.float32),
        "log_time_to_target": tf.cast(batch["ctx_log_time_to_target"], tf.float32),
        "session_position": tf.cast(batch["ctx_session_position"], tf.int32),
    }


def user_embedding(query_encoder: QueryEncoder, aggregator: tf.keras.layers.Layer, shapes: Shapes,
                   batch: dict[str, tf.Tensor], job_embeddings: tf.Tensor, training: bool | None = None) -> tf.Tensor:
    """The user embedding [B, user_dim]: the aggregator's output at each row's last real position."""
    return aggregator(aggregator_inputs(query_encoder, shapes, batch, job_embeddings), training=training)


def score(score_head: tf.keras.layers.Layer, user: tf.Tensor, target: tf.Tensor, *, job_dim: int) -> tf.Tensor:
    """Logits [B] of ``dense(user ⊙ target)``; a k·D user embedding is read as k vectors, each ⊙ target."""
    user_dim = user.shape[-1]
    vectors = tf.reshape(user, [-1, user_dim // job_dim, job_dim]) * target[:, None, :]
    return tf.squeeze(score_head(tf.reshape(vectors, [-1, user_dim])), -1)


class NextActionModel(tfrs.Model):
    """Trains the job encoder, the query encoder and the aggregator on the next-action task."""

    def __init__(self, config: ModelConfig, *, job_arrays: dict[str, np.ndarray], vocab: dict[str, Any],
                 shapes: Shapes, candidate_probability: np.ndarray | None = None) -> None:
        super().__init__()
        self.config, self.shapes = config, shapes
        buckets = int(vocab["tokens"]["buckets"])
        self.job_table = {name: tf.Variable(job_arrays[name], trainable=False, name=f"side_{name}")
                          for name in JOB_FEATURES}
        vocab_sizes = {f"{column}_id": size for column, size in vocab["vocab_sizes"].items()}
        self.job_encoder = JobEncoder(vocab_sizes, buckets, dim=config.job_dim,
                                      categorical_dim=config.categorical_dim, token_dim=config.token_dim,
                                      cross_layers=config.cross_layers, hidden=config.job_hidden,
                                      id_rows=int(vocab.get("job_id_rows", 0)) if config.job_ids else 0)
        self.query_encoder = QueryEncoder(buckets, dim=config.job_dim, token_dim=config.token_dim)
        self.aggregator = build_aggregator(config.aggregator, **config.aggregator_kwargs())
        self.user_dim = int(self.aggregator.user_dim(config.job_dim))
        if self.user_dim % config.job_dim:
            raise ConfigError(f"user embedding width {self.user_dim} is not a multiple of job_dim {config.job_dim}")
        self.score_head = tf.keras.layers.Dense(1, name="score")
        self.ranking = tfrs.tasks.Ranking(
            loss=tf.keras.losses.BinaryCrossentropy(from_logits=True, reduction=tf.keras.losses.Reduction.NONE),
            metrics=[tf.keras.metrics.AUC(from_logits=True, name="auc")])
        self.retrieval = None
        if config.retrieval_weight > 0:
            if candidate_probability is None:
                raise ConfigError("the retrieval objective needs the targets' popularity (candidate_probability)")
            self.retrieval_query = tf.keras.layers.Dense(config.job_dim, use_bias=False, name="retrieval_query")
            # Built now: ``call`` never reaches it, so the optimizer must see its kernel before the first step.
            self.retrieval_query.build((None, self.user_dim))
            self.candidate_probability = tf.Variable(candidate_probability.astype(np.float32), trainable=False,
                                                     name="candidate_probability")
            self.retrieval = tfrs.tasks.Retrieval(
                loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True,
                                                             reduction=tf.keras.losses.Reduction.NONE),
                remove_accidental_hits=True)

    # -- building blocks shared with the export ------------------------------------------------------------
    def job_embeddings(self, indices: tf.Tensor) -> tf.Tensor:
        """Embeddings of the side-table rows ``indices`` (any shape), each distinct job encoded once."""
        flat = tf.reshape(indices, [-1])
        unique, position = tf.unique(flat)
        features = {name: tf.gather(table, unique) for name, table in self.job_table.items()}
        encoded = tf.gather(self.job_encoder(features), position)
        return tf.reshape(encoded, tf.concat([tf.shape(indices), [self.config.job_dim]], axis=0))

    def user_embedding(self, batch: dict[str, tf.Tensor], job_embeddings: tf.Tensor,
                       training: bool | None = None) -> tf.Tensor:
        return user_embedding(self.query_encoder, self.aggregator, self.shapes, batch, job_embeddings, training)

    def score(self, user: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        return score(self.score_head, user, target, job_dim=self.config.job_dim)

    # -- training -----------------------------------------------------------------------------------------
    def _embed_batch(self, batch: dict[str, tf.Tensor], training: bool | None) -> tuple[tf.Tensor, tf.Tensor]:
        if "ctx_job_features" in batch:  # benchmark-only: features materialised in every position
            context = self.job_encoder(batch["ctx_job_features"])
            target = self.job_encoder(batch["target_job_features"])
        else:
            length = self.shapes.context_length
            indices = tf.concat([batch["ctx_job_index"], batch["target_job_index"][:, None]], axis=1)
            both = self.job_embeddings(indices)
            context, target = both[:, :length], both[:, length]
        return self.user_embedding(batch, context, training=training), target

    def call(self, batch: dict[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        user, target = self._embed_batch(batch, training)
        return self.score(user, target)

    def compute_loss(self, batch: dict[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        user, target = self._embed_batch(batch, training)
        logits = self.score(user, target)
        per_example = self.ranking(labels=batch["label"][:, None], predictions=logits[:, None],
                                   sample_weight=batch["weight"])
        loss = tf.nn.compute_average_loss(per_example)
        if self.retrieval is not None:
            ids = batch["target_job_index"]
            per_query = self.retrieval(
                self.retrieval_query(user), target, sample_weight=batch["label"],
                candidate_sampling_probability=tf.gather(self.candidate_probability, ids),
                candidate_ids=ids, compute_metrics=False, compute_batch_metrics=False)
            loss += self.config.retrieval_weight * tf.nn.compute_average_loss(per_query)
        return loss
