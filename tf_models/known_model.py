"""A tiny SavedModel with an exact formula, exported with the jobtrail signatures: for tests, demos, benchmarks.

It serves the same contract as a trained model (:mod:`tf_models.signatures`: ``encode_jobs``,
``encode_users``, ``jobtrail_model.json``), so batch inference, the DAGs and the benchmarks can run
without training anything, and tests can state the exact rows they expect:

- ``encode_jobs``: ``job_embedding = [company_id, location_id, category_id, seniority_norm] @ eye(4, job_dim)``
  (float32; the padding row 0 of a side table maps to zeros);
- ``encode_users``: the mean of the job embeddings of the first ``context_length`` positions (search
  events, job index 0, count as zeros), times ``eye(job_dim, user_dim)``; an empty context gives zeros.

``hidden_layers > 0`` inserts that many fixed residual layers ``x + tanh(x @ W)`` (seeded random ``W``)
per position before pooling, to give benchmarks a model with realistic compute; the output is then
deterministic but no longer a simple formula.

    from tf_models.known_model import build_known_model, known_user_embedding
    model_dir = build_known_model(tmp_path / "model", context_length=7, query_tokens=4)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import tf_models  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from tf_models.signatures import (CONTEXT_FLOAT_FEATURES, CONTEXT_INT_FEATURES, ENCODE_JOBS, ENCODE_USERS,
                                  JOB_EMBEDDING, JOB_FLOAT_FEATURES, JOB_ID_FEATURE, JOB_INT_FEATURES, METADATA_FILE,
                                  USER_EMBEDDING)

JOB_FORMULA_FEATURES = ("company_id", "location_id", "category_id", "seniority_norm")


def known_job_embeddings(features: dict[str, np.ndarray], job_dim: int = 4) -> np.ndarray:
    """The known model's ``encode_jobs`` in numpy (for expected values in tests)."""
    raw = np.stack([np.asarray(features[n], np.float32) for n in JOB_FORMULA_FEATURES], axis=1)
    return raw @ np.eye(len(JOB_FORMULA_FEATURES), job_dim, dtype=np.float32)


def known_user_embedding(job_embeddings: np.ndarray, job_indices: list[int], user_dim: int | None = None) -> np.ndarray:
    """The known model's ``encode_users`` for one user's real context positions (no hidden layers)."""
    dim = job_embeddings.shape[1]
    pooled = job_embeddings[np.asarray(job_indices, np.int64)].mean(axis=0) if job_indices else np.zeros(dim, np.float32)
    return (pooled.astype(np.float32) @ np.eye(dim, user_dim or dim, dtype=np.float32)).astype(np.float32)


def build_known_model(
    path: str | Path,
    *,
    context_length: int = 31,
    query_tokens: int = 4,
    title_length: int = 8,
    skill_length: int = 16,
    job_dim: int = 4,
    user_dim: int | None = None,
    hidden_layers: int = 0,
    model_name: str = "known_mean",
    seed: int = 7,
) -> Path:
    """Export the known model to ``path`` (replaced if present) with its ``jobtrail_model.json``; return ``path``."""
    import shutil

    import tensorflow as tf

    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    user_dim = user_dim or job_dim
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 1 / np.sqrt(job_dim), (job_dim, job_dim)).astype(np.float32) for _ in range(hidden_layers)]

    class KnownModel(tf.Module):
        def __init__(self) -> None:
            super().__init__(name="known_model")
            self.job_map = tf.constant(np.eye(len(JOB_FORMULA_FEATURES), job_dim, dtype=np.float32))
            self.user_map = tf.constant(np.eye(job_dim, user_dim, dtype=np.float32))
            self.layers = [tf.constant(w) for w in weights]

        def encode_jobs(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
            raw = tf.stack([tf.cast(features[n], tf.float32) for n in JOB_FORMULA_FEATURES], axis=1)
            return {JOB_EMBEDDING: tf.matmul(raw, self.job_map)}

        def encode_users(self, job_embeddings: tf.Tensor, context: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
            x = tf.gather(job_embeddings, context["ctx_job_index"])  # [B, L, D]
            for w in self.layers:
                x = x + tf.tanh(tf.einsum("bld,de->ble", x, w))
            mask = tf.sequence_mask(context["context_length"], context_length, dtype=tf.float32)[..., None]
            count = tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
            pooled = tf.reduce_sum(x * mask, axis=1) / count
            return {USER_EMBEDDING: tf.matmul(pooled, self.user_map)}

    job_spec = {"title_tokens": tf.TensorSpec([None, title_length], tf.int32, name="title_tokens"),
                "skill_tokens": tf.TensorSpec([None, skill_length], tf.int32, name="skill_tokens")}
    job_spec |= {n: tf.TensorSpec([None], tf.int32, name=n) for n in JOB_INT_FEATURES + (JOB_ID_FEATURE,)}
    job_spec |= {n: tf.TensorSpec([None], tf.float32, name=n) for n in JOB_FLOAT_FEATURES}
    ctx_spec = {n: tf.TensorSpec([None, context_length], tf.int32, name=n) for n in CONTEXT_INT_FEATURES}
    ctx_spec |= {n: tf.TensorSpec([None, context_length], tf.float32, name=n) for n in CONTEXT_FLOAT_FEATURES}
    ctx_spec["ctx_query_tokens"] = tf.TensorSpec([None, context_length * query_tokens], tf.int32, name="ctx_query_tokens")
    ctx_spec["context_length"] = tf.TensorSpec([None], tf.int32, name="context_length")

    module = KnownModel()
    jobs_fn = tf.function(module.encode_jobs).get_concrete_function(job_spec)
    users_fn = tf.function(module.encode_users).get_concrete_function(
        tf.TensorSpec([None, job_dim], tf.float32, name="job_embeddings"), ctx_spec)
    tf.saved_model.save(module, str(path), signatures={ENCODE_JOBS: jobs_fn, ENCODE_USERS: users_fn})
    meta = {"model_name": model_name, "aggregator": "known_mean", "job_dim": job_dim, "user_dim": user_dim,
            "window": context_length + 1, "context_length": context_length, "query_tokens": query_tokens,
            "title_length": title_length, "skill_length": skill_length, "normalisation": "none",
            "params": {"hidden_layers": hidden_layers, "seed": seed}, "metrics": {}}
    (path / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return path
