"""Fixtures for the model tests: a planted-signal examples folder and small, fast training settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from planted import Planted, write_planted  # noqa: E402

SMALL = ["--batch-size", "64", "--learning-rate", "5e-3", "--embedding-dim", "16", "--d-model", "16",
         "--heads", "1", "--layers", "1", "--filters", "16", "--seed", "11"]
"""Hyper-parameters that train in seconds on 2 CPU cores and still learn the planted signal."""


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> Planted:
    return write_planted(tmp_path_factory.mktemp("planted"))


@pytest.fixture()
def data_root(tmp_path, monkeypatch) -> Path:
    """A private data root (and so a private MLflow SQLite store) for one test."""
    monkeypatch.setenv("JOBTRAIL_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "data"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a ``python -m orchestration.cli`` child: the repo importable, Keras 2."""
    root = str(Path(__file__).resolve().parents[2])
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return {**env, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
            "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **extra}
