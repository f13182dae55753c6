"""Amazon Games (SASRec's ``Video.txt``) mapped onto the contracts, plus the leave-one-out split.

The file has one ``user_id item_id`` pair per line (ids from 1), each user's lines in
chronological order, and no timestamps. Every line becomes a ``view`` event of user ``amz_u<id>``
on job ``amz_i<id>`` (channel ``amazon``, no query). Timestamps are synthetic and preserve order
only: position k (0-based) in a user's sequence gets ``2000-01-01T00:00:00Z + k days``. Each
event is therefore its own session and lands in its own ``ds``; the order is all that is real,
so time gaps and dates carry no information. ``event_id`` is a stable hash of (user id, position).

Run: ``python -c "from pathlib import Path; from jobtrail.datasets import amazon_games as a;
print(a.write_amazon_games(Path('data/amazon'), a.load_amazon_games()))"``
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from jobtrail.contracts import JOB, PARTITION_COLUMN, RAW_EVENT, Tables, with_partition
from jobtrail.datasets.movielens import catalog_snapshot
from jobtrail.errors import DatasetUnavailableError
from jobtrail.parquet_io import write_partitioned

PATH_ENV = "JOBTRAIL_AMAZON_GAMES"
CHANNEL = "amazon"
EPOCH_DAY = 10_957  # 2000-01-01 in days since 1970-01-01
_US_PER_DAY = 86_400 * 1_000_000
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@dataclass(frozen=True)
class AmazonGames:
    """Amazon Games on the contracts: ``events`` (``with_partition(RAW_EVENT)``) and ``jobs`` (``JOB``,
    id only)."""

    events: pa.Table
    jobs: pa.Table


def default_path() -> Path:
    """``$JOBTRAIL_AMAZON_GAMES`` if set, else ``<repo root>/../shared/data/amazon-games/Video.txt``."""
    env = os.environ.get(PATH_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "amazon-games" / "Video.txt"


def _read_pairs(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The (user, item) integer columns of ``path``, in file order."""
    if not path.is_file():
        raise DatasetUnavailableError(
            f"Amazon Games file not found: {path}; pass path= or set {PATH_ENV} to SASRec's Video.txt"
        )
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=["user", "item"]),
            parse_options=pacsv.ParseOptions(delimiter=" "),
            convert_options=pacsv.ConvertOptions(column_types={"user": pa.int64(), "item": pa.int64()}),
        )
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetUnavailableError(f"{path}: expected lines 'user_id item_id' (integers): {e}") from e
    if table.column("user").null_count or table.column("item").null_count:
        raise DatasetUnavailableError(f"{path}: some lines lack a user or an item id")
    return table.column("user").to_numpy(), table.column("item").to_numpy()


def _positions(users: np.ndarray) -> np.ndarray:
    """0-based position of each row within its user's rows, in file order."""
    order = np.argsort(users, kind="stable")
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(users)]))
    positions = np.empty(len(users), dtype=np.int64)
    positions[order] = np.arange(len(users)) - group_start
    return positions


def _hash_hex(users: np.ndarray, positions: np.ndarray) -> pa.Array:
    """16 hex chars of splitmix64(user << 32 | position): a stable, vectorised event id."""
    x = (users.astype(np.uint64) << np.uint64(32)) | positions.astype(np.uint64)
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    octets = x.astype(">u8").view(np.uint8).reshape(-1, 8)
    chars = np.empty((len(x), 16), dtype=np.uint8)
    chars[:, 0::2], chars[:, 1::2] = _HEX[octets >> 4], _HEX[octets & 15]
    offsets = np.arange(0, 16 * (len(x) + 1), 16, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(x), [None, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())])


def _prefixed(prefix: str, ids: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(ids).cast(pa.string()), "")


def load_amazon_games(path: Path | None = None) -> AmazonGames:
    """Load SASRec's Amazon Games ``Video.txt`` as contract tables.

    Input: ``path`` (default :func:`default_path`). Output: :class:`AmazonGames` with one ``view``
    event per line (287,107 for the published file) and one id-only job per item (23,715).
    Raises DatasetUnavailableError when the file is missing or malformed.
    """
    users, items = _read_pairs(Path(path) if path is not None else default_path())
    positions = _positions(users)
    n = len(users)
    columns = {
        "event_id": _hash_hex(users, positions),
        "user_id": _prefixed("amz_u", users),
        "event_type": pa.repeat(pa.scalar("view"), n),
        "job_id": _prefixed("amz_i", items),
        "query": pa.nulls(n, pa.string()),
        "ts": pa.array(EPOCH_DAY * _US_PER_DAY + positions * _US_PER_DAY).cast(pa.timestamp("us", tz="UTC")),
        "channel": pa.repeat(pa.scalar(CHANNEL), n),
        PARTITION_COLUMN: pa.array((EPOCH_DAY + positions).astype(np.int32)).cast(pa.date32()),
    }
    schema = with_partition(RAW_EVENT)
    events = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
    job_ids = _prefixed("amz_i", np.unique(items))
    jobs = pa.Table.from_arrays(
        [job_ids if f.name == "job_id" else pa.nulls(len(job_ids), f.type) for f in JOB], schema=JOB
    )
    return AmazonGames(events=events, jobs=jobs)


def write_amazon_games(out: Path, data: AmazonGames) -> dict[str, int]:
    """Write ``data`` under ``out``: ``raw_events`` (by ds) and ``job_catalog`` (one snapshot whose
    ds is the last event date). Returns rows per table."""
    out = Path(out)
    write_partitioned(data.events, out / Tables.RAW_EVENTS)
    write_partitioned(catalog_snapshot(data.jobs, data.events), out / Tables.JOB_CATALOG)
    return {Tables.RAW_EVENTS: data.events.num_rows, Tables.JOB_CATALOG: data.jobs.num_rows}


def leave_one_out_split(events: pa.Table) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Split ``events`` the SASRec way: per user ordered by (ts, event_id), the last event is test,
    the second-to-last validation, the rest train. As in SASRec's ``data_partition``, users with
    fewer than 3 events put all of them in train. Returns ``(train, valid, test)``, each sorted by
    (user_id, ts, event_id) with the schema of ``events``.
    """
    ordered = events.sort_by([("user_id", "ascending"), ("ts", "ascending"), ("event_id", "ascending")])
    n = ordered.num_rows
    codes = pc.dictionary_encode(ordered.column("user_id")).combine_chunks().indices.to_numpy()
    group = np.cumsum(np.r_[True, codes[1:] != codes[:-1]]) - 1 if n else np.zeros(0, dtype=np.int64)
    sizes = np.bincount(group)
    from_end = np.cumsum(sizes)[group] - 1 - np.arange(n)
    eligible = sizes[group] >= 3
    test, valid = eligible & (from_end == 0), eligible & (from_end == 1)
    train = ~(test | valid)
    return tuple(ordered.filter(pa.array(mask)) for mask in (train, valid, test))  # type: ignore[return-value]
