"""Point-in-time join: never an embedding computed after the label time, max age respected, one model version,
and the JVM-free readers (pandas / polars / DuckDB through deltalake) return the same rows as Spark."""

from __future__ import annotations

from datetime import date, timedelta, timezone

import pandas as pd
import pytest

from feature_store import join_features
from feature_store.asof import join_duckdb, join_pandas, join_polars
from feature_store.readers import read_duckdb, read_pandas, read_polars
from feature_store.selection import pick_model
from jobtrail.errors import ConfigError

MAX_AGE = timedelta(days=2)


def brute_force(table, *, version: str, max_age: timedelta | None, include_fallback: bool = True) -> dict:
    """label_id → as_of_ts of the latest row of ``version`` not after the label time and not older than max_age."""
    rows = table.rows[table.rows.model_version == version]
    if not include_fallback:
        rows = rows[~rows.is_fallback]
    out = {}
    for label in table.labels.itertuples():
        times = [t for t in rows[rows.user_id == label.user_id].as_of_ts if t <= label.label_ts]
        best = max(times) if times else None
        out[label.label_id] = best if best is not None and (max_age is None or label.label_ts - best <= max_age) else None
    return out


def spark_join(spark, table, **kwargs) -> pd.DataFrame:
    labels = spark.createDataFrame(table.labels)
    return join_features(spark, labels, features=table.path, **kwargs).toPandas()


def as_utc(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).tz_localize(timezone.utc) \
        if pd.Timestamp(value).tzinfo is None else pd.Timestamp(value).tz_convert(timezone.utc)


def matches(frame: pd.DataFrame) -> dict:
    return {int(r.label_id): as_utc(r.user_embedding_as_of_ts) for r in frame.itertuples()}


def test_no_label_gets_a_later_or_too_old_embedding(spark, feature_table):
    got = spark_join(spark, feature_table, max_age=MAX_AGE, model_version="1")
    assert len(got) == len(feature_table.labels)  # every label row once, duplicates included
    assert matches(got) == brute_force(feature_table, version="1", max_age=MAX_AGE)
    labels = feature_table.labels.set_index("label_id")
    for r in got.itertuples():
        if r.user_embedding is not None:
            ts, label_ts = as_utc(r.user_embedding_as_of_ts), labels.label_ts[r.label_id]
            assert ts <= label_ts and label_ts - ts <= MAX_AGE and r.user_embedding_model_version == "1"
    edge = got.set_index("label_id").loc[[160, 161, 162]]
    assert [as_utc(t).date() for t in edge.user_embedding_as_of_ts] == [date(2026, 10, 4), date(2026, 10, 4), date(2026, 10, 3)]
    assert got[got.user_id == "stranger"].user_embedding.isna().all()
    row = feature_table.rows.set_index(["user_id", "model_version", "as_of_date"])
    for r in got.dropna(subset=["user_embedding_as_of_ts"]).itertuples():
        assert list(r.user_embedding) == row.embedding[(r.user_id, "1", as_utc(r.user_embedding_as_of_ts).date())]


def test_model_version_selection_and_fallback_filter(spark, feature_table):
    latest = spark_join(spark, feature_table, max_age=None)  # default: the version published last ("2")
    assert set(latest.user_embedding_model_version.dropna()) == {"2"}
    assert matches(latest) == brute_force(feature_table, version="2", max_age=None)
    no_fallback = spark_join(spark, feature_table, max_age=MAX_AGE, model_version="1", include_fallback=False)
    assert matches(no_fallback) == brute_force(feature_table, version="1", max_age=MAX_AGE, include_fallback=False)
    assert not no_fallback.user_embedding_is_fallback.eq(True).any()
    with pytest.raises(ConfigError, match="has no version '9'"):
        spark_join(spark, feature_table, model_version="9")


def test_deltalake_readers_return_the_same_rows_as_spark(spark, feature_table):
    columns = ["label_id", "user_embedding_as_of_ts", "user_embedding_model_version", "user_embedding_is_fallback",
               "user_embedding"]

    def canonical(frame: pd.DataFrame) -> list[tuple]:
        return [(int(r[0]), as_utc(r[1]), r[2] if isinstance(r[2], str) else None,
                 None if r[3] is None or pd.isna(r[3]) else bool(r[3]),
                 None if r[4] is None or (not hasattr(r[4], "__len__") and pd.isna(r[4])) else tuple(float(x) for x in r[4]))
                for r in frame.sort_values("label_id")[columns].itertuples(index=False)]

    expected = canonical(spark_join(spark, feature_table, max_age=MAX_AGE, model_version="1"))
    labels = feature_table.labels
    kwargs = {"max_age": MAX_AGE, "model_version": "1"}
    assert canonical(join_pandas(labels, feature_table.path, **kwargs)) == expected
    assert canonical(join_polars(__import__("polars").from_pandas(labels), feature_table.path, **kwargs).to_pandas()) == expected
    assert canonical(join_duckdb(labels, feature_table.path, **kwargs).df()) == expected
    assert list(join_pandas(labels, feature_table.path, **kwargs).columns[:4]) == list(labels.columns)

    day = date(2026, 10, 7)
    spark_day = spark.read.format("delta").load(str(feature_table.path)).where(
        f"as_of_date = '{day}' AND model_version = '2'").toPandas()
    for frame in (read_pandas(feature_table.path, as_of_date=day), read_polars(feature_table.path, as_of_date=day).to_pandas(),
                  read_duckdb(feature_table.path, as_of_date=day).df()):
        assert sorted(zip(frame.user_id, map(tuple, frame.embedding))) == sorted(zip(spark_day.user_id, map(tuple, spark_day.embedding)))


def test_pick_model_rules():
    d1, d2 = date(2026, 10, 1), date(2026, 10, 2)
    assert pick_model([("a", "1", d2), ("a", "2", d1)]) == ("a", "1")  # most recently written
    assert pick_model([("a", "9", d2), ("a", "10", d2)]) == ("a", "10")  # tie: higher number
    with pytest.raises(ConfigError, match="several models"):
        pick_model([("a", "1", d1), ("b", "1", d1)])
    with pytest.raises(ConfigError, match="no rows of model 'c'"):
        pick_model([("a", "1", d1)], "c")
