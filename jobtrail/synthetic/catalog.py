"""The synthetic job catalogue: jobs of every occupation family that appear and expire over the days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa

from jobtrail.contracts import JOB, PARTITION_COLUMN
from jobtrail.synthetic.config import DAY_US, SECOND_US, GeneratorConfig
from jobtrail.synthetic.occupations import CITIES, FAMILIES, SENIORITY_WORDS

MISSING_RATE = 0.05  # share of jobs with a missing company, location or salary
LOOKBACK_DAYS = 45  # jobs posted up to this many days before the first day are still live on it


@dataclass(frozen=True)
class Catalog:
    """All jobs of a run, with per-(family, day) indexes of the live ones."""

    table: pa.Table  # contract JOB, one row per job
    family: np.ndarray  # int, family index per job
    seniority: np.ndarray  # int 1..5
    posted_day: np.ndarray  # day index relative to the start (may be negative)
    expires_day: np.ndarray  # exclusive
    live: dict[tuple[int, int], np.ndarray]  # (family, day) → job indices live that day
    job_ids: np.ndarray  # job_id strings, by job index

    def live_jobs(self, family: int, day: int) -> np.ndarray:
        return self.live[(family, day)]

    def snapshot(self, cfg: GeneratorConfig, day: int) -> pa.Table:
        """The catalogue as published on ``day``: the jobs live that day, with ``ds``."""
        rows = np.flatnonzero((self.posted_day <= day) & (day < self.expires_day))
        snap = self.table.take(pa.array(rows))
        ds = pa.array([cfg.start + timedelta(days=day)] * len(rows), pa.date32())
        return snap.append_column(PARTITION_COLUMN, ds)


def build_catalog(cfg: GeneratorConfig) -> Catalog:
    """Generate the catalogue for ``cfg``; deterministic in ``cfg.seed``."""
    rng = np.random.default_rng([cfg.seed, 0xCA7A])
    n = cfg.n_jobs
    n_fam = len(FAMILIES)
    family = np.concatenate([np.arange(n_fam), rng.integers(0, n_fam, n - n_fam)])
    seniority = rng.choice(np.arange(1, 6), size=n, p=[0.2, 0.3, 0.25, 0.17, 0.08])
    posted_day = rng.integers(-LOOKBACK_DAYS, cfg.days, size=n)
    # every family has at least one job live on every day: the first n_fam jobs span the whole window
    posted_day[:n_fam] = -LOOKBACK_DAYS
    lifetime = rng.integers(14, 61, size=n)
    lifetime[:n_fam] = cfg.days + LOOKBACK_DAYS
    expires_day = posted_day + lifetime

    titles, companies, locations, skills, sal_min, sal_max = [], [], [], [], [], []
    for i in range(n):
        fam = FAMILIES[family[i]]
        prefix = SENIORITY_WORDS[seniority[i] - 1]
        role = fam.roles[rng.integers(len(fam.roles))]
        titles.append(f"{prefix} {role}".strip())
        companies.append(None if rng.random() < MISSING_RATE else fam.companies[rng.integers(len(fam.companies))])
        locations.append(None if rng.random() < MISSING_RATE else CITIES[rng.integers(len(CITIES))])
        k = int(rng.integers(2, min(5, len(fam.skills)) + 1))
        picked = [fam.skills[j] for j in rng.choice(len(fam.skills), size=k, replace=False)]
        if rng.random() < 0.1:  # an off-family skill, as real postings have
            other = FAMILIES[rng.integers(n_fam)]
            picked.append(other.skills[rng.integers(len(other.skills))])
        skills.append(picked)
        if rng.random() < MISSING_RATE:
            sal_min.append(None)
            sal_max.append(None)
        else:
            low = fam.salary_base * (0.7 + 0.15 * seniority[i]) * float(np.exp(rng.normal(0, 0.1)))
            sal_min.append(round(low, -2))
            sal_max.append(round(low * float(rng.uniform(1.1, 1.4)), -2))
    posted_ts = cfg.start_us + posted_day * DAY_US + rng.integers(6 * 3600, 20 * 3600, size=n) * SECOND_US

    width = max(7, len(str(n)))
    table = pa.table(
        {
            "job_id": [f"j{i:0{width}d}" for i in range(n)],
            "title": titles,
            "company": companies,
            "location": locations,
            "category": [FAMILIES[f].name for f in family],
            "skills": skills,
            "seniority": seniority.astype(np.int32),
            "salary_min": pa.array(sal_min, pa.float64()),
            "salary_max": pa.array(sal_max, pa.float64()),
            "posted_ts": pa.array(posted_ts, pa.int64()).cast(pa.timestamp("us")).cast(JOB.field("posted_ts").type),
        },
        schema=JOB,
    )
    live = {
        (f, d): np.flatnonzero((family == f) & (posted_day <= d) & (d < expires_day))
        for f in range(n_fam)
        for d in range(cfg.days)
    }
    job_ids = np.asarray(table.column("job_id").to_pylist(), dtype=object)
    return Catalog(table, family, seniority, posted_day, expires_day, live, job_ids)
