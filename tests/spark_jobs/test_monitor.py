"""Monitoring: a normal run passes; NaNs, low coverage and shuffled embeddings each fail naming the check;
one row per run in the monitoring table plus a readable report; a new model version is compared with itself."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from feature_store.monitoring import MonitoringFailed
from jobtrail.contracts import USER_EMBEDDING
from spark_jobs import monitor

DAY1, DAY2 = date(2026, 10, 10), date(2026, 10, 11)
USERS = [f"u{i:02d}" for i in range(40)]  # u00-u19 active on DAY1 (events after its cutoff), u20-u39 not
DIM = 8


def rows(version: str, day: date, embeddings: np.ndarray, *, users=USERS, fallback: dict | None = None) -> list[dict]:
    """Feature-table rows; ``fallback`` maps a user to 'carry' or 'cold'."""
    out = []
    for user, vector in zip(users, embeddings):
        kind = (fallback or {}).get(user)
        active = int(user[1:]) < 20
        out.append({
            "user_id": user, "as_of_date": day, "as_of_ts": datetime(day.year, day.month, day.day, tzinfo=timezone.utc),
            "embedding": [0.0] * DIM if kind == "cold" else [float(x) for x in vector], "embedding_dim": DIM,
            "model_name": "m", "model_version": version, "n_events": 6,
            "last_event_ts": datetime(2026, 10, 10 if active and day == DAY2 else 5, 12, tzinfo=timezone.utc),
            "is_fallback": kind is not None, "embedding_as_of_date": None if kind == "cold" else (DAY1 if kind == "carry" else day),
            "computed_at": datetime(2026, 10, 11, 1, tzinfo=timezone.utc)})
    return out


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    from deltalake import write_deltalake

    root = tmp_path_factory.mktemp("monitor")
    rng = np.random.default_rng(3)
    base = rng.normal(size=(len(USERS), DIM))
    drift = base + rng.normal(scale=0.1, size=base.shape)
    with_nan = drift.copy()
    with_nan[[3, 30], 1] = np.nan
    data = []
    for version in ("ok", "nan", "cov", "shuf", "incr"):
        data += rows(version, DAY1, base)
    data += rows("ok", DAY2, np.vstack([drift[:38], base[38:]]), fallback={"u38": "carry", "u39": "cold"})
    data += rows("nan", DAY2, with_nan)
    data += rows("cov", DAY2, drift[5:], users=USERS[5:])  # u00-u04, active yesterday, lost
    data += rows("shuf", DAY2, np.roll(drift, 1, axis=0))  # every embedding now belongs to another user
    data += rows("new", DAY2, rng.normal(size=(len(USERS), DIM)))  # a new version: nothing earlier to compare with
    zero = base.copy()
    zero[0] = 0.0  # a computed all-zero embedding (e.g. the per-action mean of a user with only searches)
    data += rows("zero", DAY1, zero) + rows("zero", DAY2, zero)
    same = np.tile(base[:1], (len(USERS), 1)) + rng.normal(scale=1e-4, size=base.shape)  # everyone ≈ one vector
    data += rows("same", DAY2, same)
    # the 20 users active since DAY1 carried over their new events, 10 cold starts: 30 of 40 rows miss events
    data += rows("stale", DAY2, drift, fallback={u: "carry" if int(u[1:]) < 20 else "cold" for u in USERS[:30]})
    # incremental inference: the 20 users without events since DAY1 carried unchanged: not a fallback
    data += rows("incr", DAY2, np.vstack([drift[:20], base[20:]]), fallback={u: "carry" for u in USERS[20:]})
    write_deltalake(root / "features", pa.Table.from_pylist(data, USER_EMBEDDING), partition_by=["as_of_date"])
    events = pa.table({"user_id": USERS[:20], "event_type": ["view"] * 20,
                       "ts": pa.array([datetime(2026, 10, 10, 12)] * 20, pa.timestamp("us", "UTC")), "ds": [DAY1] * 20})
    write_deltalake(root / "events", events, partition_by=["ds"])
    return root


def args(root, version: str, *extra: str):
    return monitor.parse_args(["--as-of", str(DAY2), "--model-name", "m", "--model-version", version,
                               "--features", str(root / "features"), "--events", str(root / "events"),
                               "--out", str(root / "monitoring"), "--report-dir", str(root / "reports"), *extra])


def test_a_normal_run_passes_with_one_row_and_a_report(spark, tables):
    result = monitor.run(spark, args(tables, "ok", "--run-id", "m1"))
    assert result["status"] == "pass" and result["failed_checks"] == []
    assert (result["rows"], result["users_scored"], result["carried_forward"], result["cold_start"]) == (40, 38, 1, 1)
    assert (result["active_users"], result["active_covered"], result["coverage"], result["nan_rows"]) == (20, 20, 1.0, 0)
    assert result["previous_as_of_date"] == str(DAY1)
    assert result["cos_median_checked"] > 0.95 and result["cos_active_pairs"] == 20 and result["cos_inactive_pairs"] == 19
    assert result["staleness_histogram"] == {"<1d": 20, "1-7d": 20, "7-30d": 0, "30-90d": 0, ">=90d": 0, "none": 0}
    assert 0 < result["norm_p00"] <= result["norm_p50"] <= result["norm_p100"]
    # the collapse sample: the 38 computed users, independent random vectors (no model given: no top-10 lists)
    assert result["sample_users"] == 38 and -0.9 < result["sample_cos_p05"] < result["sample_cos_p50"] < 0.5
    assert result["top10_distinct"] is None
    report = (tables / "reports" / f"{DAY2}__m__ok.md").read_text()
    assert "Status: PASS" in report and "coverage" in report
    assert json.loads((tables / "reports" / f"{DAY2}__m__ok.json").read_text())["run_id"] == "m1"

    monitor.run(spark, args(tables, "ok", "--run-id", "m2"))  # a rerun replaces the run's row
    stored = spark.read.format("delta").load(str(tables / "monitoring")).where("model_version = 'ok'")
    assert [r.run_id for r in stored.collect()] == ["m2"]


@pytest.mark.parametrize("version, check, message", [
    ("nan", "nan", "2 rows with NaN/inf/null values"),
    ("cov", "coverage", "15 of 20 active users have a row"),
    ("shuf", "cosine_collapse", "median day-over-day cosine"),
    ("same", "embedding_collapse", r"95% of the pairs of 40 sampled users have a cosine above 1.0000 > 0.99"),
    ("stale", "fallback_share", r"fallback share 0.750 > 0.5: 20 rows carried forward over newer events and 10 cold "
                                r"starts \(0 more carried unchanged"),
])
def test_bad_partitions_fail_naming_the_check(spark, tables, version, check, message):
    with pytest.raises(MonitoringFailed, match=f"check '{check}' failed: {message}"):
        monitor.run(spark, args(tables, version))
    stored = spark.read.format("delta").load(str(tables / "monitoring")).where(F.col("model_version") == version).collect()
    assert [(r.status, r.failed_checks) for r in stored] == [("fail", [check])]  # the failure is recorded too
    assert "Status: FAIL" in (tables / "reports" / f"{DAY2}__m__{version}.md").read_text()


def test_thresholds_are_configurable_and_the_cli_exit_status_says_fail(spark, tables, capsys):
    from orchestration.cli import main

    argv = ["monitor", "--as-of", str(DAY2), "--model-name", "m", "--model-version", "cov", "--features",
            str(tables / "features"), "--events", str(tables / "events"), "--out", str(tables / "monitoring"),
            "--report-dir", str(tables / "reports")]
    assert main(argv) == 1 and "check 'coverage' failed" in capsys.readouterr().err
    assert main([*argv, "--min-coverage", "0.7"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["status"] == "pass"


def test_rows_carried_because_nothing_happened_are_not_fallbacks(spark, tables):
    result = monitor.run(spark, args(tables, "incr"))
    assert result["status"] == "pass" and (result["carried_forward"], result["carried_stale"]) == (20, 0)
    assert result["fallback_share"] == 0.0 and result["cos_inactive_pairs"] == 20


def test_a_new_model_version_is_compared_only_with_itself(spark, tables):
    result = monitor.run(spark, args(tables, "new"))
    assert result["status"] == "pass" and result["previous_as_of_date"] is None
    assert result["cos_median_checked"] is None and result["cos_active_pairs"] == 0


def test_a_backfilled_day_is_compared_with_an_earlier_day_never_a_newer_one(spark, tables, reliability):
    """Monitoring DAY1 again after DAY2 exists (a backfill): nothing earlier than DAY1, so no comparison — not DAY2."""
    later = monitor.run(spark, args(tables, "ok"))
    stored = spark.read.format("delta").load(str(tables / "monitoring")).where("model_version = 'ok'")
    newer = stored.where(F.col("as_of_date") == DAY2).collect()
    backfill = monitor.run(spark, monitor.parse_args([
        "--as-of", str(DAY1), "--model-name", "m", "--model-version", "ok", "--features", str(tables / "features"),
        "--events", str(tables / "events"), "--out", str(tables / "monitoring"), "--report-dir", str(tables / "reports"),
        "--min-coverage", "0"]))
    assert later["previous_as_of_date"] == str(DAY1)
    assert backfill["previous_as_of_date"] is None and backfill["cos_median_checked"] is None
    assert sorted(str(r.as_of_date) for r in stored.collect()) == [str(DAY1), str(DAY2)]  # one row per day
    assert stored.where(F.col("as_of_date") == DAY2).collect() == newer
    reliability(area="rerun and backfill", case="monitoring of a backfilled older day",
                injected=f"monitor {DAY1} after {DAY2} was written and monitored",
                happened=f"{DAY2} compared with {DAY1}; the backfilled {DAY1} found no earlier partition and skipped "
                         f"the day-over-day check instead of comparing with the newer {DAY2}",
                tables="embedding_monitoring: one row per (day, model version), the newer day's row unchanged")


def test_an_all_zero_embedding_has_no_cosine_and_does_not_fail_the_run(spark, tables):
    """Found by the concurrent-backfill DAG test: a zero vector made the cosine divide by zero (ANSI mode)."""
    result = monitor.run(spark, args(tables, "zero"))
    assert result["status"] == "pass" and result["cos_active_pairs"] == 20
    assert result["cos_median_checked"] == pytest.approx(1.0)  # the 39 other users are unchanged


@pytest.mark.parametrize("version", ["ok", "nan", "stale"])
def test_int8_storage_gives_the_metrics_of_its_decoded_floats(spark, tables, tmp_path, version):
    """The monitor reads int8 partitions as stored and decodes them in its numpy pass: the metrics equal those of a
    float32 table holding exactly the decoded values (NaNs kept as null elements count as bad rows)."""
    from deltalake import DeltaTable, write_deltalake

    from feature_store.compact import decode_arrow, int8_columns
    from jobtrail.contracts import USER_EMBEDDING_INT8

    stored = DeltaTable(str(tables / "features")).to_pyarrow_table()
    stored = stored.filter(pa.compute.equal(stored["model_version"], version))
    matrix = np.array([[np.nan if x is None else x for x in row] for row in stored["embedding"].to_pylist()])
    q, scale = int8_columns(matrix)
    compact = stored.drop_columns(["embedding"]).append_column("embedding_q", q).append_column("embedding_scale", scale)
    compact = compact.select(USER_EMBEDDING_INT8.names).cast(USER_EMBEDDING_INT8)
    write_deltalake(tmp_path / "int8", compact, partition_by=["as_of_date"])
    write_deltalake(tmp_path / "f32", decode_arrow(compact).select(USER_EMBEDDING.names).cast(USER_EMBEDDING),
                    partition_by=["as_of_date"])

    def metrics(table: str) -> dict:
        argv = ["--as-of", str(DAY2), "--model-name", "m", "--model-version", version, "--features",
                str(tmp_path / table), "--events", str(tables / "events"), "--out", str(tmp_path / f"mon-{table}"),
                "--report-dir", str(tmp_path / f"rep-{table}")]
        try:
            monitor.run(spark, monitor.parse_args(argv))
        except MonitoringFailed:
            pass
        row = json.loads((tmp_path / f"rep-{table}" / f"{DAY2}__m__{version}.json").read_text())
        return {k: v for k, v in row.items() if k not in ("run_id", "checked_at")}

    int8, floats = metrics("int8"), metrics("f32")
    assert int8 == floats and int8["rows"] == 40
    assert int8["nan_rows"] == (2 if version == "nan" else 0)
