"""One exported model, ready to embed users and score jobs — through its SavedModel signatures only.

    emb = Embedder(model_dir, job_table)
    users = emb.users(contexts)             # encode_users → [B, user_dim]
    scores = emb.scores(users)              # every job: the trained `score` head's logit, [B, N]

Retrieval scores all jobs with the model's own ``score`` signature (logit = dense(user ⊙ job)), not a raw
dot product: a mean/decay user embedding is three D-vectors and has no dot product with one job vector,
and the trained head is what the proxy task and the promotion gate measure. The head is linear in the job
embedding, so ``score(u, j) = q(u) · j + b``; :meth:`queries` reads ``q(u)`` and ``b`` off the ``score``
signature (D + 1 probe calls per user batch) and checks the identity on random pairs, after which a whole
catalogue is scored as one matrix product. A non-linear head fails that check loudly instead of being
mis-scored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from jobtrail.errors import DataContractError
from jobtrail.job_table_io import job_table_arrays, load_job_table
from tf_models.scoring import linear_queries, pair_logits
from tf_models.serving import ModelSpec, encode_jobs, encode_users, load_model

BATCH = 2048


class Embedder:
    """A SavedModel and the job embeddings of one side table."""

    def __init__(self, model_dir: str | Path, job_table: str | Path) -> None:
        self.spec = ModelSpec.from_dir(model_dir)
        self.model = load_model(model_dir)
        table, vocab = load_job_table(job_table)
        self.spec.check_side_table(vocab, str(job_table))
        self.jobs = encode_jobs(self.model, job_table_arrays(table), self.spec)
        self._jobs_tf = tf.constant(self.jobs)

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    def users(self, contexts: dict[str, np.ndarray]) -> np.ndarray:
        """``encode_users`` on stacked contexts, in batches → [B, user_dim]."""
        n = len(contexts["context_length"])
        parts = [encode_users(self.model, self._jobs_tf, {k: v[i:i + BATCH] for k, v in contexts.items()}, self.spec)
                 for i in range(0, n, BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, self.spec.user_dim), np.float32)

    def pair_logits(self, users: np.ndarray, jobs: np.ndarray) -> np.ndarray:
        """The ``score`` signature on (user embedding, job embedding) pairs → logits [B]."""
        return pair_logits(self.model, users, jobs)

    def queries(self, users: np.ndarray) -> tuple[np.ndarray, float]:
        """(q [B, D], b) with ``score(u, j) = q(u)·j + b``, read off the ``score`` signature and verified."""
        return linear_queries(self.model, users, self.jobs)

    def scores(self, users: np.ndarray) -> np.ndarray:
        """Logits of every job (side-table row) for each user → [B, N]; row 0 (padding) included."""
        q, bias = self.queries(users)
        return q @ self.jobs.T.astype(np.float64) + bias
