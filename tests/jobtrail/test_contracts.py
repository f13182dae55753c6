"""Contracts are declared once as Arrow schemas; Spark types are derived; importing them stays light."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
from pyspark.sql import types as T

from jobtrail.contracts import JOB, RAW_EVENT, REQUIRED_EVENT_COLUMNS, Tables, missing_columns, with_partition
from spark_jobs.schemas import spark_schema


def test_spark_types_are_derived_from_arrow():
    event = spark_schema(with_partition(RAW_EVENT))
    assert event.names == ["event_id", "user_id", "event_type", "job_id", "query", "ts", "channel", "ds"]
    assert event["ts"].dataType == T.TimestampType()
    assert event["ds"].dataType == T.DateType()
    assert not event["user_id"].nullable and event["job_id"].nullable
    job = spark_schema(JOB)
    assert job["skills"].dataType == T.ArrayType(T.StringType())
    assert job["seniority"].dataType == T.IntegerType()


def test_contract_helpers():
    assert set(REQUIRED_EVENT_COLUMNS) <= set(RAW_EVENT.names)
    assert missing_columns(RAW_EVENT, ["user_id", "ts"]) == ["event_id", "event_type", "job_id", "query", "channel"]
    assert with_partition(JOB).field("ds").type == pa.date32()
    assert Tables.FEATURE_TABLE == "user_embeddings"


def test_importing_the_shell_imports_neither_spark_nor_tensorflow():
    code = (
        "import sys, jobtrail.contracts, orchestration.cli, jobtrail.settings, jobtrail.synthetic.generate;"
        "heavy = [m for m in ('pyspark', 'tensorflow', 'tf_keras') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
