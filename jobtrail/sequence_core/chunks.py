"""Per-position training sequences over one user's unified timeline: the default training data.

Pure numpy, no Spark: :mod:`spark_jobs.examples` (``--format sequences``) calls :func:`user_sequences` inside
``mapInArrow``, one user at a time, and the tests call it directly. Rows follow the contract
:data:`jobtrail.contracts.TRAINING_SEQUENCE`; contexts, the keyed-hash negatives and the timeline type are
those of :mod:`jobtrail.sequence_core.windows` (the one-target baseline, ``--format windows``).

The rules (documented here once). L = W − 1 positions per row, the length of an inference context.

- Positives are events of ``positive_types`` that have a job (``job_index > 0``); dismisses likewise with
  ``negative_types``. Targets of position t always lie strictly after ``ts_t`` (same-timestamp events never count).
- Target window of t: starts at ``ref_t`` = the next UTC midnight strictly after ``ts_t`` (``target_gap =
  "midnight"``, the embedding is computed once a day and used the next day) or ``ts_t + target_gap`` seconds,
  and lasts ``horizon_days``. ``ctx_log_time_to_target[t] = log1p(seconds from ts_t to ref_t)``.
- ``next_job_index[t]``: the job of the first positive after ``ts_t``; 0 = none.
- ``future_job_index[t]``: up to K distinct positive jobs in ``[ref_t, ref_t + horizon)``, earliest first.
- ``negative_job_index[t]`` / ``negative_weight[t]`` (M = D + N slots): slots ``0..D-1`` hold the distinct jobs of
  the earliest dismisses after ``ts_t`` and before ``ref_t + horizon`` (weight ``dismiss_weight``; a job that is
  also one of t's positives is skipped); slots ``D..M-1`` hold N random negatives (weight
  ``random_negative_weight``), only at positions with a next target: drawn by
  :func:`jobtrail.sequence_core.windows.draw_negative` keyed by (seed, event_id at t, j) from the jobs anyone interacted
  with on t's day, never a job this user touched in the input range. Unused slots are 0 / 0.0.
- Train rows use only events before ``valid_from`` (contexts and every target). A user with fewer than
  ``min_events`` such events gives none. Chunks of L events end at the last one, then every ``chunk_stride``
  events earlier; the earliest chunk may be shorter and starts at event 0 (with a stride above L some events
  are skipped). A chunk without any next target is dropped. ``sequence_id = "<user>:<event_id of the first
  event>"``.
- Validation: one row per user with ≥ 1 event before ``valid_from`` and ≥ 1 positive in ``[valid_from,
  end)``: the context is the latest L events before ``valid_from``, built exactly as an inference input
  (time to target = time to ``valid_from`` at every position); targets only at the last real position:
  ``ref = valid_from``, every target before ``end``; other positions' targets are 0.
  ``sequence_id = "<user>:validation"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jobtrail.argtypes import MAX_TARGET_GAP_S
from jobtrail.errors import ConfigError
from jobtrail.knobs import WINDOW
from jobtrail.sequence_core.windows import SECOND_US, UserTimeline, check_labels, context, draw_negative
from jobtrail.tables import EVENT_TYPE_IDS

DAY_US = 86_400 * SECOND_US
_NO_JOBS = np.array([], dtype=np.int32)


@dataclass(frozen=True)
class SequenceConfig:
    """How sequences are cut. ``window`` is W: a row holds L = W − 1 positions. ``chunk_stride`` None means L."""

    window: int = WINDOW.default
    chunk_stride: int | None = None
    min_events: int = 4
    positive_types: tuple[str, ...] = ("apply", "save")
    negative_types: tuple[str, ...] = ("dismiss",)
    future_targets: int = 8
    horizon_days: int = 14
    target_gap: str | int = "midnight"
    dismisses_per_position: int = 2
    negatives_per_position: int = 1
    dismiss_weight: float = 1.0
    random_negative_weight: float = 0.3
    query_tokens: int = 4
    seed: int = 7

    def __post_init__(self) -> None:
        WINDOW.check(self.window)
        if self.chunk_stride is None:
            object.__setattr__(self, "chunk_stride", self.window - 1)  # non-overlapping chunks
        if not 1 <= self.chunk_stride <= 256:
            raise ConfigError(f"chunk_stride must be between 1 and 256, got {self.chunk_stride}")
        if self.min_events < 1 or self.query_tokens < 1 or not 1 <= self.future_targets <= 256:
            raise ConfigError("min_events and query_tokens must be >= 1 and future_targets within 1..256")
        if not 1 <= self.horizon_days <= 365:
            raise ConfigError(f"horizon_days must be between 1 and 365, got {self.horizon_days}")
        gap = self.target_gap
        seconds = isinstance(gap, int) and not isinstance(gap, bool) and 0 <= gap <= MAX_TARGET_GAP_S
        if gap != "midnight" and not seconds:
            raise ConfigError(f"target_gap must be 'midnight' or whole seconds in 0..{MAX_TARGET_GAP_S}, got {gap!r}")
        if not (0 <= self.dismisses_per_position <= 64 and 0 <= self.negatives_per_position <= 64):
            raise ConfigError("dismisses_per_position and negatives_per_position must be within 0..64")
        check_labels(self.positive_types, self.negative_types, self.random_negative_weight, self.dismiss_weight)

    @property
    def context_size(self) -> int:
        """L = W − 1 (the name :func:`jobtrail.sequence_core.windows.context` reads)."""
        return self.window - 1

    @property
    def negative_slots(self) -> int:
        """M = dismisses_per_position + negatives_per_position."""
        return self.dismisses_per_position + self.negatives_per_position


def target_window_start(ts: np.ndarray, cfg: SequenceConfig) -> np.ndarray:
    """``ref_t`` per event time (µs): the next UTC midnight strictly after ``ts``, or ``ts + target_gap`` s."""
    ts = np.asarray(ts, dtype=np.int64)
    if cfg.target_gap == "midnight":
        return (ts // DAY_US + 1) * DAY_US
    return ts + int(cfg.target_gap) * SECOND_US


def chunk_bounds(n: int, cfg: SequenceConfig) -> list[tuple[int, int]]:
    """``(start, stop)`` of the chunks over events ``0..n-1``, earliest first (see the module rules)."""
    bounds, stop = [], n
    while stop > 0:
        start = max(0, stop - cfg.context_size)
        bounds.append((start, stop))
        if start == 0:
            break
        stop -= cfg.chunk_stride
    return bounds[::-1]


@dataclass(frozen=True)
class _Labelled:
    """A user's positives and dismisses (timeline order) and the jobs the user touched."""

    pos_ts: np.ndarray
    pos_job: np.ndarray
    dis_ts: np.ndarray
    dis_job: np.ndarray
    touched: set[int]

    @classmethod
    def of(cls, tl: UserTimeline, cfg: SequenceConfig) -> "_Labelled":
        has_job = tl.job_index > 0
        pos = np.isin(tl.event_type, [EVENT_TYPE_IDS[t] for t in cfg.positive_types]) & has_job
        dis = np.isin(tl.event_type, [EVENT_TYPE_IDS[t] for t in cfg.negative_types]) & has_job
        touched = set(np.unique(tl.job_index[has_job]).tolist())
        return cls(tl.ts[pos], tl.job_index[pos], tl.ts[dis], tl.job_index[dis], touched)


def _distinct(jobs: np.ndarray, k: int, exclude: set[int] | None = None) -> list[int]:
    """Up to ``k`` distinct values of ``jobs`` in order of first appearance, skipping ``exclude``."""
    out: list[int] = []
    for lo in range(0, len(jobs), 64):
        for job in jobs[lo:lo + 64].tolist():
            if job not in out and not (exclude and job in exclude):
                out.append(job)
                if len(out) == k:
                    return out
    return out


def position_targets(tl: UserTimeline, idx: np.ndarray, refs: np.ndarray, limit_us: int, labelled: _Labelled,
                     pools: dict[int, np.ndarray], cfg: SequenceConfig) -> dict[str, np.ndarray]:
    """Targets of the timeline positions ``idx`` (target windows starting at ``refs``; every target < ``limit_us``).

    Returns ``next`` int32 [n], ``future`` int32 [n, K], ``negative`` int32 [n, M], ``weight`` float32 [n, M].
    """
    n, k, d = len(idx), cfg.future_targets, cfg.dismisses_per_position
    after = tl.ts[idx]
    ends = np.minimum(refs + cfg.horizon_days * DAY_US, limit_us)
    p_first = np.searchsorted(labelled.pos_ts, after, "right")
    p_limit = np.searchsorted(labelled.pos_ts, limit_us, "left")
    has_next = p_first < p_limit
    nxt = np.zeros(n, np.int32)
    nxt[has_next] = labelled.pos_job[p_first[has_next]]
    f_lo = np.maximum(np.searchsorted(labelled.pos_ts, refs, "left"), p_first)
    f_hi = np.searchsorted(labelled.pos_ts, ends, "left")
    d_lo = np.searchsorted(labelled.dis_ts, after, "right")
    d_hi = np.searchsorted(labelled.dis_ts, ends, "left")
    future = np.zeros((n, k), np.int32)
    negative = np.zeros((n, cfg.negative_slots), np.int32)
    weight = np.zeros((n, cfg.negative_slots), np.float32)
    for r in range(n):
        jobs = _distinct(labelled.pos_job[f_lo[r]:f_hi[r]], k)
        future[r, :len(jobs)] = jobs
        dismissed = _distinct(labelled.dis_job[d_lo[r]:d_hi[r]], d, exclude={int(nxt[r]), *jobs}) if d else []
        negative[r, :len(dismissed)] = dismissed
        weight[r, :len(dismissed)] = cfg.dismiss_weight
        if not has_next[r]:
            continue
        i = int(idx[r])
        pool = pools.get(int(tl.day[i]), _NO_JOBS)
        for j in range(cfg.negatives_per_position):
            job = draw_negative(pool, labelled.touched, tl.event_id[i], j, cfg.seed)
            if job is not None:
                negative[r, d + j], weight[r, d + j] = job, cfg.random_negative_weight
    return {"next": nxt, "future": future, "negative": negative, "weight": weight}


def _padded(values: np.ndarray, length: int, dtype) -> np.ndarray:
    """``values`` [n, ...] zero-padded to ``length`` rows, flattened."""
    out = np.zeros((length, *values.shape[1:]), dtype=dtype)
    out[:len(values)] = values
    return out.reshape(-1)


def _row(sequence_id: str, user_id: str, ctx: dict[str, object], targets: dict[str, np.ndarray], at: slice,
         split: str, cfg: SequenceConfig) -> dict[str, object]:
    """One TRAINING_SEQUENCE row: ``ctx`` plus the targets ``targets[...][at]`` placed from position ``at.start``."""
    length = cfg.context_size

    def place(name: str, dtype) -> np.ndarray:
        values = targets[name]
        out = np.zeros((length, *values.shape[1:]), dtype=dtype)
        out[at] = values
        return out.reshape(-1)

    nxt = place("next", np.int32)
    return {"sequence_id": sequence_id, "user_id": user_id, **ctx, "next_job_index": nxt,
            "future_job_index": place("future", np.int32), "negative_job_index": place("negative", np.int32),
            "negative_weight": place("weight", np.float32), "n_targets": int((nxt > 0).sum()), "split": split}


def user_sequences(user_id: str, tl: UserTimeline, pools: dict[int, np.ndarray], cfg: SequenceConfig,
                   valid_from_us: int, end_us: int) -> list[dict[str, object]]:
    """Every TRAINING_SEQUENCE row of one user: train chunks (earliest first), then the validation row.

    ``tl``: the user's timeline over the input range, sorted by (ts, event_id); ``pools``: day (days since the
    epoch) → sorted job indices anyone interacted with that day; ``valid_from_us`` / ``end_us``: the validation
    cutoff and the exclusive end of the input range, µs since the epoch (UTC).
    """
    labelled = _Labelled.of(tl, cfg)
    rows: list[dict[str, object]] = []
    n_before = int(np.searchsorted(tl.ts, valid_from_us, "left"))
    if n_before >= cfg.min_events:
        for start, stop in chunk_bounds(n_before, cfg):
            idx = np.arange(start, stop)
            refs = target_window_start(tl.ts[idx], cfg)
            targets = position_targets(tl, idx, refs, valid_from_us, labelled, pools, cfg)
            if not targets["next"].any():
                continue
            ctx = context(tl.take(idx), int(tl.ts[stop - 1]) + 1, cfg)
            ctx["ctx_log_time_to_target"] = _padded(np.log1p((refs - tl.ts[idx]) / SECOND_US), cfg.context_size,
                                                    np.float32)
            rows.append(_row(f"{user_id}:{tl.event_id[start]}", user_id, ctx, targets, slice(0, stop - start),
                             "train", cfg))
    if n_before >= 1:
        last = np.array([n_before - 1])
        targets = position_targets(tl, last, np.array([valid_from_us], np.int64), end_us, labelled, pools, cfg)
        if targets["next"].any():
            ctx = context(tl, valid_from_us, cfg)  # exactly the inference input as of valid_from
            at = int(ctx["context_length"]) - 1
            rows.append(_row(f"{user_id}:validation", user_id, ctx, targets, slice(at, at + 1), "validation", cfg))
    return rows
