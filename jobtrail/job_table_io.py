"""Reading the job side table without a JVM (pyarrow only): what the TensorFlow side loads once.

The side table (contract :data:`jobtrail.contracts.JOB_SIDE_TABLE`) is written by
``spark_jobs.job_table`` as a folder of Parquet files plus ``_vocab.json`` (vocabularies, token and
numeric settings, row counts). The leading underscore keeps the JSON invisible to Parquet readers
(Spark and pyarrow skip ``_``/``.`` files), so ``spark.read.parquet(folder)`` still reads just the table.

Conventions the model relies on (see ``spark_jobs/job_table.py`` for the full description):

- ``job_index`` is dense ``0..N-1`` and equals the row number; row 0 is the padding / no-job row.
- categorical ids: 0 = missing, 1 = out of vocabulary, 2.. = vocabulary values;
- ``job_id_row``: the row of the job's learned id embedding — 0 = padding row, 1 = a job outside the training
  vocabulary (content features only), 2.. = vocabulary jobs; ``vocab["job_id_rows"]`` rows in all;
- token ids: 0 = padding, 1..buckets = hashed tokens; every array has the same length per column.

    table, vocab = load_job_table("data/job_side_table/ds=2026-10-03")
    arrays = job_table_arrays(table)  # {"title_tokens": int32 (N, 8), "company_id": int32 (N,), "job_id_row": ...}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jobtrail.contracts import JOB_SIDE_TABLE
from jobtrail.errors import DataContractError

VOCAB_FILE = "_vocab.json"
PADDING_INDEX = 0
MISSING_ID = 0
OOV_ID = 1
FIRST_VALUE_ID = 2
TOKEN_COLUMNS = ("title_tokens", "skill_tokens")


def read_vocab(path: str | Path) -> dict[str, Any]:
    """The ``_vocab.json`` at ``path`` (a file, or the table folder that holds it)."""
    file = Path(path)
    if file.is_dir():
        file = file / VOCAB_FILE
    try:
        return json.loads(file.read_text())
    except FileNotFoundError as e:
        raise DataContractError(
            f"no job-table vocabulary at {file}; build the side table first (spark_jobs/job_table.py)"
        ) from e
    except json.JSONDecodeError as e:
        raise DataContractError(f"{file} is not valid JSON ({e}); rebuild the side table") from e


def load_job_table(path: str | Path) -> tuple[pa.Table, dict[str, Any]]:
    """The side table at ``path`` (sorted by ``job_index``, cast to JOB_SIDE_TABLE) and its vocab dict.

    Checks that ``job_index`` is exactly ``0..N-1`` and that every token array has the length the
    vocabulary file declares, so the table can be turned into dense tensors as is.
    """
    root = Path(path)
    vocab = read_vocab(root)
    try:
        table = pq.read_table(root, partitioning=None)
    except (OSError, pa.ArrowInvalid) as e:
        raise DataContractError(f"cannot read the job side table at {root}: {e}") from e
    missing = [name for name in JOB_SIDE_TABLE.names if name not in table.column_names]
    if missing:
        raise DataContractError(f"job side table at {root} lacks columns {missing}; rebuild it")
    table = table.select(JOB_SIDE_TABLE.names).sort_by("job_index").cast(JOB_SIDE_TABLE)
    index = table.column("job_index").to_numpy()
    if not np.array_equal(index, np.arange(len(index))):
        raise DataContractError(f"job_index of {root} is not dense 0..{len(index) - 1}; rebuild the side table")
    lengths = {"title_tokens": vocab["tokens"]["title_length"], "skill_tokens": vocab["tokens"]["skill_length"]}
    for name, length in lengths.items():
        sizes = pc.list_value_length(table.column(name)).to_numpy(zero_copy_only=False)
        if len(sizes) and not (sizes == length).all():
            raise DataContractError(f"{name} of {root} is not of fixed length {length}; rebuild the side table")
    rows = vocab.get("job_id_rows")
    if rows is not None and len(table) and pc.max(table.column("job_id_row")).as_py() >= rows:
        raise DataContractError(f"job_id_row of {root} reaches past the vocabulary's {rows} rows; rebuild the side table")
    return table, vocab


def job_table_arrays(table: pa.Table) -> dict[str, np.ndarray]:
    """Dense numpy arrays of every column but ``job_id``: token columns as (N, L) int32, the rest as (N,) in their
    contract type (``job_index``, ``job_id_row`` and the categorical ids int32, numerics float32, ``in_catalog`` bool)."""
    out: dict[str, np.ndarray] = {}
    for name in JOB_SIDE_TABLE.names:
        if name in ("job_id",):
            continue
        column = table.column(name).combine_chunks()
        if name in TOKEN_COLUMNS:
            values = column.flatten().to_numpy(zero_copy_only=False).astype(np.int32)
            out[name] = values.reshape(len(table), -1) if len(table) else values.reshape(0, 0)
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out
