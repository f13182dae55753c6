"""Training on a planted signal: every aggregator learns it, runs are deterministic, the decay grid works."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SMALL
from tf_models.config import AGGREGATOR_NAMES
from tf_models.train import parse_args, run


def _train(planted, out, *extra: str) -> dict:
    return run(parse_args(["--examples", str(planted.root), "--out", str(out), "--no-mlflow", *SMALL, *extra]))


@pytest.fixture(scope="module")
def trained(planted, tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("runs")
    return {m: _train(planted, root / m, "--model", m, "--epochs", "4", "--patience", "4") for m in AGGREGATOR_NAMES}


@pytest.mark.parametrize("aggregator", AGGREGATOR_NAMES)
def test_each_aggregator_learns_the_planted_signal(trained, aggregator):
    result = trained[aggregator]
    # the trivial baseline (a constant score, or one that ignores the context) has an AUC of 0.5
    assert result["metrics"]["val_auc"] > 0.72, result["metrics"]
    assert result["metrics"]["train_examples_per_second"] > 0
    history = json.loads(open(result["model_dir"].replace("saved_model", "history.json")).read())
    assert max(history["val_auc"]) == pytest.approx(result["metrics"]["val_auc"], abs=0.02)


def test_result_and_export_layout(trained):
    result = trained["transformer"]
    model_dir = result["model_dir"]
    meta = json.loads(open(f"{model_dir}/jobtrail_model.json").read())
    assert meta["aggregator"] == "transformer" and meta["context_length"] == 7 and meta["window"] == 8
    assert meta["job_dim"] == 16 and meta["user_dim"] == 16
    assert json.loads(open(f"{model_dir}/assets/job_vocab.json").read())["tokens"]["buckets"] == 64
    assert trained["mean"]["config"]["aggregator"] == "mean"


def test_training_is_deterministic_for_a_seed(planted, tmp_path):
    a = _train(planted, tmp_path / "a", "--model", "cnn", "--epochs", "1")
    b = _train(planted, tmp_path / "b", "--model", "cnn", "--epochs", "1")
    assert a["history"]["loss"] == b["history"]["loss"]
    assert a["metrics"]["val_auc"] == b["metrics"]["val_auc"]


def test_decay_grid_search_keeps_the_best_rate(planted, tmp_path):
    result = _train(planted, tmp_path, "--model", "decay", "--epochs", "1", "--decay-rate", "0.5,0.95")
    assert set(result["grid"]) == {"0.5", "0.95"}
    assert result["grid"][str(result["decay_rate"])] == max(result["grid"].values())
    meta = json.loads((tmp_path / "saved_model" / "jobtrail_model.json").read_text())
    assert meta["config"]["aggregator_params"] == {"rate": result["decay_rate"]}


def test_retrieval_objective_trains(planted, tmp_path):
    result = _train(planted, tmp_path, "--model", "transformer", "--epochs", "2", "--retrieval-weight", "0.5")
    assert np.isfinite(result["history"]["loss"]).all()
    assert result["metrics"]["val_auc"] > 0.6


def test_bad_arguments_are_rejected(planted, tmp_path):
    with pytest.raises(SystemExit):
        parse_args(["--model", "mean", "--examples", str(planted.root), "--out", str(tmp_path), "--decay-rate", "0.5,2"])
    with pytest.raises(SystemExit):
        parse_args(["--model", "mean", "--examples", str(planted.root), "--out", str(tmp_path), "--decay-rate", "0.5,0.6"])
    with pytest.raises(SystemExit):
        parse_args(["--model", "lstm", "--examples", str(planted.root), "--out", str(tmp_path)])
