"""Reading and writing contract tables as hive-partitioned Parquet with pyarrow (no JVM).

Used by the single-process generator, the public data loaders and tests; Spark jobs write the
same layout (``<root>/<table>/ds=YYYY-MM-DD/*.parquet``) with Spark's own writer.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads

from jobtrail.tables import PARTITION_COLUMN

_DS_PARTITIONING = pads.partitioning(pa.schema([(PARTITION_COLUMN, pa.date32())]), flavor="hive")


def write_partitioned(table: pa.Table, path: str | Path, *, max_rows_per_file: int = 2_000_000) -> None:
    """Write ``table`` under ``path`` partitioned by ``ds``, replacing the partitions it contains.

    Partitions of ``path`` that ``table`` does not touch are left as they are, so writing one day
    twice replaces that day instead of appending to it.
    """
    if PARTITION_COLUMN not in table.column_names:
        raise ValueError(f"cannot write {path}: the table has no '{PARTITION_COLUMN}' column")
    pads.write_dataset(
        table,
        base_dir=str(path),
        format="parquet",
        partitioning=_DS_PARTITIONING,
        existing_data_behavior="delete_matching",
        basename_template="part-{i}.parquet",
        max_rows_per_file=max_rows_per_file,
        max_rows_per_group=min(max_rows_per_file, 1_000_000),
        max_partitions=100_000,
    )


def write_single(table: pa.Table, path: str | Path) -> None:
    """Write an unpartitioned table as ``path/part-0.parquet``, replacing what was there."""
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.parquet"):
        old.unlink()
    import pyarrow.parquet as pq

    pq.write_table(table, target / "part-0.parquet")


def read_table(path: str | Path, schema: pa.Schema | None = None) -> pa.Table:
    """Read a table written by :func:`write_partitioned` or :func:`write_single`.

    With ``schema`` the columns are cast to it (and ``ds`` is read as a date when partitioned).
    """
    root = Path(path)
    partitioning = _DS_PARTITIONING if any(root.glob(f"{PARTITION_COLUMN}=*")) else None
    dataset = pads.dataset(str(root), format="parquet", partitioning=partitioning)
    table = dataset.to_table()
    if schema is not None:
        table = table.select(schema.names).cast(schema)
    return table
