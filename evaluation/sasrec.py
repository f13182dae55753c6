"""Amazon Games under the SASRec protocol, next to SASRec's published HR@10 0.7410 / NDCG@10 0.5360.

Protocol (Kang & McAuley 2018, on the same preprocessed file, ``../shared/data/amazon-games``): per user the
last item is the test target, the second to last the validation target, the rest training
(:func:`jobtrail.datasets.amazon_games.leave_one_out_split`). The test target is ranked against 100 items
sampled uniformly from those the user never interacted with (HR@10, NDCG@10), and — because sampled metrics
can order models differently (Krichene & Rendle 2020) — against the whole catalogue minus the user's history.

jobtrail's side: every line is a ``view`` event (position k of a user on day k, so each item is its own day);
items have no attributes, so each item's catalogue entry gets its id as its title (``item123``), and the job
side table gives every item a learned id row (``job_id_row``). With the default ``dense`` objective the
training data are the examples job's per-position sequences (:func:`jobtrail.sequence_core.chunks.user_sequences`, called
per user with ``valid_from`` = the second-to-last item): every training item is the next target of the
position before it, and the items of the next ``horizon_days`` positions its future window; validation = the
second-to-last item of 8,000 sampled users, scored by Recall@10 against the whole catalogue for early stopping.
``next-action`` keeps the one-target windows (:func:`jobtrail.sequence_core.windows.user_examples`, one uniform random
negative per positive) for comparison. The model trains with ``jobtrail train`` and scores through its
SavedModel. Mean/decay average views here (the data's only type). The popularity ranking (how often each item
is a training target) is the baseline.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluation.config import AmazonSpec, TrainSpec
from evaluation.datasets import write_rows
from evaluation.timelines import DAY_US, Timelines
from jobtrail.contracts import EVENT_TYPE_IDS, JOB, TRAINING_EXAMPLE, TRAINING_SEQUENCE
from jobtrail.sequence_core.windows import UserTimeline, WindowConfig, context, draw_negative, user_examples
from tf_models.metrics import hit_ndcg_at_k, rank_of_target

SASREC = {"hr@10": 0.7410, "ndcg@10": 0.5360}
SNAPSHOT = "2000-01-01"
VIEW = EVENT_TYPE_IDS["view"]
SAMPLE_SEED = 2018
VALIDATION_USERS = 8_000
"""Validation (early stopping) uses the second-to-last item of this many users, sampled once."""


def _timelines(events: pa.Table, index: dict[str, int], q: int) -> dict[str, UserTimeline]:
    ordered = events.sort_by([("user_id", "ascending"), ("ts", "ascending"), ("event_id", "ascending")])
    users = ordered.column("user_id").to_pylist()
    ts = pc.cast(ordered.column("ts"), pa.int64()).to_numpy()
    jobs = np.array([index[j] for j in ordered.column("job_id").to_pylist()], np.int32)
    ids = np.asarray(ordered.column("event_id").to_pylist(), dtype=object)
    bounds = np.flatnonzero(np.r_[True, np.array(users[1:]) != np.array(users[:-1]), True])
    out = {}
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        n = hi - lo
        gap = np.r_[0.0, np.diff(ts[lo:hi]) / 1e6]
        out[users[lo]] = UserTimeline(ids[lo:hi], ts[lo:hi], np.full(n, VIEW, np.int32), jobs[lo:hi],
                                      np.zeros(n, np.int32), gap, np.zeros((n, q), np.int32),
                                      (ts[lo:hi] // DAY_US).astype(np.int32))
    return out


def prepare(spark_factory, spec: AmazonSpec, work: Path, path: Path | None = None) -> Path:
    """Side table, training data and timelines of Amazon Games under ``work`` (cached).

    ``spec.objective`` ``dense``: per-position sequences (:func:`jobtrail.sequence_core.chunks.user_sequences`, the examples
    job's code) — every training item is the next target of the position before it, the items of the next
    ``horizon_days`` positions (one item a day) its future window; the validation row of a sampled user is the
    second-to-last item. ``next-action``: the one-target windows (:func:`jobtrail.sequence_core.windows.user_examples`).
    """
    from jobtrail.datasets.amazon_games import leave_one_out_split, load_amazon_games

    root = Path(work) / f"amazon-{spec.key}"
    if (root / "_prepared.json").exists():
        return root
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    data = load_amazon_games(path)
    ids = data.jobs.column("job_id")
    titles = pc.binary_join_element_wise("item", pc.utf8_slice_codeunits(ids, 5), "")
    catalog = data.jobs.set_column(JOB.get_field_index("title"), "title", titles)
    (root / "catalog" / f"ds={SNAPSHOT}").mkdir(parents=True)
    pq.write_table(catalog, root / "catalog" / f"ds={SNAPSHOT}" / "part-0.parquet")
    from spark_jobs import job_table

    job_table.run(spark_factory(), job_table.parse_args([
        "--ds", SNAPSHOT, "--catalog", str(root / "catalog"), "--out", str(root / "job_side_table"),
        "--token-buckets", str(spec.token_buckets)]))
    side = pq.read_table(root / "job_side_table", columns=["job_id", "job_index"], partitioning=None)
    index = dict(zip(side.column("job_id").to_pylist(), side.column("job_index").to_pylist()))
    tls = _timelines(data.events, index, 4)
    pool = np.arange(1, side.num_rows, dtype=np.int32)  # every item (row 0 is padding)
    validated = set(np.random.default_rng(SAMPLE_SEED).permutation(sorted(tls))[:VALIDATION_USERS].tolist())
    pools = {int(d): pool for tl in tls.values() for d in np.unique(tl.day)}
    if spec.objective == "dense":
        train, valid, meta = _sequences(tls, pools, spec, validated)
        for split, rows in (("train", train), ("validation", valid)):
            write_rows(rows, root / "sequences" / f"split={split}", TRAINING_SEQUENCE)
    else:
        train, valid, meta = _windows(tls, pools, spec, validated, pool)
        for split, rows in (("train", train), ("validation", valid)):
            write_rows(rows, root / "examples" / f"split={split}", TRAINING_EXAMPLE)
    (root / "examples_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    tests = leave_one_out_split(data.events)[2]
    info = {"users": len(tls), "items": side.num_rows - 1, "events": data.events.num_rows, "train_rows": len(train),
            "validation_rows": len(valid), "test_users": tests.num_rows, "objective": spec.objective,
            "seconds": round(time.perf_counter() - started, 1)}
    (root / "_prepared.json").write_text(json.dumps(info, indent=2) + "\n")
    return root


def _sequences(tls: dict[str, UserTimeline], pools: dict, spec: AmazonSpec, validated: set[str]):
    """Train rows over each user's items but the last two; validation: the second-to-last of sampled users."""
    from dataclasses import asdict

    from jobtrail.sequence_core.chunks import SequenceConfig, user_sequences

    cfg = SequenceConfig(window=spec.window, chunk_stride=spec.stride, min_events=2, positive_types=("view",),
                         negative_types=(), future_targets=spec.future_targets, horizon_days=spec.horizon_days,
                         dismisses_per_position=0, negatives_per_position=1, query_tokens=4)
    train, valid = [], []
    for user, tl in tls.items():
        n = len(tl)
        if n < 3:
            continue
        cut = int(tl.ts[n - 2])  # the validation item's time: train on what comes before it
        rows = user_sequences(user, tl.take(np.arange(n - 1)), pools, cfg, valid_from_us=cut, end_us=cut + 1)
        train.extend(r for r in rows if r["split"] == "train")
        valid.extend(r for r in rows if r["split"] == "validation" and user in validated)
    return train, valid, {"format": "sequences", "sequence": asdict(cfg)}


def _windows(tls: dict[str, UserTimeline], pools: dict, spec: AmazonSpec, validated: set[str], pool: np.ndarray):
    """The one-target windows (the ``next-action`` baseline): every training item with an earlier one."""
    from dataclasses import asdict

    cfg = WindowConfig(window=spec.window, stride=spec.stride, min_events=2, positive_types=("view",),
                       negative_types=(), query_tokens=4)
    train, valid = [], []
    for user, tl in tls.items():
        n = len(tl)
        prefix = tl.take(np.arange(n - 2)) if n >= 3 else tl
        train.extend(user_examples(user, prefix, pools, cfg, valid_from_us=2**62))
        if n >= 3 and user in validated:
            ctx = context(tl, int(tl.ts[n - 2]), cfg)
            touched = set(int(j) for j in tl.job_index)
            negative = draw_negative(pool, touched, tl.event_id[n - 2], 0, cfg.seed)
            for job, label in ((int(tl.job_index[n - 2]), 1), (negative, 0)):
                valid.append({"example_id": f"{user}:valid:{label}", "user_id": user, **ctx,
                              "target_job_index": job, "target_event_type": VIEW if label else EVENT_TYPE_IDS[
                                  "random_negative"], "label": label,
                              "label_kind": "positive" if label else "random_negative",
                              "weight": 1.0 if label else cfg.random_negative_weight,
                              "target_ts": int(tl.ts[n - 2]), "split": "validation"})
    return train, valid, {"format": "windows", "window": asdict(cfg)}


def held_out_cases(tls: Timelines, n_items: int, negatives: int) -> tuple[list, np.ndarray, np.ndarray, list]:
    """(requests, targets, sampled negatives [U, negatives], histories) for users with ≥ 3 items."""
    rng = np.random.default_rng(SAMPLE_SEED)
    requests, targets, sampled, histories = [], [], [], []
    for user in sorted(tls.by_user):
        tl = tls.by_user[user]
        if len(tl) < 3:
            continue
        history = set(int(j) for j in tl.job_index)
        drawn: list[int] = []
        while len(drawn) < negatives:
            j = int(rng.integers(1, n_items + 1))
            if j not in history:
                drawn.append(j)
        requests.append((user, int(tl.ts[-1])))
        targets.append(int(tl.job_index[-1]))
        sampled.append(drawn)
        histories.append(np.fromiter(history - {int(tl.job_index[-1])}, np.int64))
    return requests, np.array(targets), np.array(sampled), histories


def rank(scores_fn, targets: np.ndarray, sampled: np.ndarray, histories: list, n_rows: int,
         chunk: int = 1024) -> dict[str, Any]:
    """Sampled (target vs its negatives) and full-catalogue ranks → HR@10 / NDCG@10 of both."""
    sampled_ranks, full_ranks = [], []
    for i in range(0, len(targets), chunk):
        scores = np.asarray(scores_fn(i, i + chunk), np.float64)
        rows = np.arange(len(scores))
        target = scores[rows, targets[i:i + chunk]]
        sampled_ranks.append(rank_of_target(target, np.take_along_axis(scores, sampled[i:i + chunk], axis=1)))
        scores[:, 0] = -np.inf
        for r, history in enumerate(histories[i:i + chunk]):
            scores[r, history] = -np.inf
        full_ranks.append(rank_of_target(target, np.delete(scores, 0, axis=1)) - 0.5)  # the target itself ties
    sampled_m = hit_ndcg_at_k(np.concatenate(sampled_ranks))
    full_m = hit_ndcg_at_k(np.concatenate(full_ranks))
    return {"hr@10": sampled_m["hr@10"], "ndcg@10": sampled_m["ndcg@10"],
            "full_hr@10": full_m["hr@10"], "full_ndcg@10": full_m["ndcg@10"], "test_users": int(len(targets))}


def popularity(root: Path, targets, sampled, histories) -> dict[str, Any]:
    counts = np.zeros(json.loads((root / "job_side_table" / "_vocab.json").read_text())["rows"]["total"])
    for path in (root / "sequences" / "split=train").glob("*.parquet"):  # how often each item is a next target
        t = pq.read_table(path, columns=["next_job_index"])
        index = t.column("next_job_index").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        np.add.at(counts, index[index > 0], 1)
    for path in (root / "examples" / "split=train").glob("*.parquet"):
        t = pq.read_table(path, columns=["target_job_index", "label"])
        np.add.at(counts, t.column("target_job_index").to_numpy()[t.column("label").to_numpy() == 1], 1)
    return rank(lambda i, j: np.tile(counts, (len(targets[i:j]), 1)), targets, sampled, histories, len(counts))


def run(spark_factory, spec: AmazonSpec, train: TrainSpec, seeds: tuple[int, ...], work: Path,
        log=print) -> dict[str, Any]:
    """Prepare, train every model × seed, rank the test items; returns rows and dataset facts."""
    import tensorflow as tf

    from evaluation.embedder import Embedder
    from tf_models.train import run as train_run

    root = prepare(spark_factory, spec, work)
    sequences = _timelines_for_eval(root)
    info = json.loads((root / "_prepared.json").read_text())
    requests, targets, sampled, histories = held_out_cases(sequences, info["items"], spec.negatives)
    rows = [{"model": "popularity", "seed": None, **popularity(root, targets, sampled, histories)}]
    for model in spec.models:
        for seed in seeds:
            out = root / "runs" / f"{model}-s{seed}-{train.key}"  # a changed training setting trains again
            cached = out / "row.json"
            if cached.exists():
                rows.append(json.loads(cached.read_text()))
                continue
            t = time.perf_counter()
            result = train_run(train.train_args(model=model, examples=root, out=out, seed=seed, mlflow=False,
                                                checkpoint_every=100_000, objective=spec.objective))
            tf.keras.backend.clear_session()
            emb = Embedder(result["model_dir"], root / "job_side_table")
            users = emb.users(sequences.contexts(requests, spec.window))
            q, bias = emb.queries(users)
            row = {"model": model, "seed": seed, "val_auc": result["metrics"]["val_auc"],
                   "validation_score": result["metrics"]["validation_score"],
                   "epochs_run": result["metrics"]["epochs_run"],
                   **rank(lambda i, j: q[i:j] @ emb.jobs.T + bias, targets, sampled, histories, emb.n_jobs),
                   "seconds": round(time.perf_counter() - t, 1)}
            cached.write_text(json.dumps(row) + "\n")
            rows.append(row)
            log(json.dumps({"amazon": row}))
    return {"info": info, "rows": rows, "sasrec": SASREC}


def _timelines_for_eval(root: Path) -> Timelines:
    from jobtrail.datasets.amazon_games import load_amazon_games

    side = pq.read_table(root / "job_side_table", columns=["job_id", "job_index"], partitioning=None)
    index = dict(zip(side.column("job_id").to_pylist(), side.column("job_index").to_pylist()))
    return Timelines(_timelines(load_amazon_games().events, index, 4), 4)
