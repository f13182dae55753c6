"""Spark job: monitor one feature-table partition after inference; fail (so nothing is published) on bad data.

Reads the rows of ``--as-of`` and one model version from the feature table (``--model-name`` /
``--model-version``; by default the only model written that day, or the latest version of
``--model-name``), the same version's latest earlier partition (day-over-day cosine: a new version is
compared only with itself), and the clean events of the ``--active-days`` days before the cutoff (the
day's active users). A fixed sample of ``--sample-users`` computed users is checked for collapse; with
``--model`` (the SavedModel or ``models:/`` URI that wrote the partition, as inference takes it) and
``--job-table`` their top-10 jobs are ranked too. Metrics and checks are described in
:mod:`feature_store.monitoring`.

Outputs, written before the verdict so a failed run is recorded too:

- one row per run in the monitoring Delta table (``--out``, contract ``EMBEDDING_MONITORING``, partitioned by
  ``as_of_date``; a rerun replaces the row of its (as-of, model name, version), userMetadata = run id);
- ``<report-dir>/<as-of>__<model>__<version>.md`` (readable report) and ``.json`` (the same row).

Then :func:`run` raises :class:`feature_store.monitoring.MonitoringFailed` naming every failed check
(``rows``, ``nan``, ``coverage``, ``cosine_collapse``, ``fallback_share``, ``embedding_collapse``,
``top10_diversity``); ``main`` prints it and exits
with status 1, so spark-submit fails and the DAG does not publish.

    spark-submit spark_jobs/monitor.py --as-of 2026-10-31 --model-name jobtrail --model-version 3 \\
        [--model models:/jobtrail/3 --job-table data/job_side_table/ds=2026-10-30] \\
        [--min-coverage 0.95] [--min-median-cosine 0.5] [--max-nan-rows 0] [--max-fallback-share 0.5] \\
        [--max-sample-cosine-p05 0.99] [--min-top10-distinct-share 0.05] [--sample-users 200]
    jobtrail monitor --as-of 2026-10-31
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from feature_store import table as ft
from feature_store.monitoring import (MonitoringFailed, Thresholds, evaluate, partition_metrics, render_markdown,
                                     row_stats, sample_metrics)
from feature_store.selection import pick_model
from jobtrail.argtypes import cli_path, int_range, model_name, model_ref, number, run_id, version_label
from jobtrail.contracts import EMBEDDING_MONITORING, Tables
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.tables import monitoring_report_name
from spark_jobs.common import add_data_root, data_root, iso_date, read_delta
from spark_jobs.schemas import spark_schema


@dataclass(frozen=True)
class MonitorArgs:
    as_of: date
    features: Path
    events: Path
    out: Path
    report_dir: Path
    thresholds: Thresholds
    model_name: str | None = None
    model_version: str | None = None
    active_days: int = 1
    run_id: str | None = None
    model: str | None = None
    job_table: Path | None = None
    sample_users: int = 200
    data_root: Path | None = None
    """``--data-root`` as given: its MLflow store resolves a ``models:/`` ``--model``."""


def parse_args(argv: list[str] | None = None) -> MonitorArgs:
    parser = argparse.ArgumentParser(description="Monitor one feature-table partition; fail on bad embeddings.")
    parser.add_argument("--as-of", type=iso_date, required=True)
    parser.add_argument("--model-name", type=model_name, default=None, help="default: the only model written that day")
    parser.add_argument("--model-version", type=version_label, default=None,
                        help="default: the latest version written that day")
    parser.add_argument("--features", type=cli_path, default=None, help="feature table (Delta)")
    parser.add_argument("--events", type=cli_path, default=None, help="clean events (Delta) for the day's active users")
    parser.add_argument("--out", type=cli_path, default=None, help="monitoring table (Delta)")
    parser.add_argument("--report-dir", type=cli_path, default=None, help="where the .md/.json reports go")
    parser.add_argument("--active-days", type=int_range(1, 366), default=1,
                        help="active = events on these days before as-of")
    parser.add_argument("--run-id", type=run_id, default=None)
    parser.add_argument("--model", type=model_ref, default=None,
                        help="the model that wrote the partition (SavedModel dir or models:/ URI); with --job-table "
                             "the sample's top-10 jobs are checked")
    parser.add_argument("--job-table", type=cli_path, default=None, help="the job side table inference used")
    parser.add_argument("--sample-users", type=int_range(2, 100_000), default=200,
                        help="computed users in the collapse sample")
    defaults = Thresholds()
    parser.add_argument("--max-nan-rows", type=int_range(0, 2**62), default=defaults.max_nan_rows)
    parser.add_argument("--min-coverage", type=number(0, 1), default=defaults.min_coverage)
    parser.add_argument("--min-median-cosine", type=number(-1, 1), default=defaults.min_median_cosine)
    parser.add_argument("--min-rows", type=int_range(0, 2**62), default=defaults.min_rows)
    parser.add_argument("--max-fallback-share", type=number(0, 1), default=defaults.max_fallback_share)
    parser.add_argument("--max-sample-cosine-p05", type=number(-1, 1), default=defaults.max_sample_cosine_p05)
    parser.add_argument("--min-top10-distinct-share", type=number(0, 1), default=defaults.min_top10_distinct_share)
    add_data_root(parser)
    a = parser.parse_args(argv)
    root = data_root(a.data_root)
    thresholds = Thresholds(a.max_nan_rows, a.min_coverage, a.min_median_cosine, a.min_rows, a.max_fallback_share,
                            a.max_sample_cosine_p05, a.min_top10_distinct_share)
    return MonitorArgs(a.as_of, a.features or root / Tables.FEATURE_TABLE, a.events or root / Tables.CLEAN_EVENTS,
                       a.out or root / Tables.MONITORING, a.report_dir or root / Tables.MONITORING_REPORTS, thresholds,
                       a.model_name, a.model_version, a.active_days, a.run_id, a.model, a.job_table, a.sample_users,
                       a.data_root)


def select_partition(features: DataFrame, as_of: date, model_name: str | None, model_version: str | None) -> tuple[str, str]:
    """(name, version) to check among the models written on ``as_of``."""
    if model_name is not None and model_version is not None:
        return model_name, model_version  # an empty partition fails the ``rows`` check
    day = features.where(F.col("as_of_date") == F.lit(as_of)).groupBy("model_name", "model_version").count().collect()
    if not day:
        raise DataContractError(f"the feature table has no rows for {as_of}; run spark_jobs/infer.py first")
    return pick_model([(r.model_name, r.model_version, as_of) for r in day], model_name, model_version)


def active_users(events: DataFrame, *, as_of: date, days: int) -> DataFrame:
    """Distinct users with clean events on the ``days`` days before ``as_of``."""
    start = as_of - timedelta(days=days)
    return events.where(F.col("ds").between(F.lit(start), F.lit(as_of - timedelta(days=1)))).select("user_id").distinct()


def collapse_sample(today: DataFrame, stats: DataFrame, n: int) -> np.ndarray:
    """[≤ n, D] embeddings of a fixed sample of computed users (the first ``n`` valid ones by a hash of the user
    id, chosen on ``stats`` = :func:`feature_store.monitoring.row_stats` of ``today``, then fetched)."""
    ids = [r.user_id for r in stats.where(~F.col("_bad") & ~F.col("is_fallback")).select("user_id")
           .orderBy(F.xxhash64("user_id"), "user_id").limit(n).collect()]
    found = dict(today.where(F.col("user_id").isin(ids)).select("user_id", "embedding").collect())
    return np.array([found[user] for user in ids], np.float64) if ids else np.zeros((0, 0))


class TopTen:
    """The model that wrote a partition, ready to rank the whole side table for stored user embeddings.

    Loading it (TensorFlow's import, a ``models:/`` URI resolved in MLflow, the SavedModel, every job encoded:
    ~18 s at the load benchmark's 169,421 jobs) does not need Spark, so :func:`run` starts it in a thread beside
    the partition's Spark work and waits for it only when the sample is ready."""

    def __init__(self, model: str, job_table: Path, *, data_root: Path | None = None) -> None:
        from jobtrail.job_table_io import job_table_arrays, load_job_table
        from spark_jobs.infer import resolve_ref
        from tf_models.serving import ModelSpec, encode_jobs, load_model

        model_dir = resolve_ref(model, data_root=data_root)[0]
        spec = ModelSpec.from_dir(model_dir)
        table, vocab = load_job_table(job_table)
        spec.check_side_table(vocab, str(job_table))
        self.saved = load_model(model_dir)
        self.jobs = np.asarray(encode_jobs(self.saved, job_table_arrays(table), spec), np.float64)

    def lists(self, users: np.ndarray) -> tuple[np.ndarray, int]:
        """(top-10 job indices [n, 10], catalogue size) of stored user embeddings [n, D]."""
        from tf_models.metrics import top_k
        from tf_models.scoring import linear_queries

        q, bias = linear_queries(self.saved, users.astype(np.float32), self.jobs)
        return top_k(q @ self.jobs.T + bias, 10, exclude=[np.array([0])] * len(users)), len(self.jobs) - 1


def write_row(spark: SparkSession, row: dict[str, Any], path: Path) -> None:
    """Replace this (as-of, model, version)'s row of the monitoring table (columns added since it was created
    are merged into its schema)."""
    df = spark.createDataFrame([row], spark_schema(EMBEDDING_MONITORING))
    (df.write.format("delta").mode("overwrite").option("mergeSchema", "true").partitionBy("as_of_date")
     .option("replaceWhere", ft.replace_predicate(row["as_of_date"], row["model_name"], row["model_version"]))
     .option("userMetadata", json.dumps({"job": "monitor", "run_id": row["run_id"]})).save(str(path)))


def write_report(row: dict[str, Any], failures: list[tuple[str, str]], report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    stem = report_dir / monitoring_report_name(row["as_of_date"], row["model_name"], row["model_version"])
    stem.with_suffix(".json").write_text(json.dumps(row, indent=2, default=str) + "\n")
    path = stem.with_suffix(".md")
    path.write_text(render_markdown(row, failures))
    return path


def run(spark: SparkSession, args: MonitorArgs) -> dict[str, Any]:
    if (args.model is None) != (args.job_table is None):
        raise ConfigError("--model and --job-table go together: the sample's top-10 lists need both")
    with ThreadPoolExecutor(1, thread_name_prefix="monitor-model") as pool:
        model = (pool.submit(TopTen, args.model, args.job_table, data_root=args.data_root)
                 if args.model is not None else None)
        return _run(spark, args, model)


def _run(spark: SparkSession, args: MonitorArgs, model: Future | None) -> dict[str, Any]:
    features = ft.read_table(spark, args.features)  # as stored: row_stats decodes int8 in numpy
    name, version = select_partition(features, args.as_of, args.model_name, args.model_version)
    today = features.where(ft.replace_predicate(args.as_of, name, version))
    previous_date, previous = ft.previous_partition(spark, args.features, args.as_of, name, version)
    active = active_users(read_delta(spark, args.events), as_of=args.as_of, days=args.active_days)
    stats = row_stats(today, previous).persist()
    metrics = partition_metrics(stats, active)
    sample = collapse_sample(ft.decode(today), stats, args.sample_users)
    stats.unpersist()
    tops, n_jobs = model.result().lists(sample) if model is not None and len(sample) else (None, None)
    metrics |= sample_metrics(sample, tops, n_jobs)
    failures = evaluate(metrics, args.thresholds)
    row = {"run_id": args.run_id or f"monitor-{args.as_of}-{uuid.uuid4().hex[:8]}", "as_of_date": args.as_of,
           "model_name": name, "model_version": version, "previous_as_of_date": previous_date,
           "checked_at": datetime.now(timezone.utc), "status": "fail" if failures else "pass",
           "failed_checks": [check for check, _ in failures], **metrics, "thresholds": args.thresholds.to_json()}
    row = {k: row[k] for k in EMBEDDING_MONITORING.names}
    write_row(spark, row, args.out)
    report = write_report(row, failures, args.report_dir)
    if failures:
        details = "; ".join(f"check '{check}' failed: {message}" for check, message in failures)
        raise MonitoringFailed(f"monitoring of {args.features} {args.as_of} {name}/{version}: {details}. "
                               f"Nothing should be published; report: {report}")
    return {k: (str(v) if isinstance(v, (date, datetime)) else v) for k, v in row.items()} | {"report": str(report)}


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    try:
        result = run(create_session("jobtrail-monitor"), args)
    except MonitoringFailed as e:
        print(f"monitor: FAILED: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"job": "monitor", **result}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
