"""Names and rules every floor shares: table names, the partition column, event types and their ids.

Plain Python (no pyarrow), so a DAG file's parse and the trigger forms can read them; the Arrow schemas of
these tables are in :mod:`jobtrail.contracts`, which re-exports every name below.
"""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = ("search", "impression", "view", "click", "save", "apply", "dismiss")
"""Canonical event types, in funnel order."""

EVENT_TYPE_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(EVENT_TYPES)}
"""Integer codes of event types in sequences: 0 is padding, ``random_negative`` marks inserted negatives."""
EVENT_TYPE_IDS["random_negative"] = len(EVENT_TYPES) + 1

LABEL_KINDS: tuple[str, ...] = ("positive", "dismiss", "random_negative")

REQUIRED_EVENT_COLUMNS: tuple[str, ...] = ("user_id", "event_type", "ts")

PARTITION_COLUMN = "ds"

DEFAULT_MAX_QUARANTINE_SHARE = 0.5
"""The share of a run's input rows ingest may quarantine before it exits non-zero (after writing): more usually
means a wrong mapping (``ingest --max-quarantine-share``, the history-load DAG's ``max_quarantine_share``)."""


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
    USER_STATE = "user_state"
    FEATURE_TABLE = "user_embeddings"
    MONITORING = "embedding_monitoring"
    MONITORING_REPORTS = "monitoring_reports"
    """Not a table: each monitoring run's readable ``.md`` and its ``.json`` (:func:`monitoring_report_name`)."""


def monitoring_report_name(as_of: object, model_name: str, model_version: object) -> str:
    """``<as-of>__<model>__<version>``: the stem of a monitoring run's reports under ``MONITORING_REPORTS``."""
    return f"{as_of}__{model_name}__{model_version}"
