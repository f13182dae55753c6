"""The whole chain twice for the same days leaves every table identical; spark-submit runs a job as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import generate
from jobtrail.tables import Tables

START, DAYS = date(2026, 10, 1), 4
END = START + timedelta(days=DAYS - 1)
ROOT = Path(__file__).resolve().parents[2]


def run_chain(spark, raw: Path, catalog: Path, root: Path) -> None:
    from spark_jobs import examples, inference_inputs, ingest, job_table, timelines

    data = ["--data-root", str(root)]
    for i in range(DAYS):
        day = START + timedelta(days=i)
        ingest.run(spark, ingest.parse_args(["--ds", str(day), "--input", str(raw / f"ds={day}"),
                                             "--now", "2026-12-01T00:00:00", *data]))
    timelines.run(spark, timelines.parse_args(["--start", str(START), "--end", str(END), *data]))
    job_table.run(spark, job_table.parse_args(["--ds", str(END), "--catalog", str(catalog), "--start", str(START),
                                               "--end", str(END), "--out", str(root / "ex" / "job_side_table"), *data]))
    examples.run(spark, examples.parse_args(["--start", str(START), "--end", str(END), "--valid-from", str(END),
                                             "--out", str(root / "ex"), "--window", "8", "--format", "windows", *data]))
    inference_inputs.run(spark, inference_inputs.parse_args([
        "--as-of", str(END + timedelta(days=1)), "--job-table", str(root / "ex" / "job_side_table"), "--window", "8", *data]))


def tables(spark, root: Path) -> dict:
    delta = {t: spark.read.format("delta").load(str(root / t)) for t in
             (Tables.CLEAN_EVENTS, Tables.QUARANTINE, Tables.TIMELINES, Tables.INFERENCE_INPUTS)}
    counts = spark.read.format("delta").load(str(root / Tables.INGEST_COUNTS))
    delta[Tables.INGEST_COUNTS] = counts.drop(*[c for c in counts.columns if c.endswith("_at")])
    return {**delta, "examples": spark.read.parquet(str(root / "ex" / "examples")),
            "job_side_table": spark.read.parquet(str(root / "ex" / "job_side_table"))}


@pytest.mark.integration
def test_running_the_chain_twice_leaves_tables_identical(spark, tmp_path):
    src = tmp_path / "synthetic"
    generate(GeneratorConfig(users=150, days=DAYS, seed=9), src)
    root = tmp_path / "data"
    run_chain(spark, src / Tables.RAW_EVENTS, src / Tables.JOB_CATALOG, root)
    first = {name: df.collect() for name, df in tables(spark, root).items()}
    assert len(first[Tables.CLEAN_EVENTS]) == spark.read.parquet(str(src / Tables.RAW_EVENTS)).count()
    assert len(first["examples"]) > 0 and len(first[Tables.INFERENCE_INPUTS]) > 0
    run_chain(spark, src / Tables.RAW_EVENTS, src / Tables.JOB_CATALOG, root)
    for name, df in tables(spark, root).items():
        assertDataFrameEqual(df, first[name])


@pytest.mark.integration
def test_spark_submit_runs_a_job_with_delta(tmp_path):
    src = tmp_path / "synthetic"
    generate(GeneratorConfig(users=40, days=2, seed=3), src)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable,
           "SPARK_CONF_DIR": str(ROOT / ".cache" / "spark-conf"), "JOBTRAIL_DATA_ROOT": str(tmp_path / "data")}
    submit = Path(sys.executable).parent / "spark-submit"
    day = START
    result = subprocess.run(
        [str(submit), str(ROOT / "spark_jobs" / "ingest.py"), "--ds", str(day),
         "--input", str(src / Tables.RAW_EVENTS / f"ds={day}"), "--now", "2026-12-01T00:00:00"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from deltalake import DeltaTable

    clean = DeltaTable(str(tmp_path / "data" / Tables.CLEAN_EVENTS)).to_pyarrow_table()
    assert clean.num_rows > 0 and set(clean.column("ds").to_pylist()) == {day}
