"""Point-in-time joins without a JVM: pandas, polars and DuckDB, with the rules of the Spark join.

Each label row (user, label time) gets the embedding of the selected model version with the latest
``as_of_ts`` not after the label time and at most ``max_age`` old, else nulls — exactly
:func:`feature_store.join.join_features`, column names included (``<prefix>``, ``<prefix>_as_of_ts``, …).
Label times without a zone are taken as UTC.

    from feature_store.asof import join_pandas, join_polars, join_duckdb
    train = join_pandas(labels_df, "data/user_embeddings", time_col="label_ts", max_age=timedelta(days=3))
    rel = join_duckdb(labels_arrow, "data/user_embeddings", con=con)   # DuckDB ASOF LEFT JOIN
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from jobtrail.errors import ConfigError
from feature_store.readers import load_features
from feature_store.selection import FEATURE_COLUMNS, output_name


def _features(path: str | Path, prefix: str, **selection: Any) -> pa.Table:
    table = load_features(path, columns=["user_id", *FEATURE_COLUMNS], **selection)
    return table.rename_columns(["_user", *[output_name(c, prefix) for c in FEATURE_COLUMNS]])


def _check(columns: list[str], user_col: str, time_col: str, prefix: str) -> None:
    for column in (user_col, time_col):
        if column not in columns:
            raise ConfigError(f"labels have no column {column!r} (columns: {columns})")
    clashes = [output_name(c, prefix) for c in FEATURE_COLUMNS if output_name(c, prefix) in columns]
    if clashes:
        raise ConfigError(f"labels already have columns {clashes}; pass another prefix")


def join_pandas(labels, path: str | Path, *, user_col: str = "user_id", time_col: str = "label_ts",
                max_age: timedelta | None = timedelta(days=7), prefix: str = "user_embedding", **selection: Any):
    """``labels`` (pandas) with the point-in-time embedding columns, in the labels' row order."""
    import pandas as pd

    _check(list(labels.columns), user_col, time_col, prefix)
    feats = _features(path, prefix, **selection).to_pandas()
    ts = output_name("as_of_ts", prefix)
    labels = labels.reset_index(drop=True)
    left = labels.assign(_row=range(len(labels)), _user=labels[user_col].astype("string"),
                         _t=pd.to_datetime(labels[time_col], utc=True).astype("datetime64[ns, UTC]"))
    feats["_user"] = feats["_user"].astype("string")
    feats["_t"] = feats[ts].astype("datetime64[ns, UTC]")
    matched = pd.merge_asof(left.dropna(subset=["_t"]).sort_values("_t"), feats.sort_values("_t"), on="_t",
                            by="_user", direction="backward", allow_exact_matches=True, tolerance=max_age)
    missing = left[left["_t"].isna()]
    out = pd.concat([matched, missing]) if len(missing) else matched
    return out.sort_values("_row").drop(columns=["_row", "_user", "_t"]).reset_index(drop=True)


def join_polars(labels, path: str | Path, *, user_col: str = "user_id", time_col: str = "label_ts",
                max_age: timedelta | None = timedelta(days=7), prefix: str = "user_embedding", **selection: Any):
    """``labels`` (polars) with the point-in-time embedding columns, in the labels' row order."""
    import polars as pl

    _check(labels.columns, user_col, time_col, prefix)
    feats = pl.from_arrow(_features(path, prefix, **selection))
    ts = output_name("as_of_ts", prefix)
    dtype = labels.schema[time_col]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone:
        label_time = pl.col(time_col).dt.convert_time_zone("UTC")
    else:  # naive datetimes and dates are UTC
        label_time = pl.col(time_col).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    left = labels.with_row_index("_row").with_columns(pl.col(user_col).cast(pl.String).alias("_user"),
                                                      label_time.dt.cast_time_unit("us").alias("_t"))
    right = feats.with_columns(pl.col(ts).dt.convert_time_zone("UTC").dt.cast_time_unit("us").alias("_t"))
    out = left.sort("_t").join_asof(right.sort("_t"), on="_t", by="_user", strategy="backward",
                                     tolerance=max_age, allow_exact_matches=True, check_sortedness=False)
    return out.sort("_row").drop(["_row", "_user", "_t"])


def join_duckdb(labels, path: str | Path, *, con: Any = None, user_col: str = "user_id", time_col: str = "label_ts",
                max_age: timedelta | None = timedelta(days=7), prefix: str = "user_embedding", **selection: Any):
    """A DuckDB relation: ``labels`` (Arrow table, pandas/polars frame) ASOF LEFT JOIN the embeddings."""
    import duckdb

    con = con or duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if not isinstance(labels, pa.Table):
        labels = labels.to_arrow() if hasattr(labels, "to_arrow") else pa.Table.from_pandas(labels, preserve_index=False)
    _check(labels.column_names, user_col, time_col, prefix)
    con.register("_jt_labels", labels.append_column("_row", pa.array(range(labels.num_rows), pa.int64())))
    con.register("_jt_features", _features(path, prefix, **selection))
    ts = output_name("as_of_ts", prefix)
    age = "TRUE" if max_age is None else f'f."{ts}" >= l._t - INTERVAL {int(max_age.total_seconds())} SECONDS'
    names = [output_name(c, prefix) for c in FEATURE_COLUMNS]
    picked = ", ".join(f'CASE WHEN {age} THEN f."{c}" END AS "{c}"' for c in names)
    return con.sql(f"""
        WITH l AS (SELECT *, CAST("{user_col}" AS VARCHAR) AS _user, CAST("{time_col}" AS TIMESTAMPTZ) AS _t
                   FROM _jt_labels)
        SELECT l.* EXCLUDE (_user, _t, _row), {picked}
        FROM l ASOF LEFT JOIN _jt_features f ON l._user = f._user AND l._t >= f."{ts}"
        ORDER BY l._row""")
