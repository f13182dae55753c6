"""Running an exported model on Arrow batches: exact known-model values, sliced batches, shape checks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from jobtrail.errors import DataContractError
from tf_models.known_model import build_known_model, known_job_embeddings, known_user_embedding
from tf_models.serving import ModelSpec, context_arrays, encode_jobs, encode_users, load_model

L, Q = 3, 2


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_known_model(tmp_path_factory.mktemp("known") / "m", context_length=L, query_tokens=Q,
                             title_length=2, skill_length=2, user_dim=5)


def side_arrays(n: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    out = {name: rng.integers(0, 9, n).astype(np.int32) for name in ("company_id", "location_id", "category_id")}
    out |= {name: rng.random(n).astype(np.float32) for name in
            ("seniority_norm", "has_seniority", "salary_z", "has_salary", "log_posted_age_days", "has_posted_ts")}
    return out | {"title_tokens": np.zeros((n, 2), np.int32), "skill_tokens": np.zeros((n, 2), np.int32),
                  "job_id_row": np.arange(n, dtype=np.int32)}


def batch(rows: list[tuple[list[int], int]], width: int = L) -> pa.RecordBatch:
    ints = lambda v: pa.array([v] * len(rows), pa.list_(pa.int32()))  # noqa: E731
    return pa.RecordBatch.from_pydict({
        "ctx_job_index": pa.array([j + [0] * (width - len(j)) for j, _ in rows], pa.list_(pa.int32())),
        "ctx_event_type": ints([1] * width), "ctx_session_position": ints([0] * width),
        "ctx_log_gap": pa.array([[0.5] * width] * len(rows), pa.list_(pa.float32())),
        "ctx_log_time_to_target": pa.array([[0.5] * width] * len(rows), pa.list_(pa.float32())),
        "ctx_query_tokens": ints([0] * width * Q), "context_length": pa.array([n for _, n in rows], pa.int32())})


def test_known_model_gives_its_formula_on_sliced_batches(model_dir):
    spec, model = ModelSpec.from_dir(model_dir), load_model(model_dir)
    assert load_model(model_dir) is model  # once per process
    assert (spec.context_length, spec.query_tokens, spec.job_dim, spec.user_dim) == (L, Q, 4, 5)
    arrays = side_arrays()
    jobs = encode_jobs(model, arrays, spec)
    np.testing.assert_array_equal(jobs, known_job_embeddings(arrays))
    data = batch([([1, 2], 2), ([3], 1), ([1, 2, 3], 3), ([], 0)])
    part = data.slice(1, 3)  # Arrow slices keep the parent's buffers: offsets must be honoured
    got = encode_users(model, jobs, context_arrays(part, spec), spec)
    expected = [known_user_embedding(jobs, j, 5) for j in ([3], [1, 2, 3], [])]
    np.testing.assert_allclose(got, np.stack(expected), rtol=1e-6)


def test_shape_mismatches_are_clear_errors(model_dir):
    spec, model = ModelSpec.from_dir(model_dir), load_model(model_dir)
    jobs = encode_jobs(model, side_arrays(), spec)
    with pytest.raises(DataContractError, match="ctx_job_index has lengths \\[5\\] but the model expects 3"):
        context_arrays(batch([([1], 1)], width=5), spec)
    with pytest.raises(DataContractError, match="ctx_job_index reaches 7 but the job side table has 4 rows"):
        encode_users(model, jobs, context_arrays(batch([([7], 1)]), spec), spec)
    with pytest.raises(DataContractError, match="title_length=8 but the model expects 2"):
        spec.check_side_table({"tokens": {"title_length": 8, "skill_length": 2}}, "side")
