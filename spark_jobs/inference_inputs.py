"""Spark job: inference inputs — each user's latest events strictly before the cutoff.

For ``--as-of D`` the cutoff is D 00:00 UTC (``as_of_ts``): only events before it are used, read from
the clean events of the ``--lookback-days`` days before D and sessionized as in training. Each user
with at least one such event gets one row (contract ``INFERENCE_INPUT``): the latest W − 1 events as
fixed-length arrays (the same shapes the model was trained on, with "time to target" measured to the
cutoff), ``n_events``, ``last_event_ts`` and ``below_min_events`` (fewer than ``--min-events``, default 1:
flagged, not dropped). Jobs are
referenced by index in the job side table given by ``--job-table``. The ``as_of_date`` partition is
replaced on rerun.

    spark-submit spark_jobs/inference_inputs.py --as-of 2026-10-31 --job-table data/job_side_table/ds=2026-10-30
    jobtrail inference-inputs --as-of 2026-10-31 --job-table data/job_side_table/ds=2026-10-30
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from jobtrail.argtypes import cli_path, int_range, number
from jobtrail.contracts import INFERENCE_INPUT, Tables
from spark_jobs.common import add_data_root, data_root, iso_date, positive_int, read_delta, write_days
from spark_jobs.sequences import rows_to_table, user_sequences, user_timelines, with_job_index
from spark_jobs.schemas import spark_schema
from spark_jobs.timelines import events_between, sessionize
from spark_jobs.windows import SECOND_US, WindowConfig, context


def cutoff_us(as_of: date) -> int:
    return int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc).timestamp()) * SECOND_US


def user_inputs(sequences: DataFrame, *, as_of: date, cfg: WindowConfig) -> DataFrame:
    """One row per user of ``sequences`` (all events before the cutoff): context arrays and activity."""
    cutoff = cutoff_us(as_of)

    def build(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = []
            for user, tl in user_timelines(batch, cfg.query_tokens):
                n = int(np.searchsorted(tl.ts, cutoff, side="left"))
                rows.append({
                    "user_id": user, **context(tl, cutoff, cfg), "n_events": n,
                    "last_event_ts": int(tl.ts[n - 1]) if n else None,
                    "below_min_events": n < cfg.min_events, "as_of_ts": cutoff, "as_of_date": as_of,
                })
            if rows:
                yield from rows_to_table(rows, INFERENCE_INPUT).to_batches()

    return sequences.mapInArrow(build, spark_schema(INFERENCE_INPUT))


@dataclass(frozen=True)
class InferenceInputArgs:
    as_of: date
    lookback_days: int
    events_path: Path
    job_table: Path
    out: Path
    window: WindowConfig
    session_gap_minutes: float = 30.0
    token_buckets: int = 2**14


def parse_args(argv: list[str] | None = None) -> InferenceInputArgs:
    parser = argparse.ArgumentParser(description="Build inference inputs for one as-of date.")
    parser.add_argument("--as-of", type=iso_date, required=True, help="cutoff = this date 00:00 UTC")
    parser.add_argument("--lookback-days", type=int_range(1, 730), default=90)
    parser.add_argument("--job-table", type=cli_path, required=True, help="job side table folder (Parquet)")
    parser.add_argument("--events", type=cli_path, default=None, help="clean events Delta table")
    parser.add_argument("--out", type=cli_path, default=None, help="inference inputs Delta table")
    parser.add_argument("--window", type=int_range(8, 256), default=32, help="W: contexts hold W-1 events")
    parser.add_argument("--min-events", type=positive_int, default=1,
                        help="users with fewer events are flagged below_min_events (carried forward or cold start); "
                             "default 1: every user with an event gets a computed embedding (the causal models "
                             "embed any prefix; the training minimum selects training material only)")
    parser.add_argument("--query-tokens", type=positive_int, default=4)
    parser.add_argument("--token-buckets", type=positive_int, default=2**14)
    parser.add_argument("--session-gap-minutes", type=number(0, 10_080, above=True), default=30.0)
    add_data_root(parser)
    a = parser.parse_args(argv)
    root = data_root(a.data_root)
    window = WindowConfig(window=a.window, min_events=a.min_events, query_tokens=a.query_tokens)
    return InferenceInputArgs(a.as_of, a.lookback_days, a.events or root / Tables.CLEAN_EVENTS, a.job_table,
                              a.out or root / Tables.INFERENCE_INPUTS, window, a.session_gap_minutes, a.token_buckets)


def run(spark: SparkSession, args: InferenceInputArgs) -> dict[str, int]:
    start = args.as_of - timedelta(days=args.lookback_days)
    end = args.as_of - timedelta(days=1)
    events = events_between(read_delta(spark, args.events_path), start=start, end=end)
    timeline = with_job_index(sessionize(events, session_gap_minutes=args.session_gap_minutes),
                              spark.read.parquet(str(args.job_table)))
    sequences = user_sequences(timeline, query_tokens=args.window.query_tokens, token_buckets=args.token_buckets)
    inputs = user_inputs(sequences, as_of=args.as_of, cfg=args.window)
    meta = json.dumps({"job": "inference_inputs", "as_of": str(args.as_of)})
    write_days(inputs, args.out, args.as_of, partition_column="as_of_date", user_metadata=meta)
    written = read_delta(spark, args.out).where(f"as_of_date = '{args.as_of}'")
    return {"users": written.count(), "below_min_events": written.where("below_min_events").count()}


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "inference_inputs", **run(create_session("jobtrail-inference-inputs"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
