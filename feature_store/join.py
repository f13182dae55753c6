"""Point-in-time (AS-OF) join of label rows to the feature table, in Spark.

For each label row (user, label time) the join attaches the embedding of the selected model version with
the latest ``as_of_ts`` **not after** the label time (``as_of_ts`` is the cutoff: that embedding saw only
events strictly before it), provided it is at most ``max_age`` old; otherwise the feature columns are null.
A later embedding is never used. Every label row is kept once, in any number of duplicates.

How: label rows and feature rows of the same user are put in one stream ordered by time (features first
on ties) and each label takes the last feature row before it (``last(..., ignorenulls)`` over a window) —
a sort-merge AS-OF join that needs no row ids and no range join.

    from feature_store import join_features
    train = join_features(spark, labels, features="data/user_embeddings", time_col="label_ts",
                          max_age=timedelta(days=3), model_name="transformer", model_version="4")
    # labels' columns + user_embedding, user_embedding_as_of_ts, user_embedding_model_version, ...
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobtrail.errors import ConfigError
from feature_store.selection import FEATURE_COLUMNS, output_name, pick_model
from feature_store.table import read_features


def select_model(
    features: DataFrame, *, model_name: str | None = None, model_version: str | None = None
) -> tuple[DataFrame, str, str]:
    """The rows of one model version (see :func:`feature_store.selection.pick_model`) and its (name, version)."""
    available = [(r.model_name, r.model_version, r.last) for r in
                 features.groupBy("model_name", "model_version").agg(F.max("as_of_date").alias("last")).collect()]
    name, version = pick_model(available, model_name, model_version)
    rows = features.where((F.col("model_name") == name) & (F.col("model_version") == version))
    return rows, name, version


def join_features(
    spark: SparkSession,
    labels: DataFrame,
    *,
    features: str | Path | DataFrame,
    user_col: str = "user_id",
    time_col: str = "label_ts",
    max_age: timedelta | None = timedelta(days=7),
    model_name: str | None = None,
    model_version: str | None = None,
    include_fallback: bool = True,
    prefix: str = "user_embedding",
) -> DataFrame:
    """``labels`` with the point-in-time embedding columns ``<prefix>``, ``<prefix>_as_of_ts``, ... appended.

    ``features`` is the feature table's path or an already read (decoded) DataFrame; ``time_col`` a
    timestamp (or date: midnight UTC) column; ``max_age`` None means no age limit; ``include_fallback``
    False ignores carried-forward and cold-start rows.
    """
    for column in (user_col, time_col):
        if column not in labels.columns:
            raise ConfigError(f"labels have no column {column!r} (columns: {labels.columns})")
    clashes = [output_name(c, prefix) for c in FEATURE_COLUMNS if output_name(c, prefix) in labels.columns]
    if clashes:
        raise ConfigError(f"labels already have columns {clashes}; pass another prefix")
    table = read_features(spark, features) if isinstance(features, (str, Path)) else features
    table, _, _ = select_model(table, model_name=model_name, model_version=model_version)
    if not include_fallback:
        table = table.where(~F.col("is_fallback"))

    feature = F.struct(*[F.col(c) for c in FEATURE_COLUMNS])
    label = F.struct(*[F.col(c) for c in labels.columns])
    no_feature = F.lit(None).cast(table.select(feature).schema[0].dataType)
    no_label = F.lit(None).cast(labels.select(label).schema[0].dataType)
    feature_rows = table.select(F.col("user_id").alias("_user"), F.col("as_of_ts").alias("_ts"),
                                F.lit(0).alias("_kind"), feature.alias("_feature"), no_label.alias("_label"))
    label_rows = labels.select(F.col(user_col).cast("string").alias("_user"), F.col(time_col).cast("timestamp").alias("_ts"),
                               F.lit(1).alias("_kind"), no_feature.alias("_feature"), label.alias("_label"))
    # per user, in time order with features before labels on ties: each label takes the last feature before it
    window = Window.partitionBy("_user").orderBy("_ts", "_kind").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    matched = (feature_rows.unionByName(label_rows)
               .withColumn("_match", F.last("_feature", ignorenulls=True).over(window))
               .where(F.col("_kind") == 1))
    fresh = F.col("_match.as_of_ts") <= F.col("_ts")
    if max_age is not None:
        oldest = F.col("_ts") - F.expr(f"INTERVAL {int(max_age.total_seconds())} SECONDS")
        fresh = fresh & (F.col("_match.as_of_ts") >= oldest)
    return matched.select(
        "_label.*",
        *[F.when(fresh, F.col(f"_match.{c}")).alias(output_name(c, prefix)) for c in FEATURE_COLUMNS],
    )
