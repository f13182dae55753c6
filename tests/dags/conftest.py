"""One DagBag per test run, parsed with an embedded Airflow whose metadata lives in a temporary folder.

Airflow reads its configuration when it is first imported, so the environment is set here, at collection time,
before any test module imports it (only ``AIRFLOW_*`` and Spark/TF variables; ``JOBTRAIL_DATA_ROOT`` is set
per fixture).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from jobtrail.settings import REPO_ROOT
from orchestration.embedded import airflow_env

DAGS = REPO_ROOT / "dags"
_HOME = Path(tempfile.mkdtemp(prefix="jobtrail-airflow-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
if "airflow" not in sys.modules:
    _env = airflow_env(_HOME / "home", _HOME / "data")
    for _key, _value in _env.items():
        if _key.startswith(("AIRFLOW", "PYSPARK_", "SPARK_CONF_DIR", "TF_USE_LEGACY_KERAS")) or _key == "PATH":
            os.environ[_key] = _value


LAKE = _HOME / "lake"
"""The data root the DAGs are parsed with and the end-to-end tests run on."""


@contextmanager
def data_root_env(root: Path = LAKE):
    """``JOBTRAIL_DATA_ROOT=root`` inside the block only (other test modules keep their own setting)."""
    saved = os.environ.get("JOBTRAIL_DATA_ROOT")
    os.environ["JOBTRAIL_DATA_ROOT"] = str(root)
    try:
        yield root
    finally:
        if saved is None:
            os.environ.pop("JOBTRAIL_DATA_ROOT", None)
        else:
            os.environ["JOBTRAIL_DATA_ROOT"] = saved


@pytest.fixture(scope="session")
def lake_root() -> Path:
    return LAKE


@pytest.fixture(scope="session")
def root_env():
    """:func:`data_root_env`, for tests that run tasks on the data root the DAGs were parsed with."""
    return data_root_env


@pytest.fixture(scope="session")
def dagbag():
    """The project's DAG folder parsed once (the dag-processor's view), with the test data root."""
    from airflow.dag_processing.dagbag import DagBag

    with data_root_env():
        return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="session")
def daily(dagbag):
    return dagbag.dags["jobtrail_daily_embeddings"]


@pytest.fixture(scope="session")
def training(dagbag):
    return dagbag.dags["jobtrail_training"]


@pytest.fixture(scope="session")
def history(dagbag):
    return dagbag.dags["jobtrail_history_load"]
