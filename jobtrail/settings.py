"""Infrastructure settings from the environment: where things are, never hyper-parameters.

| variable | meaning | default |
|---|---|---|
| ``JOBTRAIL_DATA_ROOT`` | root folder (or URI) of every table | ``<repo>/data`` |
| ``JOBTRAIL_CACHE_DIR`` | project-local cache: Delta jars, downloaded wheels | ``<repo>/.cache`` |
| ``JOBTRAIL_SPARK_MASTER`` | Spark master URL | ``local[2]`` |
| ``JOBTRAIL_SPARK_SHUFFLE_PARTITIONS`` | ``spark.sql.shuffle.partitions`` | ``4`` |
| ``JOBTRAIL_SPARK_DRIVER_MEMORY`` | ``spark.driver.memory`` (only applies when the JVM starts) | ``4g`` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from jobtrail.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name}={raw!r} is not an integer; unset it or give a whole number") from e
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class Settings:
    """Where data, caches and compute are. Build with :meth:`from_env`."""

    data_root: Path = REPO_ROOT / "data"
    cache_dir: Path = REPO_ROOT / ".cache"
    spark_master: str = "local[2]"
    shuffle_partitions: int = 4
    driver_memory: str = "4g"

    def with_data_root(self, root: Path | None) -> "Settings":
        """These settings with a job's ``--data-root`` (``None`` keeps ``JOBTRAIL_DATA_ROOT``'s)."""
        return self if root is None else replace(self, data_root=Path(root))

    @property
    def jars_dir(self) -> Path:
        """Where ``make setup`` puts the Delta Lake jars resolved from Maven Central."""
        return self.cache_dir / "jars"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the ``JOBTRAIL_*`` variables (see the module docstring)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            data_root=Path(env.get("JOBTRAIL_DATA_ROOT") or defaults.data_root),
            cache_dir=Path(env.get("JOBTRAIL_CACHE_DIR") or defaults.cache_dir),
            spark_master=env.get("JOBTRAIL_SPARK_MASTER") or defaults.spark_master,
            shuffle_partitions=_int_env(
                env, "JOBTRAIL_SPARK_SHUFFLE_PARTITIONS", defaults.shuffle_partitions
            ),
            driver_memory=env.get("JOBTRAIL_SPARK_DRIVER_MEMORY") or defaults.driver_memory,
        )
