"""The exported model contract: what every SavedModel written by :mod:`tf_models.export` serves.

Every trained model — learned aggregators and fixed formulas alike — is one SavedModel directory with
two signatures, so batch inference treats all models the same way:

``encode_jobs`` — job side-table features (contract ``JOB_SIDE_TABLE``, one row per job) → job embeddings::

    title_tokens [N, title_length] int32, skill_tokens [N, skill_length] int32,
    company_id / location_id / category_id / job_id_row [N] int32,
    seniority_norm / has_seniority / salary_z / has_salary / log_posted_age_days / has_posted_ts [N] float32
    → {"job_embedding": [N, job_dim] float32}

``encode_users`` — the job embedding matrix of the same side table plus context sequences (contract
``INFERENCE_INPUT``/``TRAINING_EXAMPLE`` context columns, ``L = window - 1``) → user embeddings::

    job_embeddings [N, job_dim] float32 (row i = job_index i; row 0 = padding),
    ctx_job_index / ctx_event_type / ctx_session_position [B, L] int32,
    ctx_log_gap / ctx_log_time_to_target [B, L] float32,
    ctx_query_tokens [B, L * query_tokens] int32, context_length [B] int32
    → {"user_embedding": [B, user_dim] float32}

Next to ``saved_model.pb`` the export writes ``jobtrail_model.json`` (:data:`METADATA_FILE`) with
``aggregator``, ``job_dim``, ``user_dim``, ``window``, ``context_length`` (L), ``query_tokens``,
``title_length``, ``skill_length``, ``normalisation``, ``params`` and ``metrics``; and
``assets/job_vocab.json``, the training side table's vocabulary, so a later snapshot's side table is
built with the same ids (``spark_jobs/job_table.py --vocab <model>/assets/job_vocab.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobtrail.errors import DataContractError

ENCODE_JOBS = "encode_jobs"
ENCODE_USERS = "encode_users"
JOB_EMBEDDING = "job_embedding"
USER_EMBEDDING = "user_embedding"
METADATA_FILE = "jobtrail_model.json"
VOCAB_ASSET = "assets/job_vocab.json"

JOB_INT_FEATURES = ("company_id", "location_id", "category_id")
JOB_FLOAT_FEATURES = ("seniority_norm", "has_seniority", "salary_z", "has_salary",
                      "log_posted_age_days", "has_posted_ts")
JOB_TOKEN_FEATURES = ("title_tokens", "skill_tokens")
JOB_ID_FEATURE = "job_id_row"
JOB_FEATURES = JOB_TOKEN_FEATURES + JOB_INT_FEATURES + (JOB_ID_FEATURE,) + JOB_FLOAT_FEATURES

CONTEXT_INT_FEATURES = ("ctx_job_index", "ctx_event_type", "ctx_session_position")
CONTEXT_FLOAT_FEATURES = ("ctx_log_gap", "ctx_log_time_to_target")
CONTEXT_FEATURES = CONTEXT_INT_FEATURES + CONTEXT_FLOAT_FEATURES + ("ctx_query_tokens", "context_length")


def read_metadata(model_dir: str | Path) -> dict[str, Any]:
    """The ``jobtrail_model.json`` of an exported model directory."""
    path = Path(model_dir) / METADATA_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as e:
        raise DataContractError(f"{model_dir} is not a jobtrail SavedModel (no {METADATA_FILE}); "
                                "export it with `jobtrail train` or tf_models.export") from e
