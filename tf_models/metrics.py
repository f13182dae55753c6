"""Proxy-task metrics, one definition for training reports, the promotion gate and the evaluation harness.

``ranking_metrics(labels, logits, weights, kinds)`` → ROC-AUC and log loss (weighted by the examples'
label weights), overall and per negative kind: ``auc_dismiss`` ranks positives against dismissed jobs,
``auc_random_negative`` against random negatives (``kinds`` are ``LABEL_KINDS`` indices).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

from jobtrail.contracts import LABEL_KINDS

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
