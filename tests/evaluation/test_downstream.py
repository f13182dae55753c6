"""Downstream label rows, point-in-time features and the lift, on hand-written timelines."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eval_helpers import CUTOFF, DAY, HOUR, CategoryModel, timeline
from evaluation.downstream import Downstream, label_rows
from evaluation.timelines import Timelines
from jobtrail.contracts import JOB_SIDE_TABLE


def test_click_labels_need_an_engagement_within_the_hour():
    tls = Timelines.from_timelines({"u": timeline([
        (CUTOFF + HOUR, "impression", 3), (CUTOFF + HOUR + 60_000_000, "click", 3),  # clicked a minute later
        (CUTOFF + 2 * HOUR, "impression", 4), (CUTOFF + 4 * HOUR, "apply", 4),        # applied two hours later
        (CUTOFF + 5 * HOUR, "impression", 5), (CUTOFF + 5 * HOUR + 5, "save", 6),      # saved another job
        (CUTOFF - HOUR, "impression", 7), (CUTOFF - HOUR + 5, "click", 7)])})         # before the horizon
    rows = label_rows(tls, "click", CUTOFF, CUTOFF + DAY)
    assert [(job, label) for _, _, job, label in rows] == [(3, 1), (4, 0), (5, 0)]


def test_liked_labels_are_high_ratings():
    tls = Timelines.from_timelines({"u": timeline([(CUTOFF + HOUR, "apply", 1), (CUTOFF + HOUR, "dismiss", 2),
                                                   (CUTOFF + 2 * HOUR, "view", 3), (CUTOFF - HOUR, "apply", 4)])})
    assert [(job, label) for _, _, job, label in label_rows(tls, "liked", CUTOFF, CUTOFF + DAY)] == [
        (1, 1), (2, 0), (3, 0)]


def _side_table(path, n: int) -> None:
    zeros = np.zeros(n, np.float32)
    table = pa.table({
        "job_index": np.arange(n, dtype=np.int32), "job_id": [None] + [f"j{i}" for i in range(1, n)],
        "in_catalog": [False] + [True] * (n - 1), "job_id_row": np.arange(n, dtype=np.int32) + (np.arange(n) > 0),
        "title_tokens": [[0]] * n, "skill_tokens": [[0]] * n,
        "company_id": np.zeros(n, np.int32), "location_id": np.zeros(n, np.int32),
        "category_id": np.zeros(n, np.int32), "seniority_norm": zeros, "has_seniority": zeros, "salary_z": zeros,
        "has_salary": zeros, "log_posted_age_days": np.arange(n, dtype=np.float32), "has_posted_ts": zeros,
    }, schema=JOB_SIDE_TABLE)
    path.mkdir()
    pq.write_table(table, path / "part-0.parquet")
    (path / "_vocab.json").write_text('{"tokens": {"title_length": 1, "skill_length": 1, "buckets": 4}}')


def test_features_are_point_in_time_and_the_embedding_lifts(tmp_path):
    # 60 users; each likes the category of the first job they touched (a signal only the embedding carries)
    rng = np.random.default_rng(0)
    users = {}
    for u in range(60):
        first = int(rng.integers(1, 40))
        events = [(CUTOFF - 3 * DAY, "view", first)]
        for d in range(14):
            for k in range(3):
                job = int(rng.integers(1, 40))
                t = CUTOFF + d * DAY + (k + 1) * HOUR
                events.append((t, "apply" if job % 3 == first % 3 else "dismiss", job))
        users[f"u{u}"] = timeline(events)
    tls = Timelines.from_timelines(users)
    _side_table(tmp_path / "jobs", 40)
    down = Downstream.build(tls, tmp_path / "jobs", "liked", CUTOFF, CUTOFF + 14 * DAY)
    assert len(down.rows) == 60 * 14 * 3 and down.train.sum() == 60 * 7 * 3  # first 7 days fit, last 7 test
    first_row = down.ordinary[0]
    # as of the first day's 00:00: the user has one view, no applies; the job's posting age is its index
    assert first_row[2] == down.rows[0][2] and first_row[3 + 2] == 1 and first_row[3 + 5] == 0
    # the stand-in embeds each user by the oldest job of a context long enough to hold them all: the signal
    result = down.lift(CategoryModel(first=True), tls, window=64, seed=0)
    assert result["auc_with"] > 0.9 > result["auc_without"]
    assert result["lift"] == pytest.approx(result["auc_with"] / result["auc_without"] - 1)
    assert down.without(0) is down.without(0)  # the no-embedding ranker is fitted once per seed
