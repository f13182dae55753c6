"""Score held-out examples with an exported SavedModel — exactly what serving computes, plus the trained head.

    labels, logits, weights, kinds = score_examples("out/saved_model", "data/examples/w32", split="validation")

Job embeddings come from ``encode_jobs`` on the examples' side table (once), user embeddings from
``encode_users`` in batches, logits from the ``score`` signature.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from jobtrail.errors import DataContractError
from jobtrail.job_table_io import job_table_arrays, load_job_table
from tf_models import data
from tf_models.signatures import (CONTEXT_FEATURES, ENCODE_JOBS, ENCODE_USERS, JOB_EMBEDDING, JOB_FEATURES,
                                  USER_EMBEDDING, read_metadata)


def load(model_dir: str | Path):
    return tf.saved_model.load(str(model_dir))


def encode_jobs(model, job_table: str | Path) -> tf.Tensor:
    """[N, D] job embeddings of a side table (rows = job_index)."""
    table, _ = load_job_table(job_table)
    arrays = job_table_arrays(table)
    return model.signatures[ENCODE_JOBS](**{n: tf.constant(arrays[n]) for n in JOB_FEATURES})[JOB_EMBEDDING]


def check_shapes(model_dir: str | Path, examples: str | Path, shapes: data.Shapes) -> None:
    """DataContractError unless ``examples`` were cut with the window and query tokens the model was trained on."""
    meta = read_metadata(model_dir)
    if shapes.context_length != meta["context_length"] or shapes.query_tokens != meta["query_tokens"]:
        raise DataContractError(
            f"examples {examples} have contexts of {shapes.context_length}×{shapes.query_tokens} but the model "
            f"{model_dir} was trained on {meta['context_length']}×{meta['query_tokens']}; cut them with "
            f"--window {meta['window']}")


def score_examples(model_dir: str | Path, examples: str | Path, *, split: str = "validation",
                   job_table: str | Path | None = None, batch_size: int = 4096):
    """(labels, logits, weights, label-kind ids) of every example of ``split``, scored by the SavedModel."""
    files = data.example_files(examples, split)
    shapes = data.read_shapes(files)
    check_shapes(model_dir, examples, shapes)
    model = load(model_dir)
    jobs = encode_jobs(model, job_table or Path(examples) / "job_side_table")
    parts = []
    for path in files:
        for chunk in data.read_file(path, shapes, chunk_rows=batch_size):
            user = model.signatures[ENCODE_USERS](job_embeddings=jobs,
                                                  **{n: tf.constant(chunk[n]) for n in CONTEXT_FEATURES})
            target = tf.gather(jobs, chunk["target_job_index"])
            logit = model.signatures["score"](user_embedding=user[USER_EMBEDDING], job_embedding=target)["logit"]
            parts.append((chunk["label"], logit.numpy(), chunk["weight"], chunk["label_kind"]))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))


def retrieve_sequences(model_dir: str | Path, examples: str | Path, *, split: str = "validation",
                       job_table: str | Path | None = None, k: int = 10,
                       batch_size: int = 2048) -> dict[str, float | int | None]:
    """The gate's task on training sequences: each row's last position ranks the whole catalogue.

    For the validation split (``spark_jobs/examples.py --format sequences``) a row is one user's context as of
    ``valid_from``, exactly an inference input, and its targets are the positives of the horizon after it
    (the next one and the future window's). Returns ``recall@10`` / ``ndcg@10`` (means over users),
    ``recall_new@10`` (the targets not in the user's context only: a model that re-recommends what the user
    already saw scores nothing there), ``coverage@10`` (P90 coverage of the top-10 lists), ``users``, and the
    proxy ``auc`` of the next target against the row's dismisses and random negatives (the ``score`` logit).
    Scored through the SavedModel.
    """
    from tf_models import sequence_data
    from tf_models.metrics import _auc, top_k  # scikit-learn loads only when a model is scored

    shapes = sequence_data.read_shapes(sequence_data.sequence_files(examples, split))
    check_shapes(model_dir, examples, shapes)
    model = load(model_dir)
    jobs = encode_jobs(model, job_table or Path(examples) / "job_side_table")
    job_matrix = jobs.numpy().astype(np.float64)
    summary = _RetrievalSummary(k, len(job_matrix) - 1)
    labels, logits, weights = [], [], []
    for chunk, targets, last in _last_positions(examples, split, shapes, batch_size):
        users = model.signatures[ENCODE_USERS](job_embeddings=jobs,
                                               **{n: tf.constant(chunk[n]) for n in CONTEXT_FEATURES})[USER_EMBEDDING]
        scores = _all_scores(model, users, job_matrix)
        summary.add(top_k(scores, k, exclude=[np.array([0])] * len(last)), targets, chunk["ctx_job_index"])
        rows = np.arange(len(last))
        negatives = chunk["negative_job_index"].reshape(len(rows), shapes.context_length, -1)[rows, last]
        negative_weight = chunk["negative_weight"].reshape(len(rows), shapes.context_length, -1)[rows, last]
        for r in rows:
            if targets[r, 0] > 0:
                chosen = np.concatenate([[targets[r, 0]], negatives[r][negative_weight[r] > 0]])
                labels.extend([1] + [0] * (len(chosen) - 1))
                weights.extend([1.0] + list(negative_weight[r][negative_weight[r] > 0]))
                logits.extend(scores[r, chosen])
    return {**summary.result(), "auc": _auc(np.array(labels), np.array(logits), np.array(weights)) if labels else None}


def popularity_sequences(examples: str | Path, *, split: str = "validation", job_table: str | Path | None = None,
                         k: int = 10, batch_size: int = 2048) -> dict[str, float | int | None]:
    """The popularity ranking on the gate's task: every user gets the jobs that were most often a target
    (next or future) in the train split, ties by job index. The same keys as :func:`retrieve_sequences` but
    ``auc``: the baseline a model must beat before it may be promoted."""
    from tf_models import sequence_data

    shapes = sequence_data.read_shapes(sequence_data.sequence_files(examples, split))
    n_jobs = load_job_table(job_table or Path(examples) / "job_side_table")[0].num_rows
    counts = sequence_data.target_counts(sequence_data.sequence_files(examples, "train"), n_jobs)
    counts[0] = -np.inf  # the padding row is never recommended
    ranked = np.argsort(-counts, kind="stable")[:k]
    summary = _RetrievalSummary(k, n_jobs - 1)
    for chunk, targets, last in _last_positions(examples, split, shapes, batch_size):
        summary.add(np.tile(ranked, (len(last), 1)), targets, chunk["ctx_job_index"])
    return summary.result()


def _last_positions(examples: str | Path, split: str, shapes, batch_size: int):
    """(chunk, targets [B, 1 + K], last position [B]) of every chunk of ``split``: a row's targets are those of
    its last position (on the validation split, the horizon after ``valid_from``)."""
    from tf_models import sequence_data

    for path in sequence_data.sequence_files(examples, split):
        for chunk in sequence_data.read_file(path, shapes, chunk_rows=batch_size):
            last = np.maximum(chunk["context_length"] - 1, 0)
            rows = np.arange(len(last))
            targets = np.concatenate([chunk["next_job_index"][rows, last, None],
                                      chunk["future_job_index"].reshape(len(rows), shapes.context_length, -1)[rows, last]],
                                     axis=1)
            yield chunk, targets, last


class _RetrievalSummary:
    """Recall@k / NDCG@k (means over the rows with a target) and P90 coverage@k of their top-k lists; and
    ``recall_new@k``: the same recall over the targets that are not in the row's context (jobs new to the user,
    as far as the context reaches), averaged over the rows that have one."""

    def __init__(self, k: int, n_items: int) -> None:
        self.k, self.n_items = k, n_items
        self.recalls: list[float] = []
        self.ndcgs: list[float] = []
        self.new_recalls: list[float] = []
        self.tops: list[np.ndarray] = []

    def add(self, ranked: np.ndarray, targets: np.ndarray, seen: np.ndarray) -> None:
        from tf_models.metrics import ndcg_at_k, recall_at_k

        for top, row, context in zip(ranked, targets, seen):
            relevant = set(int(j) for j in row if j > 0)
            if relevant:
                self.recalls.append(recall_at_k(top, relevant, self.k))
                self.ndcgs.append(ndcg_at_k(top, relevant, self.k))
                self.tops.append(top)
                new = relevant - set(int(j) for j in context)
                if new:
                    self.new_recalls.append(recall_at_k(top, new, self.k))

    def result(self) -> dict[str, float | int | None]:
        from tf_models.metrics import coverage_at_k

        return {f"recall@{self.k}": float(np.mean(self.recalls)) if self.recalls else None,
                f"ndcg@{self.k}": float(np.mean(self.ndcgs)) if self.ndcgs else None,
                f"recall_new@{self.k}": float(np.mean(self.new_recalls)) if self.new_recalls else None,
                f"coverage@{self.k}": coverage_at_k(np.array(self.tops), self.n_items) if self.tops else None,
                "users": len(self.recalls), "users_new": len(self.new_recalls)}


def _all_scores(model, users: tf.Tensor, job_matrix: np.ndarray) -> np.ndarray:
    """``score`` of every (user, job) pair [B, N]: the head is linear in the job (q(u)·j + b), read off once."""
    q, bias = linear_queries(model, np.asarray(users), job_matrix)
    return q @ job_matrix.T + bias


def pair_logits(model, users: np.ndarray, jobs: np.ndarray, batch: int = 16_384) -> np.ndarray:
    """The ``score`` signature on (user embedding, job embedding) pairs → logits [B]."""
    out = [model.signatures["score"](user_embedding=tf.constant(users[i:i + batch], tf.float32),
                                     job_embedding=tf.constant(jobs[i:i + batch], tf.float32))["logit"]
           for i in range(0, len(users), batch)]
    return np.concatenate([np.asarray(o) for o in out]) if out else np.zeros(0, np.float32)


def linear_queries(model, users: np.ndarray, jobs: np.ndarray) -> tuple[np.ndarray, float]:
    """(q [B, D], b) with ``score(u, j) = q(u)·j + b``, read off the ``score`` signature (D + 1 probes per user)
    and verified on random (user, job) pairs of ``jobs`` [N, D]; a head that is not linear in the job raises."""
    d = jobs.shape[1]
    probes = np.vstack([np.zeros((1, d), np.float32), np.eye(d, dtype=np.float32)])  # 0, e_1 .. e_D
    qs, bias = [], 0.0
    step = max(1, 16_384 // (d + 1))
    for i in range(0, len(users), step):
        chunk = users[i:i + step]
        logits = pair_logits(model, np.repeat(chunk, d + 1, axis=0), np.tile(probes, (len(chunk), 1)))
        logits = logits.reshape(len(chunk), d + 1).astype(np.float64)
        bias = float(logits[0, 0]) if len(chunk) else bias
        qs.append(logits[:, 1:] - logits[:, :1])
    q = np.concatenate(qs) if qs else np.zeros((0, d))
    if len(users):
        rng = np.random.default_rng(0)
        rows = rng.integers(len(users), size=min(64, len(users)))
        cols = rng.integers(len(jobs), size=len(rows))
        direct = pair_logits(model, users[rows], jobs[cols].astype(np.float32)).astype(np.float64)
        via_q = (q[rows] * jobs[cols]).sum(axis=1) + bias
        if not np.allclose(direct, via_q, rtol=1e-3, atol=1e-3 * (1 + np.abs(direct).max())):
            raise DataContractError("the model's score head is not linear in the job embedding; "
                                    "score the catalogue pair by pair instead")
    return q, bias
