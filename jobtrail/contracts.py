"""Data contracts, declared once as Arrow schemas.

Spark ``StructType``s are derived from these in ``spark_jobs.schemas``; TensorFlow code reads
Arrow/Parquet with them. Importing this module imports pyarrow only.

Column names here are the contract described in DESIGN.md ("Data contracts").
"""

from __future__ import annotations

import pyarrow as pa

EVENT_TYPES: tuple[str, ...] = ("search", "impression", "view", "click", "save", "apply", "dismiss")
"""Canonical event types, in funnel order."""

UTC_TS = pa.timestamp("us", tz="UTC")

RAW_EVENT = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=True),  # optional in input; hashed if absent
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("job_id", pa.string(), nullable=True),  # required except for search
        pa.field("query", pa.string(), nullable=True),  # search events only
        pa.field("ts", UTC_TS, nullable=False),
        pa.field("channel", pa.string(), nullable=True),
    ],
    metadata={"contract": "raw_event", "partition": "ds"},
)
"""One row per user action, as it arrives (after the column mapping)."""

REQUIRED_EVENT_COLUMNS: tuple[str, ...] = ("user_id", "event_type", "ts")

JOB = pa.schema(
    [
        pa.field("job_id", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("company", pa.string()),
        pa.field("location", pa.string()),
        pa.field("category", pa.string()),
        pa.field("skills", pa.list_(pa.string())),
        pa.field("seniority", pa.int32()),
        pa.field("salary_min", pa.float64()),
        pa.field("salary_max", pa.float64()),
        pa.field("posted_ts", UTC_TS),
    ],
    metadata={"contract": "job", "partition": "ds"},
)
"""One row per job in a catalogue snapshot; every attribute but ``job_id`` may be missing."""

GROUND_TRUTH = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("ds", pa.date32(), nullable=False),
        pa.field("user_kind", pa.string(), nullable=False),
        pa.field("intent", pa.string(), nullable=False),
        pa.field("intent_seniority", pa.int32(), nullable=False),
        pa.field("phase", pa.int32(), nullable=False),
    ],
    metadata={"contract": "ground_truth"},
)
"""Synthetic data only: each user's latent intent (occupation family) per day."""

USER_PROFILE = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("age", pa.int32()),
        pa.field("gender", pa.string()),
        pa.field("occupation", pa.string()),
        pa.field("zip_code", pa.string()),
    ],
    metadata={"contract": "user_profile"},
)
"""Public data only (MovieLens demographics), kept for probes."""

PARTITION_COLUMN = "ds"


class Tables:
    """Names of the tables the pipeline writes, relative to the data root."""

    RAW_EVENTS = "raw_events"
    JOB_CATALOG = "job_catalog"
    GROUND_TRUTH = "ground_truth"
    USER_PROFILES = "user_profiles"
    CLEAN_EVENTS = "clean_events"
    QUARANTINE = "quarantine_events"
    INGEST_COUNTS = "ingest_counts"
    JOB_SIDE_TABLE = "job_side_table"
    TIMELINES = "timelines"
    TRAINING_EXAMPLES = "training_examples"
    INFERENCE_INPUTS = "inference_inputs"
    FEATURE_TABLE = "user_embeddings"
    MONITORING = "embedding_monitoring"


def with_partition(schema: pa.Schema) -> pa.Schema:
    """Return ``schema`` with the ``ds`` partition column (UTC date) appended."""
    return schema.append(pa.field(PARTITION_COLUMN, pa.date32(), nullable=False))


def missing_columns(schema: pa.Schema, columns: list[str] | tuple[str, ...]) -> list[str]:
    """Names of ``schema``'s fields that are absent from ``columns``, in contract order."""
    present = set(columns)
    return [name for name in schema.names if name not in present]
