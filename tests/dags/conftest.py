"""One DagBag per test run, parsed with the embedded Airflow of tests/conftest.py (its metadata in a temporary
folder); ``JOBTRAIL_DATA_ROOT`` is set per fixture."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from jobtrail.settings import REPO_ROOT
DAGS = REPO_ROOT / "dags"
_LAKES = Path(tempfile.mkdtemp(prefix="jobtrail-lake-"))
atexit.register(shutil.rmtree, _LAKES, ignore_errors=True)

LAKE = _LAKES / "lake"
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
