"""A tiny examples folder with a planted signal, written with pyarrow in the layout spark_jobs/examples.py writes.

Each user has a hidden intent (a job category). Their context events are mostly on jobs of that category
(views, clicks, saves, applies, a search whose query names it) with some noise and dismisses of other
categories; a positive target is a job of the intent category, a negative one (dismiss or random
negative) a job of another. A model that learns "jobs like the ones this user engaged with" scores well
above the trivial AUC of 0.5; one that ignores the context cannot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jobtrail.contracts import EVENT_TYPE_IDS, JOB_SIDE_TABLE, TRAINING_EXAMPLE, TRAINING_SEQUENCE

CATEGORIES = 6
TITLE_LENGTH, SKILL_LENGTH, BUCKETS, QUERY_TOKENS = 4, 4, 64, 2


@dataclass(frozen=True)
class Planted:
    root: Path
    jobs: int
    window: int


def write_side_table(folder: Path, jobs: int, rng: np.random.Generator) -> np.ndarray:
    """Side table of ``jobs`` rows (row 0 padding); returns each row's category (−1 for padding)."""
    category = np.concatenate([[-1], np.arange(jobs - 1) % CATEGORIES])
    title = np.zeros((jobs, TITLE_LENGTH), np.int32)
    title[1:, 0] = 1 + category[1:]  # a title word naming the category
    title[1:, 1] = rng.integers(10, BUCKETS, jobs - 1)
    skills = np.zeros((jobs, SKILL_LENGTH), np.int32)
    skills[1:, 0] = rng.integers(10, BUCKETS, jobs - 1)
    company = np.where(category >= 0, rng.integers(2, 12, jobs), 0).astype(np.int32)
    company[5] = 1  # one unknown company
    zeros, ones = np.zeros(jobs, np.float32), np.ones(jobs, np.float32)
    table = pa.table({
        "job_index": np.arange(jobs, dtype=np.int32), "job_id": [None] + [f"j{i}" for i in range(1, jobs)],
        "in_catalog": category >= 0, "job_id_row": np.where(category >= 0, np.arange(jobs) + 1, 0).astype(np.int32),
        "title_tokens": list(title), "skill_tokens": list(skills),
        "company_id": company, "location_id": np.where(category >= 0, 2, 0).astype(np.int32),
        "category_id": np.where(category >= 0, category + 2, 0).astype(np.int32),
        "seniority_norm": rng.random(jobs).astype(np.float32), "has_seniority": ones, "salary_z": zeros,
        "has_salary": zeros, "log_posted_age_days": rng.random(jobs).astype(np.float32), "has_posted_ts": ones,
    }, schema=JOB_SIDE_TABLE)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-0.parquet")
    vocab = {"vocab_sizes": {"company": 12, "location": 3, "category": CATEGORIES + 2},
             "tokens": {"buckets": BUCKETS, "title_length": TITLE_LENGTH, "skill_length": SKILL_LENGTH},
             "rows": {"total": jobs}, "job_ids": [f"j{i}" for i in range(1, jobs)], "job_id_rows": jobs + 1}
    (folder / "_vocab.json").write_text(json.dumps(vocab))
    return category


def _examples(n: int, category: np.ndarray, window: int, rng: np.random.Generator, split: str,
              offset: int) -> pa.Table:
    length = window - 1
    by_category = [np.flatnonzero(category == c) for c in range(CATEGORIES)]
    rows = []
    base = datetime(2026, 10, 1, tzinfo=timezone.utc)
    for i in range(n):
        intent = int(rng.integers(CATEGORIES))
        k = int(rng.integers(2, length + 1))
        job_index = np.zeros(length, np.int32)
        event_type = np.zeros(length, np.int32)
        query = np.zeros((length, QUERY_TOKENS), np.int32)
        for p in range(k):
            noisy = rng.random() < 0.2
            c = int(rng.integers(CATEGORIES)) if noisy else intent
            kind = rng.choice(["view", "click", "save", "apply", "search"], p=[0.3, 0.2, 0.2, 0.2, 0.1])
            if rng.random() < 0.1:
                c, kind = (intent + 1 + int(rng.integers(CATEGORIES - 1))) % CATEGORIES, "dismiss"
            event_type[p] = EVENT_TYPE_IDS[kind]
            if kind == "search":
                query[p, 0] = 1 + c
            else:
                job_index[p] = rng.choice(by_category[c])
        label = int(rng.random() < 0.5)
        target_category = intent if label else (intent + 1 + int(rng.integers(CATEGORIES - 1))) % CATEGORIES
        label_kind = "positive" if label else ("dismiss" if rng.random() < 0.3 else "random_negative")
        gaps = np.where(np.arange(length) < k, rng.random(length) * 8, 0).astype(np.float32)
        rows.append({
            "example_id": f"{split}-{offset + i}", "user_id": f"u{offset + i}",
            "ctx_job_index": job_index, "ctx_event_type": event_type, "ctx_log_gap": gaps,
            "ctx_log_time_to_target": gaps[::-1].copy(), "ctx_session_position": np.minimum(np.arange(length), k),
            "ctx_query_tokens": query.reshape(-1), "context_length": k,
            "target_job_index": int(rng.choice(by_category[target_category])),
            "target_event_type": EVENT_TYPE_IDS["apply"] if label else EVENT_TYPE_IDS["dismiss"],
            "label": label, "label_kind": label_kind,
            "weight": 1.0 if label_kind != "random_negative" else 0.3,
            "target_ts": base + timedelta(minutes=offset + i), "split": split,
        })
    return pa.Table.from_pylist(rows, schema=TRAINING_EXAMPLE)


FUTURE, NEGATIVES = 3, 2
POSITIVE = (EVENT_TYPE_IDS["save"], EVENT_TYPE_IDS["apply"])


def _sequences(n: int, category: np.ndarray, window: int, rng: np.random.Generator, split: str,
               offset: int) -> pa.Table:
    """Chunks of users' timelines on their intent category, targets at every position (validation: the last)."""
    length = window - 1
    by_category = [np.flatnonzero(category == c) for c in range(CATEGORIES)]
    kinds = ["view", "click", "save", "apply", "search", "dismiss"]
    rows = []
    for i in range(n):
        intent = int(rng.integers(CATEGORIES))
        total = int(rng.integers(2, length + 4))  # events of the user; targets come from the ones after
        types = rng.choice(kinds, size=total, p=[0.25, 0.2, 0.2, 0.2, 0.1, 0.05])
        other = (intent + 1 + rng.integers(CATEGORIES - 1, size=total)) % CATEGORIES
        cats = np.where((rng.random(total) < 0.15) | (types == "dismiss"), other, intent)
        jobs = np.array([rng.choice(by_category[c]) for c in cats], np.int32)
        event_type = np.array([EVENT_TYPE_IDS[t] for t in types], np.int32)
        jobs[types == "search"] = 0
        k = min(total - 1, length)
        ctx = lambda a, fill=0: np.concatenate([a[:k], np.full(length - k, fill, a.dtype)])  # noqa: E731
        nxt = np.zeros(length, np.int32)
        future = np.zeros((length, FUTURE), np.int32)
        negative = np.zeros((length, NEGATIVES), np.int32)
        weight = np.zeros((length, NEGATIVES), np.float32)
        for t in range(k):
            if split == "validation" and t != k - 1:
                continue
            later = [j for j, e in zip(jobs[t + 1:], event_type[t + 1:]) if e in POSITIVE]
            if not later:
                continue
            nxt[t] = later[0]
            distinct = list(dict.fromkeys(later))[:FUTURE]
            future[t, :len(distinct)] = distinct
            negative[t] = [rng.choice(by_category[int(other[t])]), rng.choice(by_category[int(other[-1])])]
            weight[t] = [1.0, 0.3]
        query = np.zeros((length, QUERY_TOKENS), np.int32)
        query[:k, 0] = np.where(types[:k] == "search", 1 + cats[:k], 0)
        gaps = np.where(np.arange(length) < k, rng.random(length) * 8, 0).astype(np.float32)
        rows.append({
            "sequence_id": f"u{offset + i}:{split}", "user_id": f"u{offset + i}",
            "ctx_job_index": ctx(jobs), "ctx_event_type": ctx(event_type), "ctx_log_gap": gaps,
            "ctx_log_time_to_target": gaps[::-1].copy(), "ctx_session_position": np.minimum(np.arange(length), k),
            "ctx_query_tokens": query.reshape(-1), "context_length": k,
            "next_job_index": nxt, "future_job_index": future.reshape(-1),
            "negative_job_index": negative.reshape(-1), "negative_weight": weight.reshape(-1),
            "n_targets": int((nxt > 0).sum()), "split": split,
        })
    return pa.Table.from_pylist(rows, schema=TRAINING_SEQUENCE)


def _write_split(table: pa.Table, folder: Path, files: int) -> None:
    """``table`` (without its ``split`` column) as ``files`` Parquet files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-table.num_rows // files)
    for f in range(files):
        pq.write_table(table.slice(f * step, step).drop_columns(["split"]), folder / f"part-{f}.parquet")


def write_planted(root: Path, *, train: int = 4000, validation: int = 1000, jobs: int = 241, window: int = 8,
                  seed: int = 3, files: int = 2) -> Planted:
    """``root/examples/split=*/part-*.parquet``, ``root/sequences/split=*/part-*.parquet`` and
    ``root/job_side_table`` with a planted signal."""
    rng = np.random.default_rng(seed)
    category = write_side_table(root / "job_side_table", jobs, rng)
    for kind, cut, n_train in (("sequences", _sequences, train // 2), ("examples", _examples, train)):
        for split, n, offset in (("train", n_train, 0), ("validation", validation, train)):
            _write_split(cut(n, category, window, rng, split, offset), root / kind / f"split={split}", files)
    return Planted(root, jobs, window)
