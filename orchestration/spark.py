"""Spark steps of the DAGs: ``spark-submit spark_jobs/<job>.py ARGS`` through Airflow's ``SparkSubmitOperator``.

Only the provider's public arguments are used. The master is set once, by ``spark-submit`` from the
``spark_default`` connection (``AIRFLOW_CONN_SPARK_DEFAULT``, e.g. ``{"conn_type": "spark", "host":
"spark://spark-master:7077"}``); the job's session factory leaves a master that spark-submit set alone
(:func:`spark_jobs.session.configure`). Define the connection in every deployment: without it the provider
submits to YARN. The embedded and standalone Airflow of ``make demo`` / ``make airflow`` define it as
``$JOBTRAIL_SPARK_MASTER`` (default ``local[2]``). Arguments are always a list — the same list a data engineer
passes to ``spark-submit`` — never a shell string.

Beside the arguments, each operator gets (read where the DAG file is parsed: the worker, when a task runs)

- ``spark.pyspark.python`` / ``spark.pyspark.driver.python``: ``$PYSPARK_PYTHON`` / ``$PYSPARK_DRIVER_PYTHON``,
  else this interpreter — the driver and the Python workers run the project's environment (confs, not
  environment variables, which the provider refuses in standalone cluster mode);
- ``spark_binary``: the ``spark-submit`` next to this interpreter when none is on ``PATH`` (a virtual environment
  that is not activated);
- ``driver_memory`` = ``$JOBTRAIL_SPARK_DRIVER_MEMORY`` (default 4g, :class:`jobtrail.settings.Settings`): in client
  mode the driver JVM is started by ``spark-submit``, so the session builder's ``spark.driver.memory`` comes too
  late and the jobs ran on spark-submit's 1g (at 10M events the inference inputs took 2.1× longer with 1g and the
  C1-only JIT below than with 4g and the default JIT);
- ``spark.driver.extraJavaOptions`` = ``$JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS`` when set. The embedded default
  (:mod:`orchestration.embedded`) sets ``-XX:TieredStopAtLevel=1``: the JIT's second tier costs more CPU than it
  saves in short ``local[2]`` jobs (about half the CPU of a small job on 2 cores).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import spark_jobs
from jobtrail.settings import REPO_ROOT, Settings

CONN_ID = "spark_default"


def application_path(job: str) -> str:
    """``spark_jobs/<job>.py`` of the installed project (``$JOBTRAIL_SPARK_APP_DIR`` overrides the folder)."""
    if job not in spark_jobs.JOBS:
        raise ValueError(f"unknown Spark job {job!r}; one of {', '.join(spark_jobs.JOBS)}")
    folder = Path(os.environ.get("JOBTRAIL_SPARK_APP_DIR") or REPO_ROOT / "spark_jobs")
    return str(folder / f"{job}.py")


def job_conf(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Spark confs every step gets: the project's Python for the driver and the workers, the driver's JVM
    options (``$JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS``) when set."""
    env = os.environ if environ is None else environ
    python = env.get("PYSPARK_PYTHON") or sys.executable
    conf = {"spark.pyspark.python": python, "spark.pyspark.driver.python": env.get("PYSPARK_DRIVER_PYTHON") or python}
    java_options = env.get("JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS", "").strip()
    if java_options:
        conf["spark.driver.extraJavaOptions"] = java_options
    return conf


def spark_binary() -> str | None:
    """``spark-submit`` from ``PATH`` (None: the provider's default), else the one beside this interpreter."""
    local = Path(sys.executable).parent / "spark-submit"
    return str(local) if shutil.which("spark-submit") is None and local.exists() else None


def spark_submit(
    job: str,
    *,
    application_args: Any,
    task_id: str | None = None,
    conf: Mapping[str, str] | None = None,
    env_vars: Mapping[str, str] | None = None,
    **kwargs: Any,
):
    """A ``SparkSubmitOperator`` running ``spark_jobs/<job>.py`` with ``application_args`` (a list, or the
    XCom of a task that returns one) on the ``spark_default`` connection."""
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    if isinstance(application_args, (str, bytes)):
        raise TypeError(f"{job}: application_args must be a list of arguments, never a shell string")
    kwargs.setdefault("driver_memory", Settings.from_env().driver_memory)
    return SparkSubmitOperator(
        task_id=task_id or job,
        application=application_path(job),
        application_args=application_args,
        conn_id=CONN_ID,
        name=f"jobtrail-{job.replace('_', '-')}",
        conf={**job_conf(), **(conf or {})},
        env_vars=dict(env_vars or {}) or None,
        spark_binary=spark_binary(),
        **kwargs,
    )
