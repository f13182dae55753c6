"""Export a trained model as one SavedModel with the signatures of :mod:`tf_models.signatures`.

    export_model(model, "out/saved_model", vocab=vocab, metadata={...})
    loaded = tf.saved_model.load("out/saved_model")
    jobs = loaded.signatures["encode_jobs"](**job_features)["job_embedding"]
    users = loaded.signatures["encode_users"](job_embeddings=jobs, **context)["user_embedding"]

Both objectives export the same way: ``encode_users`` is the aggregator's last-position output (the function
the dense objective trains at every position); a dense model's ``encode_jobs`` returns L2-normalised job
embeddings and its ``score`` is ``q(user)·job + b`` (:class:`tf_models.sequence_model.QueryHead`).
The SavedModel holds only the encoders, the aggregator and the scoring head (not the training side table):
``encode_jobs`` embeds any side table built with the same vocabulary, and ``encode_users`` gathers from the
job embedding matrix it is given, so batch inference computes job embeddings once per run. A third
signature, ``score`` (``user_embedding`` [B, U], ``job_embedding`` [B, D] → ``logit`` [B]), lets the
promotion gate and the evaluation score held-out targets with exactly the trained head.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import tensorflow as tf

from tf_models.model import NextActionModel, score, user_embedding
from tf_models.sequence_model import QueryHead
from tf_models.signatures import (CONTEXT_FLOAT_FEATURES, CONTEXT_INT_FEATURES, ENCODE_JOBS, ENCODE_USERS,
                                  JOB_EMBEDDING, JOB_FLOAT_FEATURES, JOB_ID_FEATURE, JOB_INT_FEATURES, METADATA_FILE,
                                  USER_EMBEDDING, VOCAB_ASSET)

SCORE = "score"


def _job_spec(vocab: dict[str, Any]) -> dict[str, tf.TensorSpec]:
    tokens = vocab["tokens"]
    spec = {"title_tokens": tf.TensorSpec([None, tokens["title_length"]], tf.int32, name="title_tokens"),
            "skill_tokens": tf.TensorSpec([None, tokens["skill_length"]], tf.int32, name="skill_tokens")}
    spec |= {n: tf.TensorSpec([None], tf.int32, name=n) for n in JOB_INT_FEATURES + (JOB_ID_FEATURE,)}
    spec |= {n: tf.TensorSpec([None], tf.float32, name=n) for n in JOB_FLOAT_FEATURES}
    return spec


def _context_spec(length: int, query_tokens: int) -> dict[str, tf.TensorSpec]:
    spec = {n: tf.TensorSpec([None, length], tf.int32, name=n) for n in CONTEXT_INT_FEATURES}
    spec |= {n: tf.TensorSpec([None, length], tf.float32, name=n) for n in CONTEXT_FLOAT_FEATURES}
    spec["ctx_query_tokens"] = tf.TensorSpec([None, length * query_tokens], tf.int32, name="ctx_query_tokens")
    spec["context_length"] = tf.TensorSpec([None], tf.int32, name="context_length")
    return spec


class ExportedModel(tf.Module):
    """The serving half of a :class:`NextActionModel`: encoders, aggregator and head, with three signatures."""

    def __init__(self, model: NextActionModel) -> None:
        super().__init__(name="jobtrail_model")
        self.job_encoder, self.query_encoder = model.job_encoder, model.query_encoder
        self.aggregator, self.score_head = model.aggregator, model.score_head
        self._shapes, self._job_dim, self._user_dim = model.shapes, model.config.job_dim, model.user_dim
        self._dense = isinstance(model.score_head, QueryHead)  # dense objective: unit jobs, q(u)·j + b

    def encode_jobs(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        jobs = self.job_encoder(features, training=False)
        return {JOB_EMBEDDING: tf.math.l2_normalize(jobs, axis=-1) if self._dense else jobs}

    def encode_users(self, job_embeddings: tf.Tensor, context: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        gathered = tf.gather(job_embeddings, context["ctx_job_index"])
        return {USER_EMBEDDING: user_embedding(self.query_encoder, self.aggregator, self._shapes, context,
                                               gathered, training=False)}

    def score(self, user: tf.Tensor, job: tf.Tensor) -> dict[str, tf.Tensor]:
        if self._dense:
            return {"logit": self.score_head(user, job)}
        return {"logit": score(self.score_head, user, job, job_dim=self._job_dim)}


def export_model(model: NextActionModel, path: str | Path, *, vocab: dict[str, Any],
                 metadata: dict[str, Any]) -> Path:
    """Write ``model``'s SavedModel, ``jobtrail_model.json`` (``metadata`` + shapes) and the vocabulary asset.

    ``path`` is replaced. Returns it.
    """
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    module = ExportedModel(model)
    length, q, d = model.shapes.context_length, model.shapes.query_tokens, model.config.job_dim
    encode_jobs = tf.function(module.encode_jobs).get_concrete_function(_job_spec(vocab))
    encode_users = tf.function(module.encode_users).get_concrete_function(
        tf.TensorSpec([None, d], tf.float32, name="job_embeddings"), _context_spec(length, q))
    score_fn = tf.function(module.score).get_concrete_function(
        tf.TensorSpec([None, model.user_dim], tf.float32, name="user_embedding"),
        tf.TensorSpec([None, d], tf.float32, name="job_embedding"))
    tf.saved_model.save(module, str(path), signatures={ENCODE_JOBS: encode_jobs, ENCODE_USERS: encode_users,
                                                       SCORE: score_fn})
    (path / VOCAB_ASSET).parent.mkdir(parents=True, exist_ok=True)
    (path / VOCAB_ASSET).write_text(json.dumps(vocab, indent=2) + "\n")
    tokens = vocab["tokens"]
    meta = {**metadata, "aggregator": model.config.aggregator, "job_dim": d, "user_dim": model.user_dim,
            "window": length + 1, "context_length": length, "query_tokens": q,
            "title_length": tokens["title_length"], "skill_length": tokens["skill_length"],
            "token_buckets": tokens["buckets"], "normalisation": "none", "config": model.config.to_dict(),
            "objective": model.config.objective, "job_normalisation": "l2" if module._dense else "none"}
    (path / METADATA_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return path
