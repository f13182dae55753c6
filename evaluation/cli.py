"""``jobtrail evaluate``: train every configuration of a preset on a time split, measure it, write the report.

    jobtrail evaluate                                     # preset small: synthetic + MovieLens + Amazon Games
    jobtrail evaluate --preset large                      # the larger documented configuration
    jobtrail evaluate --datasets synthetic --models mean,decay,transformer --seeds 2 --doc /tmp/eval.md
    jobtrail evaluate --report-only                       # re-render docs/evaluation.md from the last results
    jobtrail evaluate --data-root R --start 2026-10-01 --cutoff 2026-10-24   # a platform's own clean events

With ``--data-root`` the harness runs on that root's ``clean_events`` and job side table
(:mod:`evaluation.own_data`): report ``<root>/reports/evaluation.md`` (+ ``evaluation.json``), the aggregators of
``--models`` (default mean, transformer) beside the popularity ranking.

Arguments: :mod:`evaluation.eval_args`. Steps: prepare each dataset with the pipeline's Spark jobs (:mod:`evaluation.datasets`, cached under
``--work``), train each variant × seed with ``jobtrail train`` and measure it (:mod:`evaluation.runs`),
run the SASRec benchmark (:mod:`evaluation.sasrec`), then regenerate ``--doc`` (default docs/evaluation.md)
and its PNG plots (:mod:`evaluation.report`). ``--fresh`` deletes the cached work first (from scratch).
Prints one JSON line per run and, last, ``{"doc", "results", "seconds", "rows"}``.

Day-over-day cosine: read from the monitoring table when ``--monitoring`` points at one (``spark_jobs/
monitor.py`` output: quantiles only); the histogram is computed by the evaluation itself from two daily
``encode_users`` runs with the monitoring job's definition (see :func:`evaluation.retrieval.day_over_day_cosine`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import tf_models  # noqa: F401  (Keras 2 before TensorFlow)
from evaluation.config import EvalConfig
from evaluation.eval_args import EvalArgs, parse_args
from jobtrail.command_main import command_main
from jobtrail.generated_docs import machine

MEASURED = {"medium": ("not measured under the dense objective (under the one-target objective it took 26.8 "
                       "minutes on this 2-core machine, 2026-11-24; it now trains about twice the small preset's "
                       "runs, each for up to 15 epochs)")}
"""Durations of the presets that the report does not time itself (recorded measurements, with their command)."""
LARGE_ESTIMATE = ("estimated, not measured: 4–6 hours on this 2-core machine when idle (the small preset's "
                  "per-run times scaled by training examples × epochs × model width: about 3× the synthetic and "
                  "MovieLens examples and 3× the Amazon ones, twice the epochs, a 2.5× costlier model)")


def _versions() -> dict[str, str]:
    import numpy
    import pyspark
    import sklearn
    import tensorflow as tf

    return {"Python": platform.python_version(), "TensorFlow": tf.__version__, "PySpark": pyspark.__version__,
            "scikit-learn": sklearn.__version__, "NumPy": numpy.__version__}


class _Spark:
    """Starts the SparkSession on first use (cached data needs none); stopped before training — unless the caller
    already had one running (a notebook, a test session): that one is used and left running."""

    def __init__(self) -> None:
        self.session = None
        self.owned = False

    def __call__(self):
        if self.session is None:
            from pyspark.sql import SparkSession

            from spark_jobs.session import create_session

            self.owned = SparkSession.getActiveSession() is None
            self.session = create_session("jobtrail-evaluate")
        return self.session

    def stop(self) -> None:
        if self.session is not None and self.owned:
            self.session.stop()
        self.session = None


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its children, finished ones and live ones (the JVM)."""
    import resource

    import psutil

    total = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue  # ended between listing and reading
        total += times.user + times.system
    return total


def _contention(load_start: float, load_end: float) -> str:
    """How busy the machine was: a load above one at the start means other work shared it."""
    cores = os.cpu_count() or 1
    busy = ("other work shared the machine, so the wall time is an upper bound." if load_start >= 1.0 else
            "the machine was otherwise idle when the run started.")
    return f"Load average {load_start:.1f} at the start, {load_end:.1f} at the end on {cores} cores: {busy}"


def _log(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, default=str), flush=True)


def _prepare_datasets(spark: "_Spark", cfg: EvalConfig, work: Path) -> dict[str, Any]:
    """Every dataset's sequences and side table under ``work/data`` (Spark; cached by the spec's key)."""
    from evaluation import datasets, sasrec

    prepared = {}
    try:
        for spec in cfg.datasets:
            prepared[spec.name] = datasets.prepare(spark, spec, work / "data", cfg.examples_keys())
            _log({"prepared": spec.name, **{k: v for k, v in prepared[spec.name].info.items() if k != "job_table"}})
        if cfg.amazon is not None:
            sasrec.prepare(spark, cfg.amazon, work / "data")
    finally:
        spark.stop()
    return prepared


def _train_variants(cfg: EvalConfig, work: Path, prepared: dict[str, Any]) -> tuple[list, dict, dict, dict]:
    """Every variant × seed of every dataset trained and measured: (rows, probe baselines, cosine, baselines)."""
    from evaluation import runs

    rows, probe_baselines, cosine, baselines = [], {}, {}, {}
    for spec in cfg.datasets:
        ctx = runs.DatasetContext(prepared[spec.name], cfg.train[spec.name], cfg.decay_grid)
        for variant in cfg.variants():
            for seed in cfg.seeds:
                # a changed training setting trains again
                out = work / "runs" / spec.name / f"{variant.name}-s{seed}-{ctx.train.key}"
                row = runs.run_variant(ctx, variant, seed, out)
                rows.append(row)
                _log({"dataset": spec.name, "variant": variant.name, "seed": seed, "seconds": row["seconds"],
                      **({"error": row["error"]} if "error" in row else {
                          "recall@10": row["retrieval"]["recall@10"], "lift": row["downstream"]["lift"],
                          "test_auc": row.get("proxy", {}).get("auc")})})
        ctx.load()
        baselines[spec.name] = ctx.baseline
        if ctx.probes is not None:
            probe_baselines[spec.name] = ctx.probes.baselines
        first = next((r for r in rows if r["dataset"] == spec.name and r.get("cosine")
                      and r["variant"] == f"{cfg.ablation_model}-w32"), None)
        if first:
            cosine[spec.name] = first["cosine"]
    return rows, probe_baselines, cosine, baselines


def run(args: EvalArgs, config: EvalConfig | None = None) -> dict[str, Any]:
    """Everything of the module docstring; ``config`` replaces the preset (tests use a tiny one)."""
    from evaluation import datasets, sasrec
    from evaluation.report import write_report

    cfg, work = config or args.config(), args.work_dir
    results_path = work / "results.json"
    if args.report_only:
        results = _upgrade(json.loads(results_path.read_text()), work) | {"measured": MEASURED}
        write_report(results, args.doc)
        return results
    if args.fresh:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    started, load_start, cpu_start = time.perf_counter(), os.getloadavg(), _cpu_seconds()
    started_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    spark = _Spark()
    prepared = _prepare_datasets(spark, cfg, work)
    rows, probe_baselines, cosine, baselines = _train_variants(cfg, work, prepared)
    amazon = None
    if cfg.amazon is not None:
        amazon = sasrec.run(spark, cfg.amazon, cfg.amazon_train, cfg.seeds, work / "data", log=print)
        amazon |= {"window": cfg.amazon.window, "stride": cfg.amazon.stride,
                   "horizon_days": cfg.amazon.horizon_days, "train": asdict(cfg.amazon_train)}
    seconds = time.perf_counter() - started
    load_end = os.getloadavg()
    cpu = _cpu_seconds() - cpu_start
    results = {
        "command": args.command(),
        "config": {**asdict(cfg), "datasets": [d.name for d in cfg.datasets], "probe_baselines": probe_baselines},
        "started": started_at, "seconds": round(seconds, 1),
        "machine": machine(), "versions": _versions(),
        "cpu_seconds": round(cpu, 1),
        "contention": _contention(load_start[0], load_end[0]) + " "
                      f"CPU time (user + system, this process and its Spark JVM) was {cpu / 60:.1f} minutes: on an "
                      f"idle {os.cpu_count()}-core machine the run would take roughly between "
                      f"{cpu / 60 / (os.cpu_count() or 1):.1f} and {cpu / 60:.1f} minutes.",
        "datasets": {name: {**{k: v for k, v in p.info.items() if k != "job_table"},
                            "target_in_context": datasets.target_in_context(p.examples("w32"))}
                     for name, p in prepared.items()},
        "rows": rows, "baselines": baselines, "amazon": amazon, "cosine": cosine, "large_estimate": LARGE_ESTIMATE, "measured": MEASURED,
        **_cosine_source(args.monitoring),
    }
    results_path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    write_report(results, args.doc)
    return results


def _upgrade(results: dict[str, Any], work: Path) -> dict[str, Any]:
    """Results of an earlier version re-rendered: derived facts filled in, the command without --doc/--work."""
    from evaluation import datasets

    words, command = results["command"].split(), []
    while words:
        word = words.pop(0)
        if word in ("--doc", "--work"):
            words.pop(0)
        elif word.startswith(("--doc=", "--work=")):
            continue
        else:
            command.append(word)
    if "--preset" not in command and "--data-root" not in command:
        command[2:2] = ["--preset", results["config"]["name"]]
    results["command"] = " ".join(command)
    for name, info in results["datasets"].items():
        root = next((work / "data").glob(f"{name}-*"))
        if "target_in_context" not in info:
            info["target_in_context"] = datasets.target_in_context(root / "examples" / "w32")
        baselines = results["config"]["probe_baselines"].get(name)
        if baselines is not None and "downstream_ceiling_auc" not in baselines:
            from evaluation.downstream import label_rows
            from evaluation.probes import intent_ceiling
            from evaluation.timelines import Timelines

            spec = next(d for d in PRESETS[results["config"]["name"]].datasets if d.name == name)
            rows = label_rows(Timelines.load(root / "sequences"), spec.downstream, datasets.day_us(spec.cutoff),
                              datasets.day_us(spec.horizon_end))
            baselines["downstream_ceiling_auc"] = intent_ceiling(root / "raw" / "ground_truth",
                                                                 root / "job_side_table", rows)
    return results


def _cosine_source(monitoring: Path | None) -> dict[str, str]:
    note = ("Computed by the evaluation from two consecutive daily `encode_users` runs (cutoffs C − 1 day and C) "
            "with the monitoring job's definition (`feature_store/monitoring.py`: per-user cosine of the same model's "
            "embeddings on consecutive days; active = an event between the two cutoffs). The monitoring table stores "
            "quantiles only, not the per-user values a histogram needs.")
    if monitoring is None or not Path(monitoring).exists():
        return {"cosine_source": "evaluation", "cosine_note": note}
    from deltalake import DeltaTable

    table = DeltaTable(str(monitoring)).to_pyarrow_table(columns=["as_of_date", "model_name", "model_version",
                                                                   "cos_active_p50", "cos_inactive_p50"]).to_pylist()
    lines = [f"{r['as_of_date']} {r['model_name']} v{r['model_version']}: median active "
             f"{r['cos_active_p50']}, inactive {r['cos_inactive_p50']}" for r in table[-5:]]
    return {"cosine_source": "evaluation + monitoring", "cosine_note": note + " Latest monitoring rows ("
            + str(monitoring) + "): " + "; ".join(lines) + "."}


def _summary(args: EvalArgs, results: dict[str, Any]) -> dict[str, Any]:
    return {"doc": str(args.doc), "results": str(args.work_dir / "results.json"), "seconds": results["seconds"],
            "rows": len(results["rows"])}


def main(argv: list[str] | None = None) -> int:
    return command_main("evaluate", parse_args, run, argv, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
