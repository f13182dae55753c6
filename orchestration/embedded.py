"""The embedded default Airflow: SQLite metadata in a folder, this project's DAGs, Spark ``local[2]``.

Used by ``make demo`` (:mod:`orchestration.demo`), ``make airflow`` and the DAG tests:

    env = airflow_env(home=Path("data/demo/airflow"), data_root=Path("data/demo"))
    migrate(env)                                                  # airflow db migrate (SQLite)
    dags_test("jobtrail_training", {"aggregator": "cnn"}, env, log=Path("training.log"))

Every command is an argument list run with the project's interpreter (``python -m airflow``), so nothing
depends on ``PATH`` or an activated virtual environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jobtrail.errors import JobtrailError
from jobtrail.settings import REPO_ROOT, Settings

LOCAL_JAVA_OPTIONS = "-Duser.timezone=UTC -XX:TieredStopAtLevel=1"


class AirflowCommandError(JobtrailError):
    """An ``airflow`` command of the embedded set-up failed."""


def airflow_env(home: Path, data_root: Path, *, base: Mapping[str, str] | None = None,
                dags_folder: Path | None = None, paused_at_creation: bool = True) -> dict[str, str]:
    """Environment of an embedded Airflow whose metadata lives in ``home`` and whose tables live in ``data_root``."""
    env = dict(os.environ if base is None else base)
    settings = Settings.from_env(env)
    bin_dir = str(Path(sys.executable).parent)
    env.update({
        "AIRFLOW_HOME": str(home.resolve()),
        "AIRFLOW__CORE__DAGS_FOLDER": str((dags_folder or REPO_ROOT / "dags").resolve()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(paused_at_creation),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str((home / "logs").resolve()),
        # The first parse in a process imports the Spark provider and the Kubernetes client it pulls in: on a
        # busy 2-core machine that alone can pass Airflow's 30 s default.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": env.get("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT") or "180",
        "JOBTRAIL_DATA_ROOT": str(data_root.resolve()),
        "TF_USE_LEGACY_KERAS": "1",
        "PYSPARK_PYTHON": env.get("PYSPARK_PYTHON") or sys.executable,
        "PYSPARK_DRIVER_PYTHON": env.get("PYSPARK_DRIVER_PYTHON") or sys.executable,
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
    })
    # spark_default: the master spark-submit gets (and with it the job): $JOBTRAIL_SPARK_MASTER, default local[2]
    env.setdefault("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": settings.spark_master}))
    # Short local jobs: the C2 JIT costs more CPU than it saves (inference_inputs on the demo data: 56 s → 31 s CPU).
    env.setdefault("JOBTRAIL_SPARK_DRIVER_JAVA_OPTIONS", LOCAL_JAVA_OPTIONS)
    conf_dir = settings.cache_dir / "spark-conf"
    if "SPARK_CONF_DIR" not in env and conf_dir.exists():
        env["SPARK_CONF_DIR"] = str(conf_dir.resolve())
    return env


def airflow(args: list[str], env: Mapping[str, str], *, log: Path | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess:
    """``python -m airflow ARGS``; output to ``log`` (appended) when given; raises on a non-zero exit."""
    cmd = [sys.executable, "-m", "airflow", *args]
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.write(f"$ airflow {' '.join(args)}\n")
            out.flush()
            result = subprocess.run(cmd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                    check=False)
    else:
        result = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        where = f"see {log}" if log else (result.stdout or "")[-3000:] + (result.stderr or "")[-3000:]
        raise AirflowCommandError(f"`airflow {' '.join(args[:3])}` exited with {result.returncode}: {where}")
    return result


def migrate(env: Mapping[str, str], *, log: Path | None = None) -> None:
    """Create or upgrade the SQLite metadata database of ``env``'s ``AIRFLOW_HOME``."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow(["db", "migrate"], env, log=log, timeout=900)


def dags_test(dag_id: str, conf: Mapping[str, Any], env: Mapping[str, str], *, log: Path,
              timeout: float | None = None) -> float:
    """``airflow dags test DAG_ID --conf JSON``: one real run of the DAG in this process tree; returns seconds.

    No logical date is given: the run is a manual run "now", its day comes from the conf.
    """
    started = time.perf_counter()
    airflow(["dags", "test", dag_id, "--conf", json.dumps(dict(conf))], env, log=log, timeout=timeout)
    return time.perf_counter() - started
