"""MLflow: log a training run, register its SavedModel, move the ``champion`` alias, resolve model URIs.

Tracking store: ``MLFLOW_TRACKING_URI`` when set, else a local SQLite store under the data root
(``<JOBTRAIL_DATA_ROOT>/mlflow/mlflow.db``, artifacts in ``<data root>/mlflow/artifacts``) — nothing to start.
A model is logged as an MLflow ``pyfunc`` whose artifact is the SavedModel directory (its ``predict`` runs
``encode_users``), so it can be registered, versioned and aliased like any MLflow model; jobtrail itself
only needs the SavedModel inside.

    resolve_model("models:/jobtrail_transformer@champion")  # → ResolvedModel(path, name, version)
    resolve_model("data/runs/t1/saved_model")                 # a local export works too
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from jobtrail.errors import ConfigError
from jobtrail.rules import MODEL_NAME_PATTERN, MODEL_URI_PATTERN
from jobtrail.rules import check_model_name as _check_model_name
from jobtrail.settings import Settings
from tf_models.signatures import read_metadata

EXPERIMENT = "jobtrail"
CHAMPION = "champion"
SAVED_MODEL_ARTIFACT = "saved_model"
MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
"""The one rule for model names (:mod:`jobtrail.rules`): the DAG form, the CLIs and the registry."""
MODEL_URI = re.compile(MODEL_URI_PATTERN)
"""``models:/<name>@<alias>`` or ``models:/<name>/<version>``; the name becomes a cache folder, so it is checked."""


@dataclass(frozen=True)
class ResolvedModel:
    """A SavedModel directory on the local filesystem and the registry name/version it came from."""

    path: Path
    name: str
    version: str


_DERIVED: set[str] = set()
"""Stores :func:`connect` derived from a data root. ``mlflow.set_tracking_uri`` exports the URI it is given as
``MLFLOW_TRACKING_URI`` (for subprocesses), so the variable alone cannot tell a user's store from the last data
root's: without this, the first ``connect`` would pin every later ``--data-root`` of the process to its store."""


def user_tracking_uri() -> str | None:
    """``MLFLOW_TRACKING_URI`` when the user set it (not when MLflow exported one of our derived stores)."""
    given = os.environ.get("MLFLOW_TRACKING_URI")
    return given if given and given not in _DERIVED else None


def tracking_uri(settings: Settings | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` when the user set it, else ``sqlite:///<data root>/mlflow/mlflow.db``."""
    if user := user_tracking_uri():
        return user
    root = (settings or Settings.from_env()).data_root.resolve() / "mlflow"
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}"


def connect(settings: Settings | None = None) -> MlflowClient:
    """Point MLflow at the tracking store and make sure the ``jobtrail`` experiment exists."""
    settings = settings or Settings.from_env()
    user = user_tracking_uri()
    uri = tracking_uri(settings)
    if user is None:
        _DERIVED.add(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        artifacts = None if user else (settings.data_root.resolve() / "mlflow" / "artifacts").as_uri()
        try:
            mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts)
        except MlflowException:  # created concurrently by another process
            pass
    mlflow.set_experiment(EXPERIMENT)
    return MlflowClient(uri, uri)


def check_model_name(name: str) -> str:
    return _check_model_name(name, "model name")


class SavedModelPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow wrapper: ``predict({"job_embeddings": ..., <context arrays>})`` → user embeddings (numpy)."""

    def load_context(self, context: Any) -> None:
        import tf_models  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
        import tensorflow as tf

        self._model = tf.saved_model.load(context.artifacts[SAVED_MODEL_ARTIFACT])

    def predict(self, context, model_input, params=None):  # no hints: MLflow would infer a signature from them
        out = self._model.signatures["encode_users"](**model_input)
        return out["user_embedding"].numpy()


def log_model(model_dir: Path, *, registered_name: str | None) -> str | None:
    """Log the SavedModel at ``model_dir`` into the active run; register it; return the new version."""
    info = mlflow.pyfunc.log_model(
        name="model", python_model=SavedModelPyfunc(), artifacts={SAVED_MODEL_ARTIFACT: str(model_dir)},
        pip_requirements=["tensorflow==2.21.0", "tf-keras==2.21.0", "tensorflow-recommenders==0.7.7"],
        registered_model_name=check_model_name(registered_name) if registered_name else None)
    return str(info.registered_model_version) if registered_name else None


def set_alias(name: str, version: str, alias: str = CHAMPION, client: MlflowClient | None = None) -> None:
    (client or connect()).set_registered_model_alias(check_model_name(name), alias, str(version))


def alias_version(name: str, alias: str = CHAMPION, client: MlflowClient | None = None) -> str | None:
    """The version ``name@alias`` points to, or None when the model or the alias does not exist."""
    try:
        return str((client or connect()).get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def resolve_model(uri: str, settings: Settings | None = None) -> ResolvedModel:
    """A local SavedModel for ``uri``: ``models:/<name>@<alias>``, ``models:/<name>/<version>`` or a directory.

    Registry models are downloaded once into ``<data root>/mlflow/cache/<name>/<version>`` (a path executors
    on the same filesystem can read). A local directory's name comes from its metadata (``model_name``)
    or the directory name, its version from the metadata (``model_version``) or "0".
    """
    settings = settings or Settings.from_env()
    match = MODEL_URI.fullmatch(uri)
    if not match:
        path = Path(uri)
        if not path.is_dir():
            raise ConfigError(f"model {uri!r} is neither models:/<name>@<alias>, models:/<name>/<version> "
                              "nor an exported SavedModel directory")
        meta = read_metadata(path)
        return ResolvedModel(path, str(meta.get("model_name") or path.name), str(meta.get("model_version") or "0"))
    client = connect(settings)
    name, version = match["name"], match["version"]
    if version is None:
        version = alias_version(name, match["alias"], client)
        if version is None:
            raise ConfigError(f"{uri}: no version of {name!r} has the alias {match['alias']!r} in the MLflow store "
                              f"{tracking_uri(settings)}; train and promote one first (jobtrail train / jobtrail "
                              "promote with the same --data-root), or point --data-root / MLFLOW_TRACKING_URI at "
                              "the store that has it")
    cache = settings.data_root.resolve() / "mlflow" / "cache" / name / version
    model_dir = cache / "artifacts" / SAVED_MODEL_ARTIFACT
    if not (model_dir / "saved_model.pb").exists():
        shutil.rmtree(cache, ignore_errors=True)
        partial = cache.with_name(f".{version}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(partial))
        except MlflowException as e:
            raise ConfigError(f"cannot download {uri} (version {version}) from {tracking_uri(settings)}: {e}") from e
        partial.rename(cache)
    return ResolvedModel(model_dir, name, version)


def _flat_params(args: Any, result: dict[str, Any]) -> dict[str, str]:
    params = {k: str(v) for k, v in vars(args).items()}
    params |= {f"config.{k}": str(v) for k, v in result.get("config", {}).items()}
    if "decay_rate" in result:
        params["best_decay_rate"] = str(result["decay_rate"])
    return params


def log_run(args: Any, result: dict[str, Any]) -> dict[str, Any]:
    """Log a finished training run (params, per-epoch and final metrics, the SavedModel) and register it.

    Returns ``{"run_id", "model_version"}`` (version None when ``args.registered_name`` is not set). The store
    is the one of ``args.data_root`` (:func:`tracking_uri`).
    """
    connect(Settings.from_env().with_data_root(getattr(args, "data_root", None)))
    with mlflow.start_run(run_name=f"{args.model}:{Path(args.out).name}") as run:
        mlflow.log_params(_flat_params(args, result))
        for name, values in result.get("history", {}).items():
            for step, value in enumerate(values):
                mlflow.log_metric(name, value, step=step)
        final = {k: float(v) for k, v in result["metrics"].items() if isinstance(v, (int, float))}
        mlflow.log_metrics(final, step=len(result.get("history", {}).get("loss", [])))  # after the epochs
        for rate, score in result.get("grid", {}).items():
            mlflow.log_metric(f"grid_validation_score_rate_{rate}", score)
        version = log_model(Path(result["model_dir"]), registered_name=args.registered_name)
    return {"run_id": run.info.run_id, "model_version": version}
