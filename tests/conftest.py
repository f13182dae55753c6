"""Shared fixtures: one SparkSession per test run (Delta on the local jars), generated data; the run's environment.

The process environment is set once, in :func:`pytest_configure` (before any test module is collected): Keras 2
for TensorFlow Recommenders, and an embedded Airflow whose home is a temporary folder — Airflow reads its
configuration when it is first imported, so it must be in place before a test module imports it. No test module
or other conftest changes the environment at import; a test that needs a variable uses ``monkeypatch``.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

AIRFLOW_VARIABLES = ("AIRFLOW", "PYSPARK_", "SPARK_CONF_DIR", "TF_USE_LEGACY_KERAS")
"""What the embedded Airflow's environment sets for the run (``JOBTRAIL_DATA_ROOT`` is set per fixture)."""


def _embedded_airflow_environment() -> None:
    if "airflow" in sys.modules:  # too late to configure it: leave the caller's settings
        return
    from orchestration.embedded import airflow_env

    home = Path(tempfile.mkdtemp(prefix="jobtrail-airflow-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    for key, value in airflow_env(home / "home", home / "data").items():
        if key.startswith(AIRFLOW_VARIABLES) or key == "PATH":
            os.environ[key] = value


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The factory's session, with its warehouse in a temporary data root."""
    from jobtrail.settings import Settings
    from spark_jobs.session import create_session

    settings = Settings.from_env()
    settings = type(settings)(
        data_root=tmp_path_factory.mktemp("data_root"),
        cache_dir=settings.cache_dir,
        spark_master=settings.spark_master,
        shuffle_partitions=2,
        driver_memory=settings.driver_memory,
    )
    session = create_session("jobtrail-tests", settings)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    """A synthetic dataset shared by the tests that only read it (3,000 users, 30 days, seed 7)."""
    from jobtrail.synthetic.config import GeneratorConfig
    from jobtrail.synthetic.generate import generate

    out = tmp_path_factory.mktemp("synthetic")
    generate(GeneratorConfig(users=3_000, days=30, seed=7), out)
    return out


# --- Reliability report ------------------------------------------------------------------------------------------
# Tests of faults, bad input and security record what they tried with the ``reliability`` fixture; with
# ``--reliability-report=docs/reliability.md`` (``make reliability``; with ``=``: pytest would otherwise take an
# existing report for a test path before this file is loaded) the run writes them as that report's
# "From the test run" section, each row with the test's outcome.

RELIABILITY_SECTION = "From the test run"
AREAS = ("fault", "bad input", "rerun and backfill", "security")


def pytest_addoption(parser):
    parser.addoption("--reliability-report", metavar="PATH", default=None,
                     help="write the reliability rows recorded by this run as a section of PATH (docs/reliability.md)")


class ReliabilityLog:
    """Rows of the reliability report: (area, case, how it was injected, what happened, the tables afterwards)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.outcomes: dict[str, str] = {}

    def add(self, nodeid: str, *, area: str, case: str, injected: str, happened: str, tables: str = "") -> None:
        if area not in AREAS:
            raise ValueError(f"area {area!r} is not one of {AREAS}")
        self.rows.append({"nodeid": nodeid, "area": area, "case": case, "injected": injected,
                          "happened": happened, "tables": tables})

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return " ".join(text.split()).replace("|", "\\|")

        out = []
        for area in AREAS:
            rows = [r for r in self.rows if r["area"] == area]
            if not rows:
                continue
            out += [f"### {area[0].upper()}{area[1:]}", "",
                    "| case | injected | what happened | tables afterwards | test |", "|---|---|---|---|---|"]
            for r in rows:
                test = r["nodeid"].split("::")
                outcome = self.outcomes.get(r["nodeid"], "not run")
                status = "pass" if outcome == "passed" else f"**{outcome.upper()}**"
                out.append(f"| {cell(r['case'])} | {cell(r['injected'])} | {cell(r['happened'])} | "
                           f"{cell(r['tables'])} | `{test[-1]}` ({test[0].removeprefix('tests/')}): {status} |")
            out.append("")
        return "\n".join(out)


_RELIABILITY = pytest.StashKey[ReliabilityLog]()


def pytest_configure(config):
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    _embedded_airflow_environment()
    config.stash[_RELIABILITY] = ReliabilityLog()
    if config.getoption("--reliability-report") and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("--reliability-report gathers its rows in one process: run it without -n "
                                "(`make reliability`)")
    # py4j logs "Closing down clientserver connection" at INFO from __del__ as the interpreter exits, after the
    # handlers' streams are closed: a "Logging error" traceback after the summary of a green run. Its INFO lines
    # say nothing a test needs.
    logging.getLogger("py4j").setLevel(logging.WARNING)


def pytest_collection_modifyitems(config, items):
    for item in items:  # ``make reliability`` runs the tests that record rows: ``-m reliability``
        if "reliability" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.reliability)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    log = item.config.stash[_RELIABILITY]
    if report.when == "call" or report.failed:  # a setup error counts, a passing setup does not
        if report.failed or item.nodeid not in log.outcomes:
            log.outcomes[item.nodeid] = report.outcome
    return report


class Recorder:
    def __init__(self, log: ReliabilityLog, nodeid: str) -> None:
        self._log, self._nodeid = log, nodeid

    def __call__(self, *, area: str, case: str, injected: str, happened: str, tables: str = "") -> None:
        """Record one row for the report (call it after the assertions that prove ``happened``)."""
        self._log.add(self._nodeid, area=area, case=case, injected=injected, happened=happened, tables=tables)


@pytest.fixture
def reliability(request) -> Recorder:
    """``reliability(area=..., case=..., injected=..., happened=..., tables=...)`` adds a row to the report."""
    return Recorder(request.config.stash[_RELIABILITY], request.node.nodeid)


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--reliability-report")
    log = session.config.stash[_RELIABILITY]
    if not path or not log.rows:
        return
    from benchmarks.report import RELIABILITY_HEADER, machine, write_section

    passed = sum(1 for r in log.rows if log.outcomes.get(r["nodeid"]) == "passed")
    tests = len({r["nodeid"] for r in log.rows})
    body = (f"{len(log.rows)} rows from {tests} tests; {passed} rows from tests that passed. Command: "
            f"`make reliability` (the tests that record a row: `pytest -m reliability`) on {machine()}.\n\n"
            f"{log.markdown()}")
    write_section(RELIABILITY_SECTION, body, doc=Path(path), header=RELIABILITY_HEADER)
