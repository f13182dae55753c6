"""Write one day of given feature rows with the feature table's writer (:func:`feature_store.table.write_partition`).

    python tests/spark_jobs/write_features_job.py ROWS.parquet TABLE AS_OF

``ROWS.parquet``: rows of the ``USER_EMBEDDING`` contract, one model; the rows of ``AS_OF`` replace that day of
that model in the Delta table ``TABLE`` (created with the rows' dimension when missing), exactly as
``spark_jobs/infer.py`` writes its output. The tests run it as a subprocess (to kill its driver at the commit)
and call :func:`write_day` in their own session for the clean runs.
"""

from __future__ import annotations

import sys
from datetime import date

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def write_day(spark: SparkSession, rows_path: str, table: str, as_of: date) -> int:
    """Write the ``as_of`` rows of ``rows_path`` into ``table``; the number of rows written."""
    from feature_store import table as ft

    rows = spark.read.parquet(rows_path).where(F.col("as_of_date") == F.lit(as_of)).cache()
    first = rows.select("embedding_dim", "model_name", "model_version").first()
    spec = ft.TableSpec(table, first.embedding_dim, first.model_name, first.model_version)
    ft.write_partition(spark, rows, spec, as_of, user_metadata={"job": "write_features_job", "as_of": str(as_of)})
    count = rows.count()
    rows.unpersist()
    return count


def main(argv: list[str]) -> int:
    from spark_jobs.session import create_session

    rows_path, table, as_of = argv
    n = write_day(create_session("jobtrail-write-features"), rows_path, table, date.fromisoformat(as_of))
    print(f'{{"written": {n}}}', flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
