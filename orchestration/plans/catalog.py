"""Where the job side table takes job attributes from, the same way in every DAG (``job-table``'s flags)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.rules import check_bool, inside_root
from jobtrail.tables import Tables


@dataclass(frozen=True)
class CatalogSource:
    """Where the job side table takes job attributes from — ``job-table``'s flags.

    ``path`` alone: catalogue snapshots on the contract (``<path>/ds=D/*.parquet``); with ``mapping``: an export in
    its own layout read through a catalogue mapping (``spark_jobs/catalog_input.py``: catalogue rows, or the
    events' export with the attributes on each event); ``path`` None: no catalogue, id-only jobs from the events.
    """

    path: Path | None
    mapping: Path | None = None

    def args(self) -> list[str]:
        if self.path is None:
            return ["--no-catalog"]
        return ["--catalog", str(self.path), *(["--catalog-mapping", str(self.mapping)] if self.mapping else [])]

    def to_xcom(self) -> dict[str, str | None]:
        return {"catalog": None if self.path is None else str(self.path),
                "catalog_mapping": None if self.mapping is None else str(self.mapping)}

    @classmethod
    def from_xcom(cls, value: Mapping[str, Any]) -> "CatalogSource":
        path, mapping = value.get("catalog"), value.get("catalog_mapping")
        return cls(Path(path) if path else None, Path(mapping) if mapping else None)


def catalog_source(params: Mapping[str, Any], data_root: Path, ds: date | None = None) -> CatalogSource:
    """The form's ``catalog`` / ``catalog_mapping`` / ``no_catalog`` checked (paths inside the data root; ``{ds}``
    in a path becomes the run's day)."""
    if check_bool(params.get("no_catalog", False), "no_catalog"):
        if params.get("catalog_mapping"):
            raise ConfigError("no_catalog takes every job from the events: leave catalog_mapping empty")
        return CatalogSource(None)

    def path(value: object, what: str) -> Path:
        text = value.replace("{ds}", ds.isoformat()) if isinstance(value, str) and ds else value
        return inside_root(data_root, text, what)

    mapping = params.get("catalog_mapping")
    return CatalogSource(path(params.get("catalog") or Tables.JOB_CATALOG, "catalog"),
                         None if mapping in (None, "") else path(mapping, "catalog_mapping"))
