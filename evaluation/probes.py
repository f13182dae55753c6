"""Ground-truth probes on synthetic data: does the embedding recover the user's current latent intent?

The generator records each user's latent intent (occupation family) per day (``ground_truth`` table). For
every user with at least ``min_events`` events before the cutoff C, the embedding at C is labelled with the
intent in force on the day before C. A linear probe (standardisation + multinomial logistic regression,
scikit-learn) is fitted on 70% of the stable seekers and explorers (split by a hash of the user id) and
scored on the other 30% (``probe_accuracy``) and on every career changer whose intent has changed at least
once (``career_accuracy``) — users the probe never saw, whose recent consistent intent competes with older,
over-represented activity.

Two model-free baselines put the numbers in context, on the same users: ``majority_category`` (the most
frequent category of the user's jobs before C: the "older over-represented tokens" reading) and
``latest_category`` (the category of the user's latest job event). ``career_older_share`` is the share of
career changers the probe assigns to one of their *earlier* intents.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from evaluation.timelines import DAY_US, Timelines
from jobtrail.job_table_io import load_job_table

if TYPE_CHECKING:
    from evaluation.embedder import Embedder


def load_truth(path: Path, day) -> dict[str, tuple[str, str, int, list[str]]]:
    """user → (kind, intent on ``day``, phase on ``day``, intents of the earlier phases)."""
    ds = pads.partitioning(pa.schema([("ds", pa.date32())]), flavor="hive")
    table = pq.read_table(path, partitioning=ds).select(["user_id", "ds", "user_kind", "intent", "phase"])
    table = table.filter(pc.less_equal(table.column("ds"), pa.scalar(day, pa.date32())))
    rows = table.sort_by([("user_id", "ascending"), ("ds", "ascending")]).to_pylist()
    out: dict[str, tuple[str, str, int, list[str]]] = {}
    earlier: dict[str, list[str]] = {}
    for r in rows:
        user = r["user_id"]
        if user in out and out[user][1] != r["intent"]:
            earlier.setdefault(user, []).append(out[user][1])
        out[user] = (r["user_kind"], r["intent"], r["phase"], earlier.get(user, []))
    return out


class ProbeData:
    """The probe's users, labels, split and baselines for one dataset (model-independent, built once)."""

    def __init__(self, tls: Timelines, truth_path: Path, job_table: Path, cutoff: int, min_events: int = 4) -> None:
        from datetime import datetime, timezone

        day = datetime.fromtimestamp((cutoff - DAY_US) / 1e6, tz=timezone.utc).date()
        truth = load_truth(truth_path, day)
        table, vocab = load_job_table(job_table)
        names = ["(missing)", "(oov)"] + list(vocab["vocabularies"]["category"])
        category = np.array([names[i] for i in table.column("category_id").to_numpy()], dtype=object)
        self.users = sorted(u for u in tls.by_user if u in truth and tls.events_before(u, cutoff) >= min_events)
        self.intent = np.array([truth[u][1] for u in self.users], dtype=object)
        kind = np.array([truth[u][0] for u in self.users], dtype=object)
        changed = np.array([truth[u][2] > 0 for u in self.users])
        in_fit = np.array([zlib.crc32(u.encode()) % 10 < 7 for u in self.users])
        self.fit = (kind != "career_changer") & in_fit
        self.test = (kind != "career_changer") & ~in_fit
        self.career = (kind == "career_changer") & changed
        self.older = [truth[u][3] for u in self.users]
        majority, latest = [], []
        for u in self.users:
            tl = tls.by_user[u]
            jobs = tl.job_index[:tls.events_before(u, cutoff)]
            cats = category[jobs[jobs > 0]]
            cats = cats[(cats != "(missing)") & (cats != "(oov)")]
            values, counts = np.unique(cats, return_counts=True) if len(cats) else (np.array(["?"]), np.array([1]))
            majority.append(values[np.argmax(counts)])
            latest.append(cats[-1] if len(cats) else "?")
        self.baselines = {name: self._scores(np.array(pred, dtype=object))
                          for name, pred in (("majority_category", majority), ("latest_category", latest))}
        self.cutoff = cutoff

    def _scores(self, predicted: np.ndarray) -> dict[str, Any]:
        def acc(mask: np.ndarray) -> float | None:
            return float((predicted[mask] == self.intent[mask]).mean()) if mask.any() else None

        older = [p in o for p, o, c in zip(predicted, self.older, self.career) if c]
        return {"probe_accuracy": acc(self.test), "career_accuracy": acc(self.career),
                "career_older_share": float(np.mean(older)) if older else None,
                "probe_users": int(self.test.sum()), "career_users": int(self.career.sum()),
                "fit_users": int(self.fit.sum())}

    def probe(self, emb: Embedder, tls: Timelines, window: int, seed: int) -> dict[str, Any]:
        """Fit the linear probe on this model's embeddings; accuracy on held-out users and career changers."""
        if self.fit.sum() < 10 or len(np.unique(self.intent[self.fit])) < 2:
            return {"probe_accuracy": None, "career_accuracy": None}
        x = emb.users(tls.contexts([(u, self.cutoff) for u in self.users], window))
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0, random_state=seed))
        probe.fit(x[self.fit], self.intent[self.fit])
        return self._scores(probe.predict(x))


def intent_ceiling(truth_path: Path, job_table: Path, rows: list[tuple[str, int, int, int]]) -> float | None:
    """Downstream AUC of the ground-truth oracle: score 1 when the row's job category is the user's latent
    intent that day, else 0 — what a perfect intent embedding could add to the click ranker, at most."""
    from tf_models.metrics import ranking_metrics

    ds = pads.partitioning(pa.schema([("ds", pa.date32())]), flavor="hive")
    table = pq.read_table(truth_path, partitioning=ds).select(["user_id", "ds", "intent"])
    days = pc.cast(table.column("ds"), pa.int32()).to_numpy()
    intent = dict(zip(zip(table.column("user_id").to_pylist(), days.tolist()), table.column("intent").to_pylist()))
    side, vocab = load_job_table(job_table)
    names = ["(missing)", "(oov)"] + list(vocab["vocabularies"]["category"])
    category = [names[i] for i in side.column("category_id").to_numpy()]
    score = np.array([float(category[job] == intent.get((user, ts // DAY_US))) for user, ts, job, _ in rows])
    return ranking_metrics(np.array([r[3] for r in rows]), score, np.ones(len(rows)))["auc"] if rows else None
