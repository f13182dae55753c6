"""Operator subclasses (imports the Spark provider: import this module only where an operator is built)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator


def default_master() -> str:
    """``$JOBTRAIL_SPARK_MASTER`` (default ``local[2]``), used when no Spark connection is defined."""
    from jobtrail.settings import Settings

    return Settings.from_env().spark_master


class JobtrailSparkSubmitOperator(SparkSubmitOperator):
    """``SparkSubmitOperator`` that keeps the job's master in line with the connection.

    See :mod:`orchestration.spark`: local default when ``spark_default`` is not defined,
    ``JOBTRAIL_SPARK_MASTER`` exported to the job, the driver on this interpreter.
    """

    def _get_hook(self) -> SparkSubmitHook:
        from airflow.sdk import BaseHook

        try:
            BaseHook.get_connection(self._conn_id)
        except Exception:  # noqa: BLE001 - AirflowNotFoundException, whose module moved between Airflow versions
            master = default_master()
            self.log.warning("no %r connection defined: running on %s (JOBTRAIL_SPARK_MASTER)", self._conn_id, master)
            os.environ[f"AIRFLOW_CONN_{self._conn_id.upper()}"] = json.dumps({"conn_type": "spark", "host": master})
        java_options = os.environ.get("JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS", "").strip()
        if java_options:
            self.conf = {**(self.conf or {})}
            self.conf.setdefault("spark.driver.extraJavaOptions", java_options)
        if self._spark_binary is None and shutil.which("spark-submit") is None:
            local = Path(sys.executable).parent / "spark-submit"
            if local.exists():
                self._spark_binary = str(local)
        hook = super()._get_hook()
        connection = hook._connection
        env = dict(hook._env_vars or {})
        env.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", sys.executable))
        env.setdefault("PYSPARK_DRIVER_PYTHON", os.environ.get("PYSPARK_DRIVER_PYTHON", env["PYSPARK_PYTHON"]))
        env["JOBTRAIL_SPARK_MASTER"] = connection["master"]
        if connection.get("deploy_mode") != "cluster":  # the provider refuses env vars in standalone cluster mode
            hook._env_vars = env
        return hook
