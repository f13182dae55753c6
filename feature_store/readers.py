"""Reading the feature table without a JVM: ``deltalake`` → Arrow → pandas / polars / DuckDB.

The same selection as Spark (:mod:`feature_store.selection`: one model name and version), time travel by
Delta version, and compact (int8) storage decoded back to a float ``embedding`` column, so every consumer
sees the same rows. Point-in-time joins on these frames are in :mod:`feature_store.asof`.

    from feature_store.readers import read_pandas, read_polars, read_duckdb
    df = read_pandas("data/user_embeddings", as_of_date=date(2026, 10, 31))        # latest version of the model
    pl_df = read_polars("data/user_embeddings", model_version="3", start=date(2026, 10, 1))
    rel = read_duckdb("data/user_embeddings", con=duckdb.connect())                  # a DuckDB relation
    old = read_pandas("data/user_embeddings", version=12)                            # Delta time travel
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from feature_store.compact import decode_arrow
from feature_store.selection import pick_model
from jobtrail.errors import ConfigError


def _dataset(path: str | Path, version: int | None) -> pads.Dataset:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(str(path), version=version).to_pyarrow_dataset()
    except TableNotFoundError as e:
        raise ConfigError(f"no feature table at {path}: run inference (spark_jobs/infer.py) first") from e


def models(path: str | Path, *, version: int | None = None) -> list[tuple[str, str, date]]:
    """(model_name, model_version, latest as_of_date) of every model in the table."""
    keys = _dataset(path, version).to_table(columns=["model_name", "model_version", "as_of_date"])
    grouped = keys.group_by(["model_name", "model_version"]).aggregate([("as_of_date", "max")])
    return list(zip(*(grouped.column(c).to_pylist() for c in ("model_name", "model_version", "as_of_date_max"))))


def load_features(
    path: str | Path,
    *,
    model_name: str | None = None,
    model_version: str | None = None,
    as_of_date: date | None = None,
    start: date | None = None,
    end: date | None = None,
    include_fallback: bool = True,
    version: int | None = None,
    columns: list[str] | None = None,
) -> pa.Table:
    """The rows of one model version (``as_of_date``, or ``start``..``end`` inclusive), decoded, as Arrow."""
    name, model = pick_model(models(path, version=version), model_name, model_version)
    where = (pc.field("model_name") == name) & (pc.field("model_version") == model)
    if as_of_date is not None:
        start = end = as_of_date
    if start is not None:
        where &= pc.field("as_of_date") >= pa.scalar(start, pa.date32())
    if end is not None:
        where &= pc.field("as_of_date") <= pa.scalar(end, pa.date32())
    if not include_fallback:
        where &= ~pc.field("is_fallback")
    table = decode_arrow(_dataset(path, version).to_table(filter=where))
    return table.select(columns) if columns else table


def read_pandas(path: str | Path, **selection: Any):
    """:func:`load_features` as a pandas DataFrame (timestamps tz-aware UTC, embeddings as numpy arrays)."""
    return load_features(path, **selection).to_pandas()


def read_polars(path: str | Path, **selection: Any):
    """:func:`load_features` as a polars DataFrame."""
    import polars as pl

    return pl.from_arrow(load_features(path, **selection))


def read_duckdb(path: str | Path, *, con: Any = None, name: str = "user_embeddings", **selection: Any):
    """:func:`load_features` as a DuckDB relation, also registered on ``con`` as view ``name``."""
    import duckdb

    con = con or duckdb.connect()
    con.register(name, load_features(path, **selection))
    return con.table(name)
