"""Fixtures for the model tests: a planted-signal examples folder, a private data root (the small, fast training
settings and the child-process environment: :mod:`model_helpers`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from planted import Planted, write_planted  # noqa: E402


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> Planted:
    return write_planted(tmp_path_factory.mktemp("planted"))


@pytest.fixture()
def data_root(tmp_path, monkeypatch) -> Path:
    """A private data root (and so a private MLflow SQLite store) for one test."""
    monkeypatch.setenv("JOBTRAIL_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "data"
