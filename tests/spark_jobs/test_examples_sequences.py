"""The examples job's default format, per-position sequences: layout, golden rows, invariants, determinism."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobtrail.contracts import EVENT_TYPE_IDS, TRAINING_SEQUENCE
from jobtrail.sequence_core.chunks import SequenceConfig
from spark_jobs import examples
from spark_jobs.sequences import daily_pools, user_sequences, with_job_index

from chain_dates import END, START, VALID_FROM

VALID_FROM_US = int(datetime(VALID_FROM.year, VALID_FROM.month, VALID_FROM.day, tzinfo=timezone.utc).timestamp()) * 10**6


def cut(spark, chain, out, *extra: str):
    args = examples.parse_args(["--start", str(START), "--end", str(END), "--valid-from", str(VALID_FROM),
                                "--timelines", str(chain.timelines), "--job-table", str(chain.job_table),
                                "--out", str(out), "--window", "16", *extra])
    counts = examples.run(spark, args)
    return spark.read.parquet(str(out / ("examples" if args.format == "windows" else "sequences"))), counts


@pytest.fixture(scope="module")
def timeline(spark, chain):
    return with_job_index(spark.read.format("delta").load(str(chain.timelines)), spark.read.parquet(str(chain.job_table)))


@pytest.fixture(scope="module")
def default(spark, chain, tmp_path_factory):
    out = tmp_path_factory.mktemp("sequences")
    rows, counts = cut(spark, chain, out)
    return rows.cache(), counts, out


def test_layout_schema_fixed_lengths_and_meta(default):
    rows, counts, out = default
    assert rows.columns == TRAINING_SEQUENCE.names
    sizes = rows.select(*[F.size(f.name).alias(f.name) for f in TRAINING_SEQUENCE
                          if f.name.startswith(("ctx_", "next_", "future_", "negative_"))]).distinct().collect()
    assert [tuple(r) for r in sizes] == [(15, 15, 15, 15, 15, 60, 15, 15 * 8, 15 * 3, 15 * 3)]  # L=15, Q=4, K=8, M=3
    meta = json.loads((out / "examples_meta.json").read_text())
    assert meta["format"] == "sequences" and meta["sequence"]["chunk_stride"] == 15 and meta["counts"] == counts
    assert set(counts) == {"train/sequences", "validation/sequences"} and min(counts.values()) > 10
    assert sum(meta["targets"].values()) == rows.agg(F.sum("n_targets")).first()[0]
    assert not (out / "examples").exists()
    assert rows.where("split = 'validation'").groupBy("user_id").count().where("count > 1").count() == 0


def test_invariants_against_the_timelines(default, timeline):
    rows = default[0].toPandas()
    events = timeline.select("user_id", "event_id", F.unix_micros("ts").alias("ts"), "event_type", "job_index",
                             F.datediff("ds", F.lit(date(1970, 1, 1))).alias("day")).toPandas()
    events = events.sort_values(["user_id", "ts", "event_id"])
    pools = events[events.job_index > 0].groupby("day").job_index.apply(set).to_dict()
    positive = events.event_type.isin(["apply", "save"]) & (events.job_index > 0)
    checked = 0
    for user, tl in events.groupby("user_id"):
        touched = set(tl.job_index) - {0}
        mine = rows[rows.user_id == user]
        before = tl[tl.ts < VALID_FROM_US]
        for row in mine.itertuples():
            n = row.context_length
            if row.split == "train":
                first = before.event_id.tolist().index(row.sequence_id.split(":", 1)[1])
                window = before.iloc[first:first + n]
                limit = VALID_FROM_US
            else:
                window, limit = before.iloc[len(before) - n:], 2**62
            assert window.job_index.tolist() == list(row.ctx_job_index[:n])
            negative, weight = np.asarray(row.negative_job_index).reshape(15, 3), np.asarray(row.negative_weight).reshape(15, 3)
            for t, (ts, day) in enumerate(zip(window.ts, window.day)):
                if row.split == "validation" and t < n - 1:
                    continue  # targets only at the last position (checked below)
                later = tl[(tl.ts > ts) & (tl.ts < limit)]
                nxt = row.next_job_index[t]
                assert nxt == (later[positive.loc[later.index]].job_index.iloc[0] if positive.loc[later.index].any()
                               else 0)
                future = set(row.future_job_index[t * 8:(t + 1) * 8]) - {0}
                assert future <= set(later[positive.loc[later.index]].job_index)  # strictly after, before the limit
                randoms = set(negative[t][np.isclose(weight[t], 0.3)])
                assert not randoms & touched and randoms <= pools[day]
                checked += 1
            assert row.split == "train" or (np.asarray(row.next_job_index[:n - 1]) == 0).all()
    assert checked > 2000


def test_identical_with_one_and_four_partitions_and_across_reruns(spark, chain, timeline, default, tmp_path):
    cfg = SequenceConfig(window=16)
    pools = daily_pools(timeline)

    def build(parts):
        seqs = user_sequences(timeline.repartition(parts, "event_id"), query_tokens=4, token_buckets=2**14)
        return examples.cut_sequences(seqs.repartition(parts), pools, cfg=cfg, valid_from=VALID_FROM, end=END)

    one = build(1)
    assertDataFrameEqual(one, build(4))
    assertDataFrameEqual(one, default[0])
    again, _ = cut(spark, chain, tmp_path / "again")
    assertDataFrameEqual(again, default[0])


def test_formats_replace_each_other_and_refuse_the_others_flags(spark, chain, default, tmp_path):
    out = tmp_path / "both"
    cut(spark, chain, out, "--format", "windows", "--stride", "4")
    assert (out / "examples").exists() and json.loads((out / "examples_meta.json").read_text())["format"] == "windows"
    cut(spark, chain, out, "--chunk-stride", "7", "--horizon-days", "3", "--target-gap", "3600")
    assert (out / "sequences").exists() and not (out / "examples").exists()
    assert json.loads((out / "examples_meta.json").read_text())["sequence"]["target_gap"] == 3600
    base = ["--start", str(START), "--end", str(END), "--valid-from", str(VALID_FROM), "--out", str(out)]
    for bad in (["--stride", "2"], ["--negatives-in-timeline"], ["--format", "windows", "--future-targets", "3"],
                ["--target-gap", "noon"], ["--horizon-days", "0"], ["--random-negative-weight", "2"]):
        with pytest.raises(SystemExit):
            examples.parse_args(base + bad)


def test_golden_rows_and_small_users(spark):
    from spark_jobs.timelines import sessionize

    rows = pd.DataFrame({
        "event_id": ["e1", "e2", "e3", "e4", "e5", "f1", "f2", "f3", "g1"],
        "user_id": ["u1"] * 5 + ["u2"] * 3 + ["u3"],
        "event_type": ["search", "view", "apply", "dismiss", "save", "view", "view", "apply", "view"],
        "job_id": [None, "j1", "j1", "j2", "j3", "j1", "j2", "j2", "j1"],
        "query": ["civil engineer"] + [None] * 8,
        "ts": pd.to_datetime(["2026-10-01 09:00", "2026-10-01 09:05", "2026-10-01 10:00", "2026-10-02 11:00",
                              "2026-10-14 12:00", "2026-10-02 09:00", "2026-10-03 09:00", "2026-10-12 09:00",
                              "2026-10-02 09:00"], utc=True),
        "channel": "search",
    })
    rows["ds"] = rows.ts.dt.date
    side = spark.createDataFrame([("j1", 1), ("j2", 2), ("j3", 3), ("j4", 4)], "job_id string, job_index int")
    indexed = with_job_index(sessionize(spark.createDataFrame(rows)), side)
    epoch = date(1970, 1, 1)
    pools = {(date(2026, 10, d) - epoch).days: np.array([1, 2, 3, 4], np.int32) for d in range(1, 15)}
    pools[(date(2026, 10, 3) - epoch).days] = np.array([1, 2, 3], np.int32)  # u2's only untouched job that day: j3
    cfg = SequenceConfig(window=8, future_targets=2, dismisses_per_position=1, negatives_per_position=1)
    got = examples.cut_sequences(user_sequences(indexed, query_tokens=4, token_buckets=2**14), pools, cfg=cfg,
                                 valid_from=VALID_FROM, end=END)
    # u1: 4 events before 10-11 → one train chunk; e5 (10-14) is its validation target. u2: 2 events before:
    # validation only (f3). u3: nothing after valid_from → no row.
    expected = spark.createDataFrame([
        ("u1:e1", "train", 4, [0, 1, 1, 2, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0] + [0] * 10,
         [2, 4, 2, 4, 2, 0] + [0] * 8, 2),
        ("u1:validation", "validation", 4, [0, 1, 1, 2, 0, 0, 0], [0, 0, 0, 3, 0, 0, 0], [0] * 6 + [3, 0] + [0] * 6,
         [0] * 6 + [0, 4] + [0] * 6, 1),
        ("u2:validation", "validation", 2, [1, 2, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0], [0, 0, 2, 0] + [0] * 10,
         [0, 0, 0, 3] + [0] * 10, 1),
    ], "sequence_id string, split string, context_length int, ctx_job_index array<int>, next_job_index array<int>, "
       "future_job_index array<int>, negative_job_index array<int>, n_targets int")
    assertDataFrameEqual(got.select(*expected.columns), expected)
    assert got.where("split = 'train'").select("ctx_event_type").first()[0][:4] == [
        EVENT_TYPE_IDS[k] for k in ("search", "view", "apply", "dismiss")]
