"""The embedded Airflow environment and the demo's own steps (the demo itself is ``make demo``)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from jobtrail.errors import JobtrailError
from jobtrail.settings import REPO_ROOT
from orchestration.embedded import airflow_env


def test_airflow_env(tmp_path):
    env = airflow_env(tmp_path / "home", tmp_path / "data", base={"PATH": "/usr/bin"})
    assert env["AIRFLOW_HOME"] == str((tmp_path / "home").resolve())
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO_ROOT / "dags")
    assert env["JOBTRAIL_DATA_ROOT"] == str((tmp_path / "data").resolve())
    assert json.loads(env["AIRFLOW_CONN_SPARK_DEFAULT"]) == {"conn_type": "spark", "host": "local[2]"}
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)  # spark-submit of this environment
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False" and env["TF_USE_LEGACY_KERAS"] == "1"
    cluster = airflow_env(tmp_path, tmp_path, base={"AIRFLOW_CONN_SPARK_DEFAULT": '{"conn_type": "spark", '
                                                                                  '"host": "spark://m:7077"}'})
    assert "spark://m:7077" in cluster["AIRFLOW_CONN_SPARK_DEFAULT"]  # an operator's connection wins
    one_core = airflow_env(tmp_path, tmp_path, base={"JOBTRAIL_SPARK_MASTER": "local[1]"})
    assert json.loads(one_core["AIRFLOW_CONN_SPARK_DEFAULT"])["host"] == "local[1]"  # else the jobtrail setting


def test_demo_only_deletes_its_own_folder(tmp_path):
    from orchestration.demo import MARKER, prepare

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("x")
    with pytest.raises(JobtrailError, match="not made by the demo"):
        prepare(precious, keep=False)
    assert (precious / "keep.txt").exists()
    demo = tmp_path / "demo"
    prepare(demo, keep=False)
    (demo / "old").write_text("previous run")
    prepare(demo, keep=False)
    assert not (demo / "old").exists() and (demo / MARKER).exists()


def test_history_matches_the_clean_events_contract(tmp_path):
    from deltalake import DeltaTable

    from jobtrail.contracts import RAW_EVENT, with_partition
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate
    from orchestration.demo import load_history

    generate(GeneratorConfig(users=30, days=3, seed=1, start=date(2026, 10, 1)), tmp_path)
    rows = load_history(tmp_path, date(2026, 10, 2))
    table = DeltaTable(str(tmp_path / "clean_events"))
    assert table.metadata().partition_columns == ["ds"]
    data = table.to_pyarrow_table()
    assert data.num_rows == rows > 0
    assert set(data.column("ds").to_pylist()) == {date(2026, 10, 1), date(2026, 10, 2)}
    assert data.schema.names == with_partition(RAW_EVENT).names
