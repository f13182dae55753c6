"""spark_jobs/generate.py: the same rows as the single-process generator, whatever the partitioning."""

from __future__ import annotations

from pyspark.testing import assertDataFrameEqual

from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import generate
from jobtrail.tables import Tables
from spark_jobs.generate import GenerateArgs, parse_args, run, synthetic_events


def test_one_and_four_partitions_give_identical_rows(spark):
    cfg = GeneratorConfig(users=400, days=10, seed=3)
    one = synthetic_events(spark, cfg, partitions=1)
    four = synthetic_events(spark, cfg, partitions=4)
    assert four.rdd.getNumPartitions() == 4
    assertDataFrameEqual(one, four)
    assert one.count() > 1_000


def test_spark_job_writes_what_the_local_generator_writes(spark, tmp_path):
    cfg = GeneratorConfig(users=250, days=7, seed=5)
    local_counts = generate(cfg, tmp_path / "local")
    spark_counts = run(spark, GenerateArgs(cfg, tmp_path / "spark", partitions=3))
    assert spark_counts == local_counts
    for table in (Tables.RAW_EVENTS, Tables.JOB_CATALOG, Tables.GROUND_TRUTH):
        written_by_spark = spark.read.parquet(str(tmp_path / "spark" / table))
        written_locally = spark.read.parquet(str(tmp_path / "local" / table))
        assert written_by_spark.schema == written_locally.schema
        assertDataFrameEqual(written_by_spark, written_locally)


def test_arguments():
    args = parse_args(["--users", "100000", "--out", "/tmp/x", "--start", "2026-01-05"])
    assert args.partitions == 5 and args.config.start.isoformat() == "2026-01-05" and args.config.days == 30
