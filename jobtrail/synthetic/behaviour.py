"""Synthetic job-seekers: latent intents that evolve, heavy-tailed activity, sessions and a funnel.

A user's *plan* (kind, intent phases, session start times) is drawn from ``rng([seed, 1, u])`` and
their *events* from ``rng([seed, 2, u])``: both are pure functions of (seed, user index), so any
split of users over processes or Spark partitions gives the same rows.

- kinds: 70% stable seekers (one intent), 20% explorers (one main intent, many sessions on nearby
  families), 10% career changers (2–3 intents in turn; half follow the write-up's path civil
  engineering → clinical software training → senior account management, with the middle phase the
  busiest so naive title-token counts point at "software" while the current intent is the last one);
- activity: sessions per 30 days ~ lognormal(-0.5, 1.4), so most users have a handful of events and
  about 1% over 100;
- sessions: bursts of events seconds to minutes apart, separated by more than 30 minutes;
- funnel: search → impressions → click → view → save / apply; off-intent impressions get dismissed;
  some clicks are off-topic noise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from jobtrail.synthetic.catalog import Catalog
from jobtrail.synthetic.config import DAY_US, MINUTE_US, SECOND_US, GeneratorConfig
from jobtrail.synthetic.occupations import CAREER_CHANGE_PATH, FAMILIES, FAMILY_INDEX, family_vocabulary

KINDS = ("stable", "explorer", "career_changer")
KIND_P = (0.7, 0.2, 0.1)
SESSION_GAP_US = 31 * MINUTE_US  # sessions are separated by more than the 30-minute idle rule
CHANNELS = ("recommendation", "alert", "email")
HOUR_P = np.array([1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 8, 8, 8, 8, 7, 7, 8, 9, 9, 7, 4, 2], float)
HOUR_P /= HOUR_P.sum()
_VOCAB = tuple(family_vocabulary(f) for f in FAMILIES)


@dataclass(frozen=True)
class Phase:
    family: int
    seniority: int
    first_day: int  # inclusive
    rate: float  # relative activity in this phase


@dataclass(frozen=True)
class UserPlan:
    index: int
    user_id: str
    kind: str
    phases: tuple[Phase, ...]
    neighbours: tuple[int, ...]  # families an explorer also browses
    session_starts: np.ndarray  # int64 µs, sorted, > SESSION_GAP_US apart (before session lengths)

    def phase_on(self, day: int) -> int:
        """Index of the phase in force on ``day``."""
        current = 0
        for i, phase in enumerate(self.phases):
            if phase.first_day <= day:
                current = i
        return current


def user_id(index: int) -> str:
    return f"u{index:08d}"


def plan_user(cfg: GeneratorConfig, index: int) -> UserPlan:
    """Draw user ``index``'s kind, intents and session times."""
    rng = np.random.default_rng([cfg.seed, 1, index])
    kind = KINDS[rng.choice(3, p=KIND_P)]
    n_fam = len(FAMILIES)
    sessions = int(rng.poisson(np.exp(rng.normal(-0.5, 1.4)) * cfg.days / 30.0))
    if kind == "career_changer":
        if index % 2 == 0 and cfg.days >= 3:
            path = [(FAMILY_INDEX[name], sen) for name, sen in CAREER_CHANGE_PATH]
        else:
            fams = rng.choice(n_fam, size=int(rng.integers(2, 4)), replace=False)
            path = [(int(f), int(rng.integers(1, 6))) for f in fams]
        cuts = [0] + sorted(int(c * cfg.days) for c in (0.35, 0.75)[: len(path) - 1])
        rates = (1.0, 1.6, 0.6)[: len(path)]
        phases = tuple(Phase(f, s, c, r) for (f, s), c, r in zip(path, cuts, rates))
        sessions = max(sessions, 2 * len(phases))
    else:
        phases = (Phase(int(rng.integers(n_fam)), int(rng.integers(1, 6)), 0, 1.0),)
        if kind == "explorer":
            sessions = max(sessions, 2)
    sessions = max(sessions, 1)
    neighbours = tuple(int(f) for f in rng.choice(n_fam, size=2, replace=False)) if kind == "explorer" else ()
    # session days: density ∝ the rate of the phase in force
    day_phase = np.searchsorted([p.first_day for p in phases], np.arange(cfg.days), side="right") - 1
    day_weight = np.array([p.rate for p in phases])[day_phase]
    days = np.sort(rng.choice(cfg.days, size=sessions, p=day_weight / day_weight.sum()))
    hours = rng.choice(24, size=sessions, p=HOUR_P)
    starts = cfg.start_us + days * DAY_US + hours * 3_600 * SECOND_US + rng.integers(0, 3_600, sessions) * SECOND_US
    return UserPlan(index, user_id(index), kind, phases, neighbours, np.sort(starts))


class _Events:
    """Column buffers for one user's events."""

    def __init__(self, plan: UserPlan, seed: int, end_us: int) -> None:
        self.plan, self.seed, self.end_us = plan, seed, end_us
        self.cols: dict[str, list] = {k: [] for k in ("event_id", "event_type", "job_id", "query", "ts", "channel")}

    def add(self, event_type: str, job: str | None, ts: int, channel: str, query: str | None = None) -> None:
        if ts >= self.end_us:  # a session running past the last day is cut there (events come in time order)
            return
        n = len(self.cols["ts"])
        key = f"{self.seed}:{self.plan.index}:{n}".encode()
        self.cols["event_id"].append(hashlib.blake2b(key, digest_size=8).hexdigest())
        self.cols["event_type"].append(event_type)
        self.cols["job_id"].append(job)
        self.cols["query"].append(query)
        self.cols["ts"].append(ts)
        self.cols["channel"].append(channel)


def user_events(cfg: GeneratorConfig, catalog: Catalog, plan: UserPlan) -> dict[str, list]:
    """All events of one user, in time order, as column lists (``ts`` in µs since the epoch)."""
    rng = np.random.default_rng([cfg.seed, 2, plan.index])
    job_ids = catalog.job_ids
    out = _Events(plan, cfg.seed, cfg.end_us)
    applied: set[int] = set()
    not_before = 0
    for start in plan.session_starts:
        t = max(int(start), not_before)
        if t >= cfg.end_us:
            break
        day = int((t - cfg.start_us) // DAY_US)
        phase = plan.phases[plan.phase_on(day)]
        family = phase.family
        if plan.neighbours and rng.random() < 0.4:
            family = plan.neighbours[int(rng.integers(len(plan.neighbours)))]
        if rng.random() < 0.02:  # an off-topic browsing session
            family = int(rng.integers(len(FAMILIES)))
        searching = rng.random() < 0.55
        channel = "search" if searching else CHANNELS[rng.choice(3, p=(0.6, 0.25, 0.15))]
        for _round in range(1 + min(int(rng.poisson(0.3)), 3)):
            if searching:
                vocab = _VOCAB[family]
                words = [vocab[j] for j in rng.choice(len(vocab), size=int(rng.integers(1, 4)), replace=False)]
                if phase.seniority >= 4 and rng.random() < 0.3:
                    words.insert(0, "senior")
                out.add("search", None, t, channel, " ".join(words))
                t += int(rng.integers(2, 10)) * SECOND_US
            t = _impressions(rng, catalog, job_ids, out, applied, t, day, family, phase.seniority, channel)
            t += int(rng.integers(30, 300)) * SECOND_US
        not_before = t + SESSION_GAP_US
    return out.cols


def _impressions(rng, catalog, job_ids, out, applied, t, day, family, seniority, channel) -> int:
    """One results page: impressions, then clicks/views/saves/applies on-intent, dismisses off-intent."""
    k = int(rng.integers(1, 5))
    on_intent = rng.random(k) < 0.75
    shown: list[tuple[int, bool]] = []
    for on in on_intent:
        fam = family if on else int(rng.integers(len(FAMILIES)))
        live = catalog.live_jobs(fam, day)
        weights = np.exp(-np.abs(catalog.seniority[live] - seniority))
        shown.append((int(live[rng.choice(len(live), p=weights / weights.sum())]), fam == family))
    for job, _ in shown:
        out.add("impression", job_ids[job], t, channel)
        t += int(rng.integers(0, 2)) * SECOND_US
    for job, on in shown:
        u = rng.random(4)
        if not on and u[0] < 0.25:
            t += int(rng.integers(2, 20)) * SECOND_US
            out.add("dismiss", job_ids[job], t, channel)
        elif u[1] < (0.35 if on else 0.04):
            t += int(rng.integers(5, 120)) * SECOND_US
            out.add("click", job_ids[job], t, channel)
            t += int(rng.integers(1, 5)) * SECOND_US
            out.add("view", job_ids[job], t, channel)
            if on and u[2] < 0.22 and job not in applied:
                applied.add(job)
                t += int(rng.integers(30, 600)) * SECOND_US
                out.add("apply", job_ids[job], t, channel)
            elif on and u[3] < 0.2:
                t += int(rng.integers(5, 60)) * SECOND_US
                out.add("save", job_ids[job], t, channel)
    return t
