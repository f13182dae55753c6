"""The one SparkSession factory: Delta Lake on local jars, UTC, ``local[2]`` unless told otherwise.

Library code never builds a session: jobs call :func:`create_session` once in ``main()`` and pass
the session into the transforms. Infrastructure comes from :class:`jobtrail.settings.Settings`, so the same
code runs locally and against a cluster. The master is set once: by ``spark-submit --master`` when spark-submit
started this process (the DAGs' steps: the ``spark_default`` connection's master), else here from
``$JOBTRAIL_SPARK_MASTER`` (``jobtrail <job>`` in-process, the tests, the evaluation).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

from jobtrail.settings import Settings
from spark_jobs.jars import delta_jars


def launched_by_spark_submit(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``spark-submit`` started this Python process: it hands pyspark its JVM gateway
    (``PYSPARK_GATEWAY_PORT``), whose configuration already holds the master it was given."""
    return "PYSPARK_GATEWAY_PORT" in (os.environ if environ is None else environ)


def configure(
    builder: SparkSession.Builder,
    settings: Settings,
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSession.Builder:
    """Builder in, builder out: add Delta, UTC, sensible local defaults and — unless spark-submit set it — the
    master."""
    jars = ",".join(str(p) for p in delta_jars(settings))
    conf = {
        "spark.jars": jars,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.shuffle.partitions": str(settings.shuffle_partitions),
        # Delta replays its log with this many tasks; the default 50 dominates small local jobs.
        "spark.databricks.delta.snapshotPartitions": str(settings.shuffle_partitions),
        "spark.driver.memory": settings.driver_memory,
        "spark.sql.warehouse.dir": str(settings.data_root / "warehouse"),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.ui.enabled": "false",
    }
    conf.update(extra_conf or {})
    if not launched_by_spark_submit():
        builder = builder.master(settings.spark_master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder


def create_session(
    app_name: str,
    settings: Settings | None = None,
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Create (or return the running) SparkSession for ``app_name``; see :func:`configure`."""
    settings = settings or Settings.from_env()
    # Python workers run the driver's interpreter (the project's venv) unless PYSPARK_PYTHON says otherwise;
    # pyspark reads only the environment variable for this.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = configure(SparkSession.builder.appName(app_name), settings, extra_conf).getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session
