"""The dense per-position model: every position of a timeline chunk is trained to retrieve its targets.

A batch from :mod:`tf_models.sequence_data` holds chunks of users' timelines and, for every position t, the
next positive engagement after t and up to K positives of the future window that starts after t (the day
the embedding computed at t would be used). The aggregator is causal, so one forward pass gives the user
embedding at every position (``aggregator.sequence``); the embedding inference writes is the last
position's, computed by the same function.

Scoring: jobs are L2-normalised (content encoder + learned id embedding, :class:`tf_models.job_encoder.
JobEncoder`); :class:`QueryHead` maps a user embedding (k·D wide for mean/decay: k per-type vectors mixed by
learned weights) to a unit query divided by a temperature, and ``score(u, j) = q(u)·j + b``.

Loss (PinnerFormer's dense all-action loss with SASRec's next-item target):

- **sampled softmax over mixed negatives**: the candidates are the batch's targets (in-batch) plus
  ``sampled_negatives`` jobs drawn uniformly from the side table (0: in-batch only), deduplicated; every
  (position, positive) pair is one softmax over {that positive} ∪ every candidate that is *not* a positive of that position
  (accidental hits removed), with the logQ correction log(expected count in the candidate set) =
  log(T·p(j) + S/N) for T targets, S uniform draws, p(j) the job's training popularity. With
  ``full_softmax`` the candidates are the whole catalogue and no correction applies. Next and future
  pairs weigh ``next_weight`` and ``future_weight``.
- **auxiliary weighted BCE** (the seeds' labels) through ``tfrs.tasks.Ranking``: the next target (label 1)
  against the dismisses after t (``dismiss_weight``) and keyed-hash random negatives (a weaker label),
  weighted by ``bce_weight``; its ROC-AUC is reported as ``auc`` (a secondary, proxy metric).

Validation reports ``recall_at_10``: the positions with targets rank the whole catalogue (row 0 excluded),
and the share of their positives in the top 10 — on the validation split, the embedding as of the cutoff
ranking the horizon's positives. ``tfrs.tasks.Retrieval`` assumes one positive per query on the diagonal of
an in-batch matrix, so the multi-positive, deduplicated, mixed-candidate softmax is written here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from jobtrail.errors import ConfigError
from tf_models.config import ModelConfig
from tf_models.model import NextActionModel, aggregator_inputs
from tf_models.sequence_data import SequenceShapes

TOP_K = 10


@tf.keras.utils.register_keras_serializable(package="jobtrail")
class QueryHead(tf.keras.layers.Layer):
    """User embedding [..., k·D] → unit query [..., D]; ``call(user, job)`` = scale·q(user)·job + bias.

    The softmax reads ``query(user) / temperature`` against unit job embeddings (cosine / τ); the exported
    ``score`` is the calibrated logit that the auxiliary BCE trains (learned scale > 0 and bias), which ranks
    jobs exactly as the cosine does and stays linear in the job embedding.
    """

    def __init__(self, job_dim: int, user_dim: int, temperature: float = 0.05, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if user_dim % job_dim:
            raise ConfigError(f"user embedding width {user_dim} is not a multiple of job_dim {job_dim}")
        self.job_dim, self.user_dim, self.temperature = int(job_dim), int(user_dim), float(temperature)
        self.mix = self.add_weight(name="mix", shape=(user_dim // job_dim, job_dim), initializer="ones")
        self.log_scale = self.add_weight(name="log_scale", shape=(), initializer=tf.keras.initializers.Constant(1.6))
        self.bias = self.add_weight(name="bias", shape=(), initializer="zeros")

    def query(self, user: tf.Tensor) -> tf.Tensor:
        """The unit query [..., D] (zeros for an all-zero user embedding)."""
        shape = tf.concat([tf.shape(user)[:-1], [self.user_dim // self.job_dim, self.job_dim]], axis=0)
        mixed = tf.reduce_sum(tf.reshape(user, shape) * self.mix, axis=-2)
        return tf.math.l2_normalize(mixed, axis=-1)

    def call(self, user: tf.Tensor, job: tf.Tensor) -> tf.Tensor:
        return tf.exp(self.log_scale) * tf.reduce_sum(self.query(user) * job, axis=-1) + self.bias

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "job_dim": self.job_dim, "user_dim": self.user_dim,
                "temperature": self.temperature}


class SequenceModel(NextActionModel):
    """Job encoder + query encoder + causal aggregator + :class:`QueryHead`, trained at every position."""

    def __init__(self, config: ModelConfig, *, job_arrays: dict[str, np.ndarray], vocab: dict[str, Any],
                 shapes: SequenceShapes, candidate_probability: np.ndarray | None = None) -> None:
        super().__init__(config.without_retrieval(), job_arrays=job_arrays, vocab=vocab, shapes=shapes)
        self.config = config
        self.n_jobs = int(len(job_arrays["company_id"]))
        if self.n_jobs < 2:
            raise ConfigError("the job side table has no job besides the padding row; nothing to retrieve")
        self.score_head = QueryHead(config.job_dim, self.user_dim, config.temperature, name="query_head")
        self.score_head.build(None)
        probability = (candidate_probability if candidate_probability is not None
                       else np.full(self.n_jobs, 1.0 / self.n_jobs))
        self.target_probability = tf.Variable(probability.astype(np.float32), trainable=False,
                                              name="target_probability")
        self.ranking = tfrs.tasks.Ranking(
            loss=tf.keras.losses.BinaryCrossentropy(from_logits=True, reduction=tf.keras.losses.Reduction.NONE),
            metrics=[tf.keras.metrics.AUC(from_logits=True, name="auc")])
        self.recall = tf.keras.metrics.Mean(name="recall_at_10")

    # -- building blocks shared with the export ------------------------------------------------------------
    def job_embeddings(self, indices: tf.Tensor) -> tf.Tensor:
        return tf.math.l2_normalize(super().job_embeddings(indices), axis=-1)

    def score(self, user: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
        return self.score_head(user, target)

    def sequence_embeddings(self, batch: dict[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        """The user embedding at every position [B, L, user_dim]."""
        jobs = self.job_embeddings(batch["ctx_job_index"])
        return self.aggregator.sequence(aggregator_inputs(self.query_encoder, self.shapes, batch, jobs),
                                        training=training)

    def call(self, batch: dict[str, tf.Tensor], training: bool | None = None) -> tf.Tensor:
        return self.sequence_embeddings(batch, training)

    # -- training -----------------------------------------------------------------------------------------
    def train_step(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        logs = super().train_step(inputs)
        logs.pop(self.recall.name, None)  # a validation metric: ranking the catalogue costs a step's time
        return logs

    def compute_loss(self, batch: dict[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        cfg = self.config
        k, m = self.shapes.future_targets, self.shapes.negatives
        users = tf.reshape(self.sequence_embeddings(batch, training), [-1, self.user_dim])
        nxt = tf.reshape(batch["next_job_index"], [-1, 1])
        future = tf.reshape(batch["future_job_index"], [-1, k])
        positives = tf.concat([nxt, future], axis=1)  # [P, 1 + K]
        rows = tf.where(tf.reduce_any(positives > 0, axis=1))[:, 0]
        users, positives = tf.gather(users, rows), tf.gather(positives, rows)
        negatives = tf.gather(tf.reshape(batch["negative_job_index"], [-1, m]), rows)
        negative_weight = tf.gather(tf.reshape(batch["negative_weight"], [-1, m]), rows)
        queries = self.score_head.query(users) / cfg.temperature  # [R, D]
        loss = self.softmax_loss(queries, positives)
        if cfg.bce_weight > 0:
            loss += cfg.bce_weight * self.bce_loss(users, positives[:, 0], negatives, negative_weight)
        if not training:
            self.update_recall(queries, positives)
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def softmax_loss(self, queries: tf.Tensor, positives: tf.Tensor) -> tf.Tensor:
        """Mean over (position, positive) pairs of −log softmax against the non-positive candidates."""
        cfg = self.config
        valid = positives > 0
        if cfg.full_softmax:
            ids = tf.range(1, self.n_jobs)
            column = tf.maximum(positives - 1, 0)
            correction = tf.zeros([self.n_jobs - 1])
        else:
            sampled = tf.random.uniform([cfg.sampled_negatives], 1, self.n_jobs, dtype=tf.int32)
            flat = tf.reshape(positives, [-1])
            ids, where = tf.unique(tf.concat([flat, sampled], axis=0))
            column = tf.reshape(where[:tf.size(flat)], tf.shape(positives))
            targets = tf.cast(tf.math.count_nonzero(valid), tf.float32)
            expected = (targets * tf.gather(self.target_probability, ids)
                        + float(cfg.sampled_negatives) / float(self.n_jobs - 1))
            correction = tf.math.log(tf.maximum(expected, 1e-12))
        logits = tf.matmul(queries, self.job_embeddings(ids), transpose_b=True) - correction  # [R, C]
        n_rows = tf.shape(logits)[0]
        pair_rows = tf.repeat(tf.range(n_rows)[:, None], tf.shape(positives)[1], axis=1)
        pairs = tf.stack([tf.boolean_mask(pair_rows, valid), tf.boolean_mask(column, valid)], axis=1)
        hits = tf.scatter_nd(pairs, tf.ones([tf.shape(pairs)[0]], tf.int32), tf.shape(logits)) > 0  # the positives
        if not cfg.full_softmax:  # the padding id 0 may sit among the candidates: never a negative
            hits = tf.logical_or(hits, tf.equal(ids, 0)[tf.newaxis, :])
        negative_lse = tf.reduce_logsumexp(tf.where(hits, tf.fill(tf.shape(logits), -1e9), logits), axis=1)
        positive = tf.gather(logits, column, batch_dims=1)  # [R, 1 + K]
        pair_loss = tf.nn.softplus(negative_lse[:, tf.newaxis] - positive)
        k = tf.shape(positives)[1] - 1
        weight = tf.concat([tf.fill([n_rows, 1], cfg.next_weight), tf.fill([n_rows, k], cfg.future_weight)], axis=1)
        weight *= tf.cast(valid, tf.float32)
        return tf.math.divide_no_nan(tf.reduce_sum(pair_loss * weight), tf.reduce_sum(weight))

    def bce_loss(self, users: tf.Tensor, nxt: tf.Tensor, negatives: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
        """Weighted BCE of the next target (label 1) against the explicit and random negatives (label 0)."""
        jobs = tf.concat([nxt[:, tf.newaxis], negatives], axis=1)  # [R, 1 + M]
        labels = tf.concat([tf.ones_like(nxt, tf.float32)[:, tf.newaxis], tf.zeros_like(weights)], axis=1)
        weight = tf.concat([tf.cast(nxt > 0, tf.float32)[:, tf.newaxis],
                            weights * tf.cast(negatives > 0, tf.float32)], axis=1)
        logits = self.score(tf.repeat(users[:, tf.newaxis], tf.shape(jobs)[1], axis=1), self.job_embeddings(jobs))
        chosen = tf.where(weight > 0)  # the (row, slot) pairs that hold a label
        weight = tf.gather_nd(weight, chosen)
        per_pair = self.ranking(labels=tf.gather_nd(labels, chosen)[:, tf.newaxis],
                                predictions=tf.gather_nd(logits, chosen)[:, tf.newaxis], sample_weight=weight)
        return tf.math.divide_no_nan(tf.reduce_sum(per_pair), tf.reduce_sum(weight))

    def update_recall(self, queries: tf.Tensor, positives: tf.Tensor) -> None:
        """Recall@10 of each position's positives when it ranks the whole catalogue (row 0 excluded)."""
        scores = tf.matmul(queries, self.job_embeddings(tf.range(1, self.n_jobs)), transpose_b=True)
        top = tf.math.top_k(scores, k=min(TOP_K, self.n_jobs - 1)).indices + 1  # [R, 10] job indices
        valid = positives > 0
        unique_positive = tf.logical_and(valid, self._first_occurrence(positives))
        found = tf.reduce_any(tf.equal(positives[:, :, tf.newaxis], top[:, tf.newaxis, :]), axis=2)
        hits = tf.reduce_sum(tf.cast(found & unique_positive, tf.float32), axis=1)
        total = tf.reduce_sum(tf.cast(unique_positive, tf.float32), axis=1)
        self.recall.update_state(hits / tf.maximum(total, 1.0))

    @staticmethod
    def _first_occurrence(values: tf.Tensor) -> tf.Tensor:
        """bool [R, n]: True where ``values[r, i]`` does not occur in ``values[r, :i]`` (the next target may also
        be one of the future ones)."""
        same = tf.equal(values[:, :, tf.newaxis], values[:, tf.newaxis, :])
        n = tf.shape(values)[1]
        earlier = tf.linalg.band_part(tf.ones([n, n], tf.int32), -1, 0) - tf.eye(n, dtype=tf.int32) > 0  # j < i
        return ~tf.reduce_any(same & earlier[tf.newaxis], axis=2)
