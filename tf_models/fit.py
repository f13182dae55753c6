"""One training run: strategy, datasets, model, callbacks, ``fit``, validation, export (chief only).

Used by :mod:`tf_models.train` (the CLI) and the benchmarks; see there for the command line.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import tensorflow as tf

from jobtrail.job_table_io import job_table_arrays, load_job_table
from tf_models import data, sequence_data
from tf_models.config import ModelConfig
from tf_models.export import export_model
from tf_models.model import NextActionModel
from tf_models.sequence_model import SequenceModel

VALIDATION_METRIC = {"dense": "recall_at_10", "next-action": "auc"}
"""What early stopping, the decay grid and the result's ``validation_score`` read, per objective."""


def choose_strategy() -> tf.distribute.Strategy:
    """Multi-worker with ``TF_CONFIG``, mirrored over several GPUs, else the default strategy."""
    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def task() -> tuple[str | None, int]:
    """This process's (task type, index) from ``TF_CONFIG``; (None, 0) outside a cluster."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    return config.get("task", {}).get("type"), int(config.get("task", {}).get("index", 0))


def is_chief() -> bool:
    """Whether this process writes the outputs: the chief, or worker 0 of a cluster without one."""
    kind, index = task()
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    return kind is None or kind == "chief" or (kind == "worker" and index == 0 and not has_chief)


def candidate_probability(files: list[str], n_jobs: int) -> np.ndarray:
    """How often each job is a positive target in ``files`` (add-one smoothed): the logQ correction."""
    counts = np.ones(n_jobs, np.float64)
    for f in files:
        t = pq.read_table(f, columns=["target_job_index", "label"])
        index = t.column("target_job_index").to_numpy()[t.column("label").to_numpy() == 1]
        counts += np.bincount(index, minlength=n_jobs)[:n_jobs]
    return counts / counts.sum()


class ProgressLine(tf.keras.callbacks.Callback):
    """One line per epoch: examples, seconds, examples (and trained positions: targets) per second, metrics."""

    def __init__(self, examples_per_epoch: int, epochs: int, targets_per_epoch: float | None = None) -> None:
        super().__init__()
        self.examples, self.epochs, self.rates = examples_per_epoch, epochs, []
        self.targets, self.target_rates = targets_per_epoch, []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self.started
        self.rates.append(self.examples / seconds)
        targets = ""
        if self.targets is not None:
            self.target_rates.append(self.targets / seconds)
            targets = f"  {self.target_rates[-1]:,.0f} targets/s"
        metrics = "  ".join(f"{k} {v:.4f}" for k, v in sorted((logs or {}).items()) if "regularization" not in k)
        print(f"epoch {epoch + 1}/{self.epochs}  {self.examples:,} examples  {seconds:.1f} s  "
              f"{self.rates[-1]:,.0f} examples/s{targets}  {metrics}", flush=True)


def _distributed(strategy: tf.distribute.Strategy, source: Any, files: list[str], *, batch: int,
                 shapes: data.Shapes, shuffle: bool, seed: int, job_arrays: dict[str, np.ndarray] | None,
                 length_buckets: bool = False):
    def make(ctx: tf.distribute.InputContext) -> tf.data.Dataset:
        extra = {"length_buckets": True} if length_buckets else {}
        ds = source.make_dataset(files, batch_size=ctx.get_per_replica_batch_size(batch), shapes=shapes,
                                 shuffle=shuffle, seed=seed, input_context=ctx, repeat=True, **extra)
        return data.materialise_job_features(ds, job_arrays) if job_arrays is not None else ds

    return strategy.distribute_datasets_from_function(make)


def learning_rate(args: Any, steps_per_epoch: int) -> float | tf.keras.optimizers.schedules.LearningRateSchedule:
    """``--learning-rate``, constant or cosine-decayed to 5% of it over ``--epochs`` × ``steps_per_epoch`` steps."""
    if args.lr_schedule == "constant":
        return args.learning_rate
    return tf.keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=args.epochs * steps_per_epoch,
                                                     alpha=0.05)


def _steps(strategy: tf.distribute.Strategy, n_train: int, n_valid: int, batch_size: int) -> tuple[int, int]:
    """Training and validation steps per epoch: every row once (the last batch partial); on several workers whole
    batches only, so every worker runs the same number of steps."""
    if strategy.extended._in_multi_worker_mode():
        return max(1, n_train // batch_size), max(1, n_valid // batch_size)
    return max(1, math.ceil(n_train / batch_size)), max(1, math.ceil(n_valid / batch_size))


def _callbacks(args: Any, config: ModelConfig, backup: Path, progress: ProgressLine, *,
               logs: Path | None) -> list[tf.keras.callbacks.Callback]:
    """Checkpoints every ``args.checkpoint_every`` (resumable), early stopping on the objective's validation
    metric (best weights restored), stop on NaN, the progress line; TensorBoard into ``logs`` (the chief's)."""
    callbacks = [
        tf.keras.callbacks.BackupAndRestore(str(backup), save_freq=args.checkpoint_every, delete_checkpoint=True),
        tf.keras.callbacks.EarlyStopping(monitor=f"val_{VALIDATION_METRIC[config.objective]}", mode="max",
                                         patience=args.patience, restore_best_weights=True),
        tf.keras.callbacks.TerminateOnNaN(),
        progress,
    ]
    if logs is not None:
        callbacks.append(tf.keras.callbacks.TensorBoard(str(logs), profile_batch=0))
    return callbacks


def _metrics(config: ModelConfig, final: dict[str, Any], history: Any, progress: ProgressLine) -> dict[str, Any]:
    """The run's metrics: the final validation figures, epochs run, throughput, and which one decides."""
    metrics = {"val_auc": float(final["auc"]), "val_loss": float(final["loss"]),
               "epochs_run": len(history.history.get("loss", [])),
               "train_examples_per_second": float(np.median(progress.rates)) if progress.rates else None,
               "objective": config.objective}
    if config.objective == "dense":
        metrics["val_recall_at_10"] = float(final["recall_at_10"])
        metrics["train_targets_per_second"] = (float(np.median(progress.target_rates))
                                               if progress.target_rates else None)
    metrics["validation_metric"] = f"val_{VALIDATION_METRIC[config.objective]}"
    metrics["validation_score"] = metrics[metrics["validation_metric"]]
    return metrics


def fit_and_export(args: Any, config: ModelConfig, out: Path) -> dict[str, Any]:
    """Train ``config`` on ``args.examples`` into ``out``; returns metrics, model_dir, throughput, is_chief."""
    deterministic = args.deterministic if args.deterministic is not None else not tf.config.list_physical_devices("GPU")
    strategy = choose_strategy()
    tf.keras.utils.set_random_seed(args.seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    chief = is_chief()
    dense = config.objective == "dense"
    source = sequence_data if dense else data
    files = sequence_data.sequence_files if dense else data.example_files
    train_files, valid_files = files(args.examples, "train"), files(args.examples, "validation")
    shapes = source.read_shapes(train_files)
    table, vocab = load_job_table(args.job_table)
    job_arrays = job_table_arrays(table)
    n_train, n_valid = data.count_rows(train_files), data.count_rows(valid_files)
    steps, valid_steps = _steps(strategy, n_train, n_valid, args.batch_size)
    if dense:
        counts = sequence_data.target_counts(train_files, len(table)) + 1.0
        probability = counts / counts.sum()
    else:
        probability = candidate_probability(train_files, len(table)) if config.retrieval_weight > 0 else None
    model_class = SequenceModel if dense else NextActionModel
    with strategy.scope():
        model = model_class(config, job_arrays=job_arrays, vocab=vocab, shapes=shapes,
                            candidate_probability=probability)
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate(args, steps)), jit_compile=False)
        model(next(iter(source.make_dataset(train_files[:1], batch_size=2, shapes=shapes))))  # build: resumable
    materialised = job_arrays if args.materialise_jobs else None
    train = _distributed(strategy, source, train_files, batch=args.batch_size, shapes=shapes, shuffle=True,
                         seed=args.seed, job_arrays=materialised, length_buckets=dense and args.length_buckets)
    valid = _distributed(strategy, source, valid_files, batch=args.batch_size, shapes=shapes, shuffle=False,
                         seed=args.seed, job_arrays=materialised)
    work = out if chief else out / "workers" / f"{task()[0]}-{task()[1]}"
    backup = out / "backup"
    if (backup / "chief").exists() or any(backup.glob("*")):
        print(f"resuming from the checkpoint in {backup}", flush=True)
    per_epoch = steps * args.batch_size if n_train > args.batch_size else n_train
    targets = sequence_data.trained_positions(train_files) * per_epoch / max(n_train, 1) if dense else None
    progress = ProgressLine(per_epoch, args.epochs, targets)
    callbacks = _callbacks(args, config, backup, progress, logs=out / "logs" if chief else None)
    history = model.fit(train, epochs=args.epochs, steps_per_epoch=steps, validation_data=valid,
                        validation_steps=valid_steps, callbacks=callbacks, verbose=0)
    final = model.evaluate(valid, steps=valid_steps, return_dict=True, verbose=0)
    metrics = _metrics(config, final, history, progress)
    model_dir = None
    target = out / "saved_model" if chief else work / "saved_model"
    export_model(model, target, vocab=vocab, metadata={
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "metrics": metrics, "examples": str(args.examples), "job_table": str(args.job_table),
        "train_examples": n_train, "validation_examples": n_valid})
    if chief:
        model_dir = str(target)
    else:  # every worker must save (collective reads), only the chief's copy is kept
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):  # other workers may still be using it
            work.parent.rmdir()
    history_json = {k: [float(x) for x in v] for k, v in history.history.items()}
    if chief:
        (out / "history.json").write_text(json.dumps(history_json, indent=2) + "\n")
    sys.stdout.flush()
    return {"model_dir": model_dir, "metrics": metrics, "history": history_json, "is_chief": chief,
            "config": config.to_dict(), "epoch_examples_per_second": [round(r, 1) for r in progress.rates],
            "epoch_targets_per_second": [round(r, 1) for r in progress.target_rates]}
