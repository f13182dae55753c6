"""The Delta feature table of user embeddings: schema, creation with its properties, checked idempotent writes.

Contract :data:`jobtrail.contracts.USER_EMBEDDING` (key ``user_id, model_name, model_version, as_of_date``),
partitioned by ``as_of_date``. Rules every writer follows (``spark_jobs/infer.py`` is the one writer):

- **Idempotent per (as_of_date, model)**: :func:`write_partition` replaces exactly the rows of one
  ``as_of_date`` and one (``model_name``, ``model_version``) with ``replaceWhere``; other days and models are
  untouched, so a retried run leaves one set of rows and days can be written in any order. Every commit
  carries ``userMetadata`` (JSON: run id, model, as-of).
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
from dataclasses import dataclass
from datetime import date
from functools import reduce
from pathlib import Path

import pyarrow as pa
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from jobtrail.contracts import USER_EMBEDDING, USER_EMBEDDING_INT8
from jobtrail.errors import ConfigError, DataContractError
from spark_jobs.schemas import spark_schema

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
    return spark_schema(arrow_schema(storage))


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


def replace_predicate(as_of: date, model_name: str, model_version: str) -> str:
    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    return (f"as_of_date = '{as_of.isoformat()}' AND model_name = {quote(model_name)} "
            f"AND model_version = {quote(model_version)}")


def keep_computed_at(rows: DataFrame, current: DataFrame) -> DataFrame:
    """``rows`` with the ``computed_at`` of ``current`` (the rows they replace) wherever a user's every other value
    is the same: a rerun or backfill with the same inputs and model leaves the partition equal in content, and
    ``computed_at`` says when a value was first written. Changed and new rows keep their own time."""
    values = [c for c in rows.columns if c != "computed_at"]
    old = current.select(*[F.col(c).alias(f"_old_{c}") for c in [*values, "computed_at"]])
    same = reduce(lambda a, b: a & b, [F.col(c).eqNullSafe(F.col(f"_old_{c}")) for c in values])
    joined = rows.join(old, F.col("user_id") == F.col("_old_user_id"), "left")
    return joined.select(*values, F.when(same, F.col("_old_computed_at")).otherwise(F.col("computed_at"))
                         .alias("computed_at")).select(*rows.columns)


def write_partition(spark: SparkSession, df: DataFrame, spec: TableSpec, as_of: date, *, user_metadata: dict,
                    properties: dict[str, str] | None = None) -> None:
    """Replace the rows of (``as_of``, ``spec``'s model) with ``df``; update properties; register the name.

    ``df`` must have the table's stored schema (:func:`table_schema`) and only rows of that day and model.
    ``properties``: what :func:`ensure_table` returned, when the caller already checked the table.
    Unchanged rows keep their ``computed_at`` (:func:`keep_computed_at`), so a rerun is a no-op in content.
    """
    expected = table_schema(spec.storage)
    problems = _schema_problems(df.schema, expected)
    if problems:
        raise DataContractError("rows to write do not match the feature table schema: " + "; ".join(problems))
    props = properties if properties is not None else ensure_table(spark, spec)
    meta = json.dumps(user_metadata, sort_keys=True, default=str)
    predicate = replace_predicate(as_of, spec.model_name, spec.model_version)
    df = keep_computed_at(df.select(*expected.names), read_table(spark, spec.path).where(predicate))
    try:
        (df.write.format("delta").mode("overwrite")
         .option("replaceWhere", predicate)
         .option("userMetadata", meta).save(str(spec.path)))
    except PySparkException as e:
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
    key = "spark.databricks.delta.commitInfo.userMetadata"
    before = spark.conf.get(key, None)
    spark.conf.set(key, meta)
    try:
        pairs = ", ".join(f"'{k}' = '{v}'" for k, v in changed.items())
        spark.sql(f"ALTER TABLE {sql_name(spec.path)} SET TBLPROPERTIES ({pairs})")
    finally:
        spark.conf.unset(key) if before is None else spark.conf.set(key, before)


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
