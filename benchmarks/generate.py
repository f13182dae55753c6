"""Benchmark: synthetic data generation, single process and through Spark at the 10M-event scale.

    make bench                                   # both, default sizes
    python -m benchmarks.generate --spark-users 610000 --local-users 20000

The Spark run's output is kept in ``.cache/bench/`` for :mod:`benchmarks.pipeline` to read.

Prints one JSON line per run and regenerates the "Synthetic data generation" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.report import BENCH_USERS, PeakMemory, dataset_dir, machine, write_section
from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.tables import Tables


def bench_local(users: int, days: int, out: Path) -> dict:
    from jobtrail.synthetic.generate import generate

    with PeakMemory() as mem:
        started = time.perf_counter()
        counts = generate(GeneratorConfig(users=users, days=days, seed=7), out)
        seconds = time.perf_counter() - started
    return {"engine": "local (1 process)", "users": users, "days": days, "events": counts[Tables.RAW_EVENTS],
            "seconds": round(seconds, 1), "peak_rss_gib": round(mem.peak_bytes / 2**30, 2)}


def bench_spark(users: int, days: int, out: Path) -> dict:
    from spark_jobs.generate import GenerateArgs, run
    from spark_jobs.session import create_session

    with PeakMemory() as mem:
        spark = create_session("jobtrail-bench-generate")
        master = spark.sparkContext.master
        started = time.perf_counter()
        args = GenerateArgs(GeneratorConfig(users=users, days=days, seed=7), out, partitions=max(2, users // 20_000))
        counts = run(spark, args)
        seconds = time.perf_counter() - started
        spark.stop()
    return {"engine": f"spark {master}", "users": users, "days": days,
            "events": counts[Tables.RAW_EVENTS], "seconds": round(seconds, 1),
            "peak_rss_gib": round(mem.peak_bytes / 2**30, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-users", type=int, default=20_000)
    parser.add_argument("--spark-users", type=int, default=BENCH_USERS, help="610,000 users ≈ 10.1M events")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="jobtrail-bench-") as tmp:
        if args.local_users:
            results.append(bench_local(args.local_users, args.days, Path(tmp) / "local"))
            print(json.dumps(results[-1]), flush=True)
            shutil.rmtree(Path(tmp) / "local")
        if args.spark_users:
            target = dataset_dir(args.spark_users, args.days)
            shutil.rmtree(target, ignore_errors=True)
            results.append(bench_spark(args.spark_users, args.days, target))
            print(json.dumps(results[-1]), flush=True)
    rows = "\n".join(
        f"| {r['engine']} | {r['users']:,} | {r['days']} | {r['events']:,} | {r['seconds']} | "
        f"{r['events'] / r['seconds']:,.0f} | {r['peak_rss_gib']} |"
        for r in results
    )
    write_section(
        "Synthetic data generation",
        f"Command: `python -m benchmarks.generate --local-users {args.local_users} --spark-users {args.spark_users}"
        f" --days {args.days}` on {machine()}.\n\n"
        "| engine | users | days | events | seconds | events/s | peak RSS (GiB, whole process tree) |\n"
        "|---|---|---|---|---|---|---|\n" + rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
