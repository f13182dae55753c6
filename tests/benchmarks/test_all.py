"""benchmarks/all.py: runs every benchmark module that exists, then the evaluation, and writes its section."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import benchmarks.all as bench_all


def test_runs_each_module_into_the_chosen_report(tmp_path, monkeypatch):
    calls = []

    def fake_run(command, check):
        calls.append(command)
        return SimpleNamespace(returncode=0 if "benchmarks.training" not in command else 3)

    monkeypatch.setattr(subprocess, "run", fake_run)
    doc = tmp_path / "bench.md"
    rc = bench_all.main(["--scale", "small", "--doc", str(doc)])
    modules = [c[4] if c[1] == "-c" else c[2] for c in calls]
    assert modules[:3] == ["benchmarks.generate", "benchmarks.pipeline", "benchmarks.training"]
    assert modules[-1] == "evaluation" and calls[-1][3:] == ["--preset", "small", "--fresh"]
    assert all(c[3] == str(doc) for c in calls if c[1] == "-c")  # each benchmark writes its sections there
    text = doc.read_text()
    assert "## Performance report" in text and "exit 3" in text and "python -m benchmarks.generate" in text
    assert rc == 1  # a failed benchmark fails the whole command
