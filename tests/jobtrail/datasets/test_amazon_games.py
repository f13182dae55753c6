"""Amazon Games loader and the SASRec leave-one-out split, on the real file and on golden rows.

Run: ``.venv/bin/python -m pytest tests/jobtrail/datasets/test_amazon_games.py -q``
"""

from __future__ import annotations

import collections
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from jobtrail.contracts import JOB, RAW_EVENT, with_partition
from jobtrail.datasets.amazon_games import (
    PATH_ENV,
    AmazonGames,
    default_path,
    leave_one_out_split,
    load_amazon_games,
    write_amazon_games,
)
from jobtrail.errors import DatasetUnavailableError
from jobtrail.parquet_io import read_table

T0 = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def amazon() -> AmazonGames:
    return load_amazon_games()


@pytest.fixture(scope="module")
def sequences() -> dict[str, list[str]]:
    """Each user's items in file order, read independently of the loader."""
    seqs: dict[str, list[str]] = collections.defaultdict(list)
    with open(default_path()) as f:
        for line in f:
            user, item = line.split()
            seqs["amz_u" + user].append("amz_i" + item)
    return seqs


def test_counts_match_readme(amazon: AmazonGames) -> None:
    assert amazon.events.num_rows == 287_107
    assert pc.count_distinct(amazon.events["user_id"]).as_py() == 31_013
    assert pc.count_distinct(amazon.events["job_id"]).as_py() == 23_715
    assert amazon.jobs.num_rows == 23_715


def test_schema_and_constant_columns(amazon: AmazonGames) -> None:
    events = amazon.events
    assert events.schema.equals(with_partition(RAW_EVENT), check_metadata=True)
    assert amazon.jobs.schema.equals(JOB, check_metadata=True)
    assert events["event_type"].unique().to_pylist() == ["view"]
    assert events["channel"].unique().to_pylist() == ["amazon"]
    assert events["query"].null_count == events.num_rows
    assert pc.count_distinct(events["event_id"]).as_py() == events.num_rows
    assert all(re.fullmatch(r"[0-9a-f]{16}", e) for e in events["event_id"].to_pylist()[:1000])


def test_jobs_are_id_only_and_cover_events(amazon: AmazonGames) -> None:
    for name in JOB.names[1:]:
        assert amazon.jobs[name].null_count == amazon.jobs.num_rows
    assert set(amazon.events["job_id"].to_pylist()) == set(amazon.jobs["job_id"].to_pylist())


def test_order_preserved_with_daily_synthetic_ts(amazon: AmazonGames, sequences: dict[str, list[str]]) -> None:
    ordered = amazon.events.sort_by([("user_id", "ascending"), ("ts", "ascending")])
    users, jobs = ordered["user_id"].to_pylist(), ordered["job_id"].to_pylist()
    days_since_t0 = (ordered["ts"].cast("int64").to_numpy() - int(T0.timestamp()) * 10**6) // 86_400_000_000
    got_jobs: dict[str, list[str]] = collections.defaultdict(list)
    got_days: dict[str, list[int]] = collections.defaultdict(list)
    for user, job, day in zip(users, jobs, days_since_t0.tolist()):
        got_jobs[user].append(job)
        got_days[user].append(day)
    assert got_jobs == sequences  # same users, same items, in file order
    assert all(days == list(range(len(days))) for days in got_days.values())  # +1 day per step
    days = amazon.events["ds"].cast("int32").to_numpy()
    assert np.array_equal(days, amazon.events["ts"].cast("int64").to_numpy() // 86_400_000_000)


def test_leave_one_out_on_real_file(amazon: AmazonGames, sequences: dict[str, list[str]]) -> None:
    train, valid, test = leave_one_out_split(amazon.events)
    eligible = {u for u, items in sequences.items() if len(items) >= 3}
    assert len(eligible) == 30_901  # 112 users have fewer than 3 events: SASRec keeps them in train only
    assert train.num_rows + valid.num_rows + test.num_rows == amazon.events.num_rows
    assert valid.num_rows == test.num_rows == len(eligible)
    assert set(test["user_id"].to_pylist()) == set(valid["user_id"].to_pylist()) == eligible
    assert {u: j for u, j in zip(test["user_id"].to_pylist(), test["job_id"].to_pylist())} == {
        u: sequences[u][-1] for u in eligible
    }
    assert {u: j for u, j in zip(valid["user_id"].to_pylist(), valid["job_id"].to_pylist())} == {
        u: sequences[u][-2] for u in eligible
    }
    train_counts = collections.Counter(train["user_id"].to_pylist())
    assert all(train_counts[u] == len(s) - (2 if u in eligible else 0) for u, s in sequences.items())


def test_golden_rows_and_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_text("1 5\n1 3\n2 5\n1 7\n2 9\n2 4\n1 2\n")
    monkeypatch.setenv(PATH_ENV, str(path))
    data = load_amazon_games()
    got = [(r["user_id"], r["job_id"], r["ts"]) for r in data.events.to_pylist()]
    day = timedelta(days=1)
    assert got == [
        ("amz_u1", "amz_i5", T0),
        ("amz_u1", "amz_i3", T0 + day),
        ("amz_u2", "amz_i5", T0),
        ("amz_u1", "amz_i7", T0 + 2 * day),
        ("amz_u2", "amz_i9", T0 + day),
        ("amz_u2", "amz_i4", T0 + 2 * day),
        ("amz_u1", "amz_i2", T0 + 3 * day),
    ]
    assert data.jobs["job_id"].to_pylist() == ["amz_i2", "amz_i3", "amz_i4", "amz_i5", "amz_i7", "amz_i9"]
    assert load_amazon_games(path).events["event_id"].equals(data.events["event_id"])  # stable across loads
    train, valid, test = leave_one_out_split(data.events)
    assert [(r["user_id"], r["job_id"]) for r in test.to_pylist()] == [("amz_u1", "amz_i2"), ("amz_u2", "amz_i4")]
    assert [(r["user_id"], r["job_id"]) for r in valid.to_pylist()] == [("amz_u1", "amz_i7"), ("amz_u2", "amz_i9")]
    assert [(r["user_id"], r["job_id"]) for r in train.to_pylist()] == [
        ("amz_u1", "amz_i5"),
        ("amz_u1", "amz_i3"),
        ("amz_u2", "amz_i5"),
    ]


def test_short_users_stay_in_train(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("1 1\n1 2\n2 3\n")
    train, valid, test = leave_one_out_split(load_amazon_games(path).events)
    assert (train.num_rows, valid.num_rows, test.num_rows) == (3, 0, 0)


def test_missing_file_names_path_and_env_var(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "Video.txt"
    with pytest.raises(DatasetUnavailableError) as info:
        load_amazon_games(missing)
    assert str(missing) in str(info.value)
    assert PATH_ENV in str(info.value)


def test_malformed_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1 5\n1 x\n")
    with pytest.raises(DatasetUnavailableError, match="bad.txt"):
        load_amazon_games(path)


def test_write_round_trip(amazon: AmazonGames, tmp_path: Path) -> None:
    counts = write_amazon_games(tmp_path, amazon)
    assert counts == {"raw_events": 287_107, "job_catalog": 23_715}
    events = read_table(tmp_path / "raw_events", with_partition(RAW_EVENT))
    assert events.sort_by("event_id").equals(amazon.events.sort_by("event_id"))
    catalog = read_table(tmp_path / "job_catalog", with_partition(JOB))
    assert catalog["ds"].unique().to_pylist() == [pc.max(amazon.events["ds"]).as_py()]
    assert catalog.drop_columns(["ds"]).sort_by("job_id").equals(amazon.jobs.sort_by("job_id"))
