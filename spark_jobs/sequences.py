"""Per-user event sequences shared by training examples and inference inputs.

:func:`user_sequences` packs each user's timeline into one row (an array of structs sorted by
(ts, event_id), the fields of :data:`jobtrail.sequence_core.arrow_io.SEQUENCE_FIELDS`);
:func:`jobtrail.sequence_core.arrow_io.user_timelines` unpacks an Arrow batch of such rows into numpy timelines
inside ``mapInArrow``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobtrail.tables import EVENT_TYPE_IDS
from spark_jobs.tokens import query_token_ids


def with_job_index(timeline: DataFrame, side_table: DataFrame) -> DataFrame:
    """Add ``job_index`` from the side table's (job_id, job_index); 0 (the no-job slot) when the event has no job.

    A job_id absent from the side table also gets 0: the event keeps its type and time but loses its job. Build
    the side table with the events of the same days (``job_table.py --events``) so such jobs get an id-only row.
    """
    index = F.broadcast(side_table.select("job_id", "job_index"))
    return timeline.join(index, "job_id", "left").withColumn("job_index", F.coalesce("job_index", F.lit(0)))


def event_type_id(event_type: Column) -> Column:
    """The ``EVENT_TYPE_IDS`` id of an event type name (int)."""
    type_ids = F.create_map(*[x for name, i in EVENT_TYPE_IDS.items() for x in (F.lit(name), F.lit(i))])
    return type_ids[event_type].cast("int")


def user_sequences(timeline: DataFrame, *, query_tokens: int, token_buckets: int) -> DataFrame:
    """One row per user: ``events`` = the user's timeline as a (ts, event_id)-sorted array of structs."""
    event = F.struct(
        (F.unix_micros("ts")).alias("ts_us"),
        F.col("event_id"),
        event_type_id(F.col("event_type")).alias("event_type_id"),
        F.col("job_index").cast("int").alias("job_index"),
        F.col("session_position"),
        F.coalesce("gap_s", F.lit(0.0)).alias("gap_s"),
        query_token_ids(F.col("query"), buckets=token_buckets, max_tokens=query_tokens).alias("query_tokens"),
        F.datediff("ds", F.lit(date(1970, 1, 1))).alias("day"),
    )
    return timeline.groupBy("user_id").agg(F.sort_array(F.collect_list(event)).alias("events"))


def daily_pools(timeline: DataFrame) -> dict[int, np.ndarray]:
    """Day (days since epoch) → sorted job indices anyone interacted with that day (any event type)."""
    rows = (
        timeline.where("job_index > 0")
        .groupBy(F.datediff("ds", F.lit(date(1970, 1, 1))).alias("day"))
        .agg(F.sort_array(F.collect_set("job_index")).alias("jobs"))
        .collect()
    )
    return {r.day: np.asarray(r.jobs, dtype=np.int32) for r in rows}
