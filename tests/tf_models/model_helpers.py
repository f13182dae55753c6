"""What the model tests share besides fixtures: small, fast training settings and a child process's environment.

(A module of its own, not conftest.py: several test folders have a conftest.py, so ``from conftest import``
would depend on which one pytest loaded last.)
"""

from __future__ import annotations

import os
from pathlib import Path

SMALL = ["--batch-size", "64", "--learning-rate", "5e-3", "--embedding-dim", "16", "--d-model", "16",
         "--heads", "1", "--layers", "1", "--filters", "16", "--seed", "11"]
"""Hyper-parameters that train in seconds on 2 CPU cores and still learn the planted signal."""


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a ``python -m orchestration.cli`` child: the repo importable, Keras 2."""
    root = str(Path(__file__).resolve().parents[2])
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return {**env, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
            "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", **extra}
