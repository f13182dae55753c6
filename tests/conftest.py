"""Shared fixtures: one SparkSession per test run (Delta on the local jars), generated data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The factory's session, with its warehouse in a temporary data root."""
    from jobtrail.settings import Settings
    from spark_jobs.session import create_session

    settings = Settings.from_env()
    settings = type(settings)(
        data_root=tmp_path_factory.mktemp("data_root"),
        cache_dir=settings.cache_dir,
        spark_master=settings.spark_master,
        shuffle_partitions=2,
        driver_memory=settings.driver_memory,
    )
    session = create_session("jobtrail-tests", settings)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    """A synthetic dataset shared by the tests that only read it (3,000 users, 30 days, seed 7)."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(GeneratorConfig(users=3_000, days=30, seed=7), out)
    return out
