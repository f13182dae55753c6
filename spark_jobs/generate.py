"""Spark job: the synthetic dataset at scale (the same rows as ``jobtrail generate``, in parallel).

Users are split over Spark tasks; the seeded job catalogue is built once on the driver and broadcast,
and each task runs the per-user generator of :mod:`jobtrail.synthetic.behaviour`, whose output depends only on
(seed, user index) — so the rows are identical for any number of partitions.

Run::

    spark-submit spark_jobs/generate.py --users 1000000 --days 30 --seed 7 --out data/synthetic
    jobtrail generate --engine spark --users 1000000 --days 30 --seed 7 --out data/synthetic
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from jobtrail.argtypes import cli_path, int_range, iso_date, positive_int, seed
from jobtrail.contracts import GROUND_TRUTH, JOB, Tables, with_partition
from jobtrail.errors import ConfigError
from jobtrail.synthetic.catalog import Catalog, build_catalog
from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import EVENT_SCHEMA, ground_truth_table, events_table, write_manifest
from spark_jobs.schemas import spark_schema


@dataclass(frozen=True)
class GenerateArgs:
    config: GeneratorConfig
    out: Path
    partitions: int


def synthetic_events(
    spark: SparkSession, cfg: GeneratorConfig, *, partitions: int, catalog: Catalog | None = None
) -> DataFrame:
    """Raw events of all ``cfg.users`` users, generated on the executors."""
    shared = spark.sparkContext.broadcast(catalog or build_catalog(cfg))

    def generate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from events_table(cfg, shared.value, batch.column(0).to_numpy()).to_batches()

    users = spark.range(0, cfg.users, numPartitions=partitions)
    return users.mapInArrow(generate, spark_schema(EVENT_SCHEMA))


def synthetic_ground_truth(spark: SparkSession, cfg: GeneratorConfig, *, partitions: int) -> DataFrame:
    """Each user's latent intent per day."""

    def generate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from ground_truth_table(cfg, batch.column(0).to_numpy()).to_batches()

    users = spark.range(0, cfg.users, numPartitions=partitions)
    return users.mapInArrow(generate, spark_schema(GROUND_TRUTH))


def synthetic_catalog(spark: SparkSession, cfg: GeneratorConfig, *, catalog: Catalog | None = None) -> DataFrame:
    """The daily job-catalogue snapshots, one Spark task per slice of days."""
    shared = spark.sparkContext.broadcast(catalog or build_catalog(cfg))

    def generate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for day in batch.column(0).to_pylist():
                yield from shared.value.snapshot(cfg, int(day)).to_batches()

    days = spark.range(0, cfg.days, numPartitions=min(cfg.days, 8))
    return days.mapInArrow(generate, spark_schema(with_partition(JOB)))


def write_table(df: DataFrame, path: Path) -> int:
    """Overwrite ``path`` with ``df`` as Parquet partitioned by ``ds``; returns the row count."""
    df.write.mode("overwrite").partitionBy("ds").parquet(str(path))
    return df.sparkSession.read.parquet(str(path)).count()


def parse_args(argv: list[str] | None = None) -> GenerateArgs:
    parser = argparse.ArgumentParser(description="Generate the synthetic job-seeker dataset with Spark.")
    parser.add_argument("--users", type=int_range(1, 10**9), required=True)
    parser.add_argument("--days", type=int_range(1, 3660), default=30)
    parser.add_argument("--seed", type=seed, default=7)
    parser.add_argument("--start", type=iso_date, default=date(2026, 10, 1), help="first day, YYYY-MM-DD")
    parser.add_argument("--jobs", type=positive_int, default=None, help="catalogue size (default: users/2, >= 960)")
    parser.add_argument("--partitions", type=positive_int, default=None,
                        help="Spark tasks (default: users/20000, >= 2)")
    parser.add_argument("--out", type=cli_path, required=True)
    a = parser.parse_args(argv)
    try:
        cfg = GeneratorConfig(users=a.users, days=a.days, seed=a.seed, start=a.start, jobs=a.jobs)
    except ConfigError as e:
        parser.error(str(e))
    partitions = a.partitions or max(2, a.users // 20_000)
    return GenerateArgs(cfg, a.out, partitions)


def run(spark: SparkSession, args: GenerateArgs) -> dict[str, int]:
    """Generate and write every table of the dataset; returns row counts."""
    cfg, out = args.config, args.out
    out.mkdir(parents=True, exist_ok=True)
    catalog = build_catalog(cfg)
    events = synthetic_events(spark, cfg, partitions=args.partitions, catalog=catalog)
    counts = {
        Tables.RAW_EVENTS: write_table(events, out / Tables.RAW_EVENTS),
        Tables.JOB_CATALOG: write_table(synthetic_catalog(spark, cfg, catalog=catalog), out / Tables.JOB_CATALOG),
        Tables.GROUND_TRUTH: write_table(
            synthetic_ground_truth(spark, cfg, partitions=args.partitions), out / Tables.GROUND_TRUTH
        ),
        "users": cfg.users,
        "jobs": cfg.n_jobs,
    }
    write_manifest(cfg, out, counts)
    return counts


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    spark = create_session("jobtrail-generate")
    started = time.perf_counter()
    counts = run(spark, args)
    print(f"generated {counts} in {time.perf_counter() - started:.1f}s into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
