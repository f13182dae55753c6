"""``make demo``: run what exists of the pipeline on the embedded default dataset and show the result.

Today: generate the synthetic job-seeker dataset (2,000 users, 30 days), read it back with Spark
(Delta-enabled session from the one factory), write the raw events as a Delta table and print what
is there — event counts per type and per day, the activity tail, and one career changer's story.

    python -m jobtrail.demo --out data/demo
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jobtrail.contracts import Tables
from jobtrail.synthetic.config import GeneratorConfig
from jobtrail.synthetic.generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("data/demo"))
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    counts = generate(GeneratorConfig(users=args.users, days=args.days, seed=args.seed), args.out)
    print(f"[1/2] generated {counts} into {args.out} in {time.perf_counter() - started:.1f}s")

    from pyspark.sql import functions as F

    from spark_jobs.session import create_session

    spark = create_session("jobtrail-demo")
    events = spark.read.parquet(str(args.out / Tables.RAW_EVENTS))
    delta_path = str(args.out / "delta" / Tables.RAW_EVENTS)
    events.write.format("delta").mode("overwrite").partitionBy("ds").save(delta_path)
    table = spark.read.format("delta").load(delta_path)
    print(f"[2/2] Delta table {delta_path}: {table.count()} events, {table.select('user_id').distinct().count()} users")
    table.groupBy("event_type").count().orderBy(F.desc("count")).show()
    per_user = table.groupBy("user_id").count()
    per_user.select(
        F.percentile_approx("count", 0.5).alias("median_events_per_user"),
        F.percentile_approx("count", 0.99).alias("p99"),
        F.round(F.avg((F.col("count") > 100).cast("int")) * 100, 2).alias("pct_users_over_100"),
    ).show()
    truth = spark.read.parquet(str(args.out / Tables.GROUND_TRUTH))
    acted = table.where(F.col("event_type").isin("apply", "save")).groupBy("user_id").agg(F.count("*").alias("acts"))
    changer = (  # the busiest three-phase career changer
        truth.where("user_kind = 'career_changer'").groupBy("user_id")
        .agg(F.countDistinct("intent").alias("n")).where("n = 3")
        .join(acted, "user_id").orderBy(F.desc("acts"), "user_id").first()
    )
    if changer is not None:
        print(f"career changer {changer.user_id}: latent intent by phase")
        (truth.where(F.col("user_id") == changer.user_id).groupBy("phase", "intent", "intent_seniority")
         .agg(F.min("ds").alias("from"), F.max("ds").alias("to")).orderBy("phase").show(truncate=False))
        catalog = spark.read.parquet(str(args.out / Tables.JOB_CATALOG)).select("job_id", "title").distinct()
        (table.where((F.col("user_id") == changer.user_id) & F.col("event_type").isin("apply", "save"))
         .join(catalog, "job_id").orderBy("ts").select("ts", "event_type", "title").show(50, truncate=False))
    spark.stop()
    print(f"demo finished in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
