"""Compact (int8) embedding storage in numpy / Arrow — the same rule as Spark's :func:`feature_store.table.to_storage`.

Per row: ``scale`` = max |x| over the finite values / 127 (float32; 0 for a zero vector), ``q`` = x / scale
rounded half away from zero (Spark's ``round``) in −127..127, 0 when scale is 0, **null** for NaN / ±inf (so
monitoring still sees them). Decoding gives ``q × scale`` in float32 (null elements stay null).

Inference quantises in the Python worker (vectorised, much cheaper than Spark's per-element lambdas);
carried-forward rows are copied as stored; readers decode with :func:`decode_arrow`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[B, D] float → (q int8 [B, D], scale float32 [B], finite mask [B, D])."""
    values = np.asarray(matrix, np.float32)
    finite = np.isfinite(values)
    peak = np.where(finite, np.abs(values), 0).max(axis=1, initial=0).astype(np.float32)
    scale = (peak.astype(np.float64) / 127.0).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(finite, values, 0).astype(np.float64) / scale.astype(np.float64)[:, None]
    q = np.where(scale[:, None] == 0, 0, np.sign(ratio) * np.floor(np.abs(np.nan_to_num(ratio)) + 0.5))
    return q.astype(np.int8), scale, finite


def int8_columns(matrix: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """``embedding_q`` (list<int8>, null elements for non-finite values) and ``embedding_scale`` (float32)."""
    q, scale, finite = quantise(matrix)
    rows, dim = q.shape
    offsets = pa.array(np.arange(0, rows * dim + 1, dim, dtype=np.int32)) if dim else pa.array(np.zeros(rows + 1, np.int32))
    values = pa.array(q.reshape(-1), pa.int8(), mask=~finite.reshape(-1))
    return pa.ListArray.from_arrays(offsets, values), pa.array(scale, pa.float32())


def decode_arrow(table: pa.Table) -> pa.Table:
    """Turn int8 storage (``embedding_q``, ``embedding_scale``) into a float32 ``embedding`` column."""
    if "embedding_q" not in table.column_names:
        return table
    q = table.column("embedding_q").combine_chunks()
    scale = table.column("embedding_scale").combine_chunks().to_numpy(zero_copy_only=False).astype(np.float32)
    lengths = pc.list_value_length(q).fill_null(0).to_numpy(zero_copy_only=False)
    flat = q.flatten()
    values = flat.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float32) * np.repeat(scale, lengths)
    nulls = flat.is_null().to_numpy(zero_copy_only=False)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    embedding = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.float32(), mask=nulls), mask=q.is_null())
    position = table.column_names.index("embedding_q")
    return table.drop_columns(["embedding_q", "embedding_scale"]).add_column(
        position, pa.field("embedding", pa.list_(pa.float32())), embedding)
