"""Standing rules of the code base: the floors read top-down, tf.keras only, and what each floor may load.

The floors (docs/architecture.md): a package may import its own modules and any package on a lower floor,
never one on its own floor or above — so no two packages import each other.

    6  dags/, benchmarks/        what runs the whole system (the DAG files; the timed runs, the load test)
    5  orchestration/            the Airflow glue, the jobtrail command, the demo
    4  evaluation/               jobtrail evaluate and its report
    3  spark_jobs/               one module per Spark job
    2  feature_store/, tf_models/
    1  jobtrail/                 contracts, tables, rules, errors, settings, knobs, the sequence core

Every check reads the source (imports at module level and inside functions), so it also holds for code paths
no test runs; each takes the tree's root, and the planted-violation tests run them on a made-up tree.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {"dags": 6, "benchmarks": 6, "orchestration": 5, "evaluation": 4, "spark_jobs": 3, "feature_store": 2,
          "tf_models": 2, "jobtrail": 1}
PACKAGES = (*FLOORS, "tests")
GROUND_FORBIDDEN = ("pyspark", "delta", "tensorflow", "tf_keras", "tensorflow_recommenders", "airflow", "mlflow")
"""What the ground floor never imports: Spark, Delta's Spark API, TensorFlow, Airflow, MLflow."""


def _imports(path: Path, *, module_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if module_level_only else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _sources(root: Path, *packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (root / pkg).rglob("*.py"))


def _module(root: Path, path: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def floor_violations(root: Path) -> list[str]:
    """``module -> imported`` for every import of a package on the importer's floor or above."""
    found = []
    for path in _sources(root, *FLOORS):
        own = path.relative_to(root).parts[0]
        for name in sorted(_imports(path)):
            other = name.split(".")[0]
            if other in FLOORS and other != own and FLOORS[other] >= FLOORS[own]:
                found.append(f"{_module(root, path)} -> {name}")
    return found


def forbidden_imports(root: Path, packages: tuple[str, ...], forbidden: tuple[str, ...], *,
                      module_level_only: bool = False) -> list[str]:
    return [f"{_module(root, p)} -> {name}" for p in _sources(root, *packages)
            for name in sorted(_imports(p, module_level_only=module_level_only)) if name.split(".")[0] in forbidden]


def loads_at_import(root: Path, package: str, library: str) -> list[str]:
    """Modules of ``package`` whose module-level imports, followed through first-party modules, reach ``library``."""
    modules = {_module(root, p): p for p in _sources(root, *FLOORS)}
    reaches: dict[str, list[str] | None] = {}

    def path_to(module: str, seen: frozenset[str]) -> list[str] | None:
        if module in reaches:
            return reaches[module]
        found = None
        for name in sorted(_imports(modules[module], module_level_only=True)):
            if name.split(".")[0] == library:
                found = [name]
                break
            target = name
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module and target not in seen and (rest := path_to(target, seen | {module})):
                found = [target, *rest]
                break
        reaches[module] = found
        return found

    return [" -> ".join([m, *chain]) for m in sorted(modules) if m.split(".")[0] == package
            if (chain := path_to(m, frozenset()))]


def test_rule_checker_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import keras\nfrom pyspark.sql import functions\ndef f():\n    import keras.layers\n")
    assert {"keras", "pyspark.sql", "keras.layers"} <= _imports(probe)
    assert "keras.layers" not in _imports(probe, module_level_only=True)


def test_no_direct_keras_imports():
    sources = _sources(ROOT, *PACKAGES)
    assert len(sources) > 10
    offenders = [str(p) for p in sources if any(m == "keras" or m.startswith("keras.") for m in _imports(p))]
    assert offenders == [], "use tf.keras (Keras 2 via TF_USE_LEGACY_KERAS=1), never keras directly"


def test_every_package_is_on_a_floor():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} | {"dags"}
    assert on_disk - set(FLOORS) <= {"tests"}, "a new top-level package needs its floor in FLOORS (and architecture.md)"


def test_no_package_imports_its_own_floor_or_above():
    assert floor_violations(ROOT) == []


def test_the_ground_floor_imports_no_spark_tensorflow_airflow_or_mlflow():
    assert forbidden_imports(ROOT, ("jobtrail",), GROUND_FORBIDDEN) == []


def test_tf_models_never_imports_pyspark():
    assert forbidden_imports(ROOT, ("tf_models",), ("pyspark", "delta")) == []


def test_importing_evaluation_or_tf_models_loads_no_pyspark():
    """Evaluation runs numpy and TensorFlow in-process; Spark only through a session its caller passes."""
    assert loads_at_import(ROOT, "evaluation", "pyspark") == []
    assert loads_at_import(ROOT, "tf_models", "pyspark") == []


def test_the_ground_floor_loads_none_of_them_at_run_time():
    """Import every ground-floor module in a fresh interpreter: what actually lands in sys.modules."""
    modules = [_module(ROOT, p) for p in _sources(ROOT, "jobtrail")]
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({GROUND_FORBIDDEN!r}))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.fixture()
def planted(tmp_path) -> Path:
    """A made-up tree with one violation of each rule."""
    files = {
        "jobtrail/__init__.py": "",
        "jobtrail/contracts.py": "import pyarrow\n",
        "jobtrail/bad_floor.py": "def f():\n    from orchestration import cli\n",
        "jobtrail/bad_library.py": "import mlflow\n",
        "orchestration/__init__.py": "",
        "orchestration/cli.py": "from jobtrail import contracts\n",
        "feature_store/__init__.py": "",
        "feature_store/table.py": "from tf_models import serving\n",
        "tf_models/__init__.py": "",
        "tf_models/serving.py": "from spark_jobs import helper\n",
        "spark_jobs/__init__.py": "",
        "spark_jobs/helper.py": "import pyspark.sql\n",
        "evaluation/__init__.py": "",
        "evaluation/runs.py": "from tf_models import serving\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_checks_fail_on_planted_violations(planted):
    assert floor_violations(planted) == [
        "feature_store.table -> tf_models",  # same floor
        "feature_store.table -> tf_models.serving",
        "jobtrail.bad_floor -> orchestration",  # upward, inside a function
        "jobtrail.bad_floor -> orchestration.cli",
        "tf_models.serving -> spark_jobs",  # upward
        "tf_models.serving -> spark_jobs.helper",
    ]
    assert forbidden_imports(planted, ("jobtrail",), GROUND_FORBIDDEN) == ["jobtrail.bad_library -> mlflow"]
    assert loads_at_import(planted, "evaluation", "pyspark") == [
        "evaluation.runs -> tf_models.serving -> spark_jobs.helper -> pyspark.sql"]
