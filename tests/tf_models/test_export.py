"""Export: a SavedModel reloaded in a fresh process gives the Keras model's embeddings; encoders handle unknowns."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from model_helpers import subprocess_env
from jobtrail.job_table_io import job_table_arrays, load_job_table
from tf_models import data, sequence_data
from tf_models.config import AGGREGATOR_NAMES, ModelConfig
from tf_models.export import export_model
from tf_models.model import NextActionModel
from tf_models.sequence_model import SequenceModel
from tf_models.signatures import CONTEXT_FEATURES, JOB_FEATURES

RELOAD = """
import json, sys
import numpy as np
import tf_models  # Keras 2 before TensorFlow
import tensorflow as tf
arrays = dict(np.load(sys.argv[1]))
out = {}
for name, path in json.loads(sys.argv[2]).items():
    model = tf.saved_model.load(path)
    jobs = model.signatures["encode_jobs"](**{k: tf.constant(arrays[k]) for k in %r})["job_embedding"]
    users = model.signatures["encode_users"](job_embeddings=jobs, **{k: tf.constant(arrays[k]) for k in %r})
    out[name + "/jobs"] = jobs.numpy()
    out[name + "/users"] = users["user_embedding"].numpy()
np.savez(sys.argv[3], **out)
""" % (JOB_FEATURES, CONTEXT_FEATURES)


def _model(planted, aggregator: str, objective: str = "next-action", **config) -> tuple[NextActionModel, dict, dict]:
    table, vocab = load_job_table(planted.root / "job_side_table")
    arrays = job_table_arrays(table)
    source, files = ((sequence_data, sequence_data.sequence_files(planted.root, "validation")) if objective == "dense"
                     else (data, data.example_files(planted.root, "validation")))
    shapes = source.read_shapes(files)
    params = {"d_model": 16, "heads": 1, "layers": 1} if aggregator in ("transformer", "multiseq") else {}
    model_class = SequenceModel if objective == "dense" else NextActionModel
    model = model_class(ModelConfig(aggregator, job_dim=8, aggregator_params=params, objective=objective, **config),
                        job_arrays=arrays, vocab=vocab, shapes=shapes,
                        candidate_probability=np.full(len(table), 1 / len(table)))
    batch = next(iter(source.make_dataset(files, batch_size=32, shapes=shapes)))
    return model, arrays, batch


MODELS = [*((a, "dense") for a in AGGREGATOR_NAMES), ("transformer", "next-action")]


@pytest.fixture(scope="module")
def exported(planted, tmp_path_factory):
    root = tmp_path_factory.mktemp("exported")
    keras_out, paths, contexts = {}, {}, None
    for aggregator, objective in MODELS:
        model, arrays, batch = _model(planted, aggregator, objective)
        contexts = contexts or {k: batch[k] for k in CONTEXT_FEATURES}  # one set of inputs for every model
        batch = contexts
        jobs = model.job_embeddings(tf.range(len(arrays["company_id"])))
        if objective == "dense":  # give the id embedding non-zero rows, as training does
            ids = model.job_encoder.ids
            ids.embeddings.assign(tf.random.stateless_normal(ids.embeddings.shape, seed=[1, 2]))
            jobs = model.job_embeddings(tf.range(len(arrays["company_id"])))
        users = model.user_embedding(batch, tf.gather(jobs, batch["ctx_job_index"]), training=False)
        keras_out[f"{aggregator}-{objective}"] = (jobs.numpy(), users.numpy())
        paths[f"{aggregator}-{objective}"] = str(export_model(model, root / f"{aggregator}-{objective}", vocab={
            "tokens": {"buckets": 64, "title_length": 4, "skill_length": 4}}, metadata={"model_name": aggregator}))
    inputs = root / "inputs.npz"
    np.savez(inputs, **{k: arrays[k] for k in JOB_FEATURES}, **{k: contexts[k].numpy() for k in CONTEXT_FEATURES})
    result = root / "reloaded.npz"
    subprocess.run([sys.executable, "-c", RELOAD, str(inputs), json.dumps(paths), str(result)], check=True,
                   env=subprocess_env(), timeout=600)
    return keras_out, dict(np.load(result))


@pytest.mark.parametrize("aggregator,objective", MODELS)
def test_saved_model_in_a_fresh_process_matches_keras(exported, aggregator, objective):
    keras_out, reloaded = exported
    jobs, users = keras_out[f"{aggregator}-{objective}"]
    np.testing.assert_allclose(reloaded[f"{aggregator}-{objective}/jobs"], jobs, atol=1e-5)
    np.testing.assert_allclose(reloaded[f"{aggregator}-{objective}/users"], users, atol=1e-5)
    assert np.isfinite(users).all() and np.abs(users).sum() > 0


@pytest.mark.parametrize("aggregator", AGGREGATOR_NAMES)
def test_the_user_embedding_is_the_last_position_of_the_trained_sequence(planted, aggregator):
    """Inference writes exactly the output the dense objective trains at each row's last real position."""
    model, arrays, batch = _model(planted, aggregator, "dense")
    per_position = model.sequence_embeddings(batch, training=False).numpy()
    jobs = model.job_embeddings(tf.range(len(arrays["company_id"])))
    users = model.user_embedding(batch, tf.gather(jobs, batch["ctx_job_index"]), training=False).numpy()
    last = np.maximum(batch["context_length"].numpy() - 1, 0)
    np.testing.assert_allclose(users, per_position[np.arange(len(last)), last], atol=1e-5)


def test_a_job_unseen_in_training_scores_through_its_content(planted, tmp_path):
    """A new posting (``job_id_row`` 1: not in the training vocabulary) is embedded by the content encoder alone
    and scores like the known job whose content it shares, while known jobs carry their learned id rows."""
    from tf_models.train import parse_args, run

    from model_helpers import SMALL

    result = run(parse_args(["--model", "mean", "--examples", str(planted.root), "--out", str(tmp_path), "--no-mlflow",
                             "--epochs", "2", *SMALL]))
    model = tf.saved_model.load(result["model_dir"])
    table, _ = load_job_table(planted.root / "job_side_table")
    arrays = job_table_arrays(table)
    known = {k: tf.constant(arrays[k]) for k in JOB_FEATURES}
    new = dict(known, job_id_row=tf.ones_like(known["job_id_row"]))  # the same jobs, posted anew
    no_ids = dict(known, job_id_row=tf.zeros_like(known["job_id_row"]))
    known_jobs = model.signatures["encode_jobs"](**known)["job_embedding"].numpy()
    new_jobs = model.signatures["encode_jobs"](**new)["job_embedding"].numpy()
    np.testing.assert_allclose(new_jobs, model.signatures["encode_jobs"](**no_ids)["job_embedding"].numpy(), atol=1e-6)
    assert np.abs(known_jobs[1:] - new_jobs[1:]).max() > 1e-3  # training gave the known jobs id rows
    assert np.isfinite(new_jobs).all() and np.allclose(np.linalg.norm(new_jobs[1:], axis=1), 1, atol=1e-5)
    # content alone still ranks: each new posting is closest to the known jobs of its own category
    category = arrays["category_id"][1:]
    similarity = new_jobs[1:] @ known_jobs[1:].T
    same = (category[:, None] == category[None, :])
    assert similarity[same].mean() > similarity[~same].mean() + 0.05


def test_side_table_and_materialised_features_give_the_same_loss(planted):
    model, arrays, batch = _model(planted, "cnn", retrieval_weight=0.5, job_ids=False)
    materialised = next(iter(data.materialise_job_features(tf.data.Dataset.from_tensors(batch), arrays)))
    assert materialised["ctx_job_features"]["title_tokens"].shape == (32, 7, 4)
    np.testing.assert_allclose(model.compute_loss(batch).numpy(), model.compute_loss(materialised).numpy(),
                               rtol=1e-5)


def test_job_encoder_handles_missing_and_unknown_attributes(planted):
    model, arrays, _ = _model(planted, "mean")
    features = {k: tf.constant(v[:3]) for k, v in arrays.items() if k in JOB_FEATURES}
    unknown = dict(features, company_id=tf.constant([999, -3, 1], tf.int32),
                   title_tokens=tf.constant(np.full((3, 4), 10_000, np.int32)))
    oov = dict(features, company_id=tf.constant([1, 1, 1], tf.int32))
    assert np.isfinite(model.job_encoder(unknown).numpy()).all()
    # ids beyond the vocabulary fold into the out-of-vocabulary row; tokens beyond the buckets are ignored
    np.testing.assert_allclose(model.job_encoder(dict(unknown, title_tokens=tf.zeros((3, 4), tf.int32))).numpy(),
                               model.job_encoder(dict(oov, title_tokens=tf.zeros((3, 4), tf.int32))).numpy(),
                               atol=1e-6)
    np.testing.assert_allclose(model.job_encoder(dict(unknown, title_tokens=features["title_tokens"])).numpy(),
                               model.job_encoder(dict(oov, title_tokens=features["title_tokens"])).numpy(), atol=1e-6)
    # row 0 is the padding row: every attribute missing, still a finite embedding
    assert np.isfinite(model.job_encoder({k: v[:1] for k, v in features.items()}).numpy()).all()
