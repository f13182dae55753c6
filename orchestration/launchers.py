"""Training launchers: run ``jobtrail train ...`` where configuration says (:class:`LauncherConfig`).

- ``local`` (embedded default): a TaskFlow task that runs ``python -m orchestration.cli train ...`` as a child
  process of the Airflow worker, with an argument list, streaming its log;
- ``kubernetes``: a ``KubernetesPodOperator`` on the project image, ``nvidia.com/gpu`` limit, tolerations and
  node selector from configuration, reattaching to its pod after a worker restart (``durable``, which is
  ``reattach_on_restart`` on Airflow 3.3), ``TF_USE_LEGACY_KERAS=1``, the data root mounted from a PVC;
- ``docker``: a ``DockerOperator`` on the project image with GPU ``device_requests`` and the data root mounted.

Every launcher writes the run folder (``--out``) under the data root, so the next task reads
``<out>/result.json`` whichever launcher ran. ``argv`` is the argument list after ``jobtrail`` (``["train",
...]``) or the XCom of a task that returns one; ``mapped=True`` takes a list of such lists (one run each).
The provider of the chosen launcher is imported only when that launcher is built.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context, task

from orchestration.config import LauncherConfig
from orchestration.runtime import run_jobtrail

TRAINER_ENTRYPOINT = ["jobtrail"]


def training_env(config: LauncherConfig, data_root: Path) -> dict[str, str]:
    """Environment of a training container: Keras 2 for TFRS, the data root, the MLflow server if any."""
    env = {"TF_USE_LEGACY_KERAS": "1", "JOBTRAIL_DATA_ROOT": str(data_root)}
    if config.mlflow_tracking_uri:
        env["MLFLOW_TRACKING_URI"] = config.mlflow_tracking_uri
    return env


@task
def run_local_training(argv: list[str]) -> dict[str, Any]:
    """``jobtrail <argv>`` as a child process of this worker; returns the JSON result it prints last."""
    step = get_current_context()["ti"].task_id
    return run_jobtrail(argv, step=step)


def _local(task_id: str, argv: Any, config: LauncherConfig, mapped: bool, kwargs: dict[str, Any]):
    bound = run_local_training.override(task_id=task_id, **kwargs)
    return bound.expand(argv=argv) if mapped else bound(argv)


def _kubernetes(task_id: str, argv: Any, config: LauncherConfig, data_root: Path, mapped: bool,
                kwargs: dict[str, Any]):
    from kubernetes.client import models as k8s
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    volumes, mounts = [], []
    if config.data_pvc:
        volumes = [k8s.V1Volume(name="jobtrail-data", persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
            claim_name=config.data_pvc))]
        mounts = [k8s.V1VolumeMount(name="jobtrail-data", mount_path=str(data_root))]
    limits = {"nvidia.com/gpu": str(config.gpus)} if config.gpus > 0 else None
    common = dict(
        task_id=task_id,
        kubernetes_conn_id=config.kubernetes_conn_id,
        namespace=config.namespace,
        image=config.image,
        image_pull_policy="IfNotPresent",
        name=f"jobtrail-{task_id.replace('_', '-')}",
        cmds=list(TRAINER_ENTRYPOINT),
        env_vars=training_env(config, data_root),
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": config.cpus, "memory": config.memory},
                                                       limits=limits),
        tolerations=[k8s.V1Toleration(**t) for t in config.tolerations],
        node_selector=dict(config.node_selector),
        service_account_name=config.service_account,
        volumes=volumes,
        volume_mounts=mounts,
        labels={"app.kubernetes.io/name": "jobtrail", "jobtrail/step": task_id},
        durable=True,  # reattach to the running pod after a worker restart (reattach_on_restart)
        get_logs=True,
        on_finish_action="delete_succeeded_pod",  # failed pods stay for `kubectl logs`
        startup_timeout_seconds=900,  # a GPU node may have to scale up first
        log_events_on_failure=True,
        **kwargs,
    )
    if mapped:
        return KubernetesPodOperator.partial(**common).expand(arguments=argv)
    return KubernetesPodOperator(arguments=argv, **common)


def _docker(task_id: str, argv: Any, config: LauncherConfig, data_root: Path, mapped: bool, kwargs: dict[str, Any]):
    from docker.types import DeviceRequest, Mount
    from airflow.providers.docker.operators.docker import DockerOperator

    source = config.docker_data_volume or str(data_root)
    mount = Mount(target=str(data_root), source=source, type="bind" if source.startswith("/") else "volume")
    devices = [DeviceRequest(count=config.gpus, capabilities=[["gpu"]])] if config.gpus > 0 else None
    common = dict(
        task_id=task_id,
        image=config.image,
        entrypoint=list(TRAINER_ENTRYPOINT),  # the Airflow image's entrypoint would run `airflow <command>`
        environment=training_env(config, data_root),
        mounts=[mount],
        device_requests=devices,
        docker_url=config.docker_url,
        network_mode=config.docker_network,
        auto_remove="success",
        mount_tmp_dir=False,
        **kwargs,
    )
    if mapped:
        return DockerOperator.partial(**common).expand(command=argv)
    return DockerOperator(command=argv, **common)


def training_task(task_id: str, argv: Any, *, data_root: Path, config: LauncherConfig | None = None,
                  mapped: bool = False, **kwargs: Any):
    """The training step for the configured launcher (``JOBTRAIL_TRAIN_LAUNCHER``); see the module docstring.

    ``kwargs`` go to the operator (retries, callbacks...); the execution timeout defaults to
    ``JOBTRAIL_TRAIN_TIMEOUT_HOURS``.
    """
    if isinstance(argv, (str, bytes)):
        raise TypeError(f"{task_id}: training arguments must be a list, never a shell string")
    config = config or LauncherConfig.from_env()
    kwargs.setdefault("execution_timeout", timedelta(hours=config.timeout_hours))
    if config.launcher == "kubernetes":
        return _kubernetes(task_id, argv, config, data_root, mapped, kwargs)
    if config.launcher == "docker":
        return _docker(task_id, argv, config, data_root, mapped, kwargs)
    return _local(task_id, argv, config, mapped, kwargs)
