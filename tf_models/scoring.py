"""Score held-out examples with an exported SavedModel — exactly what serving computes, plus the trained head.

    labels, logits, weights, kinds = score_examples("out/saved_model", "data/examples/w32", split="validation")

Job embeddings come from ``encode_jobs`` on the examples' side table (once), user embeddings from
``encode_users`` in batches, logits from the ``score`` signature.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from jobtrail.errors import DataContractError
from jobtrail.job_table_io import job_table_arrays, load_job_table
from tf_models import data
from tf_models.signatures import (CONTEXT_FEATURES, ENCODE_JOBS, ENCODE_USERS, JOB_EMBEDDING, JOB_FEATURES,
                                  USER_EMBEDDING, read_metadata)


def load(model_dir: str | Path):
    return tf.saved_model.load(str(model_dir))


def encode_jobs(model, job_table: str | Path) -> tf.Tensor:
    """[N, D] job embeddings of a side table (rows = job_index)."""
    table, _ = load_job_table(job_table)
    arrays = job_table_arrays(table)
    return model.signatures[ENCODE_JOBS](**{n: tf.constant(arrays[n]) for n in JOB_FEATURES})[JOB_EMBEDDING]


def score_examples(model_dir: str | Path, examples: str | Path, *, split: str = "validation",
                   job_table: str | Path | None = None, batch_size: int = 4096):
    """(labels, logits, weights, label-kind ids) of every example of ``split``, scored by the SavedModel."""
    meta = read_metadata(model_dir)
    files = data.example_files(examples, split)
    shapes = data.read_shapes(files)
    if shapes.context_length != meta["context_length"] or shapes.query_tokens != meta["query_tokens"]:
        raise DataContractError(
            f"examples {examples} have contexts of {shapes.context_length}×{shapes.query_tokens} but the model "
            f"{model_dir} was trained on {meta['context_length']}×{meta['query_tokens']}; cut examples with "
            f"--window {meta['window']}")
    model = load(model_dir)
    jobs = encode_jobs(model, job_table or Path(examples) / "job_side_table")
    parts = []
    for path in files:
        for chunk in data.read_file(path, shapes, chunk_rows=batch_size):
            user = model.signatures[ENCODE_USERS](job_embeddings=jobs,
                                                  **{n: tf.constant(chunk[n]) for n in CONTEXT_FEATURES})
            target = tf.gather(jobs, chunk["target_job_index"])
            logit = model.signatures["score"](user_embedding=user[USER_EMBEDDING], job_embedding=target)["logit"]
            parts.append((chunk["label"], logit.numpy(), chunk["weight"], chunk["label_kind"]))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))
