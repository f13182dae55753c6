"""Training launchers: the operator each configuration builds (no cluster or Docker engine exists here, so the
objects are inspected, and the pod is rendered with the provider's own dry-run builder)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jobtrail.errors import ConfigError
from orchestration.config import DEFAULT_GPU_TOLERATION, LauncherConfig
from orchestration.launchers import training_task

ROOT = Path("/srv/jobtrail/data")
ARGV = ["train", "--model", "transformer", "--examples", f"{ROOT}/training_examples/r", "--out", f"{ROOT}/models/m/r"]
K8S_ENV = {"JOBTRAIL_TRAIN_LAUNCHER": "kubernetes", "JOBTRAIL_TRAIN_IMAGE": "registry.example/jobtrail:1.2",
           "JOBTRAIL_TRAIN_GPUS": "2", "JOBTRAIL_K8S_NAMESPACE": "ml",
           "JOBTRAIL_K8S_NODE_SELECTOR": "cloud.google.com/gke-accelerator=nvidia-l4,pool=gpu",
           "JOBTRAIL_K8S_DATA_PVC": "jobtrail-data", "MLFLOW_TRACKING_URI": "http://mlflow:5000"}


def build(env: dict, argv=ARGV, mapped: bool = False):
    from airflow.sdk import DAG

    with DAG("launcher_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        result = training_task("train", argv, data_root=ROOT, config=LauncherConfig.from_env(env), mapped=mapped,
                               retries=1)
    return dag.get_task("train"), result


def test_config_defaults_to_local_on_cpu():
    config = LauncherConfig.from_env({})
    assert (config.launcher, config.gpus, config.tolerations) == ("local", 0, [])


def test_config_parses_kubernetes_settings():
    config = LauncherConfig.from_env(K8S_ENV)
    assert config.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-l4", "pool": "gpu"}
    assert config.tolerations == [DEFAULT_GPU_TOLERATION] and config.gpus == 2
    custom = LauncherConfig.from_env({"JOBTRAIL_TRAIN_LAUNCHER": "kubernetes", "JOBTRAIL_K8S_NODE_SELECTOR": '{"a": "b"}',
                                      "JOBTRAIL_K8S_TOLERATIONS": '[{"key": "gpu", "operator": "Equal", '
                                                                  '"value": "true", "effect": "NoExecute"}]'})
    assert custom.node_selector == {"a": "b"} and custom.tolerations[0]["effect"] == "NoExecute"


@pytest.mark.parametrize("env, message", [
    ({"JOBTRAIL_TRAIN_LAUNCHER": "slurm"}, "JOBTRAIL_TRAIN_LAUNCHER"),
    ({"JOBTRAIL_TRAIN_GPUS": "many"}, "JOBTRAIL_TRAIN_GPUS"),
    ({"JOBTRAIL_TRAIN_GPUS": "-1"}, "JOBTRAIL_TRAIN_GPUS"),
    ({"JOBTRAIL_K8S_NODE_SELECTOR": "gpu"}, "NODE_SELECTOR"),
    ({"JOBTRAIL_K8S_TOLERATIONS": '{"key": "x"}'}, "TOLERATIONS"),
    ({"JOBTRAIL_K8S_TOLERATIONS": '[{"command": "rm"}]'}, "TOLERATIONS"),
])
def test_config_errors_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        LauncherConfig.from_env(env)


def test_local_runs_jobtrail_train_as_a_process_task():
    task, _ = build({})
    assert type(task).__name__ == "_PythonDecoratedOperator"
    assert list(task.op_args) == [ARGV]  # an argument list, handed to subprocess without a shell
    assert task.retries == 1 and task.execution_timeout == timedelta(hours=6)


def test_local_command_is_an_argument_list():
    import sys

    from orchestration.runtime import jobtrail_command

    assert jobtrail_command(ARGV) == [sys.executable, "-m", "orchestration.cli", *ARGV]
    with pytest.raises(TypeError):
        jobtrail_command("train --model x; rm -rf /")


def test_kubernetes_builds_a_gpu_pod():
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    task, _ = build(K8S_ENV)
    assert isinstance(task, KubernetesPodOperator)
    assert (task.image, task.namespace, task.cmds, task.arguments) == (
        "registry.example/jobtrail:1.2", "ml", ["jobtrail"], ARGV)
    assert task.reattach_on_restart is True and task.durable is True
    assert task.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-l4", "pool": "gpu"}
    assert task.container_resources.limits == {"nvidia.com/gpu": "2"}
    pod = task.build_pod_request_obj(dry_run=True)
    container = pod.spec.containers[0]
    assert container.image == "registry.example/jobtrail:1.2" and container.command == ["jobtrail"]
    assert container.args == ARGV
    assert container.resources.limits == {"nvidia.com/gpu": "2"}
    env = {e.name: e.value for e in container.env}
    assert env == {"TF_USE_LEGACY_KERAS": "1", "JOBTRAIL_DATA_ROOT": str(ROOT), "MLFLOW_TRACKING_URI": "http://mlflow:5000"}
    assert [(t.key, t.operator, t.effect) for t in pod.spec.tolerations] == [("nvidia.com/gpu", "Exists", "NoSchedule")]
    assert pod.spec.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-l4", "pool": "gpu"}
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "jobtrail-data"
    assert container.volume_mounts[0].mount_path == str(ROOT)
    assert pod.metadata.namespace == "ml"


def test_kubernetes_without_gpus_requests_none():
    task, _ = build({**K8S_ENV, "JOBTRAIL_TRAIN_GPUS": "0"})
    assert task.container_resources.limits is None and task.tolerations == []


def test_docker_builds_a_container_with_gpu_requests():
    from airflow.providers.docker.operators.docker import DockerOperator

    task, _ = build({"JOBTRAIL_TRAIN_LAUNCHER": "docker", "JOBTRAIL_TRAIN_IMAGE": "jobtrail:dev",
                     "JOBTRAIL_DOCKER_DATA_VOLUME": "jobtrail-data", "JOBTRAIL_DOCKER_NETWORK": "jobtrail_default",
                     "JOBTRAIL_DOCKER_URL": "unix:///var/run/docker.sock"})
    assert isinstance(task, DockerOperator)
    assert (task.image, task.entrypoint, task.command) == ("jobtrail:dev", ["jobtrail"], ARGV)
    assert [dict(d) for d in task.device_requests] == [
        {"Driver": "", "Count": 1, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}]
    assert [dict(m) for m in task.mounts] == [
        {"Target": str(ROOT), "Source": "jobtrail-data", "Type": "volume", "ReadOnly": False}]
    assert task.environment == {"TF_USE_LEGACY_KERAS": "1", "JOBTRAIL_DATA_ROOT": str(ROOT)}
    assert task.network_mode == "jobtrail_default" and task.auto_remove == "success"


def test_docker_binds_the_data_root_by_default():
    task, _ = build({"JOBTRAIL_TRAIN_LAUNCHER": "docker", "JOBTRAIL_TRAIN_GPUS": "0"})
    assert task.device_requests is None
    assert dict(task.mounts[0])["Type"] == "bind" and dict(task.mounts[0])["Source"] == str(ROOT)


@pytest.mark.parametrize("launcher, expanded", [("local", "argv"), ("kubernetes", "arguments"), ("docker", "command")])
def test_mapped_runs_expand_over_argument_lists(launcher, expanded):
    task, _ = build({"JOBTRAIL_TRAIN_LAUNCHER": launcher}, argv=[ARGV, ARGV], mapped=True)
    assert list(task._get_specified_expand_input().value) == [expanded]


def test_a_shell_string_is_refused():
    with pytest.raises(TypeError, match="shell string"):
        build({}, argv="jobtrail train --model mean")
