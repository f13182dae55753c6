"""What every DAG's plan reads from its form the same way: the choices and defaults shared by the forms, unknown
keys refused, a knob's value checked against its declaration, dates written as the jobs' flags take them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from typing import Any

from jobtrail.errors import ConfigError
from jobtrail.knobs import IntKnob, NumberKnob
from jobtrail.rules import check_int, shown

INPUT_FORMATS: tuple[str, ...] = ("parquet", "json", "csv")
DEFAULT_MODEL_NAME = "jobtrail_user_embeddings"
DEFAULT_ALIAS = "champion"
CATALOG_PARAMS: tuple[str, ...] = ("catalog", "catalog_mapping", "no_catalog")
"""Where job attributes come from, in every DAG's form (:func:`orchestration.plans.catalog.catalog_source`)."""


def check_known(params: Mapping[str, Any], known: tuple[str, ...], dag: str) -> None:
    """Refuse conf keys the DAG does not define (a typo would otherwise silently fall back to a default)."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"{dag}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(known)}")


def knob_value(params: Mapping[str, Any], knob: IntKnob | NumberKnob) -> Any:
    """The form's value of ``knob`` (its default when absent), checked against the knob's bounds."""
    value = params.get(knob.name, knob.default)
    if isinstance(knob, IntKnob):
        return check_int(value, knob.name, minimum=knob.minimum, maximum=knob.maximum)
    try:
        return knob.check(value)
    except ConfigError:
        raise ConfigError(f"{knob.name}={shown(value)} must be a number {knob.range}") from None


def arg(value: object) -> str:
    """A flag's value: a date in ISO form, anything else as ``str``."""
    return value.isoformat() if isinstance(value, date) else str(value)


def midnight_utc(day: date) -> str:
    """``ingest --now``: the start of ``day`` (the end of the ingested days), so a rerun writes identical rows."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
