"""Benchmark: training throughput of every aggregator — the dense per-position objective beside the one-target
objective in the same run — and the side table vs materialised job features.

    python -m benchmarks.training                              # 20,000 users × 30 days of synthetic data
    python -m benchmarks.training --users 5000 --models mean,transformer --epochs 2   # a quick run

The training data is cut once by the Spark chain (``benchmarks.pipeline``: per-position sequences, the default)
plus the examples job's ``--format windows`` on the same timelines and side table, from a locally generated
synthetic dataset, and kept in ``.cache/bench/``. Each model trains ``--epochs`` epochs on CPU with D = 64
(transformers: d_model 64, 2 heads, 2 layers) and batch ``--batch-size`` sequences (dense) or windows
(next-action); the figures are those of the last epoch (the first one includes tracing). **targets/s** counts
trained positions (a position with at least one target; a window is one target), **examples/s** sequences or
windows. Bytes per example count what the input pipeline ships per window: the context arrays with job
*indices* (side table: the job features are held once, on the device) versus the same plus every position's and
the target's job features (materialised). Writes the "Training throughput" section of docs/benchmarks.md and
``training`` in docs/benchmarks.json (``rows``: aggregator, objective, job_features, targets_per_s,
examples_per_s, …).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import tf_models  # noqa: F401  (Keras 2 before TensorFlow)
from benchmarks.report import PeakMemory, load_average, machine, write_json, write_section
from jobtrail.job_table_io import job_table_arrays, load_job_table
from jobtrail.settings import Settings
from tf_models import data, sequence_data
from tf_models.signatures import JOB_FEATURES


def ensure_examples(users: int, days: int) -> tuple[Path, Path]:
    """Generate the synthetic data and cut sequences and windows once (cached under .cache/bench)."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    bench = Settings.from_env().cache_dir / "bench"
    work = bench / f"train_examples_u{users}_d{days}"
    if (work / "windows" / "examples_meta.json").exists():
        return work / "examples", work / "windows"
    source = bench / f"synthetic_local_u{users}_d{days}_s7"
    if not (source / "_generator.json").exists():
        generate(GeneratorConfig(users=users, days=days, seed=7), source)
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "benchmarks.pipeline", "--days", str(days), "--chain", str(source),
                    str(work)], check=True, capture_output=True, text=True)
    meta = json.loads((work / "examples" / "examples_meta.json").read_text())
    shutil.copytree(work / "examples" / "job_side_table", work / "windows" / "job_side_table")
    subprocess.run([sys.executable, "-m", "spark_jobs.examples", "--format", "windows", "--start", meta["start"],
                    "--end", meta["end"], "--valid-from", meta["valid_from"], "--out", str(work / "windows"),
                    "--data-root", str(work)], check=True, capture_output=True, text=True)
    return work / "examples", work / "windows"


def bytes_per_example(examples: Path) -> dict[str, float]:
    """Bytes the pipeline ships per example: indices only vs with job features in every position."""
    files = data.example_files(examples, "train")
    shapes = data.read_shapes(files)
    chunk = next(data.read_file(files[0], shapes, chunk_rows=256))
    indices = sum(v.nbytes for v in chunk.values()) / len(chunk["label"])
    arrays = job_table_arrays(load_job_table(examples / "job_side_table")[0])
    job_row = sum(arrays[n].nbytes for n in JOB_FEATURES) / len(arrays["company_id"])
    return {"side_table": indices, "materialised": indices + (shapes.context_length + 1) * job_row,
            "side_table_total_mib": sum(arrays[n].nbytes for n in JOB_FEATURES) / 2**20,
            "parquet_mib": sum(Path(f).stat().st_size for f in files) / 2**20,
            "train_examples": data.count_rows(files), "context_length": shapes.context_length}


def train_once(examples: Path, model: str, objective: str, *, epochs: int, batch_size: int, out: Path,
               materialise: bool) -> dict:
    from tf_models.train import parse_args, run

    argv = ["--model", model, "--examples", str(examples), "--out", str(out), "--epochs", str(epochs),
            "--patience", str(epochs), "--no-mlflow", "--no-deterministic", "--objective", objective,
            "--batch-size", str(batch_size), "--heads", "2", "--layers", "2"]
    with PeakMemory() as mem:
        started = time.perf_counter()
        result = run(parse_args(argv + (["--materialise-jobs"] if materialise else [])))
    metrics = result["metrics"]
    examples_per_s = result["epoch_examples_per_second"][-1]
    targets_per_s = result["epoch_targets_per_second"][-1] if objective == "dense" else examples_per_s
    return {"aggregator": model, "objective": objective, "job_features": "materialised" if materialise else "side table",
            "batch_size": batch_size, "targets_per_s": round(targets_per_s, 1), "examples_per_s": round(examples_per_s, 1),
            "val_auc": round(metrics["val_auc"], 4),
            "val_recall_at_10": round(metrics["val_recall_at_10"], 4) if "val_recall_at_10" in metrics else None,
            "seconds": round(time.perf_counter() - started, 1), "peak_rss_gib": round(mem.peak_bytes / 2**30, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--models", default="mean,decay,cnn,transformer,multiseq")
    parser.add_argument("--batch-size", type=int, default=128, help="sequences (dense) per step")
    parser.add_argument("--window-batch-size", type=int, default=512, help="windows (next-action) per step")
    args = parser.parse_args(argv)
    sequences, windows = ensure_examples(args.users, args.days)
    sizes = bytes_per_example(windows)
    n_sequences = data.count_rows(sequence_data.sequence_files(sequences, "train"))
    n_positions = sequence_data.trained_positions(sequence_data.sequence_files(sequences, "train"))
    print(json.dumps(sizes), flush=True)
    out = Settings.from_env().cache_dir / "bench" / "train_runs"
    models = args.models.split(",")
    runs = [(m, "dense", False) for m in models]
    if "transformer" in models:
        runs += [("transformer", "next-action", False), ("transformer", "next-action", True)]
    load_before = load_average()
    results = []
    for model, objective, materialise in runs:
        folder, batch = (sequences, args.batch_size) if objective == "dense" else (windows, args.window_batch_size)
        results.append(train_once(folder, model, objective, epochs=args.epochs, batch_size=batch,
                                  out=out / f"{model}-{objective}-{materialise}", materialise=materialise))
        print(json.dumps(results[-1]), flush=True)
    shutil.rmtree(out, ignore_errors=True)
    dense = {r["aggregator"]: r for r in results if r["objective"] == "dense"}
    one_target = next((r for r in results if r["objective"] == "next-action" and r["job_features"] == "side table"),
                      None)
    ratio = (dense["transformer"]["targets_per_s"] / one_target["targets_per_s"]
             if one_target and "transformer" in dense else None)
    command = (f"python -m benchmarks.training --users {args.users} --days {args.days} --epochs {args.epochs} "
               f"--models {args.models} --batch-size {args.batch_size} --window-batch-size {args.window_batch_size}")
    rows = [f"| {r['aggregator']} | {r['objective']} | {r['job_features']} | {r['targets_per_s']:,.0f} | "
            f"{r['examples_per_s']:,.0f} | "
            + (f"{sizes['materialised' if r['job_features'] == 'materialised' else 'side_table']:,.0f}"
               if r["objective"] == "next-action" else "—")
            + f" | {r['val_recall_at_10'] if r['val_recall_at_10'] is not None else '—'} | {r['val_auc']} | "
              f"{r['seconds']} | {r['peak_rss_gib']} |" for r in results]
    write_section(
        "Training throughput",
        f"Command: `{command}` on {machine()}, CPU only (TensorFlow {__import__('tensorflow').__version__}); "
        f"{load_before} before the runs, {load_average()} after (nothing else running). "
        f"Dense: {n_sequences:,} training sequences of L = {sizes['context_length']} positions "
        f"({n_positions:,} trained positions), batch {args.batch_size}; next-action: {sizes['train_examples']:,} "
        f"windows (W = {sizes['context_length'] + 1}), batch {args.window_batch_size}; D = 64. "
        f"Figures of the last epoch. targets/s: trained positions per second (a window trains one). "
        + (f"**The dense transformer trains ×{ratio:.1f} the targets per second of the one-target objective.** "
           if ratio else "")
        + f"Bytes per example: what the input pipeline ships per window (side table: indices, the "
          f"{sizes['side_table_total_mib']:.1f} MiB side table held once on the device; materialised: job features "
          f"copied into every position). Windows on disk: {sizes['parquet_mib']:.1f} MiB of Parquet.\n\n"
          "| aggregator | objective | job features | targets/s | examples/s | bytes/example | val Recall@10 | "
          "val AUC (proxy) | seconds | peak RSS GiB |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows),
    )
    write_json("training", {"command": command, "machine": machine(), "load_before": load_before,
                            "load_after": load_average(), "sequences": n_sequences, "trained_positions": n_positions,
                            "windows": sizes["train_examples"], "dense_vs_one_target_targets_ratio": ratio,
                            "rows": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
