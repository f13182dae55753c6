"""The Delta feature table of user embeddings: schema, writer, readers, point-in-time join, monitoring.

- :mod:`feature_store.table` — schema per storage, properties, idempotent writes (Spark);
- :func:`join_features` (:mod:`feature_store.join`) — point-in-time AS-OF join of label rows (Spark);
- :mod:`feature_store.readers` / :mod:`feature_store.asof` — pandas / polars / DuckDB through ``deltalake``;
- :mod:`feature_store.compact` — int8 storage in numpy/Arrow; :mod:`feature_store.selection` — which model;
- :mod:`feature_store.monitoring` — the checks run after every inference run.

Running an exported model on Arrow batches is TensorFlow's floor: :mod:`tf_models.serving`.

Importing the package imports nothing heavy; ``feature_store.join_features`` loads Spark on first use.
"""

from typing import Any

__all__ = ["join_features"]


def __getattr__(name: str) -> Any:
    if name == "join_features":
        from feature_store.join import join_features

        return join_features
    raise AttributeError(f"module 'feature_store' has no attribute {name!r}")
