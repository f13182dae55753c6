"""Benchmark: training throughput of every aggregator, and the side table vs materialised job features.

    python -m benchmarks.training                              # 20,000 users × 30 days of synthetic data
    python -m benchmarks.training --users 5000 --models mean,transformer --epochs 2   # a quick run

The examples are cut once by the Spark chain (``benchmarks.pipeline``) from a locally generated synthetic
dataset and kept in ``.cache/bench/``. Each model trains ``--epochs`` epochs on CPU with the default
hyper-parameters (D = 64, batch 512); the figure is the examples per second of the last epoch (the first
one includes tracing). Bytes per example count what the input pipeline ships per example: the context
arrays with job *indices* (side table: the job features are held once, on the device) versus the same
plus every position's and the target's job features (materialised). The table "Training throughput" of
docs/benchmarks.md is regenerated.
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
from benchmarks.report import PeakMemory, machine, write_section
from jobtrail.job_table_io import job_table_arrays, load_job_table
from jobtrail.settings import Settings
from tf_models import data
from tf_models.signatures import JOB_FEATURES


def ensure_examples(users: int, days: int) -> Path:
    """Generate the synthetic data and cut the examples once (cached under .cache/bench)."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    bench = Settings.from_env().cache_dir / "bench"
    work = bench / f"train_examples_u{users}_d{days}"
    if (work / "examples" / "examples_meta.json").exists():
        return work / "examples"
    source = bench / f"synthetic_local_u{users}_d{days}_s7"
    if not (source / "_generator.json").exists():
        generate(GeneratorConfig(users=users, days=days, seed=7), source)
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "benchmarks.pipeline", "--days", str(days), "--chain", str(source),
                    str(work)], check=True, capture_output=True, text=True)
    return work / "examples"


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


def train_once(examples: Path, model: str, epochs: int, out: Path, materialise: bool) -> dict:
    from tf_models.train import parse_args, run

    argv = ["--model", model, "--examples", str(examples), "--out", str(out), "--epochs", str(epochs),
            "--patience", str(epochs), "--no-mlflow", "--no-deterministic"]
    with PeakMemory() as mem:
        started = time.perf_counter()
        result = run(parse_args(argv + (["--materialise-jobs"] if materialise else [])))
    return {"model": model, "features": "materialised" if materialise else "side table",
            "examples_per_second": result["epoch_examples_per_second"][-1],
            "val_auc": round(result["metrics"]["val_auc"], 4), "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_gib": round(mem.peak_bytes / 2**30, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--models", default="mean,decay,cnn,transformer,multiseq")
    args = parser.parse_args(argv)
    examples = ensure_examples(args.users, args.days)
    sizes = bytes_per_example(examples)
    print(json.dumps(sizes), flush=True)
    out = Settings.from_env().cache_dir / "bench" / "train_runs"
    runs = [(m, False) for m in args.models.split(",")]
    if "transformer" in args.models.split(","):
        runs.append(("transformer", True))
    results = []
    for model, materialise in runs:
        results.append(train_once(examples, model, args.epochs, out / f"{model}-{materialise}", materialise))
        print(json.dumps(results[-1]), flush=True)
    shutil.rmtree(out, ignore_errors=True)
    rows = [f"| {r['model']} | {r['features']} | {r['examples_per_second']:,.0f} | "
            f"{sizes['materialised' if r['features'] == 'materialised' else 'side_table']:,.0f} | "
            f"{r['val_auc']} | {r['seconds']} | {r['peak_rss_gib']} |" for r in results]
    write_section(
        "Training throughput",
        f"Command: `python -m benchmarks.training --users {args.users} --days {args.days} --epochs {args.epochs}"
        f" --models {args.models}` on {machine()}, CPU only (TensorFlow {__import__('tensorflow').__version__}). "
        f"{sizes['train_examples']:,} training examples (W = {sizes['context_length'] + 1}), batch 512, D = 64; "
        f"examples/s of the last epoch. Bytes per example: what the input pipeline ships per example "
        f"(side table: indices, the {sizes['side_table_total_mib']:.1f} MiB side table held once on the device;"
        f" materialised: job features copied into every position). Examples on disk: "
        f"{sizes['parquet_mib']:.1f} MiB of Parquet.\n\n"
        "| aggregator | job features | examples/s | bytes/example | val AUC | seconds | peak RSS GiB |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
