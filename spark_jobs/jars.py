"""Resolve the Delta Lake jars from Maven Central once, into a project-local cache.

Run by ``make setup`` as ``python -m spark_jobs.jars``. Ivy (the resolver built into Spark) fetches
``DELTA_COORDINATE`` and what it needs into ``<cache>/jars/ivy``; the jars Spark does not already ship
are listed in ``<cache>/jars/delta-jars.txt``, which the session factory puts on ``spark.jars``.
So no Spark session reaches the network at run time.

``io.delta:delta-spark_4.2_2.13:4.4.1`` is not published on Maven Central (only 4.4.0 is, for the
Spark 4.2 build): the jar is 4.4.0, the Python package ``delta-spark`` 4.4.1 (its API is the same).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from jobtrail.errors import SetupError
from jobtrail.settings import Settings

DELTA_COORDINATE = "io.delta:delta-spark_4.2_2.13:4.4.0"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2/"
MANIFEST = "delta-jars.txt"

_IVY_SETTINGS = f"""<ivysettings>
  <settings defaultResolver="central"/>
  <resolvers>
    <ibiblio name="central" m2compatible="true" root="{MAVEN_CENTRAL}"/>
  </resolvers>
</ivysettings>
"""


def _module_name(jar_file: str) -> str:
    """``org.apache.parquet_parquet-hadoop-1.16.0.jar`` or ``parquet-hadoop-1.16.0.jar`` → ``parquet-hadoop``."""
    name = jar_file.split("_", 1)[1] if re.match(r"^[a-z][\w.]*\.[\w.]+_", jar_file) else jar_file
    return re.sub(r"-\d[\w.\-]*\.jar$", "", name)


def spark_provided_modules() -> set[str]:
    """Names of the modules whose jars ship with the installed pyspark."""
    import pyspark

    return {_module_name(p.name) for p in (Path(pyspark.__file__).parent / "jars").glob("*.jar")}


def manifest_path(settings: Settings) -> Path:
    return settings.jars_dir / MANIFEST


def delta_jars(settings: Settings) -> list[Path]:
    """The local Delta jars for ``spark.jars``; raises :class:`SetupError` when not resolved yet."""
    manifest = manifest_path(settings)
    if not manifest.exists():
        raise SetupError(
            f"Delta Lake jars are not resolved in {settings.jars_dir}: run `make setup` "
            "(or `python -m spark_jobs.jars`) once, with Maven Central reachable"
        )
    jars = [Path(line) for line in manifest.read_text().splitlines() if line.strip()]
    missing = [str(j) for j in jars if not j.exists()]
    if missing:
        raise SetupError(f"jars listed in {manifest} are gone ({missing[:3]}): run `make setup` again")
    return jars


def spark_conf_dir(settings: Settings) -> Path:
    return settings.cache_dir / "spark-conf"


def write_spark_defaults(settings: Settings, jars: list[Path]) -> Path:
    """Write ``<cache>/spark-conf/spark-defaults.conf`` so that plain ``spark-submit`` gets Delta too.

    Under spark-submit the driver JVM starts before any Python runs, so the jars must be known then:
    ``export SPARK_CONF_DIR=<cache>/spark-conf`` (the README and the DAGs do this).
    """
    conf_dir = spark_conf_dir(settings)
    conf_dir.mkdir(parents=True, exist_ok=True)
    lines = {
        "spark.jars": ",".join(str(j) for j in jars),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
    }
    target = conf_dir / "spark-defaults.conf"
    target.write_text("".join(f"{k} {v}\n" for k, v in lines.items()))
    return target


def resolve(settings: Settings) -> list[Path]:
    """Fetch ``DELTA_COORDINATE`` and its dependencies from Maven Central; write the manifest."""
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    ivy_dir = settings.jars_dir / "ivy"
    ivy_dir.mkdir(parents=True, exist_ok=True)
    ivy_settings = settings.jars_dir / "ivysettings.xml"
    ivy_settings.write_text(_IVY_SETTINGS)
    try:
        session = (
            SparkSession.builder.master("local[1]")
            .appName("jobtrail-resolve-jars")
            .config("spark.jars.packages", DELTA_COORDINATE)
            .config("spark.jars.ivy", str(ivy_dir))
            .config("spark.jars.ivySettings", str(ivy_settings))
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        session.stop()
    except PySparkException as e:
        raise SetupError(
            f"could not resolve {DELTA_COORDINATE} from Maven Central ({MAVEN_CENTRAL}) into {ivy_dir}: "
            "check that the machine reaches it (the Ivy report above names each URL tried)"
        ) from e
    provided = spark_provided_modules()
    jars = sorted(
        p.resolve() for p in (ivy_dir / "jars").glob("*.jar") if _module_name(p.name) not in provided
    )
    if not any("delta-spark" in p.name for p in jars):
        raise SetupError(f"Ivy finished but no delta-spark jar is in {ivy_dir / 'jars'}")
    manifest_path(settings).write_text("".join(f"{p}\n" for p in jars))
    write_spark_defaults(settings, jars)
    return jars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="resolve again even if the manifest exists")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not args.force and manifest_path(settings).exists():
        try:
            write_spark_defaults(settings, delta_jars(settings))
            print(f"Delta jars already resolved: {manifest_path(settings)}")
            return 0
        except SetupError:
            pass  # a listed jar is gone: resolve again below
    try:
        jars = resolve(settings)
    except SetupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"resolved {DELTA_COORDINATE}: {len(jars)} jars listed in {manifest_path(settings)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
