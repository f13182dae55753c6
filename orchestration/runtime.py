"""Running a ``jobtrail`` command from a task, and the failure message every task gives.

:func:`run_jobtrail` starts ``python -m orchestration.cli ARGS`` with an argument list (never a shell), streams
its output into the task log, stops it if the task is killed or times out, and returns the JSON object the
command prints last (``jobtrail train`` / ``jobtrail promote`` both end with one).

:func:`on_task_failure` is every jobtrail task's ``on_failure_callback``: one ERROR line naming the DAG,
the step, the run, the attempt, the reason and where the full log is (UI link and file).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections import deque
from datetime import timedelta
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jobtrail.errors import ConfigError, JobtrailError

log = logging.getLogger(__name__)

TAIL_LINES = 40

CPU_PROBE_LINES = re.compile(
    r"cudart_stub\.cc:\d+\] Could not find cuda drivers"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit"
    r"|^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    r"|port\.cc:\d+\] oneDNN custom operations are on")
"""What TensorFlow prints on every start without a GPU (it ignores ``TF_CPP_MIN_LOG_LEVEL`` for these since 2.19,
tensorflow/tensorflow#100442) — the missing-GPU probe, and on CPUs where oneDNN's optimisations are on by default
(machine-dependent: seen on this project's machine on 2026-12-07, not on earlier ones) its notice: on a worker
without a GPU, counted instead of logged, so a task log opens with the command's own lines."""


def has_gpu() -> bool:
    """An NVIDIA device node, or devices named by ``CUDA_VISIBLE_DEVICES``: then TensorFlow's CUDA lines matter."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return Path("/dev/nvidia0").exists() or bool(visible and visible != "-1")


class StepFailedError(JobtrailError):
    """A pipeline step (a ``jobtrail`` command) exited with an error."""


def last_json_object(lines: Sequence[str]) -> dict[str, Any] | None:
    """The last line of ``lines`` that parses as a JSON object, or None."""
    for line in reversed(lines):
        text = line.strip()
        if text.startswith("{") and text.endswith("}"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def jobtrail_command(argv: Sequence[str]) -> list[str]:
    """``[python, -m, orchestration.cli, *argv]`` with the interpreter running this task (the project's environment)."""
    if isinstance(argv, (str, bytes)) or not all(isinstance(a, str) for a in argv):
        raise TypeError(f"jobtrail arguments must be a list of strings, got {argv!r}")
    return [sys.executable, "-m", "orchestration.cli", *argv]


def run_jobtrail(argv: Sequence[str], *, step: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run ``jobtrail ARGV``; return its last printed JSON object; raise :class:`StepFailedError` on failure."""
    cmd = jobtrail_command(argv)
    log.info("step %s: %s", step, " ".join(cmd))
    full_env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    quiet, hidden = not has_gpu(), 0
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if quiet and CPU_PROBE_LINES.search(line):
                hidden += 1
                continue
            tail.append(line)
            log.info("%s", line)
        code = proc.wait()
        if hidden:
            log.info("step %s: %d TensorFlow start-up lines (missing GPU, oneDNN notice) not shown (a CPU worker)", step,
                     hidden)
    finally:
        if proc.poll() is None:  # the task was killed or timed out: stop the whole process group
            log.warning("step %s: stopping jobtrail %s (pid %s)", step, argv[0] if argv else "", proc.pid)
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if code != 0:
        last = "\n".join(list(tail)[-15:])
        raise StepFailedError(f"step {step!r} failed: `jobtrail {' '.join(argv[:1])}` exited with code {code}. "
                              f"Last output:\n{last}")
    result = last_json_object(list(tail))
    if result is None:
        raise StepFailedError(f"step {step!r}: `jobtrail {' '.join(argv[:1])}` printed no JSON result line")
    return result


def _log_file(ti: Any) -> str | None:
    try:
        from airflow.configuration import conf

        base = conf.get("logging", "base_log_folder")
    except Exception:  # noqa: BLE001 - the message is still useful without the file path
        return None
    map_part = f"map_index={ti.map_index}/" if getattr(ti, "map_index", -1) >= 0 else ""
    return (f"{base}/dag_id={ti.dag_id}/run_id={ti.run_id}/task_id={ti.task_id}/{map_part}"
            f"attempt={ti.try_number}.log")


def failure_message(context: Mapping[str, Any]) -> str:
    """"<dag>: step '<task>' failed (run, attempt n of m): <reason>. Log: <url> (file <path>)"."""
    ti = context["ti"]
    exc = context.get("exception")
    reason = f"{type(exc).__name__}: {exc}" if exc is not None else "see the log"
    reason = reason.strip().splitlines()[0][:500] if reason.strip() else "see the log"
    attempts = (getattr(ti, "max_tries", 0) or 0) + 1
    try:
        url = ti.log_url
    except Exception:  # noqa: BLE001
        url = "(open the task in the Airflow UI)"
    where = f"Log: {url}"
    file = _log_file(ti)
    if file:
        where += f" (file {file})"
    return (f"{ti.dag_id}: step '{ti.task_id}' failed in run {ti.run_id} (attempt {ti.try_number} of {attempts}): "
            f"{reason}. {where}")


def on_task_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback`` of every jobtrail task: log :func:`failure_message` at ERROR."""
    log.error("%s", failure_message(context))


RETRY_DELAY_ENV = "JOBTRAIL_RETRY_DELAY_SECONDS"
"""First retry delay of every jobtrail task in seconds (default 120), read when the DAG files are parsed."""


def retry_delay() -> timedelta:
    value = os.environ.get(RETRY_DELAY_ENV, "120")
    if not value.isdigit():
        raise ConfigError(f"{RETRY_DELAY_ENV}={value!r}: give the first retry delay in whole seconds")
    return timedelta(seconds=int(value))


def default_args(*, execution_timeout: timedelta) -> dict[str, Any]:
    """``default_args`` of every jobtrail DAG: two retries with exponential back-off from 2 minutes (at most 20;
    the first delay is :data:`RETRY_DELAY_ENV`), the given execution timeout, and :func:`on_task_failure` on
    failures and retries."""
    return {
        "owner": "jobtrail",
        "retries": 2,
        "retry_delay": retry_delay(),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=20),
        "execution_timeout": execution_timeout,
        "on_failure_callback": on_task_failure,
        "on_retry_callback": on_task_failure,
    }
