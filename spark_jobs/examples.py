"""Spark job: training examples — sliding windows with random negatives and a time-based split.

Reads the sessionized timelines of ``--start``..``--end`` (see :mod:`spark_jobs.timelines`), maps every
job to its index in the job side table stored next to the examples (``<out>/job_side_table``, built by
:mod:`spark_jobs.job_table` from the catalogue snapshot of ``--end``), and cuts examples per user with
the rules of :mod:`spark_jobs.windows` (documented there: targets, stride, context, negatives).
Targets at or after ``--valid-from`` (UTC midnight) form the validation split; contexts are always
strictly before their target, so no validation context reaches past its target.

Output (``--out``, replaced on rerun)::

    <out>/examples/split=train|validation/*.parquet   contract TRAINING_EXAMPLE
    <out>/job_side_table/                              the side table the indices refer to
    <out>/examples_meta.json                           configuration and counts

    spark-submit spark_jobs/examples.py --start 2026-10-01 --end 2026-10-30 --valid-from 2026-10-25 \\
        --catalog data/synthetic/job_catalog --out data/examples/w32 [--window 32 --stride 1 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from jobtrail.argtypes import cli_path, int_range, names, number, seed
from jobtrail.contracts import EVENT_TYPES, TRAINING_EXAMPLE, Tables
from jobtrail.errors import ConfigError
from spark_jobs.common import add_data_root, data_root, iso_date, positive_int, read_delta
from spark_jobs.schemas import spark_schema
from spark_jobs.sequences import daily_pools, rows_to_table, user_sequences, user_timelines, with_job_index
from spark_jobs.timelines import events_between
from spark_jobs.windows import SECOND_US, WindowConfig, user_examples

def cut_examples(sequences: DataFrame, pools: dict[int, np.ndarray], *, cfg: WindowConfig, valid_from: date) -> DataFrame:
    """Examples (contract TRAINING_EXAMPLE) from per-user sequences; see :mod:`spark_jobs.windows`."""
    valid_from_us = int(datetime(valid_from.year, valid_from.month, valid_from.day, tzinfo=timezone.utc).timestamp()) * SECOND_US
    pools_b = sequences.sparkSession.sparkContext.broadcast(pools)

    def cut(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = [row for user, tl in user_timelines(batch, cfg.query_tokens)
                    for row in user_examples(user, tl, pools_b.value, cfg, valid_from_us)]
            if rows:
                yield from rows_to_table(rows, TRAINING_EXAMPLE).to_batches()

    return sequences.mapInArrow(cut, spark_schema(TRAINING_EXAMPLE))


@dataclass(frozen=True)
class ExampleArgs:
    start: date
    end: date
    valid_from: date
    timelines_path: Path
    job_table: Path
    out: Path
    window: WindowConfig
    token_buckets: int = 2**14


def parse_args(argv: list[str] | None = None) -> ExampleArgs:
    parser = argparse.ArgumentParser(description="Cut training examples from sessionized timelines.")
    parser.add_argument("--start", type=iso_date, required=True)
    parser.add_argument("--end", type=iso_date, required=True)
    parser.add_argument("--valid-from", type=iso_date, required=True, help="targets from this day on: validation")
    parser.add_argument("--out", type=cli_path, required=True, help="examples folder (replaced)")
    parser.add_argument("--timelines", type=cli_path, default=None, help="timelines Delta table")
    parser.add_argument("--job-table", type=cli_path, default=None,
                        help="job side table (default: <out>/job_side_table)")
    parser.add_argument("--window", type=int_range(8, 256), default=32, help="W, 8..256: contexts hold W-1 events")
    parser.add_argument("--stride", type=int_range(1, 256), default=1)
    parser.add_argument("--min-events", type=positive_int, default=4)
    parser.add_argument("--positive-types", type=names(EVENT_TYPES, what="event type"), default=("apply", "save"))
    parser.add_argument("--negative-types", type=names(EVENT_TYPES, what="event type"), default=("dismiss",))
    parser.add_argument("--negatives-per-positive", type=int_range(0, 20), default=1)
    parser.add_argument("--random-negative-weight", type=number(0, 100, above=True), default=0.3)
    parser.add_argument("--dismiss-weight", type=number(0, 100, above=True), default=1.0)
    parser.add_argument("--negatives-in-timeline", action="store_true", help="also insert negatives as events")
    parser.add_argument("--query-tokens", type=positive_int, default=4)
    parser.add_argument("--token-buckets", type=positive_int, default=2**14)
    parser.add_argument("--seed", type=seed, default=7)
    add_data_root(parser)
    a = parser.parse_args(argv)
    if not a.start <= a.valid_from <= a.end:
        parser.error(f"--valid-from {a.valid_from} must lie within --start {a.start} .. --end {a.end}")
    try:
        window = WindowConfig(
            window=a.window, stride=a.stride, min_events=a.min_events,
            positive_types=tuple(a.positive_types), negative_types=tuple(a.negative_types),
            negatives_per_positive=a.negatives_per_positive, random_negative_weight=a.random_negative_weight,
            dismiss_weight=a.dismiss_weight, negatives_in_timeline=a.negatives_in_timeline,
            query_tokens=a.query_tokens, seed=a.seed,
        )
    except ConfigError as e:  # how the options combine (weights, label types): still a usage error
        parser.error(str(e))
    return ExampleArgs(a.start, a.end, a.valid_from, a.timelines or data_root(a.data_root) / Tables.TIMELINES,
                       a.job_table or a.out / "job_side_table", a.out, window, a.token_buckets)


def run(spark: SparkSession, args: ExampleArgs) -> dict[str, int]:
    """Cut and write the examples of ``args``; returns counts per split and label kind."""
    if not args.job_table.exists():
        raise ConfigError(
            f"no job side table at {args.job_table}: build it first, next to the examples, with "
            f"`spark-submit spark_jobs/job_table.py --ds {args.end} --out {args.job_table} ...`"
        )
    timeline = events_between(read_delta(spark, args.timelines_path), start=args.start, end=args.end)
    indexed = with_job_index(timeline, spark.read.parquet(str(args.job_table))).cache()
    try:
        pools = daily_pools(indexed)
        sequences = user_sequences(indexed, query_tokens=args.window.query_tokens, token_buckets=args.token_buckets)
        examples = cut_examples(sequences, pools, cfg=args.window, valid_from=args.valid_from)
        examples.write.mode("overwrite").partitionBy("split").parquet(str(args.out / "examples"))
    finally:
        indexed.unpersist()
    written = spark.read.parquet(str(args.out / "examples"))
    counts = {f"{r.split}/{r.label_kind}": r["count"] for r in written.groupBy("split", "label_kind").count().collect()}
    meta = {"start": str(args.start), "end": str(args.end), "valid_from": str(args.valid_from),
            "window": asdict(args.window), "token_buckets": args.token_buckets, "counts": counts}
    (args.out / "examples_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "examples", "counts": run(create_session("jobtrail-examples"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
