"""Training in separate processes: killed after a checkpoint it resumes; two CPU workers train with TF_CONFIG."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from model_helpers import SMALL, subprocess_env

pytestmark = pytest.mark.integration


def _train_command(planted, out, *extra: str) -> list[str]:
    return [sys.executable, "-m", "orchestration.cli", "train", "--examples", str(planted.root), "--out", str(out),
            "--no-mlflow", *SMALL, *extra]


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_training_killed_after_a_checkpoint_resumes_and_finishes(planted, tmp_path, reliability):
    command = _train_command(planted, tmp_path, "--model", "cnn", "--epochs", "4", "--patience", "4",
                             "--checkpoint-every", "10")
    first = subprocess.Popen(command, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    lines = []
    for line in first.stdout:  # wait until an epoch (and so a step checkpoint) is done, then kill it hard
        lines.append(line)
        if line.startswith("epoch 2/4"):
            first.send_signal(signal.SIGKILL)
            break
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, "".join(lines)[-3000:]
    assert any((tmp_path / "backup").rglob("checkpoint")), "no checkpoint was written before the kill"
    assert not (tmp_path / "result.json").exists()

    second = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming from the checkpoint" in second.stdout
    epochs = [line for line in second.stdout.splitlines() if line.startswith("epoch ")]
    assert epochs and epochs[-1].startswith("epoch 4/4") and len(epochs) < 4  # continued, not restarted
    result = _last_json(second.stdout)
    assert result["metrics"]["val_auc"] > 0.6
    assert (tmp_path / "saved_model" / "saved_model.pb").exists()
    assert not any((tmp_path / "backup").rglob("checkpoint"))  # removed once training finished
    reliability(area="fault", case="training killed mid-epoch",
                injected="`jobtrail train --model cnn --epochs 4 --checkpoint-every 10` sent SIGKILL as epoch 2 began "
                         "(step checkpoints written by BackupAndRestore)",
                happened=f"the rerun of the same command resumed from the checkpoint and ran {len(epochs)} epoch(s) to "
                         f"4/4 instead of 4; val AUC {result['metrics']['val_auc']:.3f}",
                tables="one SavedModel and result.json; the backup checkpoints removed once training finished")


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_cpu_workers_train_and_export(planted, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    command = _train_command(planted, tmp_path, "--model", "transformer", "--epochs", "2")
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=subprocess_env(TF_CONFIG=json.dumps({"cluster": cluster,
                                                                         "task": {"type": "worker", "index": i}})))
               for i in range(2)]
    outputs = []
    deadline = time.monotonic() + 600
    for worker in workers:
        outputs.append(worker.communicate(timeout=max(1, deadline - time.monotonic())))
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    chief = _last_json(outputs[0][0])
    assert chief["model_dir"] == str(tmp_path / "saved_model") and chief["metrics"]["val_auc"] > 0.6
    assert _last_json(outputs[1][0])["model_dir"] is None  # only the chief exports
    assert (tmp_path / "saved_model" / "saved_model.pb").exists()
    assert not (tmp_path / "workers").exists()
