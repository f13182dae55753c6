"""Sliding windows over one user's unified timeline: targets, contexts and random negatives.

Pure numpy, no Spark: :mod:`spark_jobs.examples` and :mod:`spark_jobs.inference_inputs` call these
functions inside grouped Arrow UDFs, one user at a time, and the tests call them directly.

The rules (documented here once):

- A user with fewer than ``min_events`` events in the range produces no example.
- Candidate targets are the events whose type is labelled (``positive_types`` → label 1, ``negative_types``
  → label 0, ``label_kind = dismiss``) and that have at least one event strictly before them.
- Stride: of the user's T candidate targets, every S-th is kept counting back from the latest, so the
  most recent target is always used: ``ceil(T / S)`` real targets per user.
- Context: the latest ``W − 1`` events strictly before the target time (same-timestamp events excluded),
  in time order, padded at the end; ``context_length`` says how many are real.
- Random negatives: for each kept positive, ``k`` jobs drawn uniformly from the jobs anyone interacted
  with on the positive's day, never one this user interacted with in the range (any event type). The draw
  is a keyed hash of (seed, event id, j, attempt), so it does not depend on partitioning. Target time =
  the positive's time + a jitter of 1–59 s (also hashed). Examples per user =
  ``ceil(T / S) + k × (kept positives)`` (fewer only if a day's pool has no job the user did not touch).
- ``negatives_in_timeline=False`` (default): a negative is a target only and shares its positive's context.
  ``True`` (the source write-up's variant): negatives are also inserted into the timeline as
  ``random_negative`` events, so they appear in later contexts, and each negative's context is the
  timeline (with earlier inserted negatives) strictly before its own time. Inserted events carry
  ``gap = jitter`` and the positive's session position; real events' features are unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from jobtrail.errors import ConfigError
from jobtrail.knobs import WINDOW
from jobtrail.tables import EVENT_TYPE_IDS

SECOND_US = 1_000_000
MAX_DRAW_ATTEMPTS = 64


def check_labels(positive_types: tuple[str, ...], negative_types: tuple[str, ...], random_negative_weight: float,
                 dismiss_weight: float) -> None:
    """ConfigError unless the label types are distinct known event types and a random negative weighs less than a
    real dismiss (shared by the windows and the sequences, :mod:`jobtrail.sequence_core.chunks`)."""
    unknown = set(positive_types + negative_types) - set(EVENT_TYPE_IDS)
    if unknown or set(positive_types) & set(negative_types) or not positive_types:
        raise ConfigError(f"label types must be distinct known event types with at least one positive type, "
                          f"got unknown {sorted(unknown)}")
    if not 0 < random_negative_weight < dismiss_weight:
        raise ConfigError(
            f"random_negative_weight ({random_negative_weight}) must be > 0 and lower than "
            f"dismiss_weight ({dismiss_weight}): a random job is weaker evidence than a real dismiss"
        )


@dataclass(frozen=True)
class WindowConfig:
    """How examples are cut. ``window`` is W: a context holds up to W − 1 events."""

    window: int = WINDOW.default
    stride: int = 1
    min_events: int = 4
    positive_types: tuple[str, ...] = ("apply", "save")
    negative_types: tuple[str, ...] = ("dismiss",)
    negatives_per_positive: int = 1
    positive_weight: float = 1.0
    dismiss_weight: float = 1.0
    random_negative_weight: float = 0.3
    negatives_in_timeline: bool = False
    query_tokens: int = 4
    seed: int = 7

    def __post_init__(self) -> None:
        WINDOW.check(self.window)
        if self.stride < 1 or self.min_events < 1 or self.negatives_per_positive < 0:
            raise ConfigError("stride and min_events must be >= 1 and negatives_per_positive >= 0")
        check_labels(self.positive_types, self.negative_types, self.random_negative_weight, self.dismiss_weight)

    @property
    def context_size(self) -> int:
        return self.window - 1


@dataclass(frozen=True)
class UserTimeline:
    """One user's events sorted by (ts, event_id); all arrays of equal length n."""

    event_id: np.ndarray  # object (str)
    ts: np.ndarray  # int64 µs since the epoch, UTC
    event_type: np.ndarray  # int32 EVENT_TYPE_IDS
    job_index: np.ndarray  # int32, 0 = no job
    session_position: np.ndarray  # int32
    gap_s: np.ndarray  # float64, 0 for the first event
    query_tokens: np.ndarray  # int32 [n, Q]
    day: np.ndarray  # int32 days since the epoch (UTC) of ts

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, order: np.ndarray) -> "UserTimeline":
        return UserTimeline(*(getattr(self, f)[order] for f in self.__dataclass_fields__))


def context(tl: UserTimeline, before_us: int, cfg: WindowConfig) -> dict[str, object]:
    """The latest W − 1 events of ``tl`` strictly before ``before_us``, padded at the end."""
    end = int(np.searchsorted(tl.ts, before_us, side="left"))
    start = max(0, end - cfg.context_size)
    n, size, q = end - start, cfg.context_size, cfg.query_tokens

    def padded(values: np.ndarray, dtype) -> np.ndarray:
        out = np.zeros(size, dtype=dtype)
        out[:n] = values[start:end]
        return out

    tokens = np.zeros((size, q), dtype=np.int32)
    tokens[:n] = tl.query_tokens[start:end, :q]
    return {
        "ctx_job_index": padded(tl.job_index, np.int32),
        "ctx_event_type": padded(tl.event_type, np.int32),
        "ctx_log_gap": np.log1p(padded(tl.gap_s, np.float64)).astype(np.float32),
        "ctx_log_time_to_target": np.where(
            np.arange(size) < n, np.log1p(np.maximum(before_us - padded(tl.ts, np.int64), 0) / SECOND_US), 0.0
        ).astype(np.float32),
        "ctx_session_position": padded(tl.session_position, np.int32),
        "ctx_query_tokens": tokens.reshape(-1),
        "context_length": n,
    }


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _hash(*parts: object) -> int:
    return _digest(":".join(map(str, parts)))


def first_draws(keys: np.ndarray, j: int, seed: int, candidates: int) -> np.ndarray:
    """The index into a pool of ``candidates`` jobs that :func:`draw_negative`'s first attempt picks for each key
    (the same hash, one call per key without the generic argument formatting)."""
    head, tail = f"{seed}:", f":{j}:0"
    return np.fromiter((_digest(head + key + tail) % candidates for key in map(str, keys)), np.int64, count=len(keys))


def draw_negative(pool: np.ndarray, touched: set[int], key: str, j: int, seed: int) -> int | None:
    """A job index from ``pool`` (sorted) not in ``touched``, chosen by a keyed hash; None if none found."""
    candidates = len(pool)
    if candidates == 0:
        return None
    for attempt in range(MAX_DRAW_ATTEMPTS):
        job = int(pool[_hash(seed, key, j, attempt) % candidates])
        if job not in touched:
            return job
    remaining = np.setdiff1d(pool, np.fromiter(touched, dtype=pool.dtype, count=len(touched)))
    return int(remaining[_hash(seed, key, j, "rest") % len(remaining)]) if len(remaining) else None


def kept_targets(tl: UserTimeline, cfg: WindowConfig) -> np.ndarray:
    """Positions of the real targets kept for ``tl`` (see the module rules)."""
    if len(tl) < cfg.min_events:
        return np.array([], dtype=np.int64)
    labelled = np.isin(tl.event_type, [EVENT_TYPE_IDS[t] for t in cfg.positive_types + cfg.negative_types])
    has_context = tl.ts > tl.ts[0]  # some event strictly earlier
    candidates = np.flatnonzero(labelled & has_context)
    from_latest = len(candidates) - 1 - np.arange(len(candidates))
    return candidates[from_latest % cfg.stride == 0]


def expected_count(tl: UserTimeline, cfg: WindowConfig) -> int:
    """``ceil(T / S) + k × kept positives`` — the documented number of examples (before pool exhaustion)."""
    kept = kept_targets(tl, cfg)
    positives = np.isin(tl.event_type[kept], [EVENT_TYPE_IDS[t] for t in cfg.positive_types]).sum()
    return len(kept) + cfg.negatives_per_positive * int(positives)


def user_examples(
    user_id: str,
    tl: UserTimeline,
    pools: dict[int, np.ndarray],
    cfg: WindowConfig,
    valid_from_us: int,
) -> list[dict[str, object]]:
    """Every example of one user: kept real targets and their random negatives (rows as dicts)."""
    positive_ids = [EVENT_TYPE_IDS[t] for t in cfg.positive_types]
    kept = kept_targets(tl, cfg)
    touched = set(int(j) for j in np.unique(tl.job_index) if j > 0)
    negatives = []  # (ts, job, key, positive position)
    for pos in kept:
        if tl.event_type[pos] not in positive_ids:
            continue
        for j in range(cfg.negatives_per_positive):
            job = draw_negative(pools.get(int(tl.day[pos]), np.array([], np.int32)), touched, tl.event_id[pos], j, cfg.seed)
            if job is not None:
                jitter = 1 + _hash(cfg.seed, tl.event_id[pos], j, "jitter") % 59
                negatives.append((int(tl.ts[pos]) + jitter * SECOND_US, job, f"{tl.event_id[pos]}~neg{j}", pos))

    timeline = _with_negatives(tl, negatives) if cfg.negatives_in_timeline else tl
    rows = []
    for pos in kept:
        positive = tl.event_type[pos] in positive_ids
        rows.append(_row(user_id, tl.event_id[pos], context(timeline, int(tl.ts[pos]), cfg), int(tl.job_index[pos]),
                         int(tl.event_type[pos]), int(positive), "positive" if positive else "dismiss",
                         cfg.positive_weight if positive else cfg.dismiss_weight, int(tl.ts[pos]), valid_from_us))
    for ts, job, key, pos in negatives:
        before = ts if cfg.negatives_in_timeline else int(tl.ts[pos])
        rows.append(_row(user_id, key, context(timeline, before, cfg), job, EVENT_TYPE_IDS["random_negative"], 0,
                         "random_negative", cfg.random_negative_weight, ts, valid_from_us))
    return rows


def _row(user_id, key, ctx, job, event_type, label, kind, weight, ts, valid_from_us) -> dict[str, object]:
    return {"example_id": f"{user_id}:{key}", "user_id": user_id, **ctx, "target_job_index": job,
            "target_event_type": event_type, "label": label, "label_kind": kind, "weight": float(weight),
            "target_ts": ts, "split": "validation" if ts >= valid_from_us else "train"}


def _with_negatives(tl: UserTimeline, negatives: list[tuple[int, int, str, int]]) -> UserTimeline:
    """``tl`` with the negatives inserted as ``random_negative`` events, re-sorted by (ts, event_id)."""
    if not negatives:
        return tl
    ts, jobs, keys, pos = (np.array(x) for x in zip(*negatives))
    q = tl.query_tokens.shape[1]
    merged = UserTimeline(
        event_id=np.concatenate([tl.event_id, keys.astype(object)]),
        ts=np.concatenate([tl.ts, ts.astype(np.int64)]),
        event_type=np.concatenate([tl.event_type, np.full(len(ts), EVENT_TYPE_IDS["random_negative"], np.int32)]),
        job_index=np.concatenate([tl.job_index, jobs.astype(np.int32)]),
        session_position=np.concatenate([tl.session_position, tl.session_position[pos]]),
        gap_s=np.concatenate([tl.gap_s, (ts - tl.ts[pos]) / SECOND_US]),
        query_tokens=np.concatenate([tl.query_tokens, np.zeros((len(ts), q), np.int32)]),
        day=np.concatenate([tl.day, tl.day[pos]]),
    )
    return merged.take(np.lexsort((merged.event_id.astype(str), merged.ts)))

