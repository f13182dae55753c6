"""The Embedder on a real SavedModel: the catalogue scores it computes are the `score` signature's logits."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tf_models"))
from planted import write_planted  # noqa: E402  (tests/tf_models/planted.py: the model tests' planted signal)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tf_models.train import parse_args, run

    root = write_planted(tmp_path_factory.mktemp("planted"), train=600, validation=200, jobs=61)
    out = tmp_path_factory.mktemp("run")
    result = run(parse_args(["--model", "decay", "--examples", str(root.root), "--out", str(out), "--no-mlflow",
                             "--epochs", "1", "--batch-size", "128", "--embedding-dim", "8", "--seed", "3"]))
    return root, result["model_dir"]


def test_catalogue_scores_equal_the_score_signature(trained):
    from evaluation.embedder import Embedder
    from tf_models import data

    root, model_dir = trained
    emb = Embedder(model_dir, root.root / "job_side_table")
    files = data.example_files(root.root, "validation")
    chunk = next(data.read_file(files[0], data.read_shapes(files), chunk_rows=50))
    users = emb.users({k: chunk[k] for k in ("ctx_job_index", "ctx_event_type", "ctx_session_position",
                                            "ctx_log_gap", "ctx_log_time_to_target", "ctx_query_tokens",
                                            "context_length")})
    assert users.shape == (50, 3 * 8)  # decay: one D-vector per action type
    scores = emb.scores(users)
    assert scores.shape == (50, root.jobs)
    rows, cols = np.repeat(np.arange(50), root.jobs), np.tile(np.arange(root.jobs), 50)
    direct = emb.pair_logits(users[rows], emb.jobs[cols]).reshape(50, root.jobs)
    np.testing.assert_allclose(scores, direct, rtol=1e-4, atol=1e-4)
