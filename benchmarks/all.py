"""The one-command performance report: every benchmark module, then the evaluation, at one of two scales.

    python -m benchmarks.all                       # small scale (`make bench`): docs/benchmarks-small.md
    python -m benchmarks.all --scale full          # the stated scales (10.1M events, …): docs/benchmarks.md
    python -m benchmarks.all --skip-evaluation     # the performance benchmarks only

Runs, each in a fresh process (Spark and TensorFlow start clean), the benchmark modules that exist —
``benchmarks.generate``, ``benchmarks.pipeline``, ``benchmarks.training`` and ``benchmarks.inference`` (the
inference-vs-raw-model and Delta-write benchmark) — each of which regenerates its own section of the report
(``--doc``: docs/benchmarks.md at the full scale, docs/benchmarks-small.md at the small one, so a quick run
never overwrites the stated-scale figures), then ``python -m evaluation --fresh`` (docs/evaluation.md; preset
``small`` or ``large``). Finally the section "Performance report" records the machine, versions, date and
each command with its duration and exit status. Prints one JSON line per command.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import benchmarks.report as report
from benchmarks.report import machine, write_section

DOCS = {"small": report.DOC.with_name("benchmarks-small.md"), "full": report.DOC}
BOOT = ("import runpy, sys; from pathlib import Path; import benchmarks.report as r; r.DOC = Path(sys.argv[1]); "
        "sys.argv = [sys.argv[2], *sys.argv[3:]]; runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)")
"""Runs a benchmark module as ``python -m`` would, with its sections written to the chosen report."""

ARGV: dict[str, dict[str, list[str]]] = {
    "small": {
        "benchmarks.generate": ["--local-users", "2000", "--spark-users", "20000", "--days", "30"],
        "benchmarks.pipeline": ["--users", "20000", "--days", "10", "--masters", "local[1],local[2]"],
        "benchmarks.training": ["--users", "3000", "--days", "30", "--epochs", "1", "--models", "mean,transformer"],
        "benchmarks.inference": ["--users", "20000"],
        "evaluation": ["--preset", "small", "--fresh"],
    },
    "full": {
        "benchmarks.generate": [],  # 20,000 local users; 610,000 Spark users × 30 days ≈ 10.1M events
        "benchmarks.pipeline": [],  # the 10.1M events through local[1] and local[2]
        "benchmarks.training": [],  # 20,000 users, every aggregator, 2 epochs
        "benchmarks.inference": [],
        "evaluation": ["--preset", "large", "--fresh"],
    },
}


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}"]
    for name in ("pyspark", "delta-spark", "tensorflow", "tensorflow-recommenders", "deltalake", "scikit-learn"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(ARGV), default="small")
    parser.add_argument("--skip-evaluation", action="store_true")
    parser.add_argument("--doc", type=Path, default=None, help="default: docs/benchmarks-small.md (small), "
                                                                 "docs/benchmarks.md (full)")
    args = parser.parse_args(argv)
    doc = args.doc or DOCS[args.scale]
    report.DOC = doc
    modules = [m for m in ARGV[args.scale] if m != "evaluation" and _exists(m)]
    if not args.skip_evaluation:
        modules.append("evaluation")
    started, results = time.perf_counter(), []
    load = os.getloadavg()[0]
    for module in modules:
        extra = ARGV[args.scale][module]
        command = ([sys.executable, "-c", BOOT, str(doc), module, *extra] if module.startswith("benchmarks.")
                   else [sys.executable, "-m", module, *extra])
        t = time.perf_counter()
        rc = subprocess.run(command, check=False).returncode
        results.append({"command": "python -m " + " ".join([module, *extra]), "rc": rc,
                        "seconds": round(time.perf_counter() - t, 1)})
        print(json.dumps(results[-1]), flush=True)
    total = time.perf_counter() - started
    missing = [m for m in ARGV[args.scale] if m != "evaluation" and not _exists(m)]
    status = {r["command"]: "ok" if r["rc"] == 0 else f"exit {r['rc']}" for r in results}
    rows = "\n".join(f"| `{r['command']}` | {r['seconds'] / 60:.1f} | {status[r['command']]} |" for r in results)
    skip = " --skip-evaluation" if args.skip_evaluation else ""
    write_section(
        "Performance report",
        f"Command: `python -m benchmarks.all --scale {args.scale}{skip}`"
        f" (`make bench{'' if args.scale == 'small' else ' SCALE=full'}`) on {machine()}; {_versions()}; "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {total / 60:.1f} minutes in all (load average "
        f"{load:.1f} at the start: " + ("other work shared the machine, so durations are upper bounds" if load >= 1.0
                                       else "the machine was otherwise idle") + "). Each command "
        "regenerates its own section of this file (the evaluation: docs/evaluation.md)"
        + (f"; not present, skipped: {', '.join(missing)}" if missing else "") + ".\n\n"
        "| command | minutes | status |\n|---|---|---|\n" + rows,
    )
    return 0 if all(r["rc"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
