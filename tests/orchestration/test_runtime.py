"""Running jobtrail commands from a task, and the failure message every task logs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from orchestration.runtime import StepFailedError, failure_message, last_json_object, run_jobtrail


def test_last_json_object():
    assert last_json_object(["epoch 1 {not json}", '{"a": 1}', "done", '{"b": 2}', "bye"]) == {"b": 2}
    assert last_json_object(["no json", "[1, 2]"]) is None


def test_run_jobtrail_returns_the_printed_result(tmp_path):
    result = run_jobtrail(["generate", "--users", "5", "--days", "1", "--out", str(tmp_path / "s")], step="generate")
    assert result["command"] == "generate" and result["counts"]["users"] == 5


def test_run_jobtrail_failure_names_the_step_and_shows_the_output(tmp_path):
    with pytest.raises(StepFailedError) as e:
        run_jobtrail(["timelines", "--start", "2026-13-01", "--end", "2026-10-02"], step="timelines")
    assert "step 'timelines' failed" in str(e.value) and "exited with code 2" in str(e.value)
    assert "2026-13-01" in str(e.value)  # the job's own error message is in the exception


def test_failure_message_names_dag_step_attempt_reason_and_log():
    ti = SimpleNamespace(dag_id="jobtrail_daily_embeddings", task_id="infer", run_id="manual__2026-10-31",
                         try_number=2, max_tries=2, map_index=-1,
                         log_url="http://localhost:8080/dags/jobtrail_daily_embeddings/runs/manual__2026-10-31")
    message = failure_message({"ti": ti, "exception": RuntimeError("spark-submit exited with 1\ndetails")})
    assert message.startswith("jobtrail_daily_embeddings: step 'infer' failed in run manual__2026-10-31 "
                              "(attempt 2 of 3): RuntimeError: spark-submit exited with 1. Log: http://localhost:8080")
    assert "task_id=infer/attempt=2.log" in message


def test_tensorflow_start_up_lines_of_a_cpu_worker_are_what_the_filter_hides():
    """What this TensorFlow prints on start without a GPU, matched line by line (a new message shows up here)."""
    import subprocess
    import sys

    from orchestration.runtime import CPU_PROBE_LINES, has_gpu

    code = "import tf_models, tensorflow as tf; tf.config.list_physical_devices(); print('jobtrail line')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line]
    assert "jobtrail line" in lines
    if has_gpu():  # the CUDA lines matter there: nothing is hidden
        return
    assert [line for line in lines if not CPU_PROBE_LINES.search(line)] == ["jobtrail line"]
    assert any("cudart_stub" in line for line in lines)  # the filter has something to hide here
