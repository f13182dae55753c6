"""Spark steps of the DAGs: ``spark-submit spark_jobs/<job>.py ARGS`` through Airflow's ``SparkSubmitOperator``.

The master comes from the ``spark_default`` connection (``AIRFLOW_CONN_SPARK_DEFAULT``, e.g.
``{"conn_type": "spark", "host": "spark://spark-master:7077"}``); when no such connection is defined the
step runs on ``$JOBTRAIL_SPARK_MASTER`` (default ``local[2]``) instead of the provider's fallback (YARN).
Arguments are always a list — the same list a data engineer passes to ``spark-submit`` — never a shell string.

At execute time the operator also

- exports ``JOBTRAIL_SPARK_MASTER`` = the connection's master to the job (client mode), because the
  session factory (:func:`spark_jobs.session.create_session`) sets the master from that variable;
- makes the driver run this interpreter (``PYSPARK_PYTHON`` / ``PYSPARK_DRIVER_PYTHON``, unless set) and
  uses the ``spark-submit`` next to it when none is on ``PATH`` (a virtual environment that is not activated);
- passes ``--driver-memory`` = ``$JOBTRAIL_SPARK_DRIVER_MEMORY`` (default 4g, :class:`jobtrail.settings.Settings`):
  in client mode the driver JVM is started by ``spark-submit``, so the session builder's ``spark.driver.memory``
  comes too late and the jobs ran on spark-submit's 1g (at 10M events the inference inputs took 2.1× longer
  with 1g and the C1-only JIT below than with 4g and the default JIT);
- passes ``$JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS`` as ``spark.driver.extraJavaOptions`` when set. The embedded
  default (:mod:`orchestration.embedded`) sets ``-XX:TieredStopAtLevel=1``: the JIT's second tier costs
  more CPU than it saves in short ``local[2]`` jobs (about half the CPU of a small job on 2 cores).
"""

from __future__ import annotations

import os
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


def _operator_class() -> type:
    from orchestration.operators import JobtrailSparkSubmitOperator

    return JobtrailSparkSubmitOperator


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
    if isinstance(application_args, (str, bytes)):
        raise TypeError(f"{job}: application_args must be a list of arguments, never a shell string")
    operator = _operator_class()
    kwargs.setdefault("driver_memory", Settings.from_env().driver_memory)
    return operator(
        task_id=task_id or job,
        application=application_path(job),
        application_args=application_args,
        conn_id=CONN_ID,
        name=f"jobtrail-{job.replace('_', '-')}",
        conf=dict(conf or {}),
        env_vars=dict(env_vars or {}) or None,
        **kwargs,
    )
