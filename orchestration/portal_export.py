"""A platform's CSV export made from the synthetic generator and disguised as a real one, for the walkthrough of
docs/onboarding.md (:mod:`orchestration.onboarding`): its own column names, epoch milliseconds, ``bookmark`` /
``delete`` / ``shown`` for save / dismiss / impression, the job's title, employer and city inline on every event,
a separate ``;``-separated catalogue file with decimal-comma salaries and ``|``-separated skills, a few defective
rows, and the mappings a data engineer writes for it.

    python -m orchestration.onboarding export --synthetic data/synthetic --out data/lake/exports
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jobtrail.tables import Tables

SPELLINGS = {"save": "bookmark", "dismiss": "delete", "impression": "shown"}
"""The export's own words for three contract event types (the others keep theirs)."""

EVENTS_MAPPING = {
    "format": "csv",
    "columns": {"event_uuid": "event_id", "member_id": "user_id", "action": "event_type", "posting_id": "job_id",
                "search_terms": "query", "occurred_at_ms": "ts", "source": "channel"},
    "event_types": {spelling: contract for contract, spelling in SPELLINGS.items()},
    "epoch_unit": "ms",
}
"""The events' mapping a data engineer writes for :func:`portal_export`'s ``events.csv``."""

CATALOG_MAPPING = {
    "format": "csv",
    "rows": "jobs",
    "columns": {"posting_id": "job_id", "job_title": "title", "employer": "company", "city": "location",
                "sector": "category", "tags": "skills", "level": "seniority", "pay_from": "salary_min",
                "pay_to": "salary_max", "published": "posted_ts"},
    "lists": {"skills": "|"},
    "decimal_comma": True,
    "csv": {"header": True, "sep": ";"},
}
"""The catalogue export's mapping (``jobs.csv``)."""

ATTRIBUTES_MAPPING = {
    "format": "csv",
    "rows": "events",
    "columns": {"posting_id": "job_id", "posting_title": "title", "employer": "company", "city": "location",
                "occurred_at_ms": "ts"},
    "epoch_unit": "ms",
}
"""The same events read as a catalogue: the attributes carried on each event (no catalogue file needed)."""


def _ms(ts: datetime) -> int:
    return int(ts.replace(tzinfo=ts.tzinfo or timezone.utc).timestamp() * 1000)


def _money(value: float | None) -> str:
    """``45.000,00 €`` (thousands dots, decimal comma) — how the portal writes salaries."""
    if value is None:
        return ""
    whole, cents = f"{value:,.2f}".split(".")
    return f"{whole.replace(',', '.')},{cents} €"


def portal_export(synthetic: Path, out: Path) -> dict[str, Any]:
    """``events.csv``, ``jobs.csv`` and the three mappings under ``out`` from a generated dataset (``synthetic``:
    ``jobtrail generate --out``): the shapes of a real platform's export (module docstring)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    events = pads.dataset(synthetic / Tables.RAW_EVENTS, partitioning="hive").to_table().sort_by(
        [("ts", "ascending"), ("event_id", "ascending")])
    catalog = pads.dataset(synthetic / Tables.JOB_CATALOG, partitioning="hive").to_table()
    latest: dict[str, dict[str, Any]] = {}
    for row in catalog.sort_by([("ds", "ascending")]).to_pylist():
        latest[row["job_id"]] = row
    out.mkdir(parents=True, exist_ok=True)
    with (out / "events.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_uuid", "member_id", "action", "posting_id", "posting_title", "employer", "city",
                    "search_terms", "occurred_at_ms", "source"])
        rows = []
        for e in events.to_pylist():
            job = latest.get(e["job_id"] or "", {})
            rows.append([e["event_id"], e["user_id"], SPELLINGS.get(e["event_type"], e["event_type"]),
                         e["job_id"] or "", job.get("title") or "", job.get("company") or "",
                         job.get("location") or "", e["query"] or "", _ms(e["ts"]), e["channel"] or ""])
        w.writerows(rows)
        w.writerows(defects(rows))
    with (out / "jobs.csv").open("w", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["posting_id", "job_title", "employer", "city", "sector", "tags", "level", "pay_from", "pay_to",
                    "published"])
        for job_id, j in sorted(latest.items()):
            w.writerow([job_id, j["title"] or "", j["company"] or "", j["location"] or "", j["category"] or "",
                        "|".join(j["skills"] or []), "" if j["seniority"] is None else j["seniority"],
                        _money(j["salary_min"]), _money(j["salary_max"]),
                        j["posted_ts"].date().isoformat() if j["posted_ts"] else ""])
    for name, mapping in (("events.json", EVENTS_MAPPING), ("jobs.json", CATALOG_MAPPING),
                          ("attributes.json", ATTRIBUTES_MAPPING)):
        (out / name).write_text(json.dumps(mapping, indent=2) + "\n")
    first, last = pc.min_max(events["ts"]).values()
    return {"events": len(rows) + DEFECTS, "jobs": len(latest), "first": str(first), "last": str(last),
            "defects": DEFECTS}


DEFECTS = 6


def defects(rows: list[list[Any]]) -> list[list[Any]]:
    """What a real export carries besides its events (:data:`DEFECTS` rows, appended): three rows sent twice,
    two of an action the contract does not know (``share``) and one without a member id."""
    picked = [rows[len(rows) * k // 7] for k in range(1, 7)]
    shared = [[f"{r[0]}-share", r[1], "share", *r[3:]] for r in picked[3:5]]
    anonymous = [[f"{picked[5][0]}-anon", "", *picked[5][2:]]]
    return [list(r) for r in picked[:3]] + shared + anonymous
