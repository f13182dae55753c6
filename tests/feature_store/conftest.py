"""A small generated feature table written by Spark (two model versions, gaps, fallbacks) and label rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

FIRST_DAY, DAYS, DIM = date(2026, 10, 1), 10, 4
USERS = [f"u{i}" for i in range(12)]


@dataclass(frozen=True)
class FeatureTable:
    path: Path
    rows: pd.DataFrame  # what was written (embedding as lists of float)
    labels: pd.DataFrame  # label_id, user_id, label_ts (tz-aware UTC), y


def generate_rows(seed: int = 5) -> pd.DataFrame:
    """Version "1" on every day, version "2" from day 6; each user present on ~70% of days; some fallbacks."""
    rng = np.random.default_rng(seed)
    out = []
    for version, first in (("1", 0), ("2", 5)):
        for d in range(first, DAYS):
            day = FIRST_DAY + timedelta(days=d)
            for user in USERS:
                if rng.random() > 0.7 and not (user == "u1" and version == "1"):  # u1 of "1": every day
                    continue
                fallback = bool(rng.random() < 0.2)
                out.append({"user_id": user, "as_of_date": day,
                            "as_of_ts": datetime(day.year, day.month, day.day, tzinfo=timezone.utc),
                            "embedding": [float(x) for x in rng.normal(size=DIM).astype(np.float32)],
                            "embedding_dim": DIM, "model_name": "m", "model_version": version,
                            "n_events": int(rng.integers(1, 50)),
                            "last_event_ts": datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - timedelta(hours=5),
                            "is_fallback": fallback, "embedding_as_of_date": day - timedelta(days=1) if fallback else day,
                            "computed_at": datetime(2026, 10, 20, tzinfo=timezone.utc)})
    return pd.DataFrame(out)


def generate_labels(seed: int = 6, n: int = 160) -> pd.DataFrame:
    """Random label times from two days before the first partition to three after the last, plus edge cases."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 9, 29, tzinfo=timezone.utc)
    times = [start + timedelta(seconds=int(s)) for s in rng.integers(0, 15 * 86_400, n)]
    users = list(rng.choice(USERS + ["stranger"], n))
    times += [datetime(2026, 10, 4, tzinfo=timezone.utc)] * 2 + [datetime(2026, 10, 3, 23, 59, 59, tzinfo=timezone.utc)]
    users += ["u1", "u1", "u1"]  # exactly at a cutoff (allowed), twice (duplicates kept), one second before
    return pd.DataFrame({"label_id": range(len(times)), "user_id": users, "label_ts": times,
                         "y": rng.integers(0, 2, len(times))})


@pytest.fixture(scope="session")
def feature_table(spark, tmp_path_factory) -> FeatureTable:
    from feature_store import table as ft
    from jobtrail.contracts import USER_EMBEDDING

    path = tmp_path_factory.mktemp("features") / "user_embeddings"
    rows = generate_rows()
    ft.ensure_table(spark, ft.TableSpec(path, DIM, "m", "2"))
    df = spark.createDataFrame(pa.Table.from_pandas(rows, USER_EMBEDDING, preserve_index=False))
    df.write.format("delta").mode("append").save(str(path))  # test set-up: all days in one commit
    return FeatureTable(path, rows, generate_labels())
