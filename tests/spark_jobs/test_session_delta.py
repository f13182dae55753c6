"""The session factory's Spark writes Delta, MERGEs, time-travels; deltalake (no JVM) reads the same rows."""

from __future__ import annotations

import datetime as dt

import pytest
from deltalake import DeltaTable as RustDeltaTable
from delta.tables import DeltaTable
from pyspark.testing import assertDataFrameEqual

from jobtrail.errors import SetupError
from jobtrail.settings import Settings
from spark_jobs import jars
from spark_jobs.session import configure


def test_delta_write_merge_time_travel_and_jvm_free_read(spark, tmp_path):
    path = str(tmp_path / "users")
    v0 = spark.createDataFrame(
        [("u1", "apply", 3), ("u2", "save", 1)], "user_id string, last_action string, n int"
    )
    v0.write.format("delta").save(path)

    updates = spark.createDataFrame(
        [("u2", "apply", 2), ("u3", "view", 1)], "user_id string, last_action string, n int"
    )
    (
        DeltaTable.forPath(spark, path).alias("t")
        .merge(updates.alias("s"), "t.user_id = s.user_id")
        .whenMatchedUpdate(set={"last_action": "s.last_action", "n": "t.n + s.n"})
        .whenNotMatchedInsertAll()
        .execute()
    )

    expected_latest = [("u1", "apply", 3), ("u2", "apply", 3), ("u3", "view", 1)]
    latest = spark.read.format("delta").load(path)
    assertDataFrameEqual(latest, spark.createDataFrame(expected_latest, latest.schema))
    assertDataFrameEqual(spark.read.format("delta").option("versionAsOf", 0).load(path), v0)

    rust = RustDeltaTable(path)
    assert rust.version() == 1
    rows = sorted(rust.to_pyarrow_table().to_pylist(), key=lambda r: r["user_id"])
    assert [(r["user_id"], r["last_action"], r["n"]) for r in rows] == expected_latest
    # the JVM-free reader time-travels too
    assert sorted(RustDeltaTable(path, version=0).to_pyarrow_table().column("user_id").to_pylist()) == ["u1", "u2"]


def test_session_is_utc_and_uses_local_jars(spark):
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert "spark.jars.packages" not in dict(conf.getAll())  # nothing is fetched at run time
    assert all(p.endswith(".jar") and p.startswith("/") for p in conf.get("spark.jars").split(","))
    ts = spark.sql("select timestamp'2026-10-01 23:30:00' as ts").first().ts
    assert ts == dt.datetime(2026, 10, 1, 23, 30)  # no shift through the JVM's zone


def test_master_comes_from_settings_unless_spark_submit_set_it(monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    settings = Settings.from_env({"JOBTRAIL_SPARK_MASTER": "spark://127.0.0.1:7077"})
    builder = configure(SparkSession.Builder(), settings)
    assert builder._options["spark.master"] == "spark://127.0.0.1:7077"
    assert builder._options["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")  # what spark-submit hands a Python application
    assert "spark.master" not in configure(SparkSession.Builder(), settings)._options


def test_missing_jars_say_how_to_fix(tmp_path):
    with pytest.raises(SetupError, match="make setup"):
        jars.delta_jars(Settings(cache_dir=tmp_path))


@pytest.mark.parametrize(
    "jar, module",
    [
        ("org.apache.parquet_parquet-hadoop-1.16.0.jar", "parquet-hadoop"),
        ("io.delta_delta-spark_4.2_2.13-4.4.0.jar", "delta-spark_4.2_2.13"),
        ("hadoop-client-runtime-3.4.2.jar", "hadoop-client-runtime"),
        ("com.github.luben_zstd-jni-1.5.7-3.jar", "zstd-jni"),
    ],
)
def test_jar_module_names(jar, module):
    assert jars._module_name(jar) == module


def test_resolved_jars_leave_spark_own_jars_alone():
    listed = {jars._module_name(p.name) for p in jars.delta_jars(Settings.from_env())}
    assert "delta-spark_4.2_2.13" in listed and "delta-storage" in listed
    assert not listed & jars.spark_provided_modules()
