"""Security, commands: no shell anywhere in the code (an AST scan), and a hostile value stays one argument all the
way to ``exec`` (spark-submit's command line, the local training process, the pod and the container)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from security_cases import DAY
from jobtrail.settings import REPO_ROOT
from orchestration.plans import daily_plan


SCANNED = ("jobtrail", "orchestration", "spark_jobs", "tf_models", "feature_store", "evaluation", "benchmarks", "dags",
           "scripts")
SHELL_CALLS = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"),
               ("asyncio", "create_subprocess_shell"), ("os", "execlp"), ("pty", "spawn")}
PROCESS_CALLS = {("subprocess", n) for n in ("run", "Popen", "call", "check_call", "check_output")}


def shell_uses(source: str, filename: str = "<source>") -> list[str]:
    """Places in ``source`` that start a shell or pass a command as one string."""
    tree = ast.parse(source, filename=filename)
    names: dict[str, tuple[str, ...]] = {}  # local name → (module,) or (module, attribute)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {(a.asname or a.name): (a.name,) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {(a.asname or a.name): (node.module, a.name) for a in node.names}

    def target(func: ast.expr) -> tuple[str, str] | None:
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = names.get(func.value.id, ())
            return (module[0], func.attr) if len(module) == 1 else None
        if isinstance(func, ast.Name) and len(names.get(func.id, ())) == 2:
            return names[func.id]  # type: ignore[return-value]
        return None

    def stringy(node: ast.expr) -> bool:
        return (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))) or isinstance(
            node, ast.JoinedStr) or (isinstance(node, ast.BinOp) and (stringy(node.left) or stringy(node.right))) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")
            and isinstance(node.func.value, (ast.Constant, ast.JoinedStr)))

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{filename}:{node.lineno}"
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append(f"{where}: shell={ast.unparse(kw.value)}")
        called = target(node.func)
        if called in SHELL_CALLS:
            found.append(f"{where}: {'.'.join(called)}")
        if called in PROCESS_CALLS:
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "args"), None)
            if first is not None and stringy(first):
                found.append(f"{where}: {'.'.join(called)} with a string command")
    return found


def test_the_shell_scanner_finds_every_form():
    probe = """
import os, subprocess as sp
from subprocess import check_output as co, getoutput
os.system("ls")
os.popen("ls")
getoutput("ls")
sp.run("ls -l", check=True)
sp.Popen(f"spark-submit {x}")
co("a " + b)
sp.call(args="ls")
sp.run(" ".join(parts))
sp.run(["ls"], shell=True)
sp.run(cmd, shell=flag)
sp.run(["ls", "-l"], check=True)
sp.Popen(cmd, shell=False)
"""
    found = shell_uses(probe)
    assert len(found) == 10, found
    assert not any(f"<source>:{n}:" in f for f in found for n in (15, 16))


def test_no_shell_anywhere_in_the_code(reliability):
    files = sorted(p for pkg in SCANNED if (REPO_ROOT / pkg).exists() for p in (REPO_ROOT / pkg).rglob("*.py"))
    found = [f for p in files for f in shell_uses(p.read_text(), str(p.relative_to(REPO_ROOT)))]
    assert len(files) > 60
    assert found == []
    process_calls = sum(1 for p in files for node in ast.walk(ast.parse(p.read_text()))
                        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("run", "Popen") and isinstance(node.func.value, ast.Name)
                        and node.func.value.id == "subprocess")
    reliability(area="security", case="no shell: commands are argument lists",
                injected=f"AST scan of {len(files)} Python files ({', '.join(SCANNED)}) for shell=True, os.system, "
                         "os.popen, subprocess.getoutput/getstatusoutput, string commands to subprocess.*",
                happened=f"none found; {process_calls} subprocess.run/Popen calls, all with argument lists "
                         "(the scanner finds each of the 10 forms in a probe)")


ECHO = "import json, sys; print(json.dumps(sys.argv[1:]))"


def test_spark_submit_keeps_a_hostile_value_in_one_argument(tmp_path, monkeypatch, reliability):
    """The data root (infrastructure, from the environment) may hold anything: spaces, ``$( )``, ``;``, backticks."""
    from airflow.providers.apache.spark.hooks import spark_submit as hook_module
    from airflow.sdk import DAG

    from orchestration.spark import spark_submit

    marker = tmp_path / "PWNED"
    root = tmp_path / f"lake $(touch {marker}); touch {marker} `touch {marker}` | x > y"
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "local[2]"}))
    plan = daily_plan({}, ds=DAY, data_root=root)
    args = json.loads(json.dumps(plan.to_xcom()))["ingest_args"]  # as the XCom hands it to the operator
    with DAG("security_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)):
        op = spark_submit("ingest", application_args=args)
    calls = []

    class Recorder:
        def __init__(self, cmd, **kwargs):
            calls.append((cmd, kwargs))
            self.stdout, self.returncode = iter(()), 0

        def wait(self):
            return 0

    monkeypatch.setattr(hook_module, "subprocess", SimpleNamespace(**{**vars(subprocess), "Popen": Recorder}))
    op._get_hook().submit(op.application)
    (cmd, kwargs), = calls
    assert isinstance(cmd, list) and all(isinstance(a, str) for a in cmd) and not kwargs.get("shell")
    assert cmd[cmd.index("--data-root") + 1] == str(root.resolve())
    assert cmd[cmd.index("--input") + 1] == str(root.resolve() / "raw_events" / f"ds={DAY}")
    echoed = subprocess.run([sys.executable, "-c", ECHO, *cmd[1:]], capture_output=True, text=True, check=True)
    assert json.loads(echoed.stdout) == cmd[1:]  # exec hands every element over unchanged, one argument each
    assert not marker.exists()
    reliability(area="security", case="spark-submit: a hostile value stays one argument",
                injected="data root '<tmp>/lake $(touch PWNED); touch PWNED `touch PWNED` | x > y', through the "
                         "plan's XCom into SparkSubmitOperator; subprocess.Popen recorded, then the same list exec'd",
                happened=f"Popen got a list of {len(cmd)} strings without shell; --data-root and --input are one "
                         "element each; the exec'd process saw the identical list; no PWNED file")


def test_local_training_process_gets_a_list_and_refuses_a_hostile_name(tmp_path, reliability):
    from orchestration.runtime import StepFailedError, jobtrail_command, run_jobtrail

    marker = tmp_path / "PWNED"
    argv = ["promote", "--name", f"m$(touch {marker}); touch {marker}", "--version", "1", "--examples", str(tmp_path)]
    assert jobtrail_command(argv)[3:] == argv
    with pytest.raises(StepFailedError) as failed:
        run_jobtrail(argv, step="promote")
    assert "exited with code 2" in str(failed.value) and "argument --name" in str(failed.value)
    assert not marker.exists()
    reliability(area="security", case="local training launcher: hostile model name",
                injected="jobtrail promote --name 'm$(touch PWNED); touch PWNED' run as the DAG's local launcher does "
                         "(python -m orchestration.cli, a child process)",
                happened="the child got the name as one argument and refused it (exit 2, 'argument --name: ... is "
                         "not a model name'); the task failed with that line; no PWNED file")


@pytest.mark.parametrize("launcher", ["kubernetes", "docker"])
def test_pod_and_container_get_the_argument_list(tmp_path, launcher):
    from airflow.sdk import DAG

    from orchestration.config import LauncherConfig
    from orchestration.launchers import training_task

    argv = ["train", "--model", "mean", "--examples", "/data/ex $(id); rm -rf /", "--out", "/data/m `id`"]
    config = LauncherConfig.from_env({"JOBTRAIL_TRAIN_LAUNCHER": launcher, "JOBTRAIL_TRAIN_GPUS": "0"})
    with DAG("launcher_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)) as dag:
        training_task("train", argv, data_root=Path("/data"), config=config)
    task = dag.get_task("train")
    if launcher == "kubernetes":
        container = task.build_pod_request_obj(dry_run=True).spec.containers[0]
        assert container.command == ["jobtrail"] and container.args == argv
    else:
        assert task.entrypoint == ["jobtrail"] and task.command == argv
