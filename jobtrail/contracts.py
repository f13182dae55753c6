"""Data contracts, declared once as Arrow schemas.

Spark ``StructType``s are derived from these (``pyspark``'s ``from_arrow_schema``, ``spark_jobs.schemas``);
TensorFlow code reads Arrow/Parquet with them. Importing this module imports pyarrow only; the table names,
event types and shared rules live in :mod:`jobtrail.tables` (no pyarrow) and are re-exported here.

Column names here are the contract described in DESIGN.md ("Data contracts").
"""

from __future__ import annotations

import pyarrow as pa

from jobtrail.tables import (  # noqa: F401 -- re-exported: the contracts' names and rules, declared in tables.py
    DEFAULT_MAX_QUARANTINE_SHARE,
    EVENT_TYPE_IDS,
    EVENT_TYPES,
    LABEL_KINDS,
    PARTITION_COLUMN,
    REQUIRED_EVENT_COLUMNS,
    Tables,
)

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

def with_partition(schema: pa.Schema) -> pa.Schema:
    """Return ``schema`` with the ``ds`` partition column (UTC date) appended."""
    return schema.append(pa.field(PARTITION_COLUMN, pa.date32(), nullable=False))


def missing_columns(schema: pa.Schema, columns: list[str] | tuple[str, ...]) -> list[str]:
    """Names of ``schema``'s fields that are absent from ``columns``, in contract order."""
    present = set(columns)
    return [name for name in schema.names if name not in present]


TIMELINE = pa.schema(
    [
        *RAW_EVENT,
        pa.field("ds", pa.date32(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),  # 0-based, in (ts, event_id) order per user
        pa.field("session_id", pa.int32(), nullable=False),  # 0-based session number per user
        pa.field("session_position", pa.int32(), nullable=False),  # 0-based position within the session
        pa.field("gap_s", pa.float64()),  # seconds since the user's previous event; null for the first
    ],
    metadata={"contract": "timeline", "partition": "ds"},
)
"""One row per event of a user's unified timeline (all event types in one sequence)."""

_CONTEXT_FIELDS = [
    pa.field("ctx_job_index", pa.list_(pa.int32())),  # side-table index; 0 = no job (search) or padding
    pa.field("ctx_event_type", pa.list_(pa.int32())),  # EVENT_TYPE_IDS; 0 = padding
    pa.field("ctx_log_gap", pa.list_(pa.float32())),  # log1p(seconds since the previous event)
    pa.field("ctx_log_time_to_target", pa.list_(pa.float32())),  # log1p(seconds until the target/cutoff)
    pa.field("ctx_session_position", pa.list_(pa.int32())),  # position within its session
    pa.field("ctx_query_tokens", pa.list_(pa.int32())),  # (W-1) × Q hashed query tokens, flattened; 0 = none
    pa.field("context_length", pa.int32(), nullable=False),  # real events; the rest is padding at the end
]

TRAINING_EXAMPLE = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        *_CONTEXT_FIELDS,
        pa.field("target_job_index", pa.int32(), nullable=False),
        pa.field("target_event_type", pa.int32(), nullable=False),
        pa.field("label", pa.int32(), nullable=False),  # 1 positive, 0 negative
        pa.field("label_kind", pa.string(), nullable=False),  # LABEL_KINDS
        pa.field("weight", pa.float32(), nullable=False),
        pa.field("target_ts", UTC_TS, nullable=False),
        pa.field("split", pa.string(), nullable=False),  # train | validation
    ],
    metadata={"contract": "training_example"},
)
"""One sliding window: up to W−1 context events strictly before a target, jobs by side-table index."""

TRAINING_SEQUENCE = pa.schema(
    [
        pa.field("sequence_id", pa.string(), nullable=False),  # "<user>:<first event_id>" or "<user>:validation"
        pa.field("user_id", pa.string(), nullable=False),
        *_CONTEXT_FIELDS,  # L = W-1 positions, oldest first; time to target = to each position's target window
        pa.field("next_job_index", pa.list_(pa.int32())),  # [L] next positive after the position; 0 = none
        pa.field("future_job_index", pa.list_(pa.int32())),  # [L × K] distinct positives of the future window
        pa.field("negative_job_index", pa.list_(pa.int32())),  # [L × M] dismisses first, then random; 0 = unused
        pa.field("negative_weight", pa.list_(pa.float32())),  # [L × M] dismiss / random weight; 0.0 = unused
        pa.field("n_targets", pa.int32(), nullable=False),  # positions with a next target
        pa.field("split", pa.string(), nullable=False),  # train | validation
    ],
    metadata={"contract": "training_sequence"},
)
"""A chunk of up to W−1 timeline events with targets at every position (``jobtrail.sequence_core.chunks``), the default
training data; validation rows hold the latest W−1 events before the cutoff with targets at the last position only."""

STATE_EVENT = pa.struct(
    [
        pa.field("ts_us", pa.int64()),  # µs since the epoch, UTC
        pa.field("event_id", pa.string()),
        pa.field("event_type_id", pa.int32()),  # EVENT_TYPE_IDS
        pa.field("job_id", pa.string()),  # null for searches; mapped to the day's side-table index at inference
        pa.field("query", pa.string()),  # searches only; tokenised at inference with the model's buckets
        pa.field("session_id", pa.int32()),
        pa.field("session_position", pa.int32()),
        pa.field("gap_s", pa.float64()),  # seconds since the user's previous event; 0 for the first
        pa.field("day", pa.int32()),  # days since the epoch (UTC) of ts_us
    ]
)

USER_STATE = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("events", pa.list_(STATE_EVENT)),  # the latest ≤ STATE_EVENTS events, (ts_us, event_id) order
        pa.field("day_counts", pa.list_(pa.struct([pa.field("day", pa.int32()), pa.field("n", pa.int64())]))),
        pa.field("n_events", pa.int64(), nullable=False),  # every event folded in
        pa.field("last_event_ts", UTC_TS),
        pa.field("as_of_date", pa.date32(), nullable=False),
    ],
    metadata={"contract": "user_state", "partition": "as_of_date"},
)
"""Each user's timeline state strictly before ``as_of_date`` 00:00 UTC (``spark_jobs.user_state``): what inference
inputs need, folded forward one day at a time instead of re-reading the history."""

INFERENCE_INPUT = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        *_CONTEXT_FIELDS,
        pa.field("n_events", pa.int64(), nullable=False),  # events before the cutoff in the lookback
        pa.field("last_event_ts", UTC_TS),
        pa.field("below_min_events", pa.bool_(), nullable=False),
        pa.field("as_of_ts", UTC_TS, nullable=False),
        pa.field("as_of_date", pa.date32(), nullable=False),
    ],
    metadata={"contract": "inference_input", "partition": "as_of_date"},
)
"""Each user's latest ≤ W−1 events strictly before the cutoff (start of ``as_of_date``, UTC)."""

JOB_SIDE_TABLE = pa.schema(
    [
        pa.field("job_index", pa.int32(), nullable=False),  # dense 0..N-1; 0 = padding / no job
        pa.field("job_id", pa.string()),  # null only on the padding row
        pa.field("in_catalog", pa.bool_(), nullable=False),  # false: padding, or only seen in events
        pa.field("job_id_row", pa.int32(), nullable=False),  # learned id row: 0 padding, 1 not in the vocabulary, 2..
        pa.field("title_tokens", pa.list_(pa.int32())),  # fixed length; hashed ids 1..buckets, 0 = padding
        pa.field("skill_tokens", pa.list_(pa.int32())),  # fixed length; one hashed id per skill phrase
        pa.field("company_id", pa.int32(), nullable=False),  # 0 = missing, 1 = out of vocabulary, 2.. values
        pa.field("location_id", pa.int32(), nullable=False),
        pa.field("category_id", pa.int32(), nullable=False),
        pa.field("seniority_norm", pa.float32(), nullable=False),  # (seniority - 1) / 4 in [0, 1]; 0 if missing
        pa.field("has_seniority", pa.float32(), nullable=False),  # 1.0 / 0.0
        pa.field("salary_z", pa.float32(), nullable=False),  # z-scored log salary midpoint; 0 if missing
        pa.field("has_salary", pa.float32(), nullable=False),
        pa.field("log_posted_age_days", pa.float32(), nullable=False),  # log1p(days before the snapshot ds)
        pa.field("has_posted_ts", pa.float32(), nullable=False),
    ],
    metadata={"contract": "job_side_table"},
)
"""One row per job of a snapshot (plus jobs only seen in events, plus the padding row 0), encoder-ready.

Built by ``spark_jobs.job_table``; read on the TF side with ``jobtrail.job_table_io.load_job_table``.
"""

USER_EMBEDDING = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("as_of_date", pa.date32(), nullable=False),
        pa.field("as_of_ts", UTC_TS, nullable=False),  # the cutoff: only events strictly before it were used
        pa.field("embedding", pa.list_(pa.float32())),  # fixed dimension (table property); zeros on cold start
        pa.field("embedding_dim", pa.int32(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("n_events", pa.int64(), nullable=False),  # events before the cutoff in the inputs' lookback
        pa.field("last_event_ts", UTC_TS),
        pa.field("is_fallback", pa.bool_(), nullable=False),  # carried forward or cold start
        pa.field("embedding_as_of_date", pa.date32()),  # run that computed the embedding; null = cold start
        pa.field("computed_at", UTC_TS, nullable=False),  # when this row was written
    ],
    metadata={"contract": "user_embedding", "partition": "as_of_date",
              "key": "user_id,model_name,model_version,as_of_date"},
)
"""The feature table (Delta, partitioned by ``as_of_date``): one user embedding per user, model and day.

A computed row has ``embedding_as_of_date = as_of_date``; a carried-forward row (``is_fallback``) repeats an
earlier embedding of the same model version and keeps that run's ``embedding_as_of_date``; a cold-start row
(``is_fallback``, ``embedding_as_of_date`` null) holds zeros. See ``feature_store/table.py``.
"""

USER_EMBEDDING_INT8 = pa.schema(
    [
        *[f for f in USER_EMBEDDING if f.name != "embedding"][:3],
        pa.field("embedding_q", pa.list_(pa.int8())),  # round(embedding / embedding_scale), in -127..127
        pa.field("embedding_scale", pa.float32()),  # max |embedding| / 127 per row (0 for a zero vector)
        *[f for f in USER_EMBEDDING if f.name != "embedding"][3:],
    ],
    metadata={**USER_EMBEDDING.metadata, b"contract": b"user_embedding_int8"},
)
"""The feature table's compact storage: the same rows with the embedding quantised to int8 with a scale."""

EMBEDDING_MONITORING = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("as_of_date", pa.date32(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
        pa.field("previous_as_of_date", pa.date32()),  # the same model version's earlier partition compared
        pa.field("checked_at", UTC_TS, nullable=False),
        pa.field("status", pa.string(), nullable=False),  # pass | fail
        pa.field("failed_checks", pa.list_(pa.string())),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("users_scored", pa.int64(), nullable=False),  # computed this run (not fallback)
        pa.field("carried_forward", pa.int64(), nullable=False),
        pa.field("carried_stale", pa.int64()),  # carried over events newer than the embedding (null: before it existed)
        pa.field("cold_start", pa.int64(), nullable=False),
        pa.field("fallback_share", pa.float64()),
        pa.field("active_users", pa.int64(), nullable=False),  # users with events on the day(s) before the cutoff
        pa.field("active_covered", pa.int64(), nullable=False),
        pa.field("coverage", pa.float64()),
        pa.field("nan_rows", pa.int64(), nullable=False),  # NaN/inf/null values, null or wrong-size embeddings
        *[pa.field(f"norm_p{q:02d}", pa.float64()) for q in (0, 5, 50, 95, 100)],
        *[pa.field(f"cos_{group}_{name}", t) for group in ("active", "inactive")
          for name, t in (("pairs", pa.int64()), ("p05", pa.float64()), ("p50", pa.float64()), ("p95", pa.float64()))],
        pa.field("cos_median_checked", pa.float64()),  # median over recomputed users with an earlier embedding
        pa.field("staleness_histogram", pa.map_(pa.string(), pa.int64())),  # as_of_ts − last_event_ts buckets
        pa.field("sample_users", pa.int64()),  # computed users in the collapse sample
        pa.field("sample_cos_p05", pa.float64()),  # pairwise cosine quantiles within the sample
        pa.field("sample_cos_p50", pa.float64()),
        pa.field("top10_distinct", pa.int64()),  # distinct jobs in the sample's top-10 lists (model given)
        pa.field("top10_distinct_share", pa.float64()),
        pa.field("thresholds", pa.string(), nullable=False),  # JSON
    ],
    metadata={"contract": "embedding_monitoring", "partition": "as_of_date"},
)
"""One row per monitoring run of a feature-table partition (``spark_jobs/monitor.py``)."""
