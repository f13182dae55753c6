"""Benchmark: the Spark chain ingest → timelines → job table → examples on ~10 million synthetic events.

    python -m benchmarks.pipeline                        # 610,000 users × 30 days ≈ 10.1M events, local[1] and local[2]
    python -m benchmarks.pipeline --users 20000 --masters 'local[2]'   # a quick run

The synthetic input is generated once with Spark into ``.cache/bench/`` (kept between runs; the
generation benchmark leaves it there). Each master
runs a bare Spark sort of the same events (the floor) and then the whole chain in a fresh process (a
SparkContext's master is fixed), timing every stage. The chain is a history's first load, as the
``jobtrail_history_load`` DAG runs it: ingest is one range run over every day (one run per day, the daily DAG's
shape, is compared with it in ``benchmarks.ingest``); the table "Spark chain" of docs/benchmarks.md is
regenerated with events per second per stage, the speed-up of local[2] over local[1] and each stage as a
multiple of the floor, and ``pipeline`` in docs/benchmarks.json (``floor_sort_s``, ``chain_s`` of the last
master, every run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from benchmarks.load_figures import peak_between
from benchmarks.report import BENCH_USERS, PeakMemory, dataset_dir, machine, write_json, write_section
from jobtrail.settings import Settings
from jobtrail.tables import Tables

START = date(2026, 10, 1)


def ensure_input(users: int, days: int, *, seed: int = 7, start: date = START) -> Path:
    """Generate (once) the synthetic dataset this benchmark reads (another ``seed`` / ``start``: its own folder)."""
    out = dataset_dir(users, days, seed, None if start == START else start)
    manifest = out / "_generator.json"
    if not manifest.exists():
        subprocess.run([sys.executable, "-m", "spark_jobs.generate", "--users", str(users), "--days", str(days),
                        "--seed", str(seed), "--start", start.isoformat(), "--out", str(out)], check=True)
    return out


def chain(data: Path, work: Path, days: int) -> dict:
    """Run every stage in this process (the master comes from JOBTRAIL_SPARK_MASTER); seconds per stage."""
    from spark_jobs import examples, ingest, job_table, timelines
    from spark_jobs.session import create_session

    spark = create_session("jobtrail-bench-chain")
    end = START + timedelta(days=days - 1)
    valid_from = end - timedelta(days=max(1, days // 6) - 1)
    root = ["--data-root", str(work)]
    stages: dict[str, float] = {}
    windows: dict[str, tuple[str, str]] = {}

    def now() -> str:
        return datetime.now(timezone.utc).isoformat()

    @contextmanager
    def stage(name: str):
        started, t = now(), time.perf_counter()
        yield
        stages[name], windows[name] = time.perf_counter() - t, (started, now())

    with PeakMemory(record=True) as mem:
        with stage("floor_sort"):  # the floor: a bare sort by (user, ts) of the same events, written as Parquet
            (spark.read.parquet(str(data / Tables.RAW_EVENTS)).orderBy("user_id", "ts")
             .write.mode("overwrite").parquet(str(work / "floor_sort")))
        floor = stages.pop("floor_sort")
        with stage("ingest"):  # the history as one range run, as the jobtrail_history_load DAG ingests it
            ingest.run(spark, ingest.parse_args(["--start", str(START), "--end", str(end), "--input",
                                                 str(data / Tables.RAW_EVENTS), "--now", "2030-01-01T00:00:00", *root]))
        with stage("timelines"):
            timelines.run(spark, timelines.parse_args(["--start", str(START), "--end", str(end), *root]))
        out = work / "examples"
        with stage("job_table"):
            job_table.run(spark, job_table.parse_args(["--ds", str(end), "--catalog", str(data / Tables.JOB_CATALOG),
                                                       "--start", str(START), "--end", str(end),
                                                       "--out", str(out / "job_side_table"), *root]))
        with stage("examples"):
            counts = examples.run(spark, examples.parse_args(["--start", str(START), "--end", str(end),
                                                              "--valid-from", str(valid_from), "--out", str(out),
                                                              *root]))
    events = spark.read.format("delta").load(str(work / Tables.CLEAN_EVENTS)).count()
    spark.stop()
    return {"master": os.environ.get("JOBTRAIL_SPARK_MASTER", "local[2]"), "events": events,
            "floor_sort_s": round(floor, 1),
            "examples": sum(counts.values()), "seconds": {k: round(v, 1) for k, v in stages.items()},
            "peak_rss_gib": round(mem.peak_bytes / 2**30, 2),
            "stage_peak_rss_gib": {k: peak_between(mem.samples, *window) for k, window in windows.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=BENCH_USERS)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument("--chain", nargs=2, metavar=("DATA", "WORK"), help=argparse.SUPPRESS)  # one child run
    args = parser.parse_args(argv)
    if args.chain:
        print("RESULT " + json.dumps(chain(Path(args.chain[0]), Path(args.chain[1]), args.days)), flush=True)
        return 0

    data = ensure_input(args.users, args.days)
    results = []
    for master in args.masters.split(","):
        work = Settings.from_env().cache_dir / "bench" / "chain_work"
        shutil.rmtree(work, ignore_errors=True)
        env = {**os.environ, "JOBTRAIL_SPARK_MASTER": master}
        proc = subprocess.run([sys.executable, "-m", "benchmarks.pipeline", "--days", str(args.days),
                               "--chain", str(data), str(work)], env=env, check=True, capture_output=True, text=True)
        result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
        results.append(result)
        print(json.dumps(result), flush=True)
        shutil.rmtree(work, ignore_errors=True)

    base = results[0]["seconds"]
    rows = []
    for r in results:
        floor = r["floor_sort_s"]
        cells = " | ".join(f"{r['events'] / s:,.0f} ev/s ({s} s, ×{base[k] / s:.2f}, {s / floor:.1f}× floor)"
                           for k, s in r["seconds"].items())
        chain_s = sum(r["seconds"].values())
        stage_peaks = ", ".join(f"{k} {v}" for k, v in r.get("stage_peak_rss_gib", {}).items())
        rows.append(f"| {r['master']} | {r['events']:,} | {r['examples']:,} | {floor} | {cells} | {chain_s:.0f} "
                    f"({chain_s / floor:.1f}× floor) | {r['peak_rss_gib']} ({stage_peaks}) |")
    command = f"python -m benchmarks.pipeline --users {args.users} --days {args.days} --masters '{args.masters}'"
    write_section(
        "Spark chain (ingest → timelines → job table → examples)",
        f"Command: `{command}` on {machine()}. The floor: a bare Spark sort of the same raw events by (user, ts),"
        f" written as Parquet, in the same process before the chain. Each stage cell: input events per second"
        f" (seconds, speed-up over {results[0]['master']}, multiple of the floor). Ingest is one range run over the"
        f" {args.days} days, as the history-load DAG runs it (per-day runs: the ingest section below).\n\n"
        "| master | events | examples | floor sort s | ingest | timelines | job table | examples | chain s "
        "| peak RSS GiB (per stage) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows),
    )
    last = results[-1]
    write_json("pipeline", {"command": command, "machine": machine(), "master": last["master"],
                            "events": last["events"], "floor_sort_s": last["floor_sort_s"],
                            "chain_s": round(sum(last["seconds"].values()), 1), "stages_s": last["seconds"],
                            "runs": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
