"""Training CLI: train one aggregator, export it, log and register it in MLflow.

    jobtrail train --model transformer --examples data/examples/w32 --out data/runs/transformer \\
        [--jobs <examples>/job_side_table] [--epochs 5 --batch-size 128 --embedding-dim 64 ...] \\
        [--registered-name jobtrail_transformer]
    jobtrail train --model decay --decay-rate 0.5,0.6,0.7,0.8,0.9,0.95 ...   # grid search, best rate kept
    jobtrail train --objective next-action --examples <--format windows folder> ...  # the one-target baseline

Objective (``--objective``, default ``dense``; see :mod:`tf_models.sequence_model`): every position of the
training sequences (``spark_jobs/examples.py --format sequences``) retrieves its next positive and the
positives of its future window — sampled softmax over mixed negatives plus the auxiliary BCE; early stopping
reads the validation Recall@10 (the embedding as of the cutoff ranking the horizon's positives).
``next-action`` trains the one-target windows (``--format windows``) with BCE and reads the validation AUC.
Mean and decay average the label types of the examples (their ``examples_meta.json``).

Strategy: ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set (each worker runs this same command),
``MirroredStrategy`` when more than one GPU is visible, the default strategy otherwise. Checkpoints go to
``<out>/backup`` every ``--checkpoint-every`` steps (and each epoch): a run killed midway resumes from
there when started again with the same arguments. Early stopping on validation AUC keeps the best
weights; TensorBoard logs are in ``<out>/logs``; with ``--deterministic`` (the default without a GPU) a
seed gives the same model every time. Each epoch prints one progress line with examples per second.

Outputs: ``<out>/saved_model`` (see :mod:`tf_models.signatures`) and ``<out>/result.json`` — also printed as
the last line: ``{"model_dir", "run_id", "model_name", "model_version", "metrics": {...}}``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tf_models  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from jobtrail.argtypes import cli_path, model_name, positive_int
from jobtrail.command_main import command_main
from jobtrail.errors import ConfigError
from jobtrail.knobs import TRAINING, TRAINING_BY_NAME
from tf_models.config import AGGREGATOR_NAMES, OBJECTIVES, ModelConfig


def _rates(text: str) -> tuple[float, ...]:
    try:
        rates = tuple(float(r) for r in text.split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"--decay-rate takes comma-separated numbers, got {text[:80]!r}") from e
    if not all(0 < r <= 1 for r in rates):
        raise argparse.ArgumentTypeError(f"decay rates must be in (0, 1], got {text[:80]!r}")
    return rates


def _default(name: str) -> Any:
    return TRAINING_BY_NAME[name].default


@dataclass(frozen=True)
class TrainArgs:
    model: str
    examples: Path
    out: Path
    jobs: Path | None = None
    epochs: int = _default("epochs")
    batch_size: int = _default("batch_size")
    embedding_dim: int = _default("embedding_dim")
    learning_rate: float = _default("learning_rate")
    lr_schedule: str = "constant"
    seed: int = _default("seed")
    patience: int = _default("patience")
    retrieval_weight: float = _default("retrieval_weight")
    decay_rate: tuple[float, ...] = (0.8,)
    d_model: int = _default("d_model")
    heads: int = _default("heads")
    layers: int = _default("layers")
    dropout: float = _default("dropout")
    filters: int = _default("filters")
    kernel_size: int = _default("kernel_size")
    checkpoint_every: int = 200
    deterministic: bool | None = None
    registered_name: str | None = None
    mlflow: bool = True
    materialise_jobs: bool = False
    objective: str = "dense"
    temperature: float = _default("temperature")
    sampled_negatives: int = _default("sampled_negatives")
    full_softmax: bool = False
    next_weight: float = _default("next_weight")
    future_weight: float = _default("future_weight")
    bce_weight: float = _default("bce_weight")
    job_ids: bool = True
    length_buckets: bool = False
    data_root: Path | None = None

    def __post_init__(self) -> None:
        """Every hyper-parameter inside its knob's bounds (jobtrail/knobs.py), also when built in-process."""
        if self.model not in AGGREGATOR_NAMES:
            raise ConfigError(f"model must be one of {', '.join(AGGREGATOR_NAMES)}, got {self.model!r}")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        for knob in TRAINING:
            knob.check(getattr(self, knob.name))
        if len(self.decay_rate) > 1 and self.model != "decay":
            raise ConfigError("several --decay-rate values (a grid search) only apply to --model decay")

    @property
    def job_table(self) -> Path:
        return self.jobs or self.examples / "job_side_table"

    def model_config(self, rate: float | None = None) -> ModelConfig:
        params: dict[str, Any] = {}
        if self.model == "decay":
            params = {"rate": rate if rate is not None else self.decay_rate[0]}
        elif self.model == "cnn":
            params = {"filters": self.filters, "kernel_size": self.kernel_size, "dropout": self.dropout}
        elif self.model in ("transformer", "multiseq"):
            params = {"d_model": self.d_model, "heads": self.heads, "layers": self.layers, "dropout": self.dropout}
        return ModelConfig(aggregator=self.model, job_dim=self.embedding_dim, aggregator_params=params,
                           retrieval_weight=self.retrieval_weight, objective=self.objective,
                           temperature=self.temperature, sampled_negatives=self.sampled_negatives,
                           full_softmax=self.full_softmax, next_weight=self.next_weight, future_weight=self.future_weight,
                           bce_weight=self.bce_weight, job_ids=self.job_ids, action_types=self.action_types())

    def action_types(self) -> tuple[str, ...]:
        """What mean and decay average: the label types the examples were cut with (positives, then negatives)."""
        from tf_models.config import ACTION_TYPES

        meta = self.examples / "examples_meta.json"
        if not meta.exists():
            return ACTION_TYPES
        saved = json.loads(meta.read_text())
        cut = saved.get("sequence") or saved.get("window") or {}  # --format sequences | windows
        types = tuple(cut.get("positive_types", ())) + tuple(cut.get("negative_types", ()))
        return tuple(dict.fromkeys(types)) or ACTION_TYPES


def parse_args(argv: list[str] | None = None) -> TrainArgs:
    p = argparse.ArgumentParser(prog="jobtrail train", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=AGGREGATOR_NAMES, required=True, help="the aggregator")
    p.add_argument("--examples", type=cli_path, required=True, help="--out of spark_jobs/examples.py")
    p.add_argument("--jobs", type=cli_path, default=None, help="job side table (default: <examples>/job_side_table)")
    p.add_argument("--out", type=cli_path, required=True, help="run folder: saved_model, backup, logs, result.json")
    p.add_argument("--data-root", type=cli_path, default=None,
                   help="data root whose MLflow store (<root>/mlflow) the run is logged to (default: "
                        "$JOBTRAIL_DATA_ROOT or the repository's data/; MLFLOW_TRACKING_URI overrides the store)")
    for knob in TRAINING:  # --epochs ... --bce-weight: default, bounds and help from jobtrail/knobs.py
        knob.add_to(p)
    p.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                   help="cosine: decay the learning rate to 5%% of --learning-rate over --epochs (SGDR without restarts)")
    p.add_argument("--decay-rate", type=_rates, default=(0.8,), help="decay only; several: grid search")
    p.add_argument("--checkpoint-every", type=positive_int, default=200, help="steps between resumable checkpoints")
    det = p.add_mutually_exclusive_group()
    det.add_argument("--deterministic", dest="deterministic", action="store_true", default=None)
    det.add_argument("--no-deterministic", dest="deterministic", action="store_false")
    p.add_argument("--registered-name", type=model_name, default=None, help="register the model under this MLflow name")
    p.add_argument("--no-mlflow", dest="mlflow", action="store_false", help="do not log to MLflow")
    p.add_argument("--materialise-jobs", action="store_true", help="benchmark only: job features per position")
    p.add_argument("--objective", choices=OBJECTIVES, default="dense",
                   help="dense: every position retrieves its next and future positives (--format sequences); "
                        "next-action: one target per window (--format windows)")
    p.add_argument("--full-softmax", action="store_true", help="dense: the whole catalogue as candidates")
    p.add_argument("--no-job-ids", dest="job_ids", action="store_false", help="content encoder only, no id embedding")
    p.add_argument("--length-buckets", action="store_true",
                   help="dense: batches of like-length sequences cut to their longest row (faster epochs, "
                        "less learned per epoch)")
    ns = p.parse_args(argv)
    try:
        return TrainArgs(**vars(ns))
    except ConfigError as e:
        p.error(str(e))


def run(args: TrainArgs) -> dict[str, Any]:
    """Train (a grid of decay rates, or one model), export the best, log it; returns the result dict."""
    from tf_models.fit import fit_and_export

    started = time.perf_counter()
    rates = args.decay_rate if args.model == "decay" else (None,)
    trials = []
    for rate in rates:
        out = args.out if len(rates) == 1 else args.out / "grid" / f"rate={rate}"
        trials.append((rate, fit_and_export(args, args.model_config(rate), out)))
    rate, best = max(trials, key=lambda t: t[1]["metrics"]["validation_score"])
    if len(rates) > 1 and best["model_dir"] is not None:
        shutil.rmtree(args.out / "saved_model", ignore_errors=True)
        shutil.copytree(best["model_dir"], args.out / "saved_model")
        best = {**best, "model_dir": str(args.out / "saved_model"),
                "grid": {str(r): t["metrics"]["validation_score"] for r, t in trials}, "decay_rate": rate}
    result = {**best, "model_name": args.registered_name, "model_version": None, "run_id": None,
              "seconds": round(time.perf_counter() - started, 1)}
    if args.mlflow and best["is_chief"]:
        from tf_models.registry import log_run

        result |= log_run(args, result)
    result.pop("is_chief")
    if best["model_dir"] is not None:
        (args.out / "result.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    return command_main("train", parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
