"""Running an exported model (contract :mod:`tf_models.signatures`) on numpy / Arrow data, without Spark.

Batch inference calls these inside ``mapInArrow`` on the executors (``encode_jobs`` once per Python worker and
run, ``encode_users`` once per Arrow batch); its driver only checks and ships :func:`job_inputs`, so it never
loads TensorFlow. The monitor and the benchmark call them on in-memory arrays.
:func:`load_model` keeps one loaded SavedModel per path and process, so a Python worker loads each model
once however many tasks and batches it serves. Every shape the model relies on is checked against its
``jobtrail_model.json`` first, and a mismatch is a :class:`~jobtrail.errors.DataContractError` naming the
column, the expected and the actual size.

    spec = ModelSpec.from_dir(model_dir)
    model = load_model(model_dir)
    jobs = encode_jobs(model, job_table_arrays(table), spec)            # [N, job_dim]
    users = encode_users(model, jobs, context_arrays(batch, spec), spec)  # [B, user_dim]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jobtrail.errors import DataContractError
from tf_models.signatures import (CONTEXT_FEATURES, CONTEXT_FLOAT_FEATURES, ENCODE_JOBS, ENCODE_USERS,
                                  JOB_EMBEDDING, JOB_FEATURES, JOB_FLOAT_FEATURES, JOB_TOKEN_FEATURES,
                                  USER_EMBEDDING, read_metadata)

_MODELS: dict[str, Any] = {}
"""Loaded SavedModels of this process, keyed by resolved path."""
_JOB_MATRICES: dict[str, Any] = {}
"""The job embedding matrix of the current run as a tf.Tensor, keyed by run (one at a time)."""


@dataclass(frozen=True)
class ModelSpec:
    """The shapes and facts of an exported model, from its ``jobtrail_model.json``."""

    job_dim: int
    user_dim: int
    context_length: int
    query_tokens: int
    title_length: int | None = None
    skill_length: int | None = None
    normalisation: str = "none"
    aggregator: str = "unknown"
    model_name: str | None = None

    @classmethod
    def from_dir(cls, model_dir: str | Path) -> "ModelSpec":
        meta = read_metadata(model_dir)
        missing = [k for k in ("job_dim", "user_dim", "context_length", "query_tokens") if k not in meta]
        if missing:
            raise DataContractError(f"{model_dir}/jobtrail_model.json lacks {missing}; re-export the model")
        return cls(int(meta["job_dim"]), int(meta["user_dim"]), int(meta["context_length"]),
                   int(meta["query_tokens"]), meta.get("title_length"), meta.get("skill_length"),
                   str(meta.get("normalisation") or "none"), str(meta.get("aggregator") or "unknown"),
                   meta.get("model_name"))

    def check_side_table(self, vocab: dict[str, Any], where: str) -> None:
        """The side table's token lengths must be the ones the model was exported with."""
        tokens = vocab.get("tokens", {})
        for name, expected in (("title_length", self.title_length), ("skill_length", self.skill_length)):
            if expected is not None and tokens.get(name) not in (None, expected):
                raise DataContractError(
                    f"job side table {where} has {name}={tokens.get(name)} but the model expects {expected}; "
                    "rebuild the side table with the model's vocabulary "
                    "(job_table.py --vocab <model>/assets/job_vocab.json)")


JOB_CHUNK = 16_384
"""Jobs per ``encode_jobs`` call: the encoder's intermediate tensors grow with the call (the load benchmark's 169,421-job
side table raised the peak RSS of ``infer``'s and ``monitor``'s driver by 0.92 GiB in one call, by 0.18 GiB in calls of
16,384, with bit-identical embeddings)."""


def load_model(path: str | Path) -> Any:
    """The SavedModel at ``path``, loaded once per process; it must serve encode_jobs and encode_users."""
    key = str(Path(path).resolve())
    if key not in _MODELS:
        import tensorflow as tf

        try:
            model = tf.saved_model.load(key)
        except (OSError, ValueError) as e:
            raise DataContractError(f"cannot load the SavedModel at {key}: {e}") from e
        missing = [s for s in (ENCODE_JOBS, ENCODE_USERS) if s not in model.signatures]
        if missing:
            raise DataContractError(f"SavedModel {key} has no signature(s) {missing}; export it with tf_models.export")
        _MODELS[key] = model
    return _MODELS[key]


def job_matrix(key: str, value: Callable[[], np.ndarray]) -> Any:
    """The [N, job_dim] matrix of run ``key`` as a tf.Tensor, computed once per process (``value`` is only
    called the first time, e.g. to encode the side table a Spark broadcast holds)."""
    if key not in _JOB_MATRICES:
        import tensorflow as tf

        _JOB_MATRICES.clear()
        _JOB_MATRICES[key] = tf.constant(value())
    return _JOB_MATRICES[key]


def job_inputs(arrays: dict[str, np.ndarray], spec: ModelSpec) -> dict[str, np.ndarray]:
    """The ``encode_jobs`` inputs of a side table (:func:`jobtrail.job_table_io.job_table_arrays`) in the model's dtypes,
    token shapes checked; plain numpy (no TensorFlow), so a driver can check and ship them without loading the model."""
    inputs = {}
    for name in JOB_FEATURES:
        dtype = np.float32 if name in JOB_FLOAT_FEATURES else np.int32
        inputs[name] = np.asarray(arrays[name], dtype)
    for name, length in (("title_tokens", spec.title_length), ("skill_tokens", spec.skill_length)):
        if length is not None and inputs[name].shape[1:] != (length,):
            raise DataContractError(f"side-table column {name} has shape {inputs[name].shape}, "
                                    f"the model expects (N, {length})")
    return inputs


def encode_jobs(model: Any, arrays: dict[str, np.ndarray], spec: ModelSpec) -> np.ndarray:
    """``encode_jobs`` on a whole side table (:func:`job_inputs` or the arrays it takes) → [N, job_dim], in calls of
    :data:`JOB_CHUNK` jobs."""
    inputs = job_inputs(arrays, spec)
    signature, n = model.signatures[ENCODE_JOBS], len(inputs[JOB_TOKEN_FEATURES[0]])
    out = np.concatenate([np.asarray(signature(**{k: v[i:i + JOB_CHUNK] for k, v in inputs.items()})[JOB_EMBEDDING],
                                     np.float32) for i in range(0, max(n, 1), JOB_CHUNK)])
    if out.shape != (n, spec.job_dim):
        raise DataContractError(f"encode_jobs returned shape {out.shape}, metadata says job_dim={spec.job_dim}")
    return out


def context_arrays(batch: pa.RecordBatch | pa.Table, spec: ModelSpec) -> dict[str, np.ndarray]:
    """The context columns of an inference-input batch as dense [B, L] (queries [B, L·Q]) numpy arrays."""
    rows = batch.num_rows
    out: dict[str, np.ndarray] = {}
    for name in CONTEXT_FEATURES:
        column = batch.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if name == "context_length":
            out[name] = column.to_numpy(zero_copy_only=False).astype(np.int32)
            continue
        width = spec.context_length * (spec.query_tokens if name == "ctx_query_tokens" else 1)
        values = column.flatten().to_numpy(zero_copy_only=False)  # flatten() honours slices, .values does not
        if values.size != rows * width:
            sizes = sorted(set(pc.list_value_length(column).to_pylist()))
            raise DataContractError(
                f"inference input column {name} has lengths {sizes[:5]} but the model expects {width} "
                f"(context_length={spec.context_length}, query_tokens={spec.query_tokens}); rebuild the inputs "
                "with the model's window (inference_inputs.py --window) or pick the matching model")
        dtype = np.float32 if name in CONTEXT_FLOAT_FEATURES else np.int32
        out[name] = values.astype(dtype, copy=False).reshape(rows, width)
    return out


def encode_users(model: Any, job_embeddings: Any, context: dict[str, np.ndarray], spec: ModelSpec) -> np.ndarray:
    """``encode_users`` on one batch → [B, user_dim] float32; job indices must fall inside the side table.

    ``job_embeddings`` is the [N, job_dim] matrix, as numpy or (cheaper when called per batch) a tf.Tensor.
    """
    index, jobs = context["ctx_job_index"], int(job_embeddings.shape[0])
    if index.size and (index.max() >= jobs or index.min() < 0):
        raise DataContractError(
            f"ctx_job_index reaches {int(index.max())} but the job side table has {jobs} rows; "
            "pass the side table the inference inputs were built with (--job-table)")
    out = model.signatures[ENCODE_USERS](job_embeddings=job_embeddings, **context)[USER_EMBEDDING]
    out = np.asarray(out, np.float32)
    if out.shape != (len(index), spec.user_dim):
        raise DataContractError(f"encode_users returned shape {out.shape}, metadata says user_dim={spec.user_dim}")
    return out
