"""Export: a SavedModel reloaded in a fresh process gives the Keras model's embeddings; encoders handle unknowns."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import subprocess_env
from jobtrail.job_table_io import job_table_arrays, load_job_table
from tf_models import data
from tf_models.config import AGGREGATOR_NAMES, ModelConfig
from tf_models.export import export_model
from tf_models.model import NextActionModel
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


def _model(planted, aggregator: str, **config) -> tuple[NextActionModel, dict, dict]:
    table, vocab = load_job_table(planted.root / "job_side_table")
    arrays = job_table_arrays(table)
    files = data.example_files(planted.root, "validation")
    shapes = data.read_shapes(files)
    params = {"d_model": 16, "heads": 1, "layers": 1} if aggregator in ("transformer", "multiseq") else {}
    model = NextActionModel(ModelConfig(aggregator, job_dim=8, aggregator_params=params, **config),
                            job_arrays=arrays, vocab=vocab, shapes=shapes,
                            candidate_probability=np.full(len(table), 1 / len(table)))
    batch = next(iter(data.make_dataset(files, batch_size=32, shapes=shapes)))
    return model, arrays, batch


@pytest.fixture(scope="module")
def exported(planted, tmp_path_factory):
    root = tmp_path_factory.mktemp("exported")
    keras_out, paths = {}, {}
    for aggregator in AGGREGATOR_NAMES:
        model, arrays, batch = _model(planted, aggregator)
        jobs = model.job_encoder({k: tf.constant(arrays[k]) for k in JOB_FEATURES})
        users = model.user_embedding(batch, tf.gather(jobs, batch["ctx_job_index"]), training=False)
        keras_out[aggregator] = (jobs.numpy(), users.numpy())
        paths[aggregator] = str(export_model(model, root / aggregator, vocab={"tokens": {
            "buckets": 64, "title_length": 4, "skill_length": 4}}, metadata={"model_name": aggregator}))
    inputs = root / "inputs.npz"
    np.savez(inputs, **{k: arrays[k] for k in JOB_FEATURES}, **{k: batch[k].numpy() for k in CONTEXT_FEATURES})
    result = root / "reloaded.npz"
    subprocess.run([sys.executable, "-c", RELOAD, str(inputs), json.dumps(paths), str(result)], check=True,
                   env=subprocess_env(), timeout=600)
    return keras_out, dict(np.load(result))


@pytest.mark.parametrize("aggregator", AGGREGATOR_NAMES)
def test_saved_model_in_a_fresh_process_matches_keras(exported, aggregator):
    keras_out, reloaded = exported
    jobs, users = keras_out[aggregator]
    np.testing.assert_allclose(reloaded[f"{aggregator}/jobs"], jobs, atol=1e-5)
    np.testing.assert_allclose(reloaded[f"{aggregator}/users"], users, atol=1e-5)
    assert np.isfinite(users).all()


def test_side_table_and_materialised_features_give_the_same_loss(planted):
    model, arrays, batch = _model(planted, "cnn", retrieval_weight=0.5)
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
