"""Training examples (``--format windows``): invariants over generated data, a golden case, determinism,
both negative modes."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobtrail.contracts import EVENT_TYPE_IDS, TRAINING_EXAMPLE
from jobtrail.errors import DataContractError
from jobtrail.sequence_core.windows import WindowConfig
from spark_jobs import examples
from spark_jobs.sequences import daily_pools, user_sequences, with_job_index

from chain_dates import END, START, VALID_FROM


def cut(spark, chain, tmp_path, *extra: str):
    out = tmp_path / "examples"
    args = examples.parse_args(["--start", str(START), "--end", str(END), "--valid-from", str(VALID_FROM),
                                "--timelines", str(chain.timelines), "--job-table", str(chain.job_table),
                                "--out", str(out), "--window", "16", "--format", "windows", *extra])
    counts = examples.run(spark, args)
    return spark.read.parquet(str(out / "examples")), counts


@pytest.fixture(scope="module")
def timeline(spark, chain):
    return with_job_index(spark.read.format("delta").load(str(chain.timelines)), spark.read.parquet(str(chain.job_table)))


@pytest.fixture(scope="module")
def default(spark, chain, tmp_path_factory):
    return cut(spark, chain, tmp_path_factory.mktemp("default"))[0].cache()


def test_schema_and_fixed_lengths(default):
    assert default.columns == TRAINING_EXAMPLE.names
    lengths = default.select(*[F.size(c).alias(c) for c in TRAINING_EXAMPLE.names if c.startswith("ctx_")]).distinct().collect()
    assert [tuple(r) for r in lengths] == [(15, 15, 15, 15, 15, 60)]  # W-1 = 15; 15 × 4 query tokens


def test_every_context_event_is_strictly_before_its_target(default):
    rows = default.select("context_length", "ctx_log_time_to_target").toPandas()
    assert len(rows) > 500
    for n, times in zip(rows.context_length, rows.ctx_log_time_to_target):
        assert n >= 1 and (np.asarray(times[:n]) > 0).all() and (np.asarray(times[n:]) == 0).all()


def test_split_is_by_target_time(default):
    cut_ts = datetime(VALID_FROM.year, VALID_FROM.month, VALID_FROM.day, tzinfo=timezone.utc)
    rows = default.select("split", "target_ts").toPandas()
    assert (rows[rows.split == "validation"].target_ts >= cut_ts.replace(tzinfo=None)).all()
    assert (rows[rows.split == "train"].target_ts < cut_ts.replace(tzinfo=None)).all()
    assert set(rows.split) == {"train", "validation"}


def test_random_negatives_are_never_touched_and_come_from_the_days_pool(default, timeline):
    negatives = default.where("label_kind = 'random_negative'")
    assert negatives.count() > 50
    touched = timeline.select("user_id", F.col("job_index").alias("target_job_index")).distinct()
    assert negatives.join(touched, ["user_id", "target_job_index"]).count() == 0
    pool = timeline.select(F.col("ds"), F.col("job_index").alias("target_job_index")).distinct()
    with_day = negatives.withColumn("ds", F.to_date("target_ts"))
    assert with_day.join(pool, ["ds", "target_job_index"], "left_anti").count() == 0
    assert negatives.where("weight >= 1.0 or label != 0").count() == 0


def test_counts_follow_the_documented_formula(spark, chain, timeline, tmp_path):
    got, _ = cut(spark, chain, tmp_path, "--stride", "2", "--negatives-per-positive", "2")
    tl = timeline.select("user_id", "ts", "event_id", "event_type").toPandas().sort_values(["user_id", "ts", "event_id"])
    expected = {}
    for user, events in tl.groupby("user_id"):
        if len(events) < 4:
            continue
        labelled = events[events.event_type.isin(["apply", "save", "dismiss"]) & (events.ts > events.ts.min())]
        kept = labelled.iloc[::-1].iloc[::2]  # every 2nd target counting back from the latest
        positives = kept.event_type.isin(["apply", "save"]).sum()
        assert math.ceil(len(labelled) / 2) == len(kept)
        expected[user] = len(kept) + 2 * positives
    actual = got.groupBy("user_id").count().toPandas().set_index("user_id")["count"].to_dict()
    expected = {u: n for u, n in expected.items() if n}
    assert actual == expected


def test_identical_with_one_and_four_partitions_and_across_reruns(spark, chain, timeline, default, tmp_path):
    cfg = WindowConfig(window=16)
    pools = daily_pools(timeline)

    def build(parts):
        seqs = user_sequences(timeline.repartition(parts, "event_id"), query_tokens=4, token_buckets=2**14)
        return examples.cut_examples(seqs.repartition(parts), pools, cfg=cfg, valid_from=VALID_FROM)

    one = build(1)
    assertDataFrameEqual(one, build(4))
    assertDataFrameEqual(one, default)
    again, _ = cut(spark, chain, tmp_path)
    assertDataFrameEqual(again, default)


def test_negatives_in_timeline_mode(spark, chain, default, tmp_path):
    interleaved, _ = cut(spark, chain, tmp_path, "--negatives-in-timeline")
    assert interleaved.count() == default.count()
    code = EVENT_TYPE_IDS["random_negative"]
    assert interleaved.where(F.array_contains("ctx_event_type", code)).count() > 0
    assert default.where(F.array_contains("ctx_event_type", code)).count() == 0


def test_golden_rows(spark, tmp_path):
    rows = pd.DataFrame({
        "event_id": ["e1", "e2", "e3", "e4", "e5"], "user_id": "u1",
        "event_type": ["search", "impression", "view", "apply", "dismiss"],
        "job_id": [None, "j1", "j1", "j1", "j2"], "query": ["civil engineer", None, None, None, None],
        "ts": pd.to_datetime(["2026-10-01 09:00:00", "2026-10-01 09:00:05", "2026-10-01 09:01:00",
                              "2026-10-01 09:05:00", "2026-10-02 10:00:00"], utc=True),
        "channel": "search",
    })
    rows["ds"] = rows.ts.dt.date
    from spark_jobs.timelines import sessionize

    tl = sessionize(spark.createDataFrame(rows))
    side = spark.createDataFrame([("j1", 1), ("j2", 2), ("j3", 3)], "job_id string, job_index int")
    indexed = with_job_index(tl, side)
    epoch = date(1970, 1, 1)
    pools = {(date(2026, 10, d) - epoch).days: np.array([1, 2, 3], np.int32) for d in (1, 2)}
    got = examples.cut_examples(user_sequences(indexed, query_tokens=4, token_buckets=2**14), pools,
                                cfg=WindowConfig(window=8), valid_from=END)
    expected = spark.createDataFrame(
        [("u1:e4", [0, 1, 1, 0, 0, 0, 0], 3, 1, 1, "positive", 1.0),
         ("u1:e5", [0, 1, 1, 1, 0, 0, 0], 4, 2, 0, "dismiss", 1.0),
         ("u1:e4~neg0", [0, 1, 1, 0, 0, 0, 0], 3, 3, 0, "random_negative", 0.3)],
        "example_id string, ctx_job_index array<int>, context_length int, target_job_index int, label int, "
        "label_kind string, weight float",
    )
    assertDataFrameEqual(got.select(*expected.columns), expected)


def test_views_only_data_names_the_flags_instead_of_a_schema_error(spark, chain, tmp_path, reliability):
    views = tmp_path / "views_only"
    (spark.read.format("delta").load(str(chain.timelines)).where(F.col("event_type") == "view")
     .write.format("delta").partitionBy("ds").save(str(views)))
    for fmt in ("sequences", "windows"):
        args = examples.parse_args(["--start", str(START), "--end", str(END), "--valid-from", str(VALID_FROM),
                                    "--timelines", str(views), "--job-table", str(chain.job_table),
                                    "--out", str(tmp_path / fmt), "--format", fmt])
        with pytest.raises(DataContractError, match=r"--positive-types apply,save.*--positive-types view.*--min-events"):
            examples.run(spark, args)
    args = examples.parse_args(["--start", str(START), "--end", str(END), "--valid-from", str(VALID_FROM),
                                "--timelines", str(views), "--job-table", str(chain.job_table),
                                "--out", str(tmp_path / "ok"), "--positive-types", "view"])
    assert sum(examples.run(spark, args).values()) > 0
    reliability(area="bad input", case="views-only data",
                injected="timelines holding only view events, examples with the default --positive-types apply,save",
                happened="DataContractError naming --positive-types (views-only: view) and --min-events, in "
                         "place of Spark's UNABLE_TO_INFER_SCHEMA; with --positive-types view the cut has rows",
                tables="nothing to train on is reported, not written")
