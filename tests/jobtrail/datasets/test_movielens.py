"""MovieLens-100K loader: real data from the recbole wheel, checked against the raw members.

Run: ``.venv/bin/python -m pytest tests/jobtrail/datasets/test_movielens.py -q``
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from jobtrail.contracts import JOB, RAW_EVENT, USER_PROFILE, with_partition
from jobtrail.datasets.movielens import (
    MEMBER_DIR,
    MovieLens,
    default_cache_dir,
    fetch_recbole_wheel,
    load_movielens_100k,
    write_movielens,
)
from jobtrail.errors import DatasetUnavailableError
from jobtrail.parquet_io import read_table


@pytest.fixture(scope="module")
def wheel() -> Path:
    """The cached recbole wheel (PyPI is reachable wherever the project installs, CI included): a failure to fetch
    it fails the module rather than letting it pass having tested nothing."""
    try:
        return fetch_recbole_wheel(default_cache_dir())
    except DatasetUnavailableError as e:
        pytest.fail(f"could not fetch the MovieLens-100K wheel from PyPI: {e}")


@pytest.fixture(scope="module")
def ml(wheel: Path) -> MovieLens:
    return load_movielens_100k(wheel.parent)


@pytest.fixture(scope="module")
def raw_inter(wheel: Path) -> list[list[str]]:
    """The rating rows of ml-100k.inter, read independently of the loader (header dropped)."""
    with zipfile.ZipFile(wheel) as z:
        text = z.read(MEMBER_DIR + "ml-100k.inter").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    assert rows[0][0] == "user_id:token"
    return rows[1:]


def test_counts_match_published_dataset(ml: MovieLens) -> None:
    assert ml.events.num_rows == 100_000
    assert pc.count_distinct(ml.events["user_id"]).as_py() == 943
    assert pc.count_distinct(ml.events["job_id"]).as_py() == 1_682
    assert ml.jobs.num_rows == 1_682
    assert ml.users.num_rows == 943


def test_schemas_equal_contracts(ml: MovieLens) -> None:
    assert ml.events.schema.equals(with_partition(RAW_EVENT), check_metadata=True)
    assert ml.jobs.schema.equals(JOB, check_metadata=True)
    assert ml.users.schema.equals(USER_PROFILE, check_metadata=True)


def test_event_types_follow_ratings(ml: MovieLens, raw_inter: list[list[str]]) -> None:
    ratings = collections.Counter(int(float(r[2])) for r in raw_inter)
    got = collections.Counter(ml.events["event_type"].to_pylist())
    assert got == {
        "apply": ratings[4] + ratings[5],
        "view": ratings[3],
        "dismiss": ratings[1] + ratings[2],
    }
    expected = {("ml_u" + r[0], "ml_i" + r[1]): int(float(r[2])) for r in raw_inter}
    kind = {1: "dismiss", 2: "dismiss", 3: "view", 4: "apply", 5: "apply"}
    rows = zip(ml.events["user_id"].to_pylist(), ml.events["job_id"].to_pylist(), ml.events["event_type"].to_pylist())
    assert all(kind[expected[(u, j)]] == t for u, j, t in rows)


def test_first_row_golden(ml: MovieLens, raw_inter: list[list[str]]) -> None:
    assert raw_inter[0] == ["196", "242", "3", "881250949"]
    first = ml.events.slice(0, 1).to_pylist()[0]
    assert first["event_id"] == hashlib.sha1(b"196|242|881250949").hexdigest()[:16]
    assert (first["user_id"], first["job_id"], first["event_type"]) == ("ml_u196", "ml_i242", "view")
    assert (first["query"], first["channel"]) == (None, "movielens")
    assert first["ts"] == datetime(1997, 12, 4, 15, 55, 49, tzinfo=timezone.utc)
    assert first["ds"] == datetime(1997, 12, 4).date()


def test_ts_is_utc_and_ds_is_its_utc_date(ml: MovieLens, raw_inter: list[list[str]]) -> None:
    assert ml.events.schema.field("ts").type.tz == "UTC"
    micros = ml.events["ts"].cast("int64").to_numpy()
    assert np.array_equal(micros, np.array([int(float(r[3])) for r in raw_inter]) * 1_000_000)
    days = ml.events["ds"].cast("int32").to_numpy()
    assert np.array_equal(days, micros // 86_400_000_000)


def test_event_ids_unique(ml: MovieLens) -> None:
    assert pc.count_distinct(ml.events["event_id"]).as_py() == ml.events.num_rows


def test_every_event_job_is_in_catalog(ml: MovieLens) -> None:
    catalog = set(ml.jobs["job_id"].to_pylist())
    assert len(catalog) == ml.jobs.num_rows
    assert set(ml.events["job_id"].to_pylist()) <= catalog


def test_jobs_carry_genres_title_and_year(ml: MovieLens) -> None:
    jobs = {row["job_id"]: row for row in ml.jobs.to_pylist()}
    assert all(row["skills"] and row["category"] == row["skills"][0] for row in jobs.values())
    toy = jobs["ml_i1"]
    assert toy["title"] == "Toy Story"
    assert toy["skills"] == ["Animation", "Children's", "Comedy"]
    assert toy["category"] == "Animation"
    assert toy["posted_ts"] == datetime(1995, 1, 1, tzinfo=timezone.utc)
    assert (toy["company"], toy["location"], toy["salary_min"], toy["seniority"]) == (None, None, None, None)
    assert jobs["ml_i267"]["title"] is None and jobs["ml_i267"]["posted_ts"] is None  # "unkonwn" in the data
    assert jobs["ml_i1412"]["posted_ts"] == datetime(1995, 1, 1, tzinfo=timezone.utc)  # year parsed from title
    assert ml.jobs["posted_ts"].null_count == 1


def test_user_profiles_golden(ml: MovieLens) -> None:
    users = {row["user_id"]: row for row in ml.users.to_pylist()}
    assert users["ml_u1"] == {
        "user_id": "ml_u1",
        "age": 24,
        "gender": "M",
        "occupation": "technician",
        "zip_code": "85711",
    }
    assert users["ml_u74"]["zip_code"] == "T8H1N"  # Canadian postcodes stay strings
    assert set(users) == set(ml.events["user_id"].to_pylist())


def test_write_round_trip(ml: MovieLens, tmp_path: Path) -> None:
    counts = write_movielens(tmp_path, ml)
    assert counts == {"raw_events": 100_000, "job_catalog": 1_682, "user_profiles": 943}
    events = read_table(tmp_path / "raw_events", with_partition(RAW_EVENT))
    assert events.sort_by("event_id").equals(ml.events.sort_by("event_id"))
    catalog = read_table(tmp_path / "job_catalog", with_partition(JOB))
    assert catalog.num_rows == 1_682
    assert catalog["ds"].unique().to_pylist() == [pc.max(ml.events["ds"]).as_py()]
    assert catalog.drop_columns(["ds"]).sort_by("job_id").equals(ml.jobs.sort_by("job_id"))
    assert read_table(tmp_path / "user_profiles", USER_PROFILE).sort_by("user_id").equals(ml.users.sort_by("user_id"))


def test_cached_wheel_is_reused(wheel: Path) -> None:
    before = wheel.stat().st_mtime_ns
    assert fetch_recbole_wheel(wheel.parent) == wheel
    assert wheel.stat().st_mtime_ns == before


def test_cache_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOBTRAIL_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "datasets"


def test_fetch_failure_names_package_index_and_pip_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "2")
    with pytest.raises(DatasetUnavailableError) as info:
        fetch_recbole_wheel(tmp_path / "cache")
    message = str(info.value)
    assert "recbole==1.2.1" in message
    assert "http://127.0.0.1:9/simple" in message
    assert "pip stderr:" in message and "recbole" in message.split("pip stderr:")[1].lower()
