"""Spark job: training data — per-position sequences (default) or one-target sliding windows — with a time split.

Reads the sessionized timelines of ``--start``..``--end`` (see :mod:`spark_jobs.timelines`), maps every
job to its index in the job side table stored next to the output (``<out>/job_side_table``, built by
:mod:`spark_jobs.job_table` from the catalogue snapshot of ``--end``), packs each user's timeline into one row
and cuts it in ``mapInArrow`` with pure numpy code (sequences: a whole Arrow batch of users at once,
:mod:`jobtrail.sequence_core.batch_sequences`; windows: one user at a time):

- ``--format sequences`` (default): chunks of W−1 events with targets at every position (next positive,
  positives of the future window, dismisses, keyed-hash random negatives), rules in :mod:`jobtrail.sequence_core.chunks`.
  Train rows use only events before ``--valid-from`` (UTC midnight); one validation row per user holds the
  latest W−1 events before it and, at its last position, the positives of ``[valid-from, valid-from + horizon)``
  that fall before the end of ``--end``.
- ``--format windows``: the one-target baseline of :mod:`jobtrail.sequence_core.windows` (targets at or after
  ``--valid-from`` form the validation split; contexts are strictly before their target).

Output (``--out``, replaced on rerun; the other format's folder is removed)::

    <out>/sequences/split=train|validation/*.parquet  contract TRAINING_SEQUENCE  (--format sequences)
    <out>/examples/split=train|validation/*.parquet   contract TRAINING_EXAMPLE   (--format windows)
    <out>/job_side_table/                              the side table the indices refer to
    <out>/examples_meta.json                           format, configuration and counts

    spark-submit spark_jobs/examples.py --start 2026-10-01 --end 2026-10-30 --valid-from 2026-10-25 \\
        --out data/examples/w32 [--window 32 --chunk-stride 31 --future-targets 8 --horizon-days 14 ...]
    spark-submit spark_jobs/examples.py --format windows ... [--window 32 --stride 1 --negatives-per-positive 1]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobtrail.argtypes import cli_path, int_range, names, number, target_gap
from jobtrail.contracts import EVENT_TYPES, TRAINING_EXAMPLE, TRAINING_SEQUENCE, Tables
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.knobs import RANDOM_NEGATIVES, SEED, WINDOW
from jobtrail.sequence_core import chunks
from jobtrail.sequence_core.arrow_io import rows_to_table, user_timelines
from jobtrail.sequence_core.batch_sequences import batch_sequences
from jobtrail.sequence_core.windows import SECOND_US, WindowConfig, user_examples
from spark_jobs.common import add_data_root, data_root, iso_date, positive_int, read_delta
from spark_jobs.schemas import spark_schema
from spark_jobs.sequences import daily_pools, user_sequences, with_job_index
from spark_jobs.timelines import events_between

FORMATS = ("sequences", "windows")


def day_us(day: date) -> int:
    """UTC midnight starting ``day``, µs since the epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * SECOND_US


def cut_examples(sequences: DataFrame, pools: dict[int, np.ndarray], *, cfg: WindowConfig, valid_from: date) -> DataFrame:
    """Examples (contract TRAINING_EXAMPLE) from per-user sequences; see :mod:`jobtrail.sequence_core.windows`."""
    valid_from_us = day_us(valid_from)
    pools_b = sequences.sparkSession.sparkContext.broadcast(pools)

    def cut(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = [row for user, tl in user_timelines(batch, cfg.query_tokens)
                    for row in user_examples(user, tl, pools_b.value, cfg, valid_from_us)]
            if rows:
                yield from rows_to_table(rows, TRAINING_EXAMPLE).to_batches()

    return sequences.mapInArrow(cut, spark_schema(TRAINING_EXAMPLE))


def cut_sequences(sequences: DataFrame, pools: dict[int, np.ndarray], *, cfg: chunks.SequenceConfig,
                  valid_from: date, end: date) -> DataFrame:
    """Training sequences (contract TRAINING_SEQUENCE) from per-user sequences; see :mod:`jobtrail.sequence_core.chunks`.

    ``sequences``: one row per user (:func:`spark_jobs.sequences.user_sequences`); ``pools``: day → jobs anyone
    interacted with; ``valid_from``: first validation day; ``end``: last day of the range (targets end at the
    following midnight).
    """
    valid_from_us, end_us = day_us(valid_from), day_us(end + timedelta(days=1))
    pools_b = sequences.sparkSession.sparkContext.broadcast(pools)

    def cut(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from batch_sequences(batch, pools_b.value, cfg, valid_from_us, end_us).to_batches()

    return sequences.mapInArrow(cut, spark_schema(TRAINING_SEQUENCE))


@dataclass(frozen=True)
class ExampleArgs:
    """One run: exactly one of ``window`` (``--format windows``) and ``sequence`` (``--format sequences``) is set."""

    start: date
    end: date
    valid_from: date
    timelines_path: Path
    job_table: Path
    out: Path
    window: WindowConfig | None = None
    token_buckets: int = 2**14
    sequence: chunks.SequenceConfig | None = None

    def __post_init__(self) -> None:
        if (self.window is None) == (self.sequence is None):
            raise ConfigError("give exactly one of a WindowConfig (windows) and a SequenceConfig (sequences)")

    @property
    def format(self) -> str:
        return "windows" if self.window is not None else "sequences"

    @property
    def query_tokens(self) -> int:
        return (self.window or self.sequence).query_tokens


WINDOWS_ONLY = ("stride", "negatives_per_positive", "negatives_in_timeline")
SEQUENCES_ONLY = ("future_targets", "horizon_days", "target_gap", "chunk_stride", "dismisses_per_position",
                  "negatives_per_position")


def parse_args(argv: list[str] | None = None) -> ExampleArgs:
    """The command line as :class:`ExampleArgs`; a flag of the other format, or a bad combination, exits with 2."""
    parser = argparse.ArgumentParser(description="Cut training sequences or examples from sessionized timelines.")
    parser.add_argument("--format", choices=FORMATS, default="sequences",
                        help="sequences (default: targets at every position) or windows (one target per row)")
    parser.add_argument("--start", type=iso_date, required=True)
    parser.add_argument("--end", type=iso_date, required=True)
    parser.add_argument("--valid-from", type=iso_date, required=True, help="targets from this day on: validation")
    parser.add_argument("--out", type=cli_path, required=True, help="output folder (replaced)")
    parser.add_argument("--timelines", type=cli_path, default=None, help="timelines Delta table")
    parser.add_argument("--job-table", type=cli_path, default=None,
                        help="job side table (default: <out>/job_side_table)")
    WINDOW.add_to(parser)
    parser.add_argument("--stride", type=int_range(1, 256), default=None, help="windows: every S-th target (1)")
    parser.add_argument("--min-events", type=positive_int, default=4)
    parser.add_argument("--positive-types", type=names(EVENT_TYPES, what="event type"), default=("apply", "save"))
    parser.add_argument("--negative-types", type=names(EVENT_TYPES, what="event type"), default=("dismiss",))
    parser.add_argument("--negatives-per-positive", type=RANDOM_NEGATIVES.argtype(), default=None,
                        help=f"windows: random negatives per positive ({RANDOM_NEGATIVES.minimum}..{RANDOM_NEGATIVES.maximum}, 1)")
    parser.add_argument("--random-negative-weight", type=number(0, 100, above=True), default=0.3)
    parser.add_argument("--dismiss-weight", type=number(0, 100, above=True), default=1.0)
    parser.add_argument("--negatives-in-timeline", action="store_true", default=None,
                        help="windows: also insert negatives as events")
    parser.add_argument("--chunk-stride", type=int_range(1, 256), default=None,
                        help="sequences: events between chunk ends (default W-1: non-overlapping)")
    parser.add_argument("--future-targets", type=int_range(1, 256), default=None,
                        help="sequences: K positives of the future window per position (8)")
    parser.add_argument("--horizon-days", type=int_range(1, 365), default=None,
                        help="sequences: length of the future window (14)")
    parser.add_argument("--target-gap", type=target_gap, default=None,
                        help="sequences: the future window starts at the next UTC 'midnight' (default) or N s later")
    parser.add_argument("--dismisses-per-position", type=int_range(0, 64), default=None, help="sequences (2)")
    parser.add_argument("--negatives-per-position", type=RANDOM_NEGATIVES.argtype(), default=None,
                        help=f"sequences: random negatives per position with a next target "
                             f"({RANDOM_NEGATIVES.minimum}..{RANDOM_NEGATIVES.maximum}, 1)")
    parser.add_argument("--query-tokens", type=positive_int, default=4)
    parser.add_argument("--token-buckets", type=positive_int, default=2**14)
    SEED.add_to(parser)
    add_data_root(parser)
    a = parser.parse_args(argv)
    if not a.start <= a.valid_from <= a.end:
        parser.error(f"--valid-from {a.valid_from} must lie within --start {a.start} .. --end {a.end}")
    own, other = (WINDOWS_ONLY, SEQUENCES_ONLY) if a.format == "windows" else (SEQUENCES_ONLY, WINDOWS_ONLY)
    if wrong := [f"--{name.replace('_', '-')}" for name in other if getattr(a, name) is not None]:
        parser.error(f"{', '.join(wrong)}: only for --format {'windows' if a.format == 'sequences' else 'sequences'}; "
                     f"drop them or choose that format (this run: --format {a.format})")
    common = dict(window=a.window, min_events=a.min_events, positive_types=tuple(a.positive_types),
                  negative_types=tuple(a.negative_types), random_negative_weight=a.random_negative_weight,
                  dismiss_weight=a.dismiss_weight, query_tokens=a.query_tokens, seed=a.seed)
    given = {name: getattr(a, name) for name in own if getattr(a, name) is not None}
    try:  # how the options combine (weights, label types): still a usage error
        if a.format == "windows":
            configs = {"window": WindowConfig(**common, **given)}
        else:
            configs = {"sequence": chunks.SequenceConfig(**common, **given)}
    except ConfigError as e:
        parser.error(str(e))
    return ExampleArgs(a.start, a.end, a.valid_from, a.timelines or data_root(a.data_root) / Tables.TIMELINES,
                       a.job_table or a.out / "job_side_table", a.out, token_buckets=a.token_buckets, **configs)


def require_rows(folder: Path, args: ExampleArgs) -> None:
    """Raise :class:`DataContractError` naming the flags to change when the cut wrote no rows at all."""
    if any(folder.glob("split=*/*.parquet")):
        return
    cfg = args.sequence or args.window
    raise DataContractError(
        f"no training material in {args.start}..{args.end}: no user has --min-events {cfg.min_events} events with "
        f"a positive of --positive-types {','.join(cfg.positive_types)} to learn from. Check which event types "
        "the clean events hold (a views-only export: --positive-types view), lower --min-events, or widen "
        "--start/--end."
    )


def write_sequences(sequences: DataFrame, pools: dict[int, np.ndarray], args: ExampleArgs) -> tuple[dict, dict]:
    """Cut and write ``<out>/sequences``; returns rows per split and positions with a next target per split."""
    rows = cut_sequences(sequences, pools, cfg=args.sequence, valid_from=args.valid_from, end=args.end)
    rows.write.mode("overwrite").partitionBy("split").parquet(str(args.out / "sequences"))
    require_rows(args.out / "sequences", args)
    written = sequences.sparkSession.read.parquet(str(args.out / "sequences")).groupBy("split").agg(
        F.count("*").alias("rows"), F.sum("n_targets").alias("targets")).collect()
    return {f"{r.split}/sequences": r.rows for r in written}, {"targets": {r.split: r.targets for r in written}}


def write_windows(sequences: DataFrame, pools: dict[int, np.ndarray], args: ExampleArgs) -> tuple[dict, dict]:
    """Cut and write ``<out>/examples``; returns examples per split and label kind."""
    examples = cut_examples(sequences, pools, cfg=args.window, valid_from=args.valid_from)
    examples.write.mode("overwrite").partitionBy("split").parquet(str(args.out / "examples"))
    require_rows(args.out / "examples", args)
    written = sequences.sparkSession.read.parquet(str(args.out / "examples")).groupBy("split", "label_kind").count()
    return {f"{r.split}/{r.label_kind}": r["count"] for r in written.collect()}, {}


def run(spark: SparkSession, args: ExampleArgs) -> dict[str, int]:
    """Cut and write the training data of ``args``; returns row counts (``split/label_kind`` for windows,
    ``split/sequences`` for sequences; the meta file also records positions with a next target per split)."""
    if not args.job_table.exists():
        raise ConfigError(
            f"no job side table at {args.job_table}: build it first, next to the examples, with "
            f"`spark-submit spark_jobs/job_table.py --ds {args.end} --out {args.job_table} ...`"
        )
    timeline = events_between(read_delta(spark, args.timelines_path), start=args.start, end=args.end)
    indexed = with_job_index(timeline, spark.read.parquet(str(args.job_table))).cache()
    try:
        pools = daily_pools(indexed)
        sequences = user_sequences(indexed, query_tokens=args.query_tokens, token_buckets=args.token_buckets)
        write = write_windows if args.format == "windows" else write_sequences
        counts, extra = write(sequences, pools, args)
    finally:
        indexed.unpersist()
    stale = args.out / ("sequences" if args.format == "windows" else "examples")
    shutil.rmtree(stale, ignore_errors=True)  # an earlier run of the other format in the same folder
    config = {"window": asdict(args.window)} if args.window else {"sequence": asdict(args.sequence)}
    meta = {"format": args.format, "start": str(args.start), "end": str(args.end), "valid_from": str(args.valid_from),
            **config, "token_buckets": args.token_buckets, "counts": counts, **extra}
    (args.out / "examples_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "examples", "counts": run(create_session("jobtrail-examples"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
