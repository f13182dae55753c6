"""Figures for the generated docs: the machine and its load, peak memory of a process tree, ``## `` sections.

Every benchmark and evaluation command writes its figures through these: a section of a Markdown document
(``docs/benchmarks.md``, ``docs/evaluation.md``, ``docs/reliability.md``) replaced in place, its machine-readable
twin (``.json`` beside it) updated key by key, and the machine and its load stated next to every timing.
"""

from __future__ import annotations

import json
import os
import platform
import re
import threading
import time
from pathlib import Path

import psutil


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}"


class PeakMemory:
    """Samples the resident memory of this process and all its descendants (JVM, Python workers)."""

    def __init__(self, interval_s: float = 0.5, *, record: bool = False) -> None:
        self.interval_s, self.peak_bytes = interval_s, 0
        self.peak_python_bytes = 0
        """The largest single Python descendant's RSS (e.g. a Spark Python worker)."""
        self.samples: list[tuple[float, int]] = []
        """(Unix time, bytes) of every sample when ``record`` is true (e.g. a peak per step afterwards)."""
        self._record = record
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = me.memory_info().rss
            for proc in me.children(recursive=True):
                try:
                    rss = proc.memory_info().rss
                    if "python" in proc.name():
                        self.peak_python_bytes = max(self.peak_python_bytes, rss)
                except psutil.Error:
                    continue  # the process ended between listing and reading
                total += rss
            self.peak_bytes = max(self.peak_bytes, total)
            if self._record:
                self.samples.append((time.time(), total))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def load_average() -> str:
    """The 1/5/15-minute load averages, stated next to every timing."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


def _section_pattern(name: str) -> re.Pattern:
    return re.compile(rf"^## {re.escape(name)}\n.*?(?=^## |\Z)", re.S | re.M)


def read_section(name: str, doc: Path) -> str | None:
    """The section ``## name`` of ``doc`` (heading included, up to the next ``## ``), or None."""
    found = _section_pattern(name).search(doc.read_text()) if doc.exists() else None
    return found.group(0).rstrip() + "\n" if found else None


def write_section(name: str, body: str, *, doc: Path, header: str) -> None:
    """Replace (or add) the section ``## name`` of ``doc`` with ``body`` (a new ``doc`` starts with ``header``)."""
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text() if doc.exists() else header
    section = f"## {name}\n\n{body.strip()}\n"
    pattern = _section_pattern(name)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    doc.write_text(text.rstrip() + "\n")


def write_json(key: str, value: object, *, doc: Path) -> Path:
    """Set ``key`` of the machine-readable twin of ``doc`` (``benchmarks.md`` → ``benchmarks.json``), keeping
    the other keys; every figure of a section is there for a program to check. Returns the JSON path."""
    path = doc.with_suffix(".json")
    current = json.loads(path.read_text()) if path.exists() else {}
    current[key] = value
    path.write_text(json.dumps(current, indent=2, sort_keys=True, default=str) + "\n")
    return path
