"""Where and how training runs, from the environment (infrastructure, never hyper-parameters).

| variable | meaning | default |
|---|---|---|
| ``JOBTRAIL_TRAIN_LAUNCHER`` | ``local`` (a process on the Airflow worker), ``kubernetes`` or ``docker`` | ``local`` |
| ``JOBTRAIL_TRAIN_IMAGE`` | image with the project installed (``Dockerfile``), for kubernetes/docker | ``jobtrail:latest`` |
| ``JOBTRAIL_TRAIN_GPUS`` | GPUs per training run (``nvidia.com/gpu`` limit / docker device request) | ``1`` (``0`` for local) |
| ``JOBTRAIL_TRAIN_CPUS`` / ``JOBTRAIL_TRAIN_MEMORY`` | resource requests of the training pod / container | ``4`` / ``16Gi`` |
| ``JOBTRAIL_TRAIN_TIMEOUT_HOURS`` | execution timeout of one training task | ``6`` |
| ``JOBTRAIL_K8S_NAMESPACE`` | namespace of training pods | ``jobtrail`` |
| ``JOBTRAIL_K8S_NODE_SELECTOR`` | JSON object or ``key=value,key=value`` | none |
| ``JOBTRAIL_K8S_TOLERATIONS`` | JSON list of tolerations (``key``, ``operator``, ``value``, ``effect``) | ``nvidia.com/gpu`` Exists NoSchedule when GPUs > 0 |
| ``JOBTRAIL_K8S_SERVICE_ACCOUNT`` | service account of training pods | none |
| ``JOBTRAIL_K8S_DATA_PVC`` | PersistentVolumeClaim mounted at the data root in the pod | none (data root on object storage) |
| ``JOBTRAIL_K8S_CONN_ID`` | Airflow connection of the cluster | ``kubernetes_default`` |
| ``JOBTRAIL_DOCKER_URL`` | Docker daemon | ``$DOCKER_HOST`` or ``unix://var/run/docker.sock`` |
| ``JOBTRAIL_DOCKER_DATA_VOLUME`` | volume name or host path mounted at the data root in the container | the data root path (bind) |
| ``JOBTRAIL_DOCKER_NETWORK`` | network of the container (e.g. the compose network, to reach MLflow) | Docker's default |

The container gets ``TF_USE_LEGACY_KERAS=1``, ``JOBTRAIL_DATA_ROOT`` and, when set, ``MLFLOW_TRACKING_URI``.
Read at DAG parse time (environment only: no Variable, connection or file access), so the launcher is part of
the DAG's structure and visible in the graph.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobtrail.errors import ConfigError

LAUNCHERS: tuple[str, ...] = ("local", "kubernetes", "docker")
DEFAULT_GPU_TOLERATION: dict[str, str] = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
_TOLERATION_KEYS = {"key", "operator", "value", "effect", "toleration_seconds"}


def _node_selector(raw: str) -> dict[str, str]:
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ConfigError(f"JOBTRAIL_K8S_NODE_SELECTOR is not valid JSON ({e}); give {{\"key\": \"value\"}}") from e
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ConfigError("JOBTRAIL_K8S_NODE_SELECTOR must be a JSON object of strings")
        return value
    pairs = [p.split("=", 1) for p in raw.split(",") if p.strip()]
    if any(len(p) != 2 or not p[0].strip() for p in pairs):
        raise ConfigError(f"JOBTRAIL_K8S_NODE_SELECTOR={raw!r}: give key=value,key=value or a JSON object")
    return {k.strip(): v.strip() for k, v in pairs}


def _tolerations(raw: str, gpus: int) -> list[dict[str, Any]]:
    if not raw.strip():
        return [dict(DEFAULT_GPU_TOLERATION)] if gpus > 0 else []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ConfigError(f"JOBTRAIL_K8S_TOLERATIONS is not valid JSON ({e}); give a list of objects") from e
    if not isinstance(value, list) or not all(isinstance(t, dict) and set(t) <= _TOLERATION_KEYS for t in value):
        raise ConfigError("JOBTRAIL_K8S_TOLERATIONS must be a JSON list of objects with keys "
                          f"{sorted(_TOLERATION_KEYS)}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from e
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class LauncherConfig:
    """The training launcher and its infrastructure; see the module docstring for the variables."""

    launcher: str = "local"
    image: str = "jobtrail:latest"
    gpus: int = 0
    cpus: str = "4"
    memory: str = "16Gi"
    timeout_hours: int = 6
    namespace: str = "jobtrail"
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    service_account: str | None = None
    data_pvc: str | None = None
    kubernetes_conn_id: str = "kubernetes_default"
    docker_url: str | None = None
    docker_data_volume: str | None = None
    docker_network: str | None = None
    mlflow_tracking_uri: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "LauncherConfig":
        env = os.environ if environ is None else environ
        launcher = (env.get("JOBTRAIL_TRAIN_LAUNCHER") or "local").strip().lower()
        if launcher not in LAUNCHERS:
            raise ConfigError(f"JOBTRAIL_TRAIN_LAUNCHER={launcher!r} must be one of {', '.join(LAUNCHERS)}")
        gpus = _int(env, "JOBTRAIL_TRAIN_GPUS", 0 if launcher == "local" else 1)
        return cls(
            launcher=launcher,
            image=env.get("JOBTRAIL_TRAIN_IMAGE") or cls.image,
            gpus=gpus,
            cpus=env.get("JOBTRAIL_TRAIN_CPUS") or cls.cpus,
            memory=env.get("JOBTRAIL_TRAIN_MEMORY") or cls.memory,
            timeout_hours=_int(env, "JOBTRAIL_TRAIN_TIMEOUT_HOURS", cls.timeout_hours, minimum=1),
            namespace=env.get("JOBTRAIL_K8S_NAMESPACE") or cls.namespace,
            node_selector=_node_selector(env.get("JOBTRAIL_K8S_NODE_SELECTOR", "")),
            tolerations=_tolerations(env.get("JOBTRAIL_K8S_TOLERATIONS", ""), gpus),
            service_account=env.get("JOBTRAIL_K8S_SERVICE_ACCOUNT") or None,
            data_pvc=env.get("JOBTRAIL_K8S_DATA_PVC") or None,
            kubernetes_conn_id=env.get("JOBTRAIL_K8S_CONN_ID") or cls.kubernetes_conn_id,
            docker_url=env.get("JOBTRAIL_DOCKER_URL") or None,
            docker_data_volume=env.get("JOBTRAIL_DOCKER_DATA_VOLUME") or None,
            docker_network=env.get("JOBTRAIL_DOCKER_NETWORK") or None,
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
        )
