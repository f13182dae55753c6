"""Train one (dataset, variant, seed) with ``jobtrail train`` and measure it — one result row per run.

    row = run_variant(ctx, Variant("transformer"), seed=1, out=work / "runs" / ...)

Training goes through :func:`tf_models.train.parse_args` / :func:`tf_models.train.run` (the CLI's own code,
MLflow off); a finished run (``row.json`` next to its SavedModel) is reused. Every row holds:

- ``proxy``: :func:`tf_models.metrics.ranking_metrics` of the test split (targets in the horizon), scored by
  the SavedModel (:func:`tf_models.scoring.score_examples`) — the promotion gate's code;
- ``retrieval`` / ``freshness`` / ``cosine``: :mod:`evaluation.retrieval`;
- ``downstream``: :mod:`evaluation.downstream`; ``probe``: :mod:`evaluation.probes` (synthetic data);
- ``storage``: bytes per user — ``user_dim`` float32 values, and the measured size of the embeddings at the
  cutoff in a zstd-compressed Parquet file (what the Delta feature table stores) divided by the users.

Every variant trains on its own data (``Variant.examples_key``: per-position sequences for the dense and next
objectives, one-target windows for ``next-action``); the proxy reads the W = 32 windows' test split for all.
The window-length and ablation variants skip freshness, cosine, probe and the Parquet size (the report
shows those for the W = 32 aggregators only), which keeps the small preset within its time budget.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from evaluation import retrieval
from evaluation.config import BASE_WINDOW, TrainSpec, Variant
from evaluation.datasets import Prepared, day_us
from evaluation.downstream import Downstream
from evaluation.embedder import Embedder
from evaluation.probes import ProbeData, intent_ceiling
from evaluation.timelines import Timelines
from jobtrail.errors import JobtrailError
from jobtrail.tables import LABEL_KINDS
from tf_models.metrics import ranking_metrics
from tf_models.scoring import score_examples

POSITIVES = ("apply", "save")


@dataclass
class DatasetContext:
    """A prepared dataset with what every run's evaluation shares (timelines, label rows, probe users)."""

    prepared: Prepared
    train: TrainSpec
    decay_grid: tuple[float, ...]
    timelines: Timelines | None = None
    downstream: Downstream | None = None
    probes: ProbeData | None = None
    baseline: dict[str, Any] | None = None

    def load(self) -> "DatasetContext":
        spec = self.prepared.spec
        if self.timelines is None:
            self.timelines = Timelines.load(self.prepared.sequences)
            self.downstream = Downstream.build(self.timelines, self.prepared.job_table, spec.downstream,
                                               self.cutoff, self.horizon_end)
            if self.prepared.ground_truth is not None:
                self.probes = ProbeData(self.timelines, self.prepared.ground_truth, self.prepared.job_table,
                                        self.cutoff)
                self.probes.baselines["downstream_ceiling_auc"] = intent_ceiling(
                    self.prepared.ground_truth, self.prepared.job_table, self.downstream.rows)
            self.baseline = popularity_baseline(self)
        return self

    @property
    def cutoff(self) -> int:
        return day_us(self.prepared.spec.cutoff)

    @property
    def horizon_end(self) -> int:
        return day_us(self.prepared.spec.horizon_end)


def popularity_baseline(ctx: "DatasetContext") -> dict[str, Any]:
    """The no-model row: jobs ranked by their positives in the 14 days before the cutoff, for the proxy task
    (the target job's popularity as its score), retrieval and freshness."""
    tls = ctx.timelines
    n_jobs = pq.ParquetFile(next(ctx.prepared.job_table.glob("*.parquet"))).metadata.num_rows
    pop = retrieval.Popularity(tls, n_jobs, ctx.cutoff, POSITIVES)
    files = sorted((ctx.prepared.examples(f"w{BASE_WINDOW}") / "examples" / "split=test").glob("*.parquet"))
    test = pa.concat_tables([pq.read_table(f, columns=["target_job_index", "label", "weight", "label_kind"])
                             for f in files])
    kinds = np.array([LABEL_KINDS.index(k) for k in test.column("label_kind").to_pylist()])
    logits = np.log1p(pop.counts[test.column("target_job_index").to_numpy()])
    args = {"window": BASE_WINDOW, "cutoff": ctx.cutoff, "horizon_end": ctx.horizon_end, "types": POSITIVES}
    return {"variant": "popularity", "proxy": ranking_metrics(test.column("label").to_numpy(), logits,
                                                              test.column("weight").to_numpy(), kinds),
            "retrieval": retrieval.retrieval_at_cutoff(pop, tls, **args),
            "freshness": retrieval.freshness(pop, tls, **args)}


def train_variant(ctx: DatasetContext, variant: Variant, seed: int, out: Path) -> dict[str, Any]:
    """``jobtrail train`` for one variant and seed (decay: grid search over ``ctx.decay_grid``)."""
    import tensorflow as tf

    from tf_models.train import run

    args = ctx.train.train_args(
        model=variant.model, examples=ctx.prepared.examples(variant.examples_key), jobs=ctx.prepared.job_table,
        out=out, seed=seed, mlflow=False, checkpoint_every=100_000, **variant_overrides(variant),
        **({"decay_rate": tuple(ctx.decay_grid)} if variant.model == "decay" else {}))
    started = time.perf_counter()
    result = run(args)
    tf.keras.backend.clear_session()
    shutil.rmtree(out / "logs", ignore_errors=True)
    shutil.rmtree(out / "grid", ignore_errors=True)
    return {"train_seconds": round(time.perf_counter() - started, 1), "val_auc": result["metrics"]["val_auc"],
            "epochs_run": result["metrics"]["epochs_run"], "decay_rate": result.get("decay_rate"),
            "decay_grid": result.get("grid"), "model_dir": result["model_dir"]}


def variant_overrides(variant: Variant) -> dict[str, Any]:
    """The ``TrainArgs`` fields that make ``variant``, over the preset's (an in-batch variant also drops the
    preset's full softmax)."""
    overrides: dict[str, Any] = {"objective": "next-action" if variant.objective == "next-action" else "dense"}
    if variant.objective == "next":
        overrides["future_weight"] = 0.0
    if variant.negatives == "in-batch":
        overrides |= {"sampled_negatives": 0, "full_softmax": False}
    if not variant.job_ids:
        overrides["job_ids"] = False
    return overrides


def storage(users: np.ndarray) -> dict[str, float]:
    """Bytes per user: raw float32, and zstd Parquet (one list<float> row per user, as the feature table)."""
    buffer = io.BytesIO()
    column = pa.FixedSizeListArray.from_arrays(pa.array(users.reshape(-1), pa.float32()), users.shape[1])
    pq.write_table(pa.table({"embedding": column.cast(pa.list_(pa.float32()))}), buffer, compression="zstd")
    return {"user_dim": int(users.shape[1]), "float32_bytes": int(users.shape[1] * 4),
            "parquet_bytes": round(buffer.getbuffer().nbytes / max(len(users), 1), 1)}


def evaluate_model(ctx: DatasetContext, model_dir: str, window: int, seed: int, full: bool = True) -> dict[str, Any]:
    """Every measurement of one trained model on its dataset; ``full=False`` (the ablation variants) keeps
    retrieval, downstream lift and the proxy (W = 32 only) and skips freshness, cosine, probe and the measured
    storage."""
    ctx.load()
    prepared, tls = ctx.prepared, ctx.timelines
    emb = Embedder(model_dir, prepared.job_table)
    window_args = {"window": window, "cutoff": ctx.cutoff}
    row = {
        "retrieval": retrieval.retrieval_at_cutoff(emb, tls, horizon_end=ctx.horizon_end, types=POSITIVES,
                                                   **window_args),
        "downstream": ctx.downstream.lift(emb, tls, window, seed),
        "storage": {"user_dim": emb.spec.user_dim, "float32_bytes": emb.spec.user_dim * 4},
    }
    if window == BASE_WINDOW:  # the proxy's test rows are the W = 32 windows
        labels, logits, weights, kinds = score_examples(model_dir, prepared.examples(f"w{window}"), split="test",
                                                        job_table=prepared.job_table)
        row["proxy"] = ranking_metrics(labels, logits, weights, kinds)
    if not full:
        return row
    users = [u for u in tls.by_user if tls.events_before(u, ctx.cutoff) > 0]
    row |= {
        "freshness": retrieval.freshness(emb, tls, horizon_end=ctx.horizon_end, types=POSITIVES, **window_args),
        "cosine": retrieval.day_over_day_cosine(emb, tls, **window_args),
        "storage": storage(emb.users(tls.contexts([(u, ctx.cutoff) for u in users], window))),
    }
    if ctx.probes is not None:
        row["probe"] = ctx.probes.probe(emb, tls, window, seed)
    return row


def run_variant(ctx: DatasetContext, variant: Variant, seed: int, out: Path) -> dict[str, Any]:
    """Train (unless done) and evaluate; the row is cached in ``<out>/row.json``.

    A run whose training fails returns (and does not cache) a row with ``error`` and no metrics.
    """
    cached = out / "row.json"
    if cached.exists():
        return json.loads(cached.read_text())
    import tensorflow as tf

    started = time.perf_counter()
    head = {"dataset": ctx.prepared.spec.name, "variant": variant.name, **asdict(variant), "seed": seed}
    try:
        trained = train_variant(ctx, variant, seed, out)
    except (JobtrailError, KeyError, ValueError, tf.errors.OpError) as e:
        # A configuration that cannot train is a result too: the report lists it instead of a number.
        tf.keras.backend.clear_session()
        return {**head, "error": f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:300]}",
                "seconds": round(time.perf_counter() - started, 1)}
    t = time.perf_counter()
    row = {**head, **trained, **evaluate_model(ctx, trained["model_dir"], variant.window, seed, variant.is_base)}
    row["eval_seconds"] = round(time.perf_counter() - t, 1)
    row["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(row, indent=1, default=float)
    cached.write_text(text + "\n")
    return json.loads(text)  # the same types whether the row was just computed or read back
