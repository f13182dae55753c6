"""Standing rules of the code base: tf.keras only, and tf_models never touches Spark."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jobtrail", "spark_jobs", "tf_models", "feature_store", "dags", "benchmarks", "tests")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _sources(*packages: str) -> list[Path]:
    return [p for pkg in packages for p in (ROOT / pkg).rglob("*.py")]


def test_rule_checker_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import keras\nfrom pyspark.sql import functions\ndef f():\n    import keras.layers\n")
    assert {"keras", "pyspark.sql", "keras.layers"} <= _imports(probe)


def test_no_direct_keras_imports():
    sources = _sources(*PACKAGES)
    assert len(sources) > 10
    offenders = [str(p) for p in sources if any(m == "keras" or m.startswith("keras.") for m in _imports(p))]
    assert offenders == [], "use tf.keras (Keras 2 via TF_USE_LEGACY_KERAS=1), never keras directly"


def test_tf_models_never_imports_pyspark():
    offenders = [str(p) for p in _sources("tf_models") if any(m.split(".")[0] == "pyspark" for m in _imports(p))]
    assert offenders == []
