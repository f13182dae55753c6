"""The ``tf.data`` input pipeline over the Parquet training examples (read with pyarrow, no Spark).

Examples (contract ``TRAINING_EXAMPLE``) live in ``<examples>/examples/split=<split>/*.parquet`` as written
by ``spark_jobs/examples.py``. The pipeline shards by file (each input pipeline of a distributed run reads
its own files), reads files in parallel with ``interleave``, turns Arrow record batches into dense arrays
(list columns are fixed length, so a flatten + reshape), shuffles with a seed, batches and prefetches.

Elements are dicts of tensors (``B`` batch, ``L`` = window − 1, ``Q`` query tokens per event):
``ctx_job_index`` / ``ctx_event_type`` / ``ctx_session_position`` int32 ``[B, L]``, ``ctx_log_gap`` /
``ctx_log_time_to_target`` float32 ``[B, L]``, ``ctx_query_tokens`` int32 ``[B, L·Q]``, ``context_length``,
``target_job_index`` int32 ``[B]``, ``label`` / ``weight`` float32 ``[B]`` and ``label_kind`` int32 ``[B]``
(index into ``jobtrail.contracts.LABEL_KINDS``). Jobs stay indices: the model gathers their features from
the side table it holds. :func:`materialise_job_features` is the benchmark-only variant that copies the job
features into every position instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import tensorflow as tf

from jobtrail.errors import DataContractError
from jobtrail.tables import LABEL_KINDS
from tf_models.signatures import CONTEXT_FLOAT_FEATURES, CONTEXT_INT_FEATURES, JOB_FEATURES

LABEL_KIND_IDS = {kind: i for i, kind in enumerate(LABEL_KINDS)}
SEQUENCE_FEATURES = CONTEXT_INT_FEATURES + CONTEXT_FLOAT_FEATURES + ("ctx_query_tokens",)
COLUMNS = SEQUENCE_FEATURES + ("context_length", "target_job_index", "label", "weight", "label_kind")


@dataclass(frozen=True)
class Shapes:
    """Sequence shapes of one examples folder: ``context_length`` L (= window − 1) and ``query_tokens`` Q."""

    context_length: int
    query_tokens: int


def example_files(examples: str | Path, split: str) -> list[str]:
    """The Parquet files of ``split`` under an examples folder (``<examples>/examples/split=<split>``)."""
    root = Path(examples)
    folder = root / "examples" / f"split={split}" if (root / "examples").is_dir() else root / f"split={split}"
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise DataContractError(f"no {split} examples under {folder}; run spark_jobs/examples.py first")
    return files


def count_rows(files: list[str]) -> int:
    """Rows in ``files``, from the Parquet footers (no data read)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def read_shapes(files: list[str]) -> Shapes:
    """L and Q of the examples, from the first non-empty file (every row has the same lengths)."""
    for f in files:
        parquet = pq.ParquetFile(f)
        if parquet.metadata.num_rows:
            first = next(parquet.iter_batches(batch_size=1, columns=["ctx_event_type", "ctx_query_tokens"]))
            length = len(first.column("ctx_event_type")[0])
            return Shapes(length, len(first.column("ctx_query_tokens")[0]) // max(length, 1))
    raise DataContractError(f"the examples in {files[:3]} are empty; nothing to train on")


def _dense(batch, name: str, width: int) -> np.ndarray:
    values = pc.list_flatten(batch.column(name)).to_numpy(zero_copy_only=False)
    return values.reshape(batch.num_rows, width)


def read_file(path: str, shapes: Shapes, chunk_rows: int = 4096) -> Iterator[dict[str, np.ndarray]]:
    """Dense arrays of one Parquet file of examples, ``chunk_rows`` rows at a time."""
    length, q = shapes.context_length, shapes.query_tokens
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows, columns=list(COLUMNS)):
        kinds = batch.column("label_kind").to_numpy(zero_copy_only=False)
        yield {
            **{name: _dense(batch, name, length).astype(np.int32) for name in CONTEXT_INT_FEATURES},
            **{name: _dense(batch, name, length).astype(np.float32) for name in CONTEXT_FLOAT_FEATURES},
            "ctx_query_tokens": _dense(batch, "ctx_query_tokens", length * q).astype(np.int32),
            "context_length": batch.column("context_length").to_numpy().astype(np.int32),
            "target_job_index": batch.column("target_job_index").to_numpy().astype(np.int32),
            "label": batch.column("label").to_numpy().astype(np.float32),
            "weight": batch.column("weight").to_numpy().astype(np.float32),
            "label_kind": np.array([LABEL_KIND_IDS[k] for k in kinds], np.int32),
        }


def element_spec(shapes: Shapes) -> dict[str, tf.TensorSpec]:
    length, q = shapes.context_length, shapes.query_tokens
    spec = {name: tf.TensorSpec([None, length], tf.int32) for name in CONTEXT_INT_FEATURES}
    spec |= {name: tf.TensorSpec([None, length], tf.float32) for name in CONTEXT_FLOAT_FEATURES}
    spec["ctx_query_tokens"] = tf.TensorSpec([None, length * q], tf.int32)
    for name, dtype in (("context_length", tf.int32), ("target_job_index", tf.int32), ("label", tf.float32),
                        ("weight", tf.float32), ("label_kind", tf.int32)):
        spec[name] = tf.TensorSpec([None], dtype)
    return spec


def make_dataset(files: list[str], *, batch_size: int, shapes: Shapes, shuffle: bool = False, seed: int = 0,
                 input_context: tf.distribute.InputContext | None = None, shuffle_buffer: int = 16_384,
                 parallel_files: int = 4, repeat: bool = False, reader=None,
                 spec: dict[str, tf.TensorSpec] | None = None, batcher=None) -> tf.data.Dataset:
    """Batches of examples from ``files``: sharded by file, read in parallel, shuffled (seeded), prefetched.

    ``reader(path, shapes)`` (default :func:`read_file`) yields dicts of arrays matching ``spec`` (default
    :func:`element_spec`) and ``batcher(rows)`` (default ``rows.batch(batch_size)``) groups the shuffled rows into
    batches: :mod:`tf_models.sequence_data` reuses this pipeline for training sequences, batched by length.

    With an ``input_context`` (``strategy.distribute_datasets_from_function``), pipeline ``i`` of ``n`` reads
    files ``i, i+n, …`` — or, with fewer files than pipelines, every ``n``-th example of all of them.
    ``repeat`` cycles forever, one pass per ``ceil(rows / batch_size)`` batches (reshuffled each pass).
    """
    spec = spec or element_spec(shapes)
    reader = reader or read_file
    files = list(files)
    shard_rows = False
    if input_context is not None and input_context.num_input_pipelines > 1:
        n, i = input_context.num_input_pipelines, input_context.input_pipeline_id
        shard_rows = len(files) < n
        if not shard_rows:
            files = files[i::n]
    if shuffle:
        files = [files[j] for j in np.random.default_rng(seed).permutation(len(files))]
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda path: tf.data.Dataset.from_generator(
            lambda p: reader(p.decode(), shapes), args=(path,), output_signature=spec),
        cycle_length=min(parallel_files, len(files)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.unbatch()
    if shard_rows:
        dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = batcher(dataset) if batcher is not None else dataset.batch(batch_size)
    return (dataset.repeat() if repeat else dataset).prefetch(tf.data.AUTOTUNE)


def materialise_job_features(dataset: tf.data.Dataset, job_arrays: dict[str, np.ndarray]) -> tf.data.Dataset:
    """Benchmark-only: copy every context position's and the target's job features into the batch.

    Adds ``ctx_job_features`` (each feature ``[B, L, ...]``) and ``target_job_features`` (``[B, ...]``), the
    data a pipeline without a side table would have to ship with every example.
    """
    table = {name: tf.constant(job_arrays[name]) for name in JOB_FEATURES}

    def add(batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return {**batch,
                "ctx_job_features": {n: tf.gather(t, batch["ctx_job_index"]) for n, t in table.items()},
                "target_job_features": {n: tf.gather(t, batch["target_job_index"]) for n, t in table.items()}}

    return dataset.map(add, num_parallel_calls=tf.data.AUTOTUNE)
