"""Spark job: batch inference — one user embedding per user for ``--as-of`` into the Delta feature table.

Inputs: the ``as_of_date`` partition of the inference inputs (``spark_jobs/inference_inputs.py``), the job
side table they reference (``--job-table``) and an exported model (``--model``: a SavedModel directory or
``models:/<name>@<alias>`` / ``models:/<name>/<version>``, resolved by :func:`tf_models.registry.resolve_model`).
The model's ``jobtrail_model.json`` must match the inputs (context length, query tokens) and the side table
(token lengths), else the job stops with a DataContractError before computing anything.

How: the driver reads and checks the side table's model inputs (:func:`tf_models.serving.job_inputs`) and
broadcasts them, without importing TensorFlow (0.7 GiB less resident memory for the driver at the load benchmark's
scale); inside ``mapInArrow`` each Python worker loads the SavedModel once
(:func:`tf_models.serving.load_model`), encodes the side table once per run (``encode_jobs``, ~1 s for 170,000 jobs)
and runs ``encode_users`` on ``--batch-size`` users per call.

Which rows (contract ``USER_EMBEDDING``, one per user with inputs; "previous" = the latest earlier day of the
same model name *and version* in the table):

- ``compute``: the model's embedding (``is_fallback`` false, ``embedding_as_of_date`` = as-of);
- ``carry`` (``is_fallback`` true): the previous embedding and its ``embedding_as_of_date``, for users below
  the minimum number of events (``below_min_events``) that have one, and with ``--mode incremental`` for
  users without events since their embedding was computed (``last_event_ts`` < that run's cutoff);
- ``cold`` (documented cold-start row: ``is_fallback`` true, ``embedding_as_of_date`` null, embedding = zeros):
  users below the minimum with no previous embedding.

``n_events`` / ``last_event_ts`` / ``as_of_ts`` always describe today's inputs. The write replaces the rows
of (as-of, model name, model version) only (:mod:`feature_store.table`: idempotent, userMetadata with the run
id and model, properties, 90-day time travel, dimension checked), optionally registering ``--table-name``.

    spark-submit spark_jobs/infer.py --as-of 2026-10-31 --model models:/jobtrail@champion \\
        --job-table data/job_side_table/ds=2026-10-30 [--mode incremental] [--storage int8] \\
        [--table-name jobtrail.user_embeddings] [--run-id RUN]
    jobtrail infer --as-of 2026-10-31 --model data/runs/t1/saved_model --job-table data/job_side_table/ds=2026-10-30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from feature_store import table as ft
from jobtrail.argtypes import cli_path, model_name, model_ref, run_id, sql_path, table_name, version_label
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.tables import Tables
from spark_jobs.common import add_data_root, data_root, iso_date, positive_int, read_delta
from tf_models.serving import ModelSpec

PASS_THROUGH = ("user_id", "n_events", "last_event_ts", "as_of_ts", "as_of_date")


@dataclass(frozen=True)
class InferArgs:
    as_of: date
    model: str
    job_table: Path
    inputs: Path
    out: Path
    mode: str = "full"
    storage: str = "float32"
    model_name: str | None = None
    model_version: str | None = None
    table_name: str | None = None
    run_id: str | None = None
    batch_size: int = 2048
    retention_days: int = ft.RETENTION_DAYS
    data_root: Path | None = None
    """``--data-root`` as given: its MLflow store resolves ``models:/`` URIs (None: ``$JOBTRAIL_DATA_ROOT``)."""


def parse_args(argv: list[str] | None = None) -> InferArgs:
    parser = argparse.ArgumentParser(description="User embeddings of one as-of date into the feature table.")
    parser.add_argument("--as-of", type=iso_date, required=True, help="the inference inputs' as_of_date")
    parser.add_argument("--model", type=model_ref, required=True,
                        help="SavedModel dir, models:/<name>@<alias> or models:/<name>/<version>")
    parser.add_argument("--job-table", type=cli_path, required=True, help="the side table the inputs were built with")
    parser.add_argument("--inputs", type=cli_path, default=None, help="inference inputs Delta table")
    parser.add_argument("--out", type=sql_path, default=None, help="feature table (Delta)")
    parser.add_argument("--mode", choices=("full", "incremental"), default="full",
                        help="incremental: recompute only users with events since their last embedding")
    parser.add_argument("--storage", choices=ft.STORAGES, default="float32",
                        help="int8: quantised with a scale per row")
    parser.add_argument("--model-name", type=model_name, default=None,
                        help="local model dirs only (default: metadata or dir name)")
    parser.add_argument("--model-version", type=version_label, default=None,
                        help="local model dirs only (default: metadata or '0')")
    parser.add_argument("--table-name", type=table_name, default=None,
                        help="also register the table in the Spark catalogue")
    parser.add_argument("--run-id", type=run_id, default=None,
                        help="recorded in the commit's userMetadata (default: generated)")
    parser.add_argument("--batch-size", type=positive_int, default=2048, help="users per encode_users call")
    parser.add_argument("--retention-days", type=positive_int, default=ft.RETENTION_DAYS, help="time travel reach")
    add_data_root(parser)
    a = parser.parse_args(argv)
    root = data_root(a.data_root)
    return InferArgs(a.as_of, a.model, a.job_table, a.inputs or root / Tables.INFERENCE_INPUTS,
                     a.out or root / Tables.FEATURE_TABLE, a.mode, a.storage, a.model_name, a.model_version,
                     a.table_name, a.run_id, a.batch_size, a.retention_days, a.data_root)


def resolve(args: InferArgs) -> tuple[Path, str, str]:
    """(local SavedModel dir, model name, model version) of ``--model``: :func:`resolve_ref`."""
    return resolve_ref(args.model, args.model_name, args.model_version, data_root=args.data_root)


def resolve_ref(model: str, name: str | None = None, version: str | None = None, *,
                data_root: Path | None = None) -> tuple[Path, str, str]:
    """(local SavedModel dir, model name, model version) of a ``--model`` value.

    A local directory is named by ``name`` / ``version``, else its metadata's ``model_name`` /
    ``model_version``, else the directory name and "0" (without importing MLflow); anything else goes to
    :func:`tf_models.registry.resolve_model`, which names it, in the MLflow store of ``data_root``.
    """
    path = Path(model)
    if path.is_dir():
        from tf_models.signatures import read_metadata

        meta = read_metadata(path)
        return path, name or str(meta.get("model_name") or path.name), \
            version or str(meta.get("model_version") or "0")
    if name or version:
        raise ConfigError("--model-name/--model-version apply to local model directories only; "
                          f"{model} gets its name and version from the registry")
    from jobtrail.settings import Settings
    from tf_models.registry import resolve_model

    resolved = resolve_model(model, Settings.from_env().with_data_root(data_root))
    return resolved.path, resolved.name, resolved.version


def plan(inputs: DataFrame, previous: DataFrame | None, *, storage: str, incremental: bool) -> DataFrame:
    """``inputs`` + ``action`` (compute | carry | cold) + the previous stored embedding as ``prev_*`` columns."""
    stored = ft.stored_columns(storage)
    types = {f.name: f.dataType for f in ft.table_schema(storage).fields}
    if previous is None:
        prev_cols = [F.lit(None).cast(types[c]).alias(f"prev_{c}") for c in [*stored, "embedding_as_of_date"]]
        joined = inputs.select("*", *prev_cols)
    else:
        prev = previous.select("user_id", *[F.col(c).alias(f"prev_{c}") for c in [*stored, "embedding_as_of_date"]])
        joined = inputs.join(prev, "user_id", "left")
    has_prev = F.col("prev_embedding_as_of_date").isNotNull()
    new_events = F.coalesce(F.col("last_event_ts") >= F.col("prev_embedding_as_of_date").cast("timestamp"), F.lit(True))
    action = (F.when(F.col("below_min_events"), F.when(has_prev, "carry").otherwise("cold"))
              .when(F.lit(incremental) & has_prev & ~new_events, "carry")
              .otherwise("compute"))
    return joined.withColumn("action", action)


def embed_users(rows: DataFrame, *, model_path: str, job_inputs: Any, spec: ModelSpec, batch_size: int,
                storage: str = "float32") -> DataFrame:
    """``PASS_THROUGH`` columns + the stored embedding columns from ``encode_users``, batch by batch; ``job_inputs``
    is a broadcast of :func:`tf_models.serving.job_inputs`."""
    from feature_store.compact import int8_columns
    from tf_models.serving import context_arrays, encode_jobs, encode_users, job_matrix, load_model
    from tf_models.signatures import CONTEXT_FEATURES

    stored = ft.stored_columns(storage)
    types = {f.name: f.dataType for f in ft.table_schema(storage).fields}
    out_schema = rows.select(*PASS_THROUGH, *[F.lit(None).cast(types[c]).alias(c) for c in stored]).schema
    key = uuid.uuid4().hex

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = jobs = None
        for batch in batches:
            if model is None:
                model = load_model(_local_model(model_path))
                jobs = job_matrix(key, lambda: encode_jobs(model, job_inputs.value, spec))  # once per worker and run
            for start in range(0, batch.num_rows, batch_size):
                part = batch.slice(start, batch_size)
                emb = encode_users(model, jobs, context_arrays(part, spec), spec)
                if storage == "int8":
                    columns = list(int8_columns(emb))
                else:
                    offsets = pa.array(np.arange(0, emb.size + 1, spec.user_dim, dtype=np.int32))
                    columns = [pa.ListArray.from_arrays(offsets, pa.array(emb.reshape(-1), pa.float32()))]
                yield pa.RecordBatch.from_arrays([*(part.column(c) for c in PASS_THROUGH), *columns],
                                                 names=[*PASS_THROUGH, *stored])

    return rows.select(*PASS_THROUGH, *CONTEXT_FEATURES).mapInArrow(run, out_schema)


def _local_model(locator: str) -> str:
    if locator.startswith("sparkfiles:"):
        from pyspark import SparkFiles

        return SparkFiles.get(locator.removeprefix("sparkfiles:"))
    return locator


def ship_model(spark: SparkSession, path: Path) -> str:
    """Where executors find the model: the path itself in local mode, else a copy shipped with addFile."""
    if spark.sparkContext.master.startswith("local"):
        return str(path)
    spark.sparkContext.addFile(str(path), recursive=True)
    return f"sparkfiles:{path.name}"


def feature_rows(planned: DataFrame, computed: DataFrame, *, dim: int, storage: str, model_name: str,
                 model_version: str, computed_at: datetime) -> DataFrame:
    """The stored rows of one run: computed (:func:`embed_users`) ∪ carried forward ∪ cold start, with constants."""
    stored = ft.stored_columns(storage)
    fresh = computed.select(
        *PASS_THROUGH, *stored, F.lit(False).alias("is_fallback"), F.col("as_of_date").alias("embedding_as_of_date"))
    carried = planned.where(F.col("action") == "carry").select(
        *PASS_THROUGH, *[F.col(f"prev_{c}").alias(c) for c in stored], F.lit(True).alias("is_fallback"),
        F.col("prev_embedding_as_of_date").alias("embedding_as_of_date"))
    zeros = planned.where(F.col("action") == "cold").select(*PASS_THROUGH, ft.zero_embedding(dim).alias("embedding"))
    cold = ft.to_storage(zeros, storage).select(*PASS_THROUGH, *stored, F.lit(True).alias("is_fallback"),
                                                F.lit(None).cast("date").alias("embedding_as_of_date"))
    rows = fresh.unionByName(carried).unionByName(cold).select(
        "*", F.lit(dim).cast("int").alias("embedding_dim"), F.lit(model_name).alias("model_name"),
        F.lit(model_version).alias("model_version"), F.lit(computed_at).cast("timestamp").alias("computed_at"))
    return rows.select(*ft.table_schema(storage).names)


def check_inputs(inputs: DataFrame, spec: ModelSpec, where: str) -> None:
    """Fail clearly when the inputs are empty or their arrays do not have the model's shapes."""
    first = inputs.select(F.size("ctx_job_index").alias("l"), F.size("ctx_query_tokens").alias("q")).first()
    if first is None:
        raise DataContractError(f"no inference inputs in {where}; run spark_jobs/inference_inputs.py for this date first")
    if first.l != spec.context_length or first.q != spec.context_length * spec.query_tokens:
        raise DataContractError(
            f"inference inputs in {where} have contexts of {first.l} events with {first.q // max(first.l, 1)} query "
            f"tokens each, the model expects context_length={spec.context_length}, query_tokens={spec.query_tokens}; "
            "rebuild the inputs with --window/--query-tokens of the model or choose the matching model")


def run(spark: SparkSession, args: InferArgs) -> dict[str, Any]:
    """Run inference for ``args.as_of``; the counts per row kind and the seconds per stage."""
    from jobtrail.job_table_io import job_table_arrays, load_job_table
    from tf_models.serving import job_inputs

    clock, seconds = time.perf_counter(), {}

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage], clock = round(now - clock, 2), now

    model_dir, name, version = resolve(args)
    spec = ModelSpec.from_dir(model_dir)
    try:
        inputs = read_delta(spark, args.inputs).where(F.col("as_of_date") == F.lit(args.as_of))
    except AnalysisException as e:
        raise DataContractError(f"cannot read the inference inputs at {args.inputs} ({e.getCondition()}); "
                                "run spark_jobs/inference_inputs.py first or pass --inputs") from e
    check_inputs(inputs, spec, f"{args.inputs} (as_of_date={args.as_of})")
    table, vocab = load_job_table(args.job_table)
    spec.check_side_table(vocab, str(args.job_table))
    table_spec = ft.TableSpec(args.out, spec.user_dim, name, version, args.storage, spec.normalisation,
                              args.retention_days, args.table_name)
    props = ft.ensure_table(spark, table_spec)  # dimension / storage / schema mismatches stop here, before any work
    lap("checks")
    broadcast = spark.sparkContext.broadcast(job_inputs(job_table_arrays(table), spec))
    lap("job_inputs")
    previous_date, previous = ft.previous_partition(spark, args.out, args.as_of, name, version)
    planned = plan(inputs, previous, storage=args.storage, incremental=args.mode == "incremental")
    computed = embed_users(planned.where(F.col("action") == "compute"), model_path=ship_model(spark, model_dir),
                           job_inputs=broadcast, spec=spec, batch_size=args.batch_size, storage=args.storage)
    rows = feature_rows(planned, computed, dim=spec.user_dim, storage=args.storage, model_name=name,
                        model_version=version, computed_at=datetime.now(timezone.utc))
    run_id = args.run_id or f"infer-{args.as_of}-{uuid.uuid4().hex[:8]}"
    meta = {"job": "infer", "run_id": run_id, "as_of": str(args.as_of), "model_uri": args.model,
            "model_name": name, "model_version": version, "mode": args.mode, "storage": args.storage}
    observed = Observation("infer_counts")  # counted while writing: no second pass over the rows
    fallback, source = F.col("is_fallback"), F.col("embedding_as_of_date")
    rows = rows.observe(observed, F.count_if(~fallback).alias("computed"),
                        F.count_if(fallback & source.isNotNull()).alias("carried_forward"),
                        F.count_if(fallback & source.isNull()).alias("cold_start"))
    ft.write_partition(spark, rows, table_spec, args.as_of, user_metadata=meta, properties=props)
    broadcast.unpersist()
    counts = {k: int(v) for k, v in observed.get.items()}
    lap("encode_users_and_write")
    return {"run_id": run_id, "as_of": str(args.as_of), "model_name": name, "model_version": version,
            "previous_as_of": str(previous_date) if previous_date else None, "users": sum(counts.values()),
            **counts, "jobs": len(table), "dim": spec.user_dim, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import create_session

    args = parse_args(argv)
    print(json.dumps({"job": "infer", **run(create_session("jobtrail-infer"), args)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
