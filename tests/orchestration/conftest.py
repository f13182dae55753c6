"""An embedded Airflow configuration for the orchestration tests (operators are built, never run against a cluster).

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
from pathlib import Path

from orchestration.embedded import airflow_env

_HOME = Path(tempfile.mkdtemp(prefix="jobtrail-airflow-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
if "airflow" not in sys.modules:
    _env = airflow_env(_HOME / "home", _HOME / "data")
    for _key, _value in _env.items():
        if _key.startswith(("AIRFLOW", "PYSPARK_", "SPARK_CONF_DIR", "TF_USE_LEGACY_KERAS")) or _key == "PATH":
            os.environ[_key] = _value
