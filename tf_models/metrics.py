"""Proxy-task metrics, one definition for training reports, the promotion gate and the evaluation harness.

``ranking_metrics(labels, logits, weights, kinds)`` → ROC-AUC and log loss (weighted by the examples'
label weights), overall and per negative kind: ``auc_dismiss`` ranks positives against dismissed jobs,
``auc_random_negative`` against random negatives (``kinds`` are ``LABEL_KINDS`` indices).

Retrieval and ranking metrics of the evaluation harness (``jobtrail evaluate``) live here too, so there is one
metric module: :func:`top_k`, :func:`recall_at_k`, :func:`ndcg_at_k`, :func:`coverage_at_k` (P90 coverage),
:func:`rank_of_target` + :func:`hit_ndcg_at_k` (SASRec protocol), :func:`relative_lift`, :func:`mean_sd`.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

from jobtrail.tables import LABEL_KINDS

PRIMARY = "auc"
"""The metric the promotion gate compares (higher is better)."""


def _auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float | None:
    if len(np.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels, scores, sample_weight=weights))


def ranking_metrics(labels: np.ndarray, logits: np.ndarray, weights: np.ndarray,
                    kinds: np.ndarray | None = None) -> dict[str, float | int | None]:
    """AUC / log loss overall and per label kind; ``None`` where a metric is undefined (one class only)."""
    labels, logits, weights = np.asarray(labels), np.asarray(logits, np.float64), np.asarray(weights)
    probability = 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))
    out: dict[str, float | int | None] = {
        "examples": int(len(labels)), PRIMARY: _auc(labels, logits, weights),
        "log_loss": float(log_loss(labels, probability, sample_weight=weights, labels=[0, 1])) if len(labels) else None,
    }
    if kinds is not None:
        positive = labels == 1
        for i, kind in enumerate(LABEL_KINDS[1:], start=1):
            rows = positive | (np.asarray(kinds) == i)
            out[f"auc_{kind}"] = _auc(labels[rows], logits[rows], weights[rows])
    return out


# -------------------------------------------------------------------------------------- retrieval metrics
# Used by the evaluation harness (evaluation/) for retrieval against the whole catalogue, the freshness
# curve, the SASRec protocol and the downstream lift; unit-tested against hand-computed examples in
# tests/evaluation/test_metrics.py.

def top_k(scores: np.ndarray, k: int, exclude: list[np.ndarray] | None = None) -> np.ndarray:
    """Indices [B, k] of the ``k`` highest ``scores`` [B, N] per row, best first (ties: lower index first).

    ``exclude[b]`` (item indices) are never returned for row ``b`` (e.g. the padding row, already-applied jobs).
    """
    scores = np.array(scores, np.float64, copy=True)
    if exclude is not None:
        for b, items in enumerate(exclude):
            if len(items):
                scores[b, np.asarray(items, np.int64)] = -np.inf
    k = min(k, scores.shape[1])
    if not len(scores) or not k:
        return np.zeros((len(scores), k), np.int64)
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]  # each row's k-th highest score
    above, tied = scores > kth, scores == kth
    needed = k - above.sum(axis=1, keepdims=True)  # ties at the boundary: the lowest indices, not argpartition's pick
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= needed))
    part = np.nonzero(chosen)[1].reshape(len(scores), k)
    order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)


def recall_at_k(ranked: np.ndarray, relevant: set[int] | np.ndarray, k: int = 10) -> float | None:
    """|top-k ∩ relevant| / |relevant| for one user; None without relevant items."""
    relevant = set(int(r) for r in relevant)
    if not relevant:
        return None
    return len(relevant.intersection(int(i) for i in ranked[:k])) / len(relevant)


def ndcg_at_k(ranked: np.ndarray, relevant: set[int] | np.ndarray, k: int = 10) -> float | None:
    """Binary NDCG@k for one user: Σ_{i<k, ranked_i relevant} 1/log2(i+2), divided by the ideal DCG
    (min(k, |relevant|) hits at the top); None without relevant items."""
    relevant = set(int(r) for r in relevant)
    if not relevant:
        return None
    dcg = sum(1.0 / np.log2(i + 2) for i, item in enumerate(ranked[:k]) if int(item) in relevant)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return float(dcg / ideal)


def coverage_at_k(top_lists: np.ndarray, n_items: int, share: float = 0.9) -> float | None:
    """P90 coverage@k: the fewest distinct items that fill ``share`` of all top-k slots, over ``n_items``.

    ``top_lists`` [U, k]: everyone's top k. A collapse onto a few popular items gives a value near 0; top
    lists spread evenly over the whole catalogue give ``share``. None without lists.
    """
    flat = np.asarray(top_lists).reshape(-1)
    if not flat.size or n_items <= 0:
        return None
    counts = np.sort(np.unique(flat, return_counts=True)[1])[::-1]
    needed = int(np.searchsorted(np.cumsum(counts), share * flat.size - 1e-9) + 1)
    return needed / n_items


def rank_of_target(target_score: np.ndarray, candidate_scores: np.ndarray) -> np.ndarray:
    """0-based rank of each row's target among its candidates: how many candidates score strictly higher,
    plus half the ties (so a constant scorer ranks the target in the middle, not first)."""
    target = np.asarray(target_score, np.float64)[:, None]
    candidates = np.asarray(candidate_scores, np.float64)
    return (candidates > target).sum(axis=1) + 0.5 * (candidates == target).sum(axis=1)


def hit_ndcg_at_k(ranks: np.ndarray, k: int = 10) -> dict[str, float | None]:
    """HR@k and NDCG@k of one target per row from its 0-based rank (the SASRec protocol's metrics)."""
    ranks = np.asarray(ranks, np.float64)
    if not ranks.size:
        return {f"hr@{k}": None, f"ndcg@{k}": None}
    hit = ranks < k
    return {f"hr@{k}": float(hit.mean()),
            f"ndcg@{k}": float(np.where(hit, 1.0 / np.log2(np.floor(ranks) + 2), 0.0).mean())}


def relative_lift(with_embedding: float | None, without: float | None) -> float | None:
    """Relative lift of a metric (e.g. downstream ROC-AUC): (with − without) / without; +0.035 = +3.5%."""
    if with_embedding is None or without is None or without == 0:
        return None
    return (with_embedding - without) / without


def mean_sd(values: list[float | None]) -> tuple[float | None, float | None, int]:
    """(mean, sample standard deviation, n) over the defined values (sd None below two values)."""
    defined = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if not defined.size:
        return None, None, 0
    sd = float(defined.std(ddof=1)) if defined.size > 1 else None
    return float(defined.mean()), sd, int(defined.size)
