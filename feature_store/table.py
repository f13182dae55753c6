"""The Delta feature table of user embeddings: schema, creation with its properties, checked idempotent writes.

Contract :data:`jobtrail.contracts.USER_EMBEDDING` (key ``user_id, model_name, model_version, as_of_date``),
partitioned by ``as_of_date``. Rules every writer follows (``spark_jobs/infer.py`` is the one writer):

- **Idempotent per (as_of_date, model)**: :func:`write_partition` makes the rows of one ``as_of_date`` and one
  (``model_name``, ``model_version``) exactly the run's with one ``MERGE`` scoped to that slice (changed rows
  updated, new ones inserted, gone ones deleted, unchanged ones untouched); other days and models are untouched,
  so a retried run leaves one set of rows and days can be written in any order. Every commit carries
  ``userMetadata`` (JSON: run id, model, as-of).
- **Fixed dimension and storage**: the table is created with the properties below and a CHECK constraint
  ``embedding_size`` (every row has ``embedding_dim`` = the table's dimension and an embedding of that size);
  a write with another dimension, storage or schema fails with a :class:`DataContractError` before anything
  is computed (:func:`ensure_table`) or, for rows that slip through, when Delta checks the constraint.
- **Time travel ≥ 90 days**: ``delta.logRetentionDuration`` and ``delta.deletedFileRetentionDuration`` are
  ``interval <retention_days> days`` (default 90), so ``VACUUM`` and log clean-up keep 90 days of versions.
- **Properties**: ``jobtrail.contract``, ``jobtrail.embedding.dim``, ``jobtrail.embedding.storage``
  (``float32`` | ``int8``), ``jobtrail.embedding.normalisation`` (from the model's metadata),
  ``jobtrail.model.name`` / ``jobtrail.model.version`` (the latest model written), ``jobtrail.key``.
- **Compact storage** (``storage="int8"``, contract ``USER_EMBEDDING_INT8``): ``embedding_q`` =
  round(x / scale) in −127..127 with ``embedding_scale`` = max|x| / 127 per row; :func:`decode` (and every
  reader of :mod:`feature_store.readers`) gives back ``embedding`` = q × scale. NaNs are kept as null elements.
- **Rows**: computed (``is_fallback`` false, ``embedding_as_of_date`` = ``as_of_date``), carried forward
  (``is_fallback``, an earlier embedding of the same model version and its ``embedding_as_of_date``) and
  cold start (``is_fallback``, ``embedding_as_of_date`` null, a zero embedding).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from jobtrail.contracts import USER_EMBEDDING, USER_EMBEDDING_INT8
from jobtrail.errors import ConfigError, DataContractError


STORAGES = ("float32", "int8")
RETENTION_DAYS = 90
PROP_CONTRACT = "jobtrail.contract"
PROP_DIM = "jobtrail.embedding.dim"
PROP_STORAGE = "jobtrail.embedding.storage"
PROP_NORMALISATION = "jobtrail.embedding.normalisation"
PROP_MODEL_NAME = "jobtrail.model.name"
PROP_MODEL_VERSION = "jobtrail.model.version"
PROP_KEY = "jobtrail.key"
CONSTRAINT = "embedding_size"


def arrow_schema(storage: str = "float32") -> pa.Schema:
    if storage not in STORAGES:
        raise ConfigError(f"storage must be one of {STORAGES}, got {storage!r}")
    return USER_EMBEDDING if storage == "float32" else USER_EMBEDDING_INT8


def stored_columns(storage: str = "float32") -> list[str]:
    """The columns that hold the embedding in ``storage``."""
    return ["embedding"] if arrow_schema(storage) is USER_EMBEDDING else ["embedding_q", "embedding_scale"]


def table_schema(storage: str = "float32") -> StructType:
    """The Spark schema of the stored table for ``storage``."""
    return from_arrow_schema(arrow_schema(storage))


@dataclass(frozen=True)
class TableSpec:
    """Where the feature table is and what a run writes into it."""

    path: str | Path
    dim: int
    model_name: str
    model_version: str
    storage: str = "float32"
    normalisation: str = "none"
    retention_days: int = RETENTION_DAYS
    table_name: str | None = None

    def __post_init__(self) -> None:
        # Delta's builder reads a relative location as a table name ("`lake/user_embeddings` is not a valid name"):
        # a local path is made absolute, an object-store URI is kept.
        if "://" not in str(self.path):
            object.__setattr__(self, "path", Path(self.path).resolve())

    def properties(self) -> dict[str, str]:
        retention = f"interval {self.retention_days} days"
        return {"delta.logRetentionDuration": retention, "delta.deletedFileRetentionDuration": retention,
                PROP_CONTRACT: "user_embedding", PROP_KEY: USER_EMBEDDING.metadata[b"key"].decode(),
                PROP_DIM: str(self.dim), PROP_STORAGE: self.storage, PROP_NORMALISATION: self.normalisation,
                PROP_MODEL_NAME: self.model_name, PROP_MODEL_VERSION: self.model_version}


def to_storage(df: DataFrame, storage: str) -> DataFrame:
    """Replace the float ``embedding`` column by its stored form (unchanged for float32)."""
    if arrow_schema(storage) is USER_EMBEDDING:
        return df

    def finite(x: Column) -> Column:
        return ~F.isnan(x) & (F.abs(x) != F.lit(float("inf")))

    peak = F.aggregate("embedding", F.lit(0.0).cast("float"),
                       lambda acc, x: F.when(finite(x), F.greatest(acc, F.abs(x))).otherwise(acc))
    scale = F.col("embedding_scale")
    quantised = F.transform("embedding", lambda x: F.when(~finite(x), F.lit(None)).when(scale == 0, F.lit(0))
                            .otherwise(F.round(x / scale)).cast("tinyint"))
    return (df.withColumn("embedding_scale", (peak / F.lit(127.0)).cast("float"))
            .withColumn("embedding_q", quantised).drop("embedding"))


def decode(df: DataFrame) -> DataFrame:
    """Give a stored feature-table DataFrame its float ``embedding`` column back (no-op for float32)."""
    if "embedding_q" not in df.columns:
        return df
    embedding = F.transform("embedding_q", lambda q: (q.cast("float") * F.col("embedding_scale")).cast("float"))
    columns = [embedding.alias("embedding") if c == "embedding_q" else F.col(c)
               for c in df.columns if c != "embedding_scale"]
    return df.select(*columns)


def zero_embedding(dim: int) -> Column:
    """The cold-start embedding: ``dim`` zeros (array<float>)."""
    return F.array_repeat(F.lit(0.0).cast("float"), dim)


def location(path: str | Path) -> str:
    """A URI as given; a local path made absolute here, in the caller's working directory (the JVM's may differ:
    a session started before an ``os.chdir``)."""
    return str(path) if "://" in str(path) else str(Path(path).resolve())


def sql_name(path: str | Path) -> str:
    """``delta.`<absolute path or URI>``` for SQL statements (a relative path is not accepted there)."""
    return f"delta.`{location(path)}`"


def is_table(spark: SparkSession, path: str | Path) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, location(path))


def table_properties(spark: SparkSession, path: str | Path) -> dict[str, str]:
    from delta.tables import DeltaTable

    return dict(DeltaTable.forPath(spark, location(path)).detail().first().properties)


def _type_strings(schema: StructType) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in schema.fields}


def _schema_problems(actual: StructType, expected: StructType) -> list[str]:
    got, want = _type_strings(actual), _type_strings(expected)
    problems = [f"missing column {n} ({t})" for n, t in want.items() if n not in got]
    problems += [f"unexpected column {n} ({t})" for n, t in got.items() if n not in want]
    problems += [f"column {n} is {got[n]}, expected {t}" for n, t in want.items() if n in got and got[n] != t]
    return problems


def ensure_table(spark: SparkSession, spec: TableSpec) -> dict[str, str]:
    """Create the table (schema, partitioning, properties, constraint) or check that ``spec`` fits it.

    Returns the table's properties. Raises DataContractError when the existing table has another
    dimension, storage or schema.
    """
    from delta.tables import DeltaTable

    path = str(spec.path)
    expected = table_schema(spec.storage)
    if not is_table(spark, path):
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(expected).partitionedBy("as_of_date")
        for key, value in spec.properties().items():
            builder = builder.property(key, value)
        builder.execute()
    props = table_properties(spark, path)
    if props.get(PROP_DIM) != str(spec.dim):
        raise DataContractError(
            f"feature table {path} holds {props.get(PROP_DIM)}-dimensional embeddings but model "
            f"{spec.model_name}/{spec.model_version} produces {spec.dim}; write it to another table (--out)")
    if props.get(PROP_STORAGE, "float32") != spec.storage:
        raise DataContractError(f"feature table {path} uses storage {props.get(PROP_STORAGE)!r}, this run asked for "
                                f"{spec.storage!r}; use the table's storage or another table")
    problems = _schema_problems(spark.read.format("delta").load(path).schema, expected)
    if problems:
        raise DataContractError(f"feature table {path} does not have the {spec.storage} user_embedding schema: "
                                + "; ".join(problems))
    if f"delta.constraints.{CONSTRAINT.lower()}" not in props:  # new, or a creation that died between its commits
        column = stored_columns(spec.storage)[0]
        check = f"embedding_dim = {spec.dim} AND ({column} IS NULL OR size({column}) = {spec.dim})"
        spark.sql(f"ALTER TABLE {sql_name(path)} ADD CONSTRAINT {CONSTRAINT} CHECK ({check})")
        props = table_properties(spark, path)
    return props


def replace_predicate(as_of: date, model_name: str, model_version: str, *, alias: str | None = None) -> str:
    """The SQL predicate of one (``as_of``, model) slice; ``alias`` qualifies the columns (``t.as_of_date``)."""
    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    at = f"{alias}." if alias else ""
    return (f"{at}as_of_date = '{as_of.isoformat()}' AND {at}model_name = {quote(model_name)} "
            f"AND {at}model_version = {quote(model_version)}")


@contextmanager
def commit_metadata(spark: SparkSession, meta: str) -> Iterator[None]:
    """``userMetadata`` of the Delta commits made inside the block (for commands without a writer option)."""
    key = "spark.databricks.delta.commitInfo.userMetadata"
    before = spark.conf.get(key, None)
    spark.conf.set(key, meta)
    try:
        yield
    finally:
        spark.conf.unset(key) if before is None else spark.conf.set(key, before)


def write_partition(spark: SparkSession, df: DataFrame, spec: TableSpec, as_of: date, *, user_metadata: dict,
                    properties: dict[str, str] | None = None) -> None:
    """Make the rows of (``as_of``, ``spec``'s model) exactly ``df``; update properties; register the name.

    ``df`` must have the table's stored schema (:func:`table_schema`) and only rows of that day and model. One
    ``MERGE`` commit scoped to the slice: a user whose values changed is updated (with ``df``'s ``computed_at``),
    a new user inserted, a user no longer in ``df`` deleted; an unchanged row is left as it is, ``computed_at``
    included, so a rerun or a backfill with the same inputs and model changes nothing and ``computed_at`` says when
    a value was first written. The slice's gone users travel in the source flagged ``_gone`` (a matched delete)
    rather than through ``whenNotMatchedBySource``: Delta applies that clause to the whole target and rewrote
    every other day's files (tests/feature_store/test_feature_table.py). ``properties``: what
    :func:`ensure_table` returned, when the caller already checked the table.
    """
    from delta.tables import DeltaTable

    expected = table_schema(spec.storage)
    problems = _schema_problems(df.schema, expected)
    if problems:
        raise DataContractError("rows to write do not match the feature table schema: " + "; ".join(problems))
    props = properties if properties is not None else ensure_table(spark, spec)
    meta = json.dumps(user_metadata, sort_keys=True, default=str)
    rows = df.select(*expected.names)
    gone = (read_table(spark, spec.path).where(replace_predicate(as_of, spec.model_name, spec.model_version))
            .select(*expected.names).join(rows.select("user_id"), "user_id", "left_anti"))
    source = rows.withColumn("_gone", F.lit(False)).unionByName(gone.withColumn("_gone", F.lit(True)))
    values = {c: f"s.`{c}`" for c in expected.names}
    changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in expected.names if c != "computed_at")
    target = replace_predicate(as_of, spec.model_name, spec.model_version, alias="t")
    merge = (DeltaTable.forPath(spark, str(spec.path)).alias("t")
             .merge(source.alias("s"), f"t.user_id = s.user_id AND {target}")
             .whenMatchedDelete(condition="s._gone")
             .whenMatchedUpdate(condition=changed, set=values)
             .whenNotMatchedInsert(condition="NOT s._gone", values=values))
    try:
        with commit_metadata(spark, meta):
            merge.execute()
    except (PySparkException, Py4JJavaError) as e:  # a MERGE's constraint violation comes as the raw Java error
        if CONSTRAINT in str(e):
            raise DataContractError(f"rows for {as_of} break the feature table's {CONSTRAINT} constraint: every "
                                    f"embedding must have dimension {props.get(PROP_DIM)} ({e})") from e
        raise
    _update_properties(spark, spec, props, meta)
    if spec.table_name:
        register(spark, spec.table_name, spec.path)


def _update_properties(spark: SparkSession, spec: TableSpec, current: dict[str, str], meta: str) -> None:
    wanted = {k: v for k, v in spec.properties().items() if k not in (PROP_DIM, PROP_STORAGE, PROP_CONTRACT, PROP_KEY)}
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not changed:
        return
    pairs = ", ".join(f"'{k}' = '{v}'" for k, v in changed.items())
    with commit_metadata(spark, meta):
        spark.sql(f"ALTER TABLE {sql_name(spec.path)} SET TBLPROPERTIES ({pairs})")


def register(spark: SparkSession, name: str, path: str | Path) -> None:
    """Register the table at ``path`` in the Spark catalogue as ``name`` (``db.table`` creates ``db``)."""
    parts = name.split(".")
    if len(parts) > 2 or not all(p.replace("_", "").isalnum() for p in parts):
        raise ConfigError(f"table name {name!r} must be <table> or <database>.<table> (letters, digits, _)")
    if len(parts) == 2:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {parts[0]}")
    spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION '{location(path)}'")
    found = spark.sql(f"DESCRIBE DETAIL {name}").first().location.removeprefix("file:").rstrip("/")
    wanted = location(path).rstrip("/")
    if found != wanted:
        raise ConfigError(f"catalogue table {name} points at {found}, not {wanted}; drop it or choose another name")


def read_table(spark: SparkSession, path: str | Path, *, version: int | None = None) -> DataFrame:
    """The stored rows (time travel with ``version``), embeddings as stored."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(location(path))


def read_features(spark: SparkSession, path: str | Path, *, version: int | None = None) -> DataFrame:
    """The feature table with a float ``embedding`` column whatever its storage."""
    return decode(read_table(spark, path, version=version))


def previous_partition(
    spark: SparkSession, path: str | Path, as_of: date, model_name: str, model_version: str
) -> tuple[date | None, DataFrame | None]:
    """The latest earlier day written by the same model version, and its stored rows (None, None if none)."""
    if not is_table(spark, path):
        return None, None
    rows = read_table(spark, path).where(
        (F.col("model_name") == model_name) & (F.col("model_version") == model_version)
        & (F.col("as_of_date") < F.lit(as_of)))
    latest = rows.agg(F.max("as_of_date")).first()[0]
    if latest is None:
        return None, None
    return latest, rows.where(F.col("as_of_date") == F.lit(latest))
