"""Which model's embeddings a consumer gets: one (model_name, model_version), never a mix of spaces.

Shared by the Spark join (:mod:`feature_store.join`), the JVM-free readers (:mod:`feature_store.readers`)
and monitoring, so every consumer selects the same rows:

- ``model_name`` None: the table must hold a single model name (else ConfigError listing them);
- ``model_version`` None: the version whose latest ``as_of_date`` is the most recent (the one being
  published now); ties go to the higher version number.

Embeddings of two versions live in different spaces, so one call never mixes versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from jobtrail.errors import ConfigError

FEATURE_COLUMNS = ("as_of_ts", "embedding", "model_name", "model_version", "is_fallback", "embedding_as_of_date")
"""Feature-table columns a point-in-time join attaches to each label row (prefixed, see ``output_name``)."""


def output_name(column: str, prefix: str) -> str:
    """``embedding`` → ``<prefix>``, any other column → ``<prefix>_<column>``."""
    return prefix if column == "embedding" else f"{prefix}_{column}"


def _version_key(version: str) -> tuple[int, int | str]:
    return (1, int(version)) if version.isdigit() else (0, version)


def pick_model(
    available: Iterable[tuple[str, str, date]],
    model_name: str | None = None,
    model_version: str | None = None,
) -> tuple[str, str]:
    """(name, version) to read from ``available`` = (model_name, model_version, latest as_of_date) rows."""
    rows = list(available)
    if not rows:
        raise ConfigError("the feature table is empty: run inference (spark_jobs/infer.py) first")
    names = sorted({r[0] for r in rows})
    if model_name is None:
        if len(names) > 1:
            raise ConfigError(f"the feature table holds several models {names}; choose one with model_name")
        model_name = names[0]
    rows = [r for r in rows if r[0] == model_name]
    if not rows:
        raise ConfigError(f"the feature table has no rows of model {model_name!r}; it holds {names}")
    if model_version is not None:
        if not any(r[1] == model_version for r in rows):
            versions = sorted({r[1] for r in rows}, key=_version_key)
            raise ConfigError(f"model {model_name!r} has no version {model_version!r} in the feature table; "
                              f"it has {versions}")
        return model_name, model_version
    latest = max(rows, key=lambda r: (r[2], _version_key(r[1])))
    return model_name, latest[1]
