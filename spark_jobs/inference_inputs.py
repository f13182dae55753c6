"""Spark job: inference inputs — each user's latest events strictly before the cutoff.

For ``--as-of`` D the cutoff is D 00:00 UTC (``as_of_ts``). Each user with an event in the ``--lookback-days``
days before D gets one row (contract ``INFERENCE_INPUT``): the latest W − 1 of those events as fixed-length
arrays (the shapes the model was trained on, "time to target" measured to the cutoff), ``n_events`` (events in the
lookback), ``last_event_ts`` and ``below_min_events`` (fewer than ``--min-events``, default 1: flagged, not
dropped). Jobs are referenced by index in the job side table given by ``--job-table``. The ``as_of_date``
partition is replaced on rerun.

Where the events come from (``--source``):

- ``state`` (default): the per-user timeline state as of D (:mod:`spark_jobs.user_state`), made first if it is
  missing or stale — the day's work follows the day's events, not the history. The rows are built from whole
  Arrow batches in numpy (:func:`batch_inputs`), no loop per user.
- ``history``: the lookback's clean events re-read and re-sessionized (the reference the state is tested
  against). The state keeps each user's latest W − 1 events (the context, nothing more), and the two give
  equal rows except for a user with more than W − 1 events in the lookback whose session crossing the
  lookback's first midnight lasts into the latest W − 1 (session positions differ: the state numbers that
  session from its true start, the history from the midnight).

    spark-submit spark_jobs/inference_inputs.py --as-of 2026-10-31 --job-table data/job_side_table/ds=2026-10-30
    jobtrail inference-inputs --as-of 2026-10-31 --job-table data/job_side_table/ds=2026-10-30 [--source history]
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
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobtrail.argtypes import cli_path, number
from jobtrail.contracts import INFERENCE_INPUT, Tables
from jobtrail.knobs import LOOKBACK_DAYS, WINDOW
from jobtrail.sequence_core.arrow_io import rows_to_table, user_timelines
from jobtrail.sequence_core.windows import SECOND_US, WindowConfig, context
from spark_jobs import user_state
from spark_jobs.common import add_data_root, data_root, iso_date, positive_int, read_delta, write_days
from spark_jobs.schemas import spark_schema
from spark_jobs.sequences import user_sequences, with_job_index
from spark_jobs.timelines import events_between, sessionize
from spark_jobs.tokens import query_token_ids

SOURCES = ("state", "history")


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
class JobIndex:
    """The side table's job_id → job_index, shipped to the executors (Arrow ids, numpy indices)."""

    ids: pa.Array
    index: np.ndarray

    @classmethod
    def read(cls, spark: SparkSession, job_table: Path) -> "JobIndex":
        rows = spark.read.parquet(str(job_table)).where("job_id IS NOT NULL").select("job_id", "job_index").toPandas()
        return cls(pa.array(rows.job_id, pa.string()), rows.job_index.to_numpy(np.int32))

    def lookup(self, job_ids: pa.Array) -> np.ndarray:
        """job_index of each id; 0 (the no-job slot) for a null id or one the side table lacks."""
        found = pc.fill_null(pc.index_in(job_ids, value_set=self.ids), -1).to_numpy()
        return np.where(found >= 0, self.index[np.maximum(found, 0)] if len(self.index) else 0, 0).astype(np.int32)


def state_inputs(state: DataFrame, jobs: JobIndex, *, as_of: date, lookback_days: int, cfg: WindowConfig,
                 token_buckets: int) -> DataFrame:
    """One row per user of a state snapshot (contract USER_STATE, as of ``as_of``) with an event in the lookback.

    Spark SQL keeps the lookback's events and slices the latest W − 1 of them. When the state holds earlier
    events, the lookback's first event is rebased as a fresh timeline would have it (gap 0, its session counted
    from it), so the rows equal the ``history`` source's. :func:`batch_inputs` pads them batch by batch.
    """
    start = as_of - timedelta(days=lookback_days)
    start_us, start_day = cutoff_us(start), (start - user_state.EPOCH).days
    recent = F.filter("events", lambda e: e.ts_us >= start_us)
    first = F.element_at(recent, 1)
    rebase = F.element_at("events", 1).ts_us < start_us
    latest = F.slice(recent, F.greatest(F.size(recent) - cfg.context_size + 1, F.lit(1)), cfg.context_size)

    def as_context(e):
        return F.struct(
            e.ts_us.alias("ts_us"), e.event_type_id.alias("event_type_id"), e.job_id.alias("job_id"),
            F.when(rebase & (e.session_id == first.session_id), e.session_position - first.session_position)
            .otherwise(e.session_position).alias("session_position"),
            F.when(rebase & (e.event_id == first.event_id), F.lit(0.0)).otherwise(e.gap_s).alias("gap_s"),
            query_token_ids(e.query, buckets=token_buckets, max_tokens=cfg.query_tokens).alias("query_tokens"),
        )

    in_lookback = F.aggregate(F.filter("day_counts", lambda c: c.day >= start_day), F.lit(0).cast("long"),
                              lambda total, c: total + c.n)
    rows = state.where(F.size(recent) > 0).select(
        "user_id", F.transform(latest, as_context).alias("ctx"), in_lookback.alias("n_events"),
        F.unix_micros("last_event_ts").alias("last_us"))
    cutoff = cutoff_us(as_of)

    def build(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield batch_inputs(batch, jobs, cutoff=cutoff, as_of=as_of, cfg=cfg)

    return rows.mapInArrow(build, spark_schema(INFERENCE_INPUT))


def batch_inputs(batch: pa.RecordBatch, jobs: JobIndex, *, cutoff: int, as_of: date,
                 cfg: WindowConfig) -> pa.RecordBatch:
    """INFERENCE_INPUT rows of a batch (user_id, ctx = the latest events, n_events, last_us), vectorised.

    The same arithmetic as :func:`jobtrail.sequence_core.windows.context` on a whole batch: every array is gathered through
    one [users, W − 1] index matrix, padded at the end.
    """
    ctx = batch.column("ctx")
    offsets = ctx.offsets.to_numpy()
    size, q, users = cfg.context_size, cfg.query_tokens, batch.num_rows
    lengths = np.minimum(np.diff(offsets), size)
    valid = np.arange(size) < lengths[:, None]
    take = np.where(valid, offsets[:-1, None] + np.arange(size), 0)
    fields = dict(zip([f.name for f in ctx.type.value_type], ctx.values.flatten()))

    def gather(values: np.ndarray, dtype) -> np.ndarray:
        if not len(values):
            return np.zeros((users, size), dtype)
        return np.where(valid, values[take], 0).astype(dtype)

    ts = gather(fields["ts_us"].to_numpy(), np.int64)
    tokens = np.asarray(fields["query_tokens"].flatten().to_numpy(), np.int32).reshape(-1, q)
    token_rows = tokens[take] if len(tokens) else np.zeros((users, size, q), np.int32)
    matrices = {
        "ctx_job_index": gather(jobs.lookup(fields["job_id"]), np.int32),
        "ctx_event_type": gather(fields["event_type_id"].to_numpy(), np.int32),
        "ctx_log_gap": np.log1p(gather(fields["gap_s"].to_numpy(), np.float64)).astype(np.float32),
        "ctx_log_time_to_target": np.where(valid, np.log1p(np.maximum(cutoff - ts, 0) / SECOND_US), 0.0)
        .astype(np.float32),
        "ctx_session_position": gather(fields["session_position"].to_numpy(), np.int32),
        "ctx_query_tokens": np.where(valid[:, :, None], token_rows, 0).reshape(users, size * q),
    }
    n_events = batch.column("n_events").to_numpy()
    columns = {
        "user_id": batch.column("user_id"),
        **{name: _lists(m, INFERENCE_INPUT.field(name).type.value_type) for name, m in matrices.items()},
        "context_length": pa.array(lengths.astype(np.int32)),
        "n_events": pa.array(n_events, pa.int64()),
        "last_event_ts": batch.column("last_us").cast(pa.timestamp("us")).cast(INFERENCE_INPUT.field("last_event_ts").type),
        "below_min_events": pa.array(n_events < cfg.min_events),
        "as_of_ts": pa.array(np.full(users, cutoff), pa.int64()).cast(pa.timestamp("us"))
        .cast(INFERENCE_INPUT.field("as_of_ts").type),
        "as_of_date": pa.array([as_of] * users, pa.date32()),
    }
    return pa.RecordBatch.from_arrays([columns[n] for n in INFERENCE_INPUT.names], schema=INFERENCE_INPUT)


def _lists(matrix: np.ndarray, value_type: pa.DataType) -> pa.ListArray:
    rows, width = matrix.shape
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(matrix.reshape(-1), value_type))


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
    source: str = "state"
    state: user_state.StateArgs | None = None


def parse_args(argv: list[str] | None = None) -> InferenceInputArgs:
    parser = argparse.ArgumentParser(description="Build inference inputs for one as-of date.")
    parser.add_argument("--as-of", type=iso_date, required=True, help="cutoff = this date 00:00 UTC")
    LOOKBACK_DAYS.add_to(parser)
    parser.add_argument("--job-table", type=cli_path, required=True, help="job side table folder (Parquet)")
    parser.add_argument("--events", type=cli_path, default=None, help="clean events Delta table")
    parser.add_argument("--out", type=cli_path, default=None, help="inference inputs Delta table")
    WINDOW.add_to(parser)
    parser.add_argument("--min-events", type=positive_int, default=1,
                        help="users with fewer events are flagged below_min_events (carried forward or cold start); "
                             "default 1: every user with an event gets a computed embedding (the causal models "
                             "embed any prefix; the training minimum selects training material only)")
    parser.add_argument("--query-tokens", type=positive_int, default=4)
    parser.add_argument("--token-buckets", type=positive_int, default=2**14)
    parser.add_argument("--session-gap-minutes", type=number(0, 10_080, above=True), default=30.0)
    parser.add_argument("--source", choices=SOURCES, default="state",
                        help="state: the per-user timeline state (made if missing or stale); history: re-read the "
                             "lookback's clean events")
    user_state.add_state_arguments(parser)
    add_data_root(parser)
    a = parser.parse_args(argv)
    root = data_root(a.data_root)
    window = WindowConfig(window=a.window, min_events=a.min_events, query_tokens=a.query_tokens)
    events = a.events or root / Tables.CLEAN_EVENTS
    return InferenceInputArgs(a.as_of, a.lookback_days, events, a.job_table, a.out or root / Tables.INFERENCE_INPUTS,
                              window, a.session_gap_minutes, a.token_buckets, a.source,
                              user_state.state_args(a, root, events, window.context_size))


def history_inputs(spark: SparkSession, args: InferenceInputArgs) -> DataFrame:
    """The ``history`` source: the lookback's clean events sessionized, one Python call per user."""
    start = args.as_of - timedelta(days=args.lookback_days)
    end = args.as_of - timedelta(days=1)
    events = events_between(read_delta(spark, args.events_path), start=start, end=end)
    timeline = with_job_index(sessionize(events, session_gap_minutes=args.session_gap_minutes),
                              spark.read.parquet(str(args.job_table)))
    sequences = user_sequences(timeline, query_tokens=args.window.query_tokens, token_buckets=args.token_buckets)
    return user_inputs(sequences, as_of=args.as_of, cfg=args.window)


def run(spark: SparkSession, args: InferenceInputArgs) -> dict[str, object]:
    made: dict[str, object] = {}
    if args.source == "history":
        inputs = history_inputs(spark, args)
    else:
        made = user_state.ensure(spark, args.state)
        inputs = state_inputs(user_state.read_state(spark, args.state.state_path, args.as_of),
                              JobIndex.read(spark, args.job_table), as_of=args.as_of, lookback_days=args.lookback_days,
                              cfg=args.window, token_buckets=args.token_buckets)
    meta = json.dumps({"job": "inference_inputs", "as_of": str(args.as_of), "source": args.source})
    write_days(inputs, args.out, args.as_of, partition_column="as_of_date", user_metadata=meta)
    written = read_delta(spark, args.out).where(f"as_of_date = '{args.as_of}'")
    counts = {"users": written.count(), "below_min_events": written.where("below_min_events").count()}
    return {**counts, **({"state": made} if made else {})}


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "inference_inputs", **run(create_session("jobtrail-inference-inputs"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
