"""Configuration of the synthetic data generator."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, timezone

from jobtrail.errors import ConfigError
from jobtrail.synthetic.occupations import FAMILIES


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Everything is a pure function of these fields.

    ``jobs`` defaults to one job per two users, at least 40 per occupation family.
    """

    users: int = 2_000
    days: int = 30
    seed: int = 7
    start: date = date(2026, 10, 1)
    jobs: int | None = None

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ConfigError(f"users must be at least 1, got {self.users}")
        if not 1 <= self.days <= 3_660:
            raise ConfigError(f"days must be between 1 and 3660, got {self.days}")
        if self.jobs is not None and self.jobs < len(FAMILIES):
            raise ConfigError(f"jobs must be at least {len(FAMILIES)} (one per family), got {self.jobs}")

    @property
    def n_jobs(self) -> int:
        if self.jobs is not None:
            return self.jobs
        return max(40 * len(FAMILIES), min(self.users // 2, 200_000))

    @cached_property
    def start_us(self) -> int:
        """Start of the first day, in microseconds since the epoch (UTC)."""
        start = datetime(self.start.year, self.start.month, self.start.day, tzinfo=timezone.utc)
        return int(start.timestamp()) * 1_000_000

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * DAY_US


SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
DAY_US = 86_400 * SECOND_US
