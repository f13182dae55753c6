"""MovieLens-100K, read straight from the ``recbole==1.2.1`` wheel, mapped onto the contracts.

The wheel is fetched once with ``pip download`` into a cache directory (git-ignored, never
committed: the MovieLens licence forbids redistribution) and read with ``zipfile`` in place.

Mapping: rating >= 4 -> ``apply``, rating <= 2 -> ``dismiss``, 3 -> ``view``; users become
``ml_u<id>``, movies become jobs ``ml_i<id>`` (title, first genre as category, genres as skills,
``posted_ts`` = 1 January of the release year), user demographics become ``USER_PROFILE`` rows.

Run: ``python -c "from pathlib import Path; from jobtrail.datasets import movielens as m;
print(m.write_movielens(Path('data/movielens'), m.load_movielens_100k()))"``
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jobtrail.contracts import JOB, PARTITION_COLUMN, RAW_EVENT, USER_PROFILE, Tables, with_partition
from jobtrail.errors import DatasetUnavailableError
from jobtrail.parquet_io import write_partitioned, write_single

PACKAGE = "recbole==1.2.1"
WHEEL_GLOB = "recbole-1.2.1-*.whl"
MEMBER_DIR = "recbole/dataset_example/ml-100k/"
CACHE_ENV = "JOBTRAIL_CACHE_DIR"
CHANNEL = "movielens"
_HEADERS = {
    "inter": ["user_id:token", "item_id:token", "rating:float", "timestamp:float"],
    "item": ["item_id:token", "movie_title:token_seq", "release_year:token", "class:token_seq"],
    "user": ["user_id:token", "age:token", "gender:token", "occupation:token", "zip_code:token"],
}
_UNKNOWN_TITLES = {"unknown", "unkonwn"}  # the data's own placeholder (sic) for item 267
_TITLE_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)$")


@dataclass(frozen=True)
class MovieLens:
    """MovieLens-100K on the contracts: ``events`` (``with_partition(RAW_EVENT)``), ``jobs``
    (``JOB``) and ``users`` (``USER_PROFILE``)."""

    events: pa.Table
    jobs: pa.Table
    users: pa.Table


def default_cache_dir() -> Path:
    """``$JOBTRAIL_CACHE_DIR/datasets`` if set, else ``<repo root>/.cache/datasets``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env) / "datasets"
    return Path(__file__).resolve().parents[2] / ".cache" / "datasets"


def fetch_recbole_wheel(cache_dir: Path) -> Path:
    """Return the path of the ``recbole==1.2.1`` wheel in ``cache_dir``, downloading it if absent.

    Runs ``python -m pip download --no-deps --only-binary=:all: recbole==1.2.1 -d cache_dir``.
    Raises DatasetUnavailableError (with the package, the index and pip's stderr tail) on failure.
    """
    cache_dir = Path(cache_dir)
    found = sorted(cache_dir.glob(WHEEL_GLOB))
    if found:
        return found[0]
    cache_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", PACKAGE, "-d", str(cache_dir)]
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple (pip default)")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        tail, ok = proc.stderr.strip()[-2000:], proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired) as e:
        tail, ok = str(e), False
    found = sorted(cache_dir.glob(WHEEL_GLOB))
    if not ok or not found:
        raise DatasetUnavailableError(
            f"could not download {PACKAGE} (MovieLens-100K) from index {index} into {cache_dir}; "
            f"check network access to the index or put the wheel there by hand. pip stderr: {tail}"
        )
    return found[0]


def _read_member(wheel: zipfile.ZipFile, kind: str) -> list[list[str]]:
    """Rows (header checked and dropped) of ``ml-100k.<kind>`` inside the wheel."""
    name = f"{MEMBER_DIR}ml-100k.{kind}"
    try:
        text = wheel.read(name).decode("utf-8")
    except KeyError as e:
        raise DatasetUnavailableError(f"{wheel.filename} has no member {name}; is it recbole 1.2.1?") from e
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or rows[0] != _HEADERS[kind]:
        raise DatasetUnavailableError(f"{name}: unexpected header {rows[:1]}, expected {_HEADERS[kind]}")
    return rows[1:]


def _events(rows: list[list[str]]) -> pa.Table:
    users = [r[0] for r in rows]
    items = [r[1] for r in rows]
    rating = np.array([float(r[2]) for r in rows])
    seconds = np.array([int(float(r[3])) for r in rows], dtype=np.int64)
    event_type = np.where(rating >= 4, "apply", np.where(rating <= 2, "dismiss", "view"))
    event_id = [hashlib.sha1(f"{u}|{i}|{t}".encode()).hexdigest()[:16] for u, i, t in zip(users, items, seconds)]
    n = len(rows)
    columns = {
        "event_id": pa.array(event_id, pa.string()),
        "user_id": pa.array(["ml_u" + u for u in users], pa.string()),
        "event_type": pa.array(event_type.tolist(), pa.string()),
        "job_id": pa.array(["ml_i" + i for i in items], pa.string()),
        "query": pa.nulls(n, pa.string()),
        "ts": pa.array(seconds * 1_000_000, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        "channel": pa.array([CHANNEL] * n, pa.string()),
        PARTITION_COLUMN: pa.array((seconds // 86_400).astype(np.int32), pa.int32()).cast(pa.date32()),
    }
    schema = with_partition(RAW_EVENT)
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def _job(row: list[str]) -> dict:
    item_id, title, year, genres = row
    match = _TITLE_YEAR.match(title)
    if not year.isdigit() and match:  # item 1412: the year sits in the title, not in its column
        title, year = match.group(1), match.group(2)
    genre_list = genres.split() or None
    return {
        "job_id": "ml_i" + item_id,
        "title": None if title.strip().lower() in _UNKNOWN_TITLES else title,
        "category": genre_list[0] if genre_list else None,
        "skills": genre_list,
        "posted_ts": datetime(int(year), 1, 1, tzinfo=timezone.utc) if year.isdigit() else None,
    }


def _user(row: list[str]) -> dict:
    user_id, age, gender, occupation, zip_code = row
    return {
        "user_id": "ml_u" + user_id,
        "age": int(age) if age.isdigit() else None,
        "gender": gender or None,
        "occupation": occupation or None,
        "zip_code": zip_code or None,
    }


def load_movielens_100k(cache_dir: Path | None = None) -> MovieLens:
    """Load MovieLens-100K from the recbole wheel (fetched into ``cache_dir`` if needed).

    Input: ``cache_dir`` (default :func:`default_cache_dir`). Output: a :class:`MovieLens` with
    100,000 events, 1,682 jobs and 943 user profiles. Raises DatasetUnavailableError when the
    wheel cannot be fetched or read.
    """
    wheel_path = fetch_recbole_wheel(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            inter, items, users = (_read_member(wheel, kind) for kind in ("inter", "item", "user"))
    except zipfile.BadZipFile as e:
        raise DatasetUnavailableError(f"{wheel_path} is not a valid wheel; delete it to re-download") from e
    jobs = sorted((_job(r) for r in items), key=lambda j: int(j["job_id"][4:]))
    profiles = sorted((_user(r) for r in users), key=lambda u: int(u["user_id"][4:]))
    return MovieLens(
        events=_events(inter),
        jobs=pa.Table.from_pylist(jobs, schema=JOB),
        users=pa.Table.from_pylist(profiles, schema=USER_PROFILE),
    )


def catalog_snapshot(jobs: pa.Table, events: pa.Table) -> pa.Table:
    """``jobs`` with a ``ds`` column equal to the last event date: one catalogue snapshot."""
    snapshot_ds = pc.max(events.column(PARTITION_COLUMN)).cast(pa.date32())
    field = pa.field(PARTITION_COLUMN, pa.date32(), nullable=False)
    return jobs.append_column(field, pa.repeat(snapshot_ds, jobs.num_rows))


def write_movielens(out: Path, data: MovieLens) -> dict[str, int]:
    """Write ``data`` under ``out``: ``raw_events`` (by ds), ``job_catalog`` (one snapshot whose
    ds is the last event date) and ``user_profiles`` (unpartitioned). Returns rows per table."""
    out = Path(out)
    write_partitioned(data.events, out / Tables.RAW_EVENTS)
    write_partitioned(catalog_snapshot(data.jobs, data.events), out / Tables.JOB_CATALOG)
    write_single(data.users, out / Tables.USER_PROFILES)
    return {
        Tables.RAW_EVENTS: data.events.num_rows,
        Tables.JOB_CATALOG: data.jobs.num_rows,
        Tables.USER_PROFILES: data.users.num_rows,
    }
