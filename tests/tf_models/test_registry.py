"""MLflow: a run with params, metrics and a registered version; the champion gate; models:/ URIs resolve."""

from __future__ import annotations

import json

import pytest

from model_helpers import SMALL
from jobtrail.errors import ConfigError
from tf_models import promote, registry
from tf_models.train import parse_args, run


def test_train_register_promote_resolve(planted, data_root, tmp_path):
    common = ["--examples", str(planted.root), "--registered-name", "planted_mean", "--model", "mean", *SMALL]
    good = run(parse_args([*common, "--out", str(tmp_path / "good"), "--epochs", "3"]))
    assert good["model_version"] == "1" and good["run_id"]
    client = registry.connect()
    assert registry.tracking_uri() == f"sqlite:///{data_root.resolve() / 'mlflow' / 'mlflow.db'}"
    logged = client.get_run(good["run_id"]).data
    assert logged.params["model"] == "mean" and logged.params["config.job_dim"] == "16"
    assert logged.metrics["val_auc"] == pytest.approx(good["metrics"]["val_auc"])
    history = client.get_metric_history(good["run_id"], "val_auc")
    assert len(history) == good["metrics"]["epochs_run"] + 1  # one per epoch, then the final evaluation
    assert history[-1].value == pytest.approx(good["metrics"]["val_auc"])

    with pytest.raises(ConfigError, match="no version .* alias 'champion'"):
        registry.resolve_model("models:/planted_mean@champion")
    first = promote.run(promote.parse_args(["--name", "planted_mean", "--version", "1", "--examples", str(planted.root)]))
    assert first["promoted"] and first["champion"] is None and first["metric"] == "recall@10"
    # the gate scores the validation users' embeddings as of valid_from through the SavedModel: the same figure
    # as training's validation Recall@10, and the proxy AUC beside it
    assert first["candidate"]["recall@10"] == pytest.approx(good["metrics"]["val_recall_at_10"], abs=0.01)
    assert first["candidate"]["auc"] == pytest.approx(good["metrics"]["val_auc"], abs=0.02)
    champion = registry.resolve_model("models:/planted_mean@champion")
    assert (champion.name, champion.version) == ("planted_mean", "1")
    assert (champion.path / "saved_model.pb").exists() and (champion.path / "jobtrail_model.json").exists()

    # a barely trained candidate does not beat the champion: the alias stays, the comparison is recorded
    poor = run(parse_args([*common, "--out", str(tmp_path / "poor"), "--epochs", "1", "--learning-rate", "1e-6"]))
    assert poor["model_version"] == "2"
    second = promote.run(promote.parse_args(["--name", "planted_mean", "--version", "2", "--examples", str(planted.root)]))
    assert not second["promoted"] and second["champion"]["version"] == "1"
    assert second["candidate"]["recall@10"] < second["champion"]["recall@10"]
    assert registry.alias_version("planted_mean") == "1"
    tag = json.loads(client.get_model_version("planted_mean", "2").tags["promotion"])
    assert tag["promoted"] is False
    assert {"gate_champion_recall_at_10", "gate_champion_auc"} <= set(client.get_run(poor["run_id"]).data.metrics)
    assert registry.resolve_model("models:/planted_mean/2").version == "2"

    # a first model for another alias must also beat the baselines trained beside it (the DAG passes them)
    staging = promote.run(promote.parse_args(["--name", "planted_mean", "--version", "2", "--examples",
                                              str(planted.root), "--alias", "staging",
                                              "--baseline-model", good["model_dir"]]))
    assert not staging["promoted"] and staging["champion"] is None
    assert staging["baseline"]["name"] == "mean baseline" and "does not beat the mean baseline's" in staging["reason"]
    assert [f["name"] for f in staging["baselines"]] == ["popularity ranking", "mean baseline"]
    assert registry.alias_version("planted_mean", "staging") is None


def test_model_names_and_uris_are_validated(data_root, tmp_path):
    for bad in ("../etc", "a b", "", "x" * 101):
        with pytest.raises(ConfigError):
            registry.check_model_name(bad)
    with pytest.raises(ConfigError, match="neither"):
        registry.resolve_model(str(tmp_path / "missing"))
    with pytest.raises(SystemExit):
        promote.parse_args(["--name", "ok", "--version", "latest", "--examples", str(tmp_path)])



def popular_horizon(planted, out):
    """A copy of the planted examples whose validation horizon holds only the most popular training targets:
    popularity ranks every horizon perfectly there, so no model can beat it."""
    import shutil

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from tf_models.sequence_data import sequence_files, target_counts

    shutil.copytree(planted.root, out)
    counts = target_counts(sequence_files(out, "train"), int(counts_rows(out)))
    counts[0] = -1
    top = np.argsort(-counts, kind="stable")[:10]
    for path in sequence_files(out, "validation"):
        table = pq.read_table(path)
        for name in ("next_job_index", "future_job_index"):
            column = table.column(name).combine_chunks()
            values = column.values.to_numpy(zero_copy_only=False).copy()
            where = np.flatnonzero(values > 0)
            values[where] = top[np.arange(where.size) % (1 if name == "next_job_index" else 10)]
            table = table.set_column(table.schema.get_field_index(name), name,
                                     pa.ListArray.from_arrays(column.offsets, pa.array(values, column.type.value_type)))
        assert pc.sum(pc.list_value_length(table.column("next_job_index"))).as_py() > 0
        pq.write_table(table, path)
    return out


def counts_rows(examples):
    from jobtrail.job_table_io import load_job_table

    return load_job_table(examples / "job_side_table")[0].num_rows


def test_a_candidate_below_popularity_is_never_promoted_not_even_the_first(planted, data_root, tmp_path):
    """On a validation horizon where everyone engages with the most popular jobs, a model that learned the planted
    signal ranks below popularity, so it does not become the first champion; the baseline is recorded."""
    examples = popular_horizon(planted, tmp_path / "examples")
    trained = run(parse_args(["--examples", str(examples), "--registered-name", "planted_pop", "--model", "mean",
                              *SMALL, "--out", str(tmp_path / "run"), "--epochs", "1"]))
    result = promote.run(promote.parse_args(["--name", "planted_pop", "--version", "1", "--examples", str(examples)]))
    assert result["baseline"]["name"] == "popularity ranking" and result["baseline"]["recall@10"] == pytest.approx(1.0)
    assert result["champion"] is None and result["candidate"]["recall@10"] < 1.0
    assert not result["promoted"] and "does not beat the popularity ranking's 1.0000" in result["reason"]
    assert registry.alias_version("planted_pop") is None
    logged = registry.connect().get_run(trained["run_id"]).data.metrics
    assert logged["gate_baseline_recall_at_10"] == pytest.approx(1.0)


def test_the_mlflow_store_follows_data_root_and_nothing_lands_in_the_working_directory(
        planted, data_root, tmp_path, monkeypatch):
    cwd, other = tmp_path / "cwd", tmp_path / "platform"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    trained = run(parse_args(["--examples", str(planted.root), "--registered-name", "elsewhere", "--model", "mean",
                              *SMALL, "--epochs", "1", "--out", str(tmp_path / "run"), "--data-root", str(other)]))
    assert trained["model_version"] == "1" and (other / "mlflow" / "mlflow.db").exists()
    gate = promote.run(promote.parse_args(["--name", "elsewhere", "--version", "1", "--examples", str(planted.root),
                                           "--data-root", str(other)]))
    assert gate["candidate"]["version"] == "1"
    store = f"sqlite:///{data_root.resolve() / 'mlflow' / 'mlflow.db'}"
    with pytest.raises(ConfigError, match=f"in the MLflow store {store}.*--data-root"):
        registry.resolve_model("models:/elsewhere@champion")  # $JOBTRAIL_DATA_ROOT's store: not there
    from jobtrail.settings import Settings
    from spark_jobs.infer import resolve_ref

    if gate["promoted"]:
        path, name, version = resolve_ref("models:/elsewhere@champion", data_root=other)
        assert (name, version) == ("elsewhere", "1") and str(path).startswith(str(other.resolve()))
    assert registry.resolve_model("models:/elsewhere/1", Settings.from_env().with_data_root(other)).version == "1"
    assert list(cwd.iterdir()) == []  # no mlruns/ or anything else in the working directory
