"""Fault injection with the real components: kill a Spark driver at a Delta commit, then read the tables.

Tests import it as ``import fault_injection`` (``tests/`` is on ``sys.path``: pytest puts it there for the
rootdir ``conftest.py``).

:func:`commit_kill_conf_dir` ``(tmp, *, table, marker, base=None) -> Path`` returns a ``SPARK_CONF_DIR``:
a copy of ``base/spark-defaults.conf`` (default ``$SPARK_CONF_DIR``, else ``<cache>/spark-conf``: the Delta
jars) plus a Delta LogStore for the ``file:`` scheme (``spark.delta.logStore.file.impl``, Delta's per-scheme
key) that **halts the driver JVM** (``Runtime.halt(137)``: no shutdown hooks, no clean-up, as SIGKILL)
when it is about to write a commit file (``_delta_log/<20 digits>.json``) of a table whose path ends with
``/<table>`` — once: it first creates ``marker`` atomically (``File.createNewFile``) and does nothing when
``marker`` already exists. The data files of that write are on disk; its commit is never written. The
LogStore is :data:`LOGSTORE_SOURCE` (extends ``io.delta.storage.HDFSLogStore``, Delta's default for
``file:``), compiled with ``javac`` once into ``<cache>/fault-injection/<sha of source>/`` and put on the
driver's classpath with ``spark.driver.extraClassPath`` (with the delta-storage jar it extends: the class is
loaded by the JVM's class loader, not by the one of ``spark.jars``). ``table`` and ``marker`` reach it as
``spark.hadoop.jobtrail.fault.table`` / ``.marker`` (Hadoop configuration keys ``jobtrail.fault.*``).

Jobs launched as subprocesses (``python -m spark_jobs.ingest ...``, ``spark-submit ...``, an Airflow task)
pick it up from the environment: ``SPARK_CONF_DIR=<returned dir>`` (see :func:`job_env`); the driver must run
on this machine (local master or client mode: the classes are a local folder). When it fires, the driver
prints ``jobtrail fault injection: halting the driver JVM before writing <commit file>`` to stderr; the job
exits 137 under ``spark-submit`` (the JVM is the process) and non-zero under ``python -m`` (1: the Py4J
connection is gone).

    conf = commit_kill_conf_dir(tmp_path, table="quarantine_events", marker=tmp_path / "killed")
    result = run_job(["-m", "spark_jobs.ingest", ...], env=job_env(conf))
    assert result.returncode != 0 and (tmp_path / "killed").exists()

Readers for the checks afterwards (``deltalake``, no Spark): :func:`delta_rows`, :func:`delta_version`,
:func:`unreferenced_data_files`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from jobtrail.settings import REPO_ROOT, Settings

LOGSTORE_CLASS = "jobtrail.fault.CommitKillLogStore"
TABLE_KEY, MARKER_KEY = "jobtrail.fault.table", "jobtrail.fault.marker"
HALT_STATUS = 137

LOGSTORE_SOURCE = """\
package jobtrail.fault;

import java.io.File;
import java.io.IOException;
import java.util.Iterator;
import java.util.regex.Pattern;

import io.delta.storage.HDFSLogStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/** HDFSLogStore that halts the JVM, once (marker file), before writing a commit of one table. */
public class CommitKillLogStore extends HDFSLogStore {
    private static final Pattern COMMIT = Pattern.compile("\\\\d{20}\\\\.json");

    public CommitKillLogStore(Configuration conf) {
        super(conf);
    }

    @Override
    public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration conf)
            throws IOException {
        maybeHalt(path, conf);
        super.write(path, actions, overwrite, conf);
    }

    private String setting(Configuration conf, String key) {
        String value = conf == null ? null : conf.get(key);
        return value != null ? value : initHadoopConf().get(key);
    }

    private static String trim(String s) {
        String out = s;
        while (out.endsWith("/")) out = out.substring(0, out.length() - 1);
        while (out.startsWith("/")) out = out.substring(1);
        return out;
    }

    private void maybeHalt(Path path, Configuration conf) throws IOException {
        String table = setting(conf, "%(table)s");
        String marker = setting(conf, "%(marker)s");
        Path log = path.getParent();
        if (table == null || marker == null || log == null || log.getParent() == null
                || !"_delta_log".equals(log.getName()) || !COMMIT.matcher(path.getName()).matches()) {
            return;
        }
        String root = "/" + trim(log.getParent().toUri().getPath());
        if (!root.endsWith("/" + trim(table))) {
            return;
        }
        if (!new File(marker).createNewFile()) {
            return;  // fired before: behave like HDFSLogStore
        }
        System.err.println("jobtrail fault injection: halting the driver JVM before writing " + path);
        System.err.flush();
        Runtime.getRuntime().halt(%(status)d);
    }
}
""" % {"table": TABLE_KEY, "marker": MARKER_KEY, "status": HALT_STATUS}
"""Java source of the LogStore (a string, so the content hash covers exactly what is compiled)."""


def _settings() -> Settings:
    return Settings.from_env()


def _read_defaults(conf_dir: Path) -> dict[str, str]:
    path = conf_dir / "spark-defaults.conf"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `make setup` (it writes the Delta jars' spark-defaults)")
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            out[key] = value.strip()
    return out


def _delta_storage_jar(defaults: Mapping[str, str]) -> Path:
    jars = [Path(j) for j in defaults.get("spark.jars", "").split(",")
            if Path(j).name.startswith("io.delta_delta-storage-")]
    if not jars:
        found = sorted((_settings().jars_dir).rglob("io.delta_delta-storage-*.jar"))
        jars = found[-1:]
    if not jars or not jars[0].exists():
        raise FileNotFoundError("no delta-storage jar in spark.jars or under the jars cache: run `make setup`")
    return jars[0]


@functools.lru_cache(maxsize=None)
def compiled_logstore(storage_jar: Path) -> Path:
    """The classes directory of :data:`LOGSTORE_SOURCE`, compiled once per source (sha in the path)."""
    import pyspark

    digest = hashlib.sha256((LOGSTORE_SOURCE + storage_jar.name).encode()).hexdigest()[:16]
    target = _settings().cache_dir / "fault-injection" / digest
    if (target / "classes" / (LOGSTORE_CLASS.replace(".", "/") + ".class")).exists():
        return target / "classes"
    classpath = [storage_jar, *sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))]
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target.parent))
    try:
        source = work / "src" / (LOGSTORE_CLASS.replace(".", "/") + ".java")
        source.parent.mkdir(parents=True)
        source.write_text(LOGSTORE_SOURCE)
        javac = shutil.which("javac") or str(Path(os.environ.get("JAVA_HOME", "/usr")) / "bin" / "javac")
        subprocess.run([javac, "-nowarn", "--release", "17", "-cp", os.pathsep.join(map(str, classpath)),
                        "-d", str(work / "classes"), str(source)], check=True, capture_output=True, text=True)
        try:
            os.rename(work, target)  # atomic; a concurrent compile of the same source may win
        except OSError:
            if not target.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / "classes"


def commit_kill_conf_dir(tmp: Path, *, table: str, marker: Path, base: Path | None = None) -> Path:
    """A ``SPARK_CONF_DIR`` under ``tmp`` whose driver halts (exit 137) before committing to ``table``, once.

    ``table``: the end of the table's path (``quarantine_events``, ``data/user_embeddings``). ``marker``:
    created when the fault fires; while it exists the LogStore behaves like Delta's default, so a retry
    with the same conf dir runs normally. ``base``: the conf dir copied (default ``$SPARK_CONF_DIR``, else
    ``<cache>/spark-conf``). See the module docstring.
    """
    base = base or Path(os.environ.get("SPARK_CONF_DIR") or _settings().cache_dir / "spark-conf")
    defaults = _read_defaults(base)
    storage_jar = _delta_storage_jar(defaults)
    classes = compiled_logstore(storage_jar)
    marker = Path(marker).resolve()
    marker.parent.mkdir(parents=True, exist_ok=True)
    extra = os.pathsep.join(str(p) for p in (classes, storage_jar))
    if defaults.get("spark.driver.extraClassPath"):
        extra = defaults["spark.driver.extraClassPath"] + os.pathsep + extra
    conf = {**defaults, "spark.driver.extraClassPath": extra, "spark.delta.logStore.file.impl": LOGSTORE_CLASS,
            f"spark.hadoop.{TABLE_KEY}": table, f"spark.hadoop.{MARKER_KEY}": str(marker)}
    slug = hashlib.sha256(f"{table}\0{marker}".encode()).hexdigest()[:10]
    conf_dir = Path(tmp) / f"spark-conf-kill-{slug}"
    conf_dir.mkdir(parents=True, exist_ok=True)
    for other in base.iterdir():  # log4j2.properties etc. travel too
        if other.is_file() and other.name != "spark-defaults.conf":
            shutil.copy2(other, conf_dir / other.name)
    (conf_dir / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in conf.items()))
    return conf_dir


# --- running jobs ------------------------------------------------------------------------------------------------

def job_env(conf_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a job subprocess: the repo importable, the venv's Python for workers, ``conf_dir``."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update({"PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
                "PYSPARK_PYTHON": env.get("PYSPARK_PYTHON") or sys.executable,
                "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
    if conf_dir is not None:
        env["SPARK_CONF_DIR"] = str(conf_dir)
    env.update(extra)
    return env


def run_job(args: list[str], *, env: Mapping[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``python ARGS`` in the repo root; output captured (``result.stdout`` / ``result.stderr``)."""
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=dict(env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def tail(result: subprocess.CompletedProcess, chars: int = 3000) -> str:
    """The end of a job's output, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-chars:]}\n--- stderr\n{result.stderr[-chars:]}"


# --- reading Delta tables without Spark --------------------------------------------------------------------------

def _sort_key(row: Mapping) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def delta_rows(path: Path, *, where: Callable[[dict], bool] | None = None, drop: Iterable[str] = (),
               version: int | None = None) -> list[dict]:
    """The table's rows (``deltalake``) as plain dicts, without the ``drop`` columns, in a canonical order."""
    from deltalake import DeltaTable

    table = DeltaTable(str(path), version=version).to_pyarrow_table()
    dropped = set(drop)
    rows = [{k: v for k, v in r.items() if k not in dropped} for r in table.to_pylist()]
    return sorted((r for r in rows if where is None or where(r)), key=_sort_key)


def delta_version(path: Path) -> int:
    """The table's current version as ``deltalake`` reads it (the latest commit file)."""
    from deltalake import DeltaTable

    return DeltaTable(str(path)).version()


def commit_versions(path: Path) -> list[int]:
    """The versions that have a commit file in ``_delta_log``."""
    return sorted(int(p.stem) for p in (Path(path) / "_delta_log").glob("[0-9]" * 20 + ".json"))


def data_files(path: Path) -> set[Path]:
    """Every Parquet data file under the table (outside ``_delta_log``)."""
    root = Path(path)
    return {p for p in root.rglob("*.parquet") if "_delta_log" not in p.relative_to(root).parts}


def referenced_data_files(path: Path, version: int | None = None) -> set[Path]:
    """The data files of the table's current (or ``version``) snapshot."""
    from deltalake import DeltaTable

    from urllib.parse import unquote, urlparse

    root = Path(path).resolve()
    out = set()
    for uri in DeltaTable(str(path), version=version).file_uris():
        local = unquote(urlparse(uri).path) if "://" in uri else uri
        out.add((root / local).resolve())  # absolute already: the join keeps it
    return out


def unreferenced_data_files(path: Path) -> set[Path]:
    """Data files on disk that the current version does not reference (removed by earlier versions, or
    written by a write whose commit never happened)."""
    return {p.resolve() for p in data_files(path)} - referenced_data_files(path)
