"""A small chain shared by the example and inference-input tests: clean events → timelines → job table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import generate
from chain_dates import END, START
from jobtrail.tables import Tables



@dataclass(frozen=True)
class Chain:
    root: Path
    clean: Path
    timelines: Path
    catalog: Path
    job_table: Path


@pytest.fixture(scope="session")
def chain(spark, tmp_path_factory) -> Chain:
    from spark_jobs import job_table
    from spark_jobs.timelines import TimelineArgs, run as build_timelines

    root = tmp_path_factory.mktemp("chain")
    generate(GeneratorConfig(users=400, days=14, seed=21), root / "synthetic")
    clean, timelines = root / Tables.CLEAN_EVENTS, root / Tables.TIMELINES
    spark.read.parquet(str(root / "synthetic" / Tables.RAW_EVENTS)).write.format("delta").partitionBy("ds").save(str(clean))
    build_timelines(spark, TimelineArgs(START, END, clean, timelines))
    catalog = root / "synthetic" / Tables.JOB_CATALOG
    table = root / "job_side_table"
    job_table.run(spark, job_table.parse_args([
        "--ds", str(END), "--catalog", str(catalog), "--events", str(clean),
        "--start", str(START), "--end", str(END), "--out", str(table)]))
    return Chain(root, clean, timelines, catalog, table)
