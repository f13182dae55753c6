"""The Spark step factory: SparkSubmitOperator on ``spark_default``, argument lists, the master the job sees."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import spark_jobs
from jobtrail.settings import REPO_ROOT
from orchestration.spark import application_path, spark_submit

ARGS = ["--ds", "2026-10-30", "--input", "/data/raw_events/ds=2026-10-30", "--data-root", "/data"]


def build(args=ARGS):
    from airflow.sdk import DAG

    with DAG("spark_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        spark_submit("ingest", application_args=args, retries=2)
    return dag.get_task("ingest")


def test_operator_settings():
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    op = build()
    assert isinstance(op, SparkSubmitOperator)
    assert op._conn_id == "spark_default" and op.application_args == ARGS and op.retries == 2
    assert op.application == str(REPO_ROOT / "spark_jobs" / "ingest.py") and Path(op.application).exists()
    assert op.name == "jobtrail-ingest"


@pytest.mark.parametrize("job", sorted(spark_jobs.JOBS))
def test_every_application_exists(job):
    assert Path(application_path(job)).is_file()


def test_every_job_module_is_declared_once():
    """A module of spark_jobs/ with a ``main`` is a job: listed in ``spark_jobs.JOBS`` (the CLI and the DAGs read
    that mapping), except ``generate`` (``jobtrail generate --engine spark`` runs it) and ``jars`` (resolves Delta's
    jars at set-up, no session)."""
    with_main = {p.stem for p in (REPO_ROOT / "spark_jobs").glob("*.py") if "\ndef main(" in p.read_text()}
    assert with_main - {"generate", "jars"} == set(spark_jobs.JOBS)


def test_refuses_shell_strings_and_unknown_jobs():
    with pytest.raises(TypeError, match="shell string"):
        build("--ds 2026-10-30 --input /data; rm -rf /")
    with pytest.raises(ValueError, match="unknown Spark job"):
        application_path("../../bin/sh")


def test_the_connection_sets_the_master_once_on_the_command(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "spark://spark-master",
                                                                 "port": 7077}))
    op = build()
    hook = op._get_hook()  # the provider's own hook, built from the operator's public arguments
    cmd = hook._build_spark_submit_command(op.application)
    assert isinstance(cmd, list)
    assert cmd[cmd.index("--master") + 1] == "spark://spark-master:7077"
    assert cmd[-len(ARGS) - 1:] == [op.application, *ARGS]
    assert not op.env_vars and not hook._env_vars  # nothing exported: spark-submit's master is the job's
    # the driver JVM starts with spark-submit: its memory must be on the command, not in the session builder
    assert cmd[cmd.index("--driver-memory") + 1] == "4g"
    monkeypatch.setenv("JOBTRAIL_SPARK_DRIVER_MEMORY", "6g")
    assert "6g" in build()._get_hook()._build_spark_submit_command("x.py")


def test_the_driver_and_workers_run_the_configured_python(monkeypatch):
    monkeypatch.setenv("PYSPARK_PYTHON", "/opt/venv/bin/python")
    monkeypatch.delenv("PYSPARK_DRIVER_PYTHON", raising=False)
    cmd = build()._get_hook()._build_spark_submit_command("x.py")
    assert "spark.pyspark.python=/opt/venv/bin/python" in cmd and "spark.pyspark.driver.python=/opt/venv/bin/python" in cmd
    monkeypatch.delenv("PYSPARK_PYTHON")
    assert f"spark.pyspark.python={sys.executable}" in build()._get_hook()._build_spark_submit_command("x.py")


def test_driver_java_options_from_the_environment(monkeypatch):
    monkeypatch.setenv("JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS", "-Duser.timezone=UTC -XX:TieredStopAtLevel=1")
    op = build()
    cmd = op._get_hook()._build_spark_submit_command(op.application)
    assert "spark.driver.extraJavaOptions=-Duser.timezone=UTC -XX:TieredStopAtLevel=1" in cmd  # one list item
    monkeypatch.delenv("JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS")
    assert not any("extraJavaOptions" in a for a in build()._get_hook()._build_spark_submit_command("x.py"))
