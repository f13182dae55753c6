"""Arrow batches of per-user sequences ↔ numpy: the columnar edge of the sequence core.

:func:`user_timelines` unpacks an Arrow batch of per-user rows (``user_id`` and ``events``, an array of structs
sorted by (ts, event_id), as ``spark_jobs.sequences.user_sequences`` packs them) into numpy
:class:`~jobtrail.sequence_core.windows.UserTimeline` objects without a Python loop per event; :func:`rows_to_table`
turns the rows the windows and chunks cut back into an Arrow table of a contract schema. Spark's ``mapInArrow``
and the evaluation's in-process runs call the same two functions.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from jobtrail.sequence_core.windows import UserTimeline

SEQUENCE_FIELDS = ("ts_us", "event_id", "event_type_id", "job_index", "session_position", "gap_s", "query_tokens", "day")


def user_timelines(batch: pa.RecordBatch, query_tokens: int) -> Iterator[tuple[str, UserTimeline]]:
    """(user_id, timeline) for each row of a batch of ``spark_jobs.sequences.user_sequences``."""
    events = batch.column("events")
    offsets = events.offsets.to_numpy()
    flat = events.values
    cols = {name: flat.field(name) for name in SEQUENCE_FIELDS}
    ts = cols["ts_us"].to_numpy()
    tokens = cols["query_tokens"]
    token_matrix = np.asarray(tokens.values.to_numpy(zero_copy_only=False), np.int32).reshape(-1, query_tokens)
    arrays = {
        "event_id": np.asarray(cols["event_id"].to_pylist(), dtype=object),
        "event_type": cols["event_type_id"].to_numpy().astype(np.int32),
        "job_index": cols["job_index"].to_numpy().astype(np.int32),
        "session_position": cols["session_position"].to_numpy().astype(np.int32),
        "gap_s": cols["gap_s"].to_numpy(),
        "day": cols["day"].to_numpy().astype(np.int32),
    }
    for i, user in enumerate(batch.column("user_id").to_pylist()):
        lo, hi = offsets[i], offsets[i + 1]
        yield user, UserTimeline(
            event_id=arrays["event_id"][lo:hi], ts=ts[lo:hi], event_type=arrays["event_type"][lo:hi],
            job_index=arrays["job_index"][lo:hi], session_position=arrays["session_position"][lo:hi],
            gap_s=arrays["gap_s"][lo:hi], query_tokens=token_matrix[lo:hi], day=arrays["day"][lo:hi],
        )


def rows_to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts; timestamps as µs ints) as an Arrow table of ``schema``."""
    columns = {name: [r[name] for r in rows] for name in schema.names}
    for name in ("target_ts", "last_event_ts", "as_of_ts"):
        if name in columns:
            columns[name] = pa.array(columns[name], pa.int64()).cast(pa.timestamp("us")).cast(schema.field(name).type)
    return pa.table(columns, schema=schema)
