"""Training sequences of a whole Arrow batch of users at once: :mod:`jobtrail.sequence_core.chunks`' rules, vectorised.

:func:`batch_sequences` returns exactly the rows that :func:`jobtrail.sequence_core.chunks.user_sequences` cuts from
each user of the batch, in the same order (per user: train chunks earliest first, then the validation row), without a
Python loop per user or per position: the chunks of every user become one [rows, L] index matrix into the batch's
flattened events, and every target search runs once over the batch. A user's events and labelled events are found
by a composite key ``user · S + (ts − t0 + 1)`` so one ``searchsorted`` per quantity serves all users. The one
loop left per position is the keyed hash of the random negatives (``blake2b``,
:func:`jobtrail.sequence_core.windows.first_draws`; a draw that hits a job the user touched takes the per-position
path of ``draw_negative``, rare). ``spark_jobs.examples``
calls it inside ``mapInArrow`` and the evaluation's in-process cut on its Parquet batches; the per-user function
stays the rules' reference (tests check both agree on generated timelines).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from jobtrail.contracts import TRAINING_SEQUENCE
from jobtrail.sequence_core.chunks import DAY_US, SequenceConfig, target_window_start
from jobtrail.sequence_core.windows import SECOND_US, draw_negative, first_draws
from jobtrail.tables import EVENT_TYPE_IDS

_KEY_LIMIT = 2**62
"""Composite keys stay below this (int64); a batch whose users × time span exceeds it is cut in slices."""


@dataclass(frozen=True)
class _Events:
    """The batch's events flattened (users in batch order, each user's events by (ts, event_id))."""

    users: list[str]
    offsets: np.ndarray  # [U + 1]
    user: np.ndarray  # [E] user index of each event
    event_id: np.ndarray  # [E] object (str)
    ts: np.ndarray  # [E] int64 µs
    event_type: np.ndarray
    job: np.ndarray
    session_position: np.ndarray
    gap_s: np.ndarray
    tokens: np.ndarray  # [E, Q]
    day: np.ndarray
    t0: int
    span: int  # S: keys are user · S + clip(t − t0 + 1, 0, S − 1)

    @classmethod
    def of(cls, batch: pa.RecordBatch, query_tokens: int) -> "_Events":
        events = batch.column("events")
        if isinstance(events, pa.ChunkedArray):
            events = events.combine_chunks()
        offsets = events.offsets.to_numpy().astype(np.int64)
        flat = events.values.slice(offsets[0], offsets[-1] - offsets[0])
        offsets = offsets - offsets[0]
        field = dict(zip([f.name for f in flat.type], flat.flatten()))  # flatten() honours slices, field() does not
        ts = field["ts_us"].to_numpy(zero_copy_only=False).astype(np.int64)
        t0 = int(ts.min()) if len(ts) else 0
        tokens = field["query_tokens"].flatten().to_numpy(zero_copy_only=False)
        return cls(
            users=batch.column("user_id").to_pylist(), offsets=offsets,
            user=np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)),
            event_id=np.asarray(field["event_id"].to_pylist(), dtype=object), ts=ts,
            event_type=field["event_type_id"].to_numpy(zero_copy_only=False).astype(np.int32),
            job=field["job_index"].to_numpy(zero_copy_only=False).astype(np.int32),
            session_position=field["session_position"].to_numpy(zero_copy_only=False).astype(np.int32),
            gap_s=field["gap_s"].to_numpy(zero_copy_only=False).astype(np.float64),
            tokens=np.asarray(tokens, np.int32).reshape(-1, query_tokens),
            day=field["day"].to_numpy(zero_copy_only=False).astype(np.int32),
            t0=t0, span=(int(ts.max()) - t0 + 3) if len(ts) else 3)

    def key(self, user: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Composite keys of times ``t`` within each ``user``'s block (order-preserving, clipped to the block)."""
        rel = np.clip(np.asarray(t, np.int64) - self.t0 + 1, 0, self.span - 1)
        return np.asarray(user, np.int64) * self.span + rel


@dataclass(frozen=True)
class _Labelled:
    """One kind of labelled event (positives or dismisses) over the batch: keys, jobs, and for each the index of
    the previous one of the same user with the same job (−1 when none)."""

    key: np.ndarray
    job: np.ndarray
    prev: np.ndarray

    @classmethod
    def of(cls, ev: _Events, types: tuple[str, ...]) -> "_Labelled":
        mask = np.isin(ev.event_type, [EVENT_TYPE_IDS[t] for t in types]) & (ev.job > 0)
        user, job = ev.user[mask], ev.job[mask]
        order = np.lexsort((np.arange(len(job)), job, user))
        prev = np.full(len(job), -1, np.int64)
        same = (user[order][1:] == user[order][:-1]) & (job[order][1:] == job[order][:-1])
        prev[order[1:][same]] = order[:-1][same]
        return cls(ev.key(user, ev.ts[mask]), job, prev)


def first_distinct(values: np.ndarray, prev: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: int,
                   exclude: np.ndarray | None = None, block: int = 16) -> np.ndarray:
    """[n, k] int32: per range ``values[lo:hi]``, the first ``k`` distinct values in order of first appearance,
    skipping those in the row of ``exclude`` [n, X]; zero-padded (``chunks._distinct`` on every range at once).

    ``prev[e]``: the index of the previous element with the same value whose ranges can hold both (−1: none), so
    an element is its value's first appearance in a range iff ``prev[e] < lo``."""
    n = len(lo)
    out = np.zeros((n, k), np.int32)
    if k == 0 or n == 0:
        return out
    found = np.zeros(n, np.int64)
    rows = np.flatnonzero(lo < hi)
    cursor = lo.astype(np.int64).copy()
    while len(rows):
        at = cursor[rows, None] + np.arange(block)
        inside = at < hi[rows, None]
        safe = np.where(inside, at, 0)
        ok = inside & (prev[safe] < lo[rows, None])
        if exclude is not None:
            ok &= ~(values[safe][:, :, None] == exclude[rows][:, None, :]).any(axis=2)
        rank = np.cumsum(ok, axis=1) - 1 + found[rows, None]
        take = ok & (rank < k)
        r, c = np.nonzero(take)
        out[rows[r], rank[r, c]] = values[safe[r, c]]
        found[rows] += take.sum(axis=1)
        cursor[rows] += block
        rows = rows[(found[rows] < k) & (cursor[rows] < hi[rows])]
    return out


@dataclass(frozen=True)
class _Touched:
    """The (user, job) pairs of the batch's events with a job, as sorted keys ``user · width + job``."""

    width: np.int64
    keys: np.ndarray

    @classmethod
    def of(cls, ev: _Events, pools: dict[int, np.ndarray]) -> "_Touched":
        top = max([int(ev.job.max(initial=0)), *(int(p.max()) for p in pools.values() if len(p))])
        width = np.int64(top + 1)
        has_job = ev.job > 0
        return cls(width, np.unique(ev.user[has_job].astype(np.int64) * width + ev.job[has_job]))

    def contains(self, user: np.ndarray, job: np.ndarray) -> np.ndarray:
        wanted = user.astype(np.int64) * self.width + job
        at = np.minimum(np.searchsorted(self.keys, wanted), max(len(self.keys) - 1, 0))
        return (self.keys[at] == wanted) if len(self.keys) else np.zeros(len(wanted), bool)


def _targets(ev: _Events, pos: _Labelled, dis: _Labelled, touched: _Touched, at: np.ndarray, refs: np.ndarray,
             limits: np.ndarray, pools: dict[int, np.ndarray], cfg: SequenceConfig) -> dict[str, np.ndarray]:
    """``chunks.position_targets`` for the events ``at`` (target windows from ``refs``, targets before ``limits``)."""
    n, d = len(at), cfg.dismisses_per_position
    user, after = ev.user[at], ev.key(ev.user[at], ev.ts[at])
    ends = np.minimum(refs + cfg.horizon_days * DAY_US, limits)
    p_first = np.searchsorted(pos.key, after, "right")
    has_next = p_first < np.searchsorted(pos.key, ev.key(user, limits), "left")
    nxt = np.zeros(n, np.int32)
    nxt[has_next] = pos.job[p_first[has_next]]
    f_lo = np.maximum(np.searchsorted(pos.key, ev.key(user, refs), "left"), p_first)
    f_hi = np.searchsorted(pos.key, ev.key(user, ends), "left")
    future = first_distinct(pos.job, pos.prev, f_lo, f_hi, cfg.future_targets)
    negative = np.zeros((n, cfg.negative_slots), np.int32)
    weight = np.zeros((n, cfg.negative_slots), np.float32)
    if d:
        d_lo = np.searchsorted(dis.key, after, "right")
        d_hi = np.searchsorted(dis.key, ev.key(user, ends), "left")
        dismissed = first_distinct(dis.job, dis.prev, d_lo, d_hi, d, exclude=np.column_stack([nxt, future]))
        negative[:, :d] = dismissed
        weight[:, :d] = np.where(dismissed > 0, cfg.dismiss_weight, 0.0)
    rows = np.flatnonzero(has_next)
    for j in range(cfg.negatives_per_position):
        job = _random_negatives(ev, touched, at[rows], j, pools, cfg)
        negative[rows, d + j] = job
        weight[rows, d + j] = np.where(job > 0, cfg.random_negative_weight, 0.0)
    return {"next": nxt, "future": future, "negative": negative, "weight": weight}


def _random_negatives(ev: _Events, touched: _Touched, at: np.ndarray, j: int, pools: dict[int, np.ndarray],
                      cfg: SequenceConfig) -> np.ndarray:
    """``draw_negative(pool of the event's day, the user's touched jobs, event_id, j, seed)`` per event, 0 = none:
    the first attempt for all at once, the rules' own function where it hits a job the user touched."""
    out = np.zeros(len(at), np.int32)
    days = ev.day[at]
    for day in np.unique(days):
        rows = np.flatnonzero(days == day)
        pool = pools.get(int(day))
        if pool is None or not len(pool):
            continue
        jobs = pool[first_draws(ev.event_id[at[rows]], j, cfg.seed, len(pool))].astype(np.int64)
        out[rows] = jobs
        for r in rows[touched.contains(ev.user[at[rows]], jobs)]:  # a job this user touched: the rules' retries
            user = ev.user[at[r]]
            mine = ev.job[ev.offsets[user]:ev.offsets[user + 1]]
            drawn = draw_negative(pool, set(mine[mine > 0].tolist()), ev.event_id[at[r]], j, cfg.seed)
            out[r] = 0 if drawn is None else drawn
    return out


def _lists(matrix: np.ndarray, value_type: pa.DataType) -> pa.ListArray:
    """Rows of ``matrix`` [R, ...] as a list column (each row flattened)."""
    rows = len(matrix)
    flat = matrix.reshape(rows, int(np.prod(matrix.shape[1:])))
    offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * flat.shape[1])
    return pa.ListArray.from_arrays(offsets, pa.array(flat.reshape(-1), value_type))


def _chunks(n_before: np.ndarray, cfg: SequenceConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, start, stop) of every train chunk, per user earliest first (``chunks.chunk_bounds`` for all users)."""
    size, stride = cfg.context_size, cfg.chunk_stride
    n = n_before.astype(np.int64)
    more = np.where(n > size, np.minimum((n - size - 1) // stride + 1, -(-n // stride) - 1), 0)
    count = np.where(n >= cfg.min_events, 1 + np.maximum(more, 0), 0)
    user = np.repeat(np.arange(len(n)), count)
    first = np.repeat(np.cumsum(count) - count, count)
    k = count[user] - 1 - (np.arange(len(user)) - first)  # earliest first: k counts chunks back from the last one
    stop = n[user] - k * stride
    return user, np.maximum(0, stop - size), stop


def batch_sequences(batch: pa.RecordBatch, pools: dict[int, np.ndarray], cfg: SequenceConfig,
                    valid_from_us: int, end_us: int) -> pa.Table:
    """Every TRAINING_SEQUENCE row of the batch's users (``spark_jobs.sequences.user_sequences`` rows), in the order
    of :func:`jobtrail.sequence_core.chunks.user_sequences` user by user."""
    ev = _Events.of(batch, cfg.query_tokens)
    users = len(ev.users)
    most = max(1, _KEY_LIMIT // ev.span)
    if users > most:  # keys would overflow int64: slices of users
        return pa.concat_tables([batch_sequences(batch.slice(lo, most), pools, cfg, valid_from_us, end_us)
                                 for lo in range(0, users, most)])
    size, q = cfg.context_size, cfg.query_tokens
    pos, dis = _Labelled.of(ev, cfg.positive_types), _Labelled.of(ev, cfg.negative_types)
    touched = _Touched.of(ev, pools)
    all_users = np.arange(users)
    n_before = np.searchsorted(ev.key(ev.user, ev.ts), ev.key(all_users, np.full(users, valid_from_us)), "left") \
        - ev.offsets[:-1]

    # train chunks: one row each, positions start..stop−1 (targets before valid_from)
    c_user, c_start, c_stop = _chunks(n_before, cfg)
    c_len = c_stop - c_start
    c_valid = np.arange(size) < c_len[:, None]
    c_take = np.where(c_valid, ev.offsets[c_user, None] + c_start[:, None] + np.arange(size), 0)
    at = c_take[c_valid]
    refs = target_window_start(ev.ts[at], cfg)
    train = _targets(ev, pos, dis, touched, at, refs, np.full(len(at), valid_from_us, np.int64), pools, cfg)
    # validation: the latest L events before valid_from, targets at the last one (before end_us)
    v_user = np.flatnonzero(n_before >= 1)
    v_len = np.minimum(n_before[v_user], size)
    v_valid = np.arange(size) < v_len[:, None]
    v_take = np.where(v_valid, ev.offsets[v_user, None] + (n_before[v_user] - v_len)[:, None] + np.arange(size), 0)
    v_at = ev.offsets[v_user] + n_before[v_user] - 1
    valid = _targets(ev, pos, dis, touched, v_at, np.full(len(v_at), valid_from_us, np.int64),
                     np.full(len(v_at), end_us, np.int64), pools, cfg)

    def placed(rows: int, cells: tuple[np.ndarray, np.ndarray], values: np.ndarray) -> np.ndarray:
        """[rows, L, ...] zeros with ``values`` at ``cells`` (row, position)."""
        out = np.zeros((rows, size, *values.shape[1:]), values.dtype)
        out[cells] = values
        return out

    t_cells = np.nonzero(c_valid)
    v_cells = (np.arange(len(v_user)), v_len - 1)
    targets = {name: np.concatenate([placed(len(c_user), t_cells, train[name]), placed(len(v_user), v_cells, valid[name])])
               for name in train}
    n_targets = (targets["next"] > 0).sum(axis=1)
    kept = n_targets > 0
    row_user = np.concatenate([c_user, v_user])
    take = np.concatenate([c_take, v_take])
    real = np.concatenate([c_valid, v_valid])
    ts = np.where(real, ev.ts[take], 0)
    time_to_target = np.concatenate([
        placed(len(c_user), t_cells, np.log1p((refs - ev.ts[at]) / SECOND_US)),
        np.where(v_valid, np.log1p(np.maximum(valid_from_us - ts[len(c_user):], 0) / SECOND_US), 0.0)])

    def gather(values: np.ndarray, dtype) -> np.ndarray:
        return np.where(real, values[take], 0).astype(dtype)

    order = np.lexsort((np.arange(len(row_user)), row_user))  # per user: chunks earliest first, then validation
    order = order[kept[order]]
    first_ids = ev.event_id[c_take[:, 0]] if len(c_user) else np.array([], dtype=object)
    suffix = np.concatenate([first_ids, np.full(len(v_user), "validation", dtype=object)])
    columns = {
        "sequence_id": pa.array([f"{ev.users[u]}:{s}" for u, s in zip(row_user[order].tolist(), suffix[order])],
                                pa.string()),
        "user_id": pa.array([ev.users[u] for u in row_user[order].tolist()], pa.string()),
        "ctx_job_index": gather(ev.job, np.int32)[order],
        "ctx_event_type": gather(ev.event_type, np.int32)[order],
        "ctx_log_gap": np.log1p(gather(ev.gap_s, np.float64)).astype(np.float32)[order],
        "ctx_log_time_to_target": time_to_target.astype(np.float32)[order],
        "ctx_session_position": gather(ev.session_position, np.int32)[order],
        "ctx_query_tokens": np.where(real[:, :, None], ev.tokens[take] if len(ev.tokens) else 0, 0)
        .astype(np.int32).reshape(len(take), size * q)[order],
        "context_length": pa.array(real.sum(axis=1).astype(np.int32)[order]),
        "next_job_index": targets["next"][order],
        "future_job_index": targets["future"][order],
        "negative_job_index": targets["negative"][order],
        "negative_weight": targets["weight"][order],
        "n_targets": pa.array(n_targets.astype(np.int32)[order]),
        "split": pa.array(np.where(order < len(c_user), "train", "validation").tolist(), pa.string()),
    }
    arrays = [columns[f.name] if isinstance(columns[f.name], pa.Array) else _lists(columns[f.name], f.type.value_type)
              for f in TRAINING_SEQUENCE]
    return pa.Table.from_arrays(arrays, schema=TRAINING_SEQUENCE)
