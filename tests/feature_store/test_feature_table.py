"""Compact (int8) storage: exact shape, small cosine error, NaNs kept visible; the Spark writer's int8 table
reads back the same through deltalake, including by time travel."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
from pyspark.sql import functions as F

from feature_store import table as ft
from feature_store.compact import decode_arrow, int8_columns
from feature_store.readers import load_features
from jobtrail.contracts import USER_EMBEDDING


def test_int8_round_trip_keeps_direction_zeros_and_nans(spark):
    rng = np.random.default_rng(0)
    vectors = [rng.normal(size=16).astype(np.float32).tolist() for _ in range(50)] + [[0.0] * 16, [float("nan")] + [1.0] * 15]
    df = spark.createDataFrame([(i, v) for i, v in enumerate(vectors)], "id int, embedding array<float>")
    stored = ft.to_storage(df, "int8")
    assert dict(stored.dtypes) == {"id": "int", "embedding_q": "array<tinyint>", "embedding_scale": "float"}
    back = {r.id: r.embedding for r in ft.decode(stored).collect()}
    cosines = [np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b) for a, b in
               ((np.array(vectors[i]), np.array(back[i])) for i in range(50))]
    assert min(cosines) > 0.999
    assert back[50] == [0.0] * 16
    assert back[51][0] is None and back[51][1:] == [1.0] * 15  # a NaN stays visible (null) for monitoring

    q, scale = int8_columns(np.array(vectors, np.float32))  # the Python workers' quantiser: the same numbers
    spark_rows = stored.orderBy("id").collect()
    assert q.to_pylist() == [r.embedding_q for r in spark_rows]
    assert scale.to_pylist() == [r.embedding_scale for r in spark_rows]
    arrow = decode_arrow(pa.table({"embedding_q": q, "embedding_scale": scale}))
    assert arrow.column("embedding").to_pylist() == [back[i] for i in range(len(vectors))]


def test_int8_table_reads_the_same_in_spark_and_deltalake_with_time_travel(spark, feature_table, tmp_path):
    path = tmp_path / "compact"
    rows = spark.createDataFrame(pa.Table.from_pandas(feature_table.rows, USER_EMBEDDING, preserve_index=False))
    spec = ft.TableSpec(path, 4, "m", "1", storage="int8")
    days = [date(2026, 10, 2), date(2026, 10, 3)]
    for day in days:
        part = rows.where((F.col("as_of_date") == F.lit(day)) & (F.col("model_version") == "1"))
        ft.write_partition(spark, ft.to_storage(part, "int8").select(*ft.table_schema("int8").names), spec, day,
                           user_metadata={"run_id": str(day)})
    spark_rows = sorted((r.user_id, str(r.as_of_date), tuple(r.embedding)) for r in ft.read_features(spark, path).collect())
    arrow = load_features(path)
    assert arrow.schema.field("embedding").type == pa.list_(pa.float32())
    arrow_rows = sorted(zip(arrow.column("user_id").to_pylist(), map(str, arrow.column("as_of_date").to_pylist()),
                            map(tuple, arrow.column("embedding").to_pylist())))
    assert arrow_rows == spark_rows
    first_day_version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where("operation = 'MERGE'").agg(F.min("version")).first()[0]
    old = load_features(path, version=first_day_version)
    assert set(old.column("as_of_date").to_pylist()) == {days[0]}
    assert ft.table_properties(spark, path)["jobtrail.embedding.storage"] == "int8"


def test_a_table_created_without_its_constraint_gets_it_on_the_next_write(spark, tmp_path, reliability):
    """A driver that died between the table's CREATE and ADD CONSTRAINT commits leaves a table without the check;
    the next run adds it before writing."""
    from delta.tables import DeltaTable

    path = tmp_path / "features"
    spec = ft.TableSpec(path, 4, "m", "1")
    builder = DeltaTable.createIfNotExists(spark).location(str(path)).addColumns(ft.table_schema()).partitionedBy("as_of_date")
    for key, value in spec.properties().items():
        builder = builder.property(key, value)
    builder.execute()  # the first of the two commits only
    assert "delta.constraints.embedding_size" not in ft.table_properties(spark, path)
    props = ft.ensure_table(spark, spec)
    assert props["delta.constraints.embedding_size"].startswith("embedding_dim = 4 AND")
    reliability(area="fault", case="feature table creation cut between its two commits",
                injected="the table created (commit 0) without the ADD CONSTRAINT commit that follows it",
                happened="the next run's ensure_table found the CHECK missing and added it before writing",
                tables="feature table with the embedding_size CHECK constraint (dimension 4)")


def test_a_rewrite_of_one_day_merges_only_that_slice(spark, feature_table, tmp_path):
    """One MERGE commit: a changed user updated with its new computed_at, a gone user deleted, the unchanged rows
    (computed_at included) and every other day and model version left as they were — their files not rewritten."""
    path = tmp_path / "merged"
    rows = spark.createDataFrame(pa.Table.from_pandas(feature_table.rows, USER_EMBEDDING, preserve_index=False))
    spec, day, other = ft.TableSpec(path, 4, "m", "1"), date(2026, 10, 2), date(2026, 10, 3)
    for d in (day, other):
        ft.write_partition(spark, rows.where((F.col("as_of_date") == F.lit(d)) & (F.col("model_version") == "1")),
                           spec, d, user_metadata={"run": "first"})
    before = {(r.user_id, r.as_of_date): r for r in ft.read_table(spark, path).collect()}
    files = {r.path for r in spark.read.format("delta").load(str(path)).select(F.input_file_name().alias("path"))
             .where(F.col("path").contains(f"as_of_date={other}")).collect()}
    part = rows.where((F.col("as_of_date") == F.lit(day)) & (F.col("model_version") == "1"))
    users = sorted(r.user_id for r in part.select("user_id").collect())
    changed, gone = users[0], users[-1]
    later = F.lit("2026-10-25 00:00:00").cast("timestamp")
    rewrite = (part.where(F.col("user_id") != gone)
               .withColumn("computed_at", later)  # a rerun stamps every row; only the changed one keeps it
               .withColumn("n_events", F.when(F.col("user_id") == changed, F.lit(999)).otherwise(F.col("n_events"))))
    ft.write_partition(spark, rewrite.select(*ft.table_schema().names), spec, day, user_metadata={"run": "again"})

    after = {(r.user_id, r.as_of_date): r for r in ft.read_table(spark, path).collect()}
    assert set(after) == set(before) - {(gone, day)}
    assert after[(changed, day)].n_events == 999 and after[(changed, day)].computed_at != before[(changed, day)].computed_at
    unchanged = [k for k in after if k != (changed, day)]
    assert all(after[k] == before[k] for k in unchanged)
    last = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()
    assert last.operation == "MERGE" and last.userMetadata == '{"run": "again"}'
    metrics = last.operationMetrics
    assert (metrics["numTargetRowsUpdated"], metrics["numTargetRowsDeleted"], metrics["numTargetRowsInserted"]) == \
        ("1", "1", "0")
    still = {r.path for r in spark.read.format("delta").load(str(path)).select(F.input_file_name().alias("path"))
             .where(F.col("path").contains(f"as_of_date={other}")).collect()}
    assert still == files  # the other day's files untouched
