"""Batch inference: exact rows from a known model (computed, carried forward, cold start), idempotent writes,
incremental mode, table properties and time travel, and clear errors on mismatched models or tables."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from feature_store import table as ft
from jobtrail.contracts import INFERENCE_INPUT, JOB_SIDE_TABLE
from jobtrail.errors import ConfigError, DataContractError
from jobtrail.sequence_core.arrow_io import rows_to_table
from spark_jobs import infer
from tf_models.known_model import build_known_model

L, Q = 7, 4
DAY1, DAY2 = date(2026, 10, 10), date(2026, 10, 11)
# job_index: (company_id, location_id, category_id, seniority_norm) → the known model's job embedding
JOBS = {0: (0, 0, 0, 0.0), 1: (2, 3, 4, 0.25), 2: (3, 2, 5, 0.5), 3: (4, 4, 2, 0.75), 4: (5, 3, 3, 1.0)}


def write_side_table(path) -> None:
    path.mkdir(parents=True)
    rows = {"job_index": list(JOBS), "job_id": [None, "j1", "j2", "j3", "j4"], "in_catalog": [False] + [True] * 4,
            "job_id_row": [0, 2, 3, 4, 5],
            "title_tokens": [[0, 0]] * 5, "skill_tokens": [[0, 0]] * 5,
            **{name: [JOBS[i][k] for i in JOBS] for k, name in enumerate(("company_id", "location_id", "category_id", "seniority_norm"))},
            **{name: [0.0] * 5 for name in ("has_seniority", "salary_z", "has_salary", "log_posted_age_days", "has_posted_ts")}}
    pq.write_table(pa.table(rows).cast(JOB_SIDE_TABLE), path / "part-0.parquet")
    (path / "_vocab.json").write_text(json.dumps({"tokens": {"title_length": 2, "skill_length": 2, "buckets": 16}}))


def us(ts: str) -> int:
    return int(datetime.fromisoformat(ts).replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


def input_row(user: str, as_of: date, jobs: list[int], n: int, last: str, below: bool) -> dict:
    pad = [0] * (L - len(jobs))
    return {"user_id": user, "ctx_job_index": jobs + pad, "ctx_event_type": [4] * len(jobs) + pad,
            "ctx_log_gap": [1.0] * L, "ctx_log_time_to_target": [1.0] * L, "ctx_session_position": [0] * L,
            "ctx_query_tokens": [0] * (L * Q), "context_length": len(jobs), "n_events": n, "last_event_ts": us(last),
            "below_min_events": below, "as_of_ts": us(f"{as_of}T00:00:00"), "as_of_date": as_of}


INPUTS = {
    DAY1: [input_row("u1", DAY1, [1, 2, 0, 3], 4, "2026-10-09T12:00:00", False),
           input_row("u2", DAY1, [4], 1, "2026-10-09T08:00:00", True),
           input_row("u3", DAY1, [2, 2, 4, 4], 4, "2026-10-08T10:00:00", False),
           input_row("u5", DAY1, [1, 1, 1, 1], 4, "2026-10-09T09:00:00", False)],
    DAY2: [input_row("u1", DAY2, [2, 0, 3, 1, 4], 5, "2026-10-10T09:00:00", False),  # new events
           input_row("u2", DAY2, [4, 1], 2, "2026-10-10T07:00:00", True),  # still below the minimum, no embedding yet
           input_row("u3", DAY2, [2, 2, 4, 4], 4, "2026-10-08T10:00:00", False),  # nothing new since day 1
           input_row("u4", DAY2, [3], 1, "2026-10-10T11:00:00", True),  # new user below the minimum
           input_row("u5", DAY2, [1, 1, 1], 3, "2026-10-09T09:00:00", True)],  # fell below the minimum
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from deltalake import write_deltalake

    root = tmp_path_factory.mktemp("infer")
    write_side_table(root / "side")
    write_deltalake(root / "inputs", rows_to_table(INPUTS[DAY1] + INPUTS[DAY2], INFERENCE_INPUT), partition_by=["as_of_date"])
    model = build_known_model(root / "model", context_length=L, query_tokens=Q, title_length=2, skill_length=2)
    return root, model


def argv(root, model, day: date, out: str = "features", *extra: str) -> list[str]:
    return ["--as-of", str(day), "--model", str(model), "--job-table", str(root / "side"), "--inputs",
            str(root / "inputs"), "--out", str(root / out), "--model-version", "1", *extra]


@pytest.fixture(scope="module")
def golden(spark, world):
    """Day 1 in full mode, then day 2 incrementally, into ``features``: the two runs' counts."""
    root, model = world
    first = infer.run(spark, infer.parse_args(argv(root, model, DAY1, "features", "--run-id", "r1")))
    second = infer.run(spark, infer.parse_args(argv(root, model, DAY2, "features", "--mode", "incremental", "--run-id", "r2")))
    return first, second


COLUMNS = ("user_id", "as_of_date", "embedding", "is_fallback", "embedding_as_of_date", "n_events")
SCHEMA = ("user_id string, as_of_date date, embedding array<float>, is_fallback boolean, embedding_as_of_date date, "
          "n_events bigint")


def test_golden_rows_computed_carried_forward_and_cold_start(spark, world, golden):
    root, _ = world
    first, second = golden
    assert first | {"run_id": "r1", "users": 4, "computed": 3, "carried_forward": 0, "cold_start": 1} == first
    assert (second["computed"], second["carried_forward"], second["cold_start"], second["previous_as_of"]) == (1, 2, 2, str(DAY1))
    got = ft.read_features(spark, root / "features")
    assertDataFrameEqual(got.select(*COLUMNS), spark.createDataFrame([
        ("u1", DAY1, [2.25, 2.25, 2.75, 0.375], False, DAY1, 4),  # mean of jobs 1, 2, 0 (search) and 3
        ("u2", DAY1, [0.0, 0.0, 0.0, 0.0], True, None, 1),  # cold start: zeros, no embedding_as_of_date
        ("u3", DAY1, [4.0, 2.5, 4.0, 0.75], False, DAY1, 4),
        ("u5", DAY1, [2.0, 3.0, 4.0, 0.25], False, DAY1, 4),
        ("u1", DAY2, [2.8, 2.4, 2.8, 0.5], False, DAY2, 5),  # recomputed: events since day 1
        ("u2", DAY2, [0.0, 0.0, 0.0, 0.0], True, None, 2),  # still cold: no earlier embedding to carry
        ("u3", DAY2, [4.0, 2.5, 4.0, 0.75], True, DAY1, 4),  # incremental: no new events → carried forward
        ("u4", DAY2, [0.0, 0.0, 0.0, 0.0], True, None, 1),
        ("u5", DAY2, [2.0, 3.0, 4.0, 0.25], True, DAY1, 3),  # below the minimum now → carried forward
    ], SCHEMA))
    assert {(r.model_name, r.model_version, r.embedding_dim) for r in got.collect()} == {("known_mean", "1", 4)}
    day2 = got.where(F.col("as_of_date") == DAY2)
    assert day2.where(F.col("as_of_ts") != F.lit(datetime(2026, 10, 11))).count() == 0
    assert day2.where("user_id = 'u3'").first().last_event_ts == datetime(2026, 10, 8, 10)  # today's inputs

    props = ft.table_properties(spark, root / "features")
    assert props | {"jobtrail.embedding.dim": "4", "jobtrail.embedding.storage": "float32",
                    "jobtrail.embedding.normalisation": "none", "jobtrail.model.name": "known_mean",
                    "jobtrail.model.version": "1", "delta.logRetentionDuration": "interval 90 days",
                    "delta.deletedFileRetentionDuration": "interval 90 days"} == props


def test_rerun_replaces_one_set_of_rows_and_time_travel_reads_the_old_one(spark, world, golden):
    root, model = world
    path = root / "features"
    version_before = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg(F.max("version")).first()[0]
    infer.run(spark, infer.parse_args(argv(root, model, DAY2, "features", "--run-id", "r3")))  # full mode this time
    again = ft.read_features(spark, path)
    assert again.where(F.col("as_of_date") == DAY2).count() == 5 and again.count() == 9
    u3 = again.where((F.col("as_of_date") == DAY2) & (F.col("user_id") == "u3")).first()
    assert (u3.is_fallback, u3.embedding_as_of_date) == (False, DAY2)  # full mode recomputes users without news

    old = ft.read_features(spark, path, version=version_before)  # time travel: the incremental run's rows
    assert old.where((F.col("as_of_date") == DAY2) & (F.col("user_id") == "u3")).first().is_fallback
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where("operation = 'MERGE'").orderBy("version")
    metas = [json.loads(r.userMetadata) for r in history.collect()]
    assert [(m["run_id"], m["model_version"], m["as_of"], m["mode"]) for m in metas] == [
        ("r1", "1", str(DAY1), "full"), ("r2", "1", str(DAY2), "incremental"), ("r3", "1", str(DAY2), "full")]


def test_dates_in_either_order_int8_storage_and_catalogue_name(spark, world):
    root, model = world
    from orchestration.cli import main

    # later day first (through the CLI): it finds no earlier embedding, so its fallbacks are cold starts
    assert main(["infer", *argv(root, model, DAY2, "compact", "--storage", "int8")]) == 0
    infer.run(spark, infer.parse_args(argv(root, model, DAY1, "compact", "--storage", "int8",
                                           "--table-name", "jt_test.user_embeddings")))
    stored = spark.table("jt_test.user_embeddings")
    assert {"embedding_q", "embedding_scale"} <= set(stored.columns)
    assert sorted(r.as_of_date for r in stored.select("as_of_date").distinct().collect()) == [DAY1, DAY2]
    assert stored.where("is_fallback AND embedding_as_of_date IS NOT NULL").count() == 0
    decoded = {r.user_id: r.embedding for r in ft.read_features(spark, root / "compact").where(f"as_of_date = '{DAY1}'").collect()}
    assert decoded["u3"] == pytest.approx([4.0, 2.5, 4.0, 0.75], rel=1e-2)
    assert decoded["u2"] == [0.0] * 4


def test_mismatched_model_or_table_is_a_clear_error(spark, world, golden, tmp_path):
    root, model = world
    wide = build_known_model(tmp_path / "wide", context_length=L, query_tokens=Q, title_length=2, skill_length=2, user_dim=6)
    with pytest.raises(DataContractError, match="holds 4-dimensional embeddings but model known_mean/1 produces 6"):
        infer.run(spark, infer.parse_args(argv(root, wide, DAY2, "features")))
    with pytest.raises(DataContractError, match="uses storage 'float32'"):
        infer.run(spark, infer.parse_args(argv(root, model, DAY2, "features", "--storage", "int8")))
    long = build_known_model(tmp_path / "long", context_length=15, query_tokens=Q, title_length=2, skill_length=2)
    with pytest.raises(DataContractError, match="the model expects context_length=15"):
        infer.run(spark, infer.parse_args(argv(root, long, DAY1, "features")))
    with pytest.raises(DataContractError, match="no inference inputs"):
        infer.run(spark, infer.parse_args(argv(root, model, date(2026, 10, 20), "features")))
    rows = ft.read_table(spark, root / "features").where(F.col("as_of_date") == DAY1)
    with pytest.raises(DataContractError, match="column embedding_dim is bigint, expected int"):
        spec = ft.TableSpec(root / "features", 4, "known_mean", "1")
        ft.write_partition(spark, rows.withColumn("embedding_dim", F.col("embedding_dim").cast("long")), spec, DAY1,
                           user_metadata={})
    with pytest.raises(DataContractError, match="embedding_size"):  # rows of another dimension: Delta's CHECK
        spec = ft.TableSpec(root / "features", 4, "known_mean", "1")
        ft.write_partition(spark, rows.withColumn("embedding", F.array(F.lit(1.0).cast("float"))), spec, DAY1,
                           user_metadata={})
    with pytest.raises(ConfigError, match="local model directories only"):
        infer.resolve(infer.parse_args(["--as-of", str(DAY1), "--model", "models:/m@champion", "--job-table", "x",
                                        "--model-name", "other"]))


def table_content(path) -> list[dict]:
    """Every row of the live version, every column (``computed_at`` included), in a fixed order."""
    from deltalake import DeltaTable

    rows = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: (str(r["as_of_date"]), r["model_version"], r["user_id"]))


def live_files(path, day: date) -> set[str]:
    from deltalake import DeltaTable

    return {f for f in DeltaTable(str(path)).file_uris() if f"as_of_date={day}" in f}


def test_rerun_and_backfill_leave_the_content_equal_and_newer_days_untouched(spark, world, reliability):
    """Day 1 then day 2 (incremental: carried-forward rows); then the older day again after the newer one, then
    the newer one again: every row and value — ``computed_at`` included — as the first runs wrote them."""
    root, model = world
    path = root / "backfill"
    runs = [(DAY1, "full"), (DAY2, "incremental")]
    for day, mode in runs:
        infer.run(spark, infer.parse_args(argv(root, model, day, "backfill", "--mode", mode, "--run-id", f"a{day}")))
    first, day2_files = table_content(path), live_files(path, DAY2)

    infer.run(spark, infer.parse_args(argv(root, model, DAY1, "backfill", "--run-id", "backfill")))
    assert table_content(path) == first  # the older day replaced by equal rows ...
    assert live_files(path, DAY2) == day2_files  # ... the newer day's files not even rewritten
    day, mode = runs[1]
    result = infer.run(spark, infer.parse_args(argv(root, model, day, "backfill", "--mode", mode, "--run-id", "rerun")))
    assert result["previous_as_of"] == str(DAY1)  # a rerun of day 2 carries from day 1, as its first run did
    assert table_content(path) == first
    versions = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where("operation = 'MERGE'").count()
    reliability(area="rerun and backfill", case="feature table: backfill an older day after a newer one, rerun the newer",
                injected=f"infer {DAY1} (full), {DAY2} (incremental), then {DAY1} again, then {DAY2} again",
                happened=f"{versions} MERGE commits; {DAY1} replaced by equal rows, {DAY2}'s data files untouched by the "
                         f"backfill; the rerun of {DAY2} carried forward from {DAY1} as before",
                tables=f"{len(first)} rows, every column equal to the first runs' (computed_at kept: unchanged rows "
                       "keep the time they were first written)")
