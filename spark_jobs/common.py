"""Small pieces every Spark job shares: argument types, table locations, Delta reads and scoped writes.

Argument types come from :mod:`jobtrail.argtypes` (re-exported here): a bad value is an argparse error that
names the argument.

Writes are idempotent and scoped to the run's partitions: :func:`write_days` overwrites exactly the
``ds`` range it is given (Delta ``replaceWhere``), so a retried or re-run task replaces its output
instead of appending to it.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from jobtrail.argtypes import cli_path, iso_date, positive_int  # noqa: F401  (the jobs' argument types)
from jobtrail.settings import Settings


def add_data_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-root", type=cli_path, default=None,
        help="root of the tables (default: $JOBTRAIL_DATA_ROOT or the repository's data/); table paths default to "
             "<root>/<table>",
    )


def data_root(arg: Path | None) -> Path:
    return arg if arg is not None else Settings.from_env().data_root


def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def read_delta(spark: SparkSession, path: str | Path) -> DataFrame:
    return spark.read.format("delta").load(str(path))


def write_days(
    df: DataFrame,
    path: str | Path,
    start: date,
    end: date | None = None,
    *,
    partition_column: str = "ds",
    user_metadata: str | None = None,
) -> None:
    """Replace partitions ``start``..``end`` (inclusive) of the Delta table at ``path`` with ``df``.

    ``df`` must only hold rows of that range (Delta refuses the write otherwise). An empty ``df`` clears
    the range. Other partitions are untouched; the table is created on the first write.
    """
    end = end or start
    writer = (
        df.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"{partition_column} >= '{start.isoformat()}' AND {partition_column} <= '{end.isoformat()}'")
        .partitionBy(partition_column)
    )
    if user_metadata:
        writer = writer.option("userMetadata", user_metadata)
    writer.save(str(path))
