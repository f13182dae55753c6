"""The Airflow Assets jobtrail publishes (environment only: the data root from ``JOBTRAIL_DATA_ROOT``)."""

from __future__ import annotations

from typing import Any

from jobtrail.settings import Settings
from jobtrail.tables import Tables

FEATURE_TABLE_ASSET_NAME = "jobtrail_user_embeddings"
"""Schedule a downstream DAG on ``Asset(name="jobtrail_user_embeddings")``; each event's extra carries
``as_of_date``, ``ds``, ``model_name``, ``model_version``, ``rows``, ``table`` and the monitoring figures."""


def feature_table_uri(settings: Settings | None = None) -> str:
    root = (settings or Settings.from_env()).data_root
    text = str(root)
    if "://" in text:  # object storage root, e.g. s3://bucket/jobtrail
        return f"{text.rstrip('/')}/{Tables.FEATURE_TABLE}"
    return (root.resolve() / Tables.FEATURE_TABLE).as_uri()


def feature_table_asset(settings: Settings | None = None) -> Any:
    """``Asset`` of the Delta feature table (name :data:`FEATURE_TABLE_ASSET_NAME`)."""
    from airflow.sdk import Asset

    return Asset(name=FEATURE_TABLE_ASSET_NAME, uri=feature_table_uri(settings), group="feature_tables",
                 extra={"format": "delta", "partition": "as_of_date"})
