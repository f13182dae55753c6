"""docker-compose.yml and the Dockerfile, checked as data (no Docker engine here): services, images, volumes,
health checks, Airflow services wired to Postgres and to each other, auth on, only documented dev secrets."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import yaml

from jobtrail.settings import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
AIRFLOW = ("api-server", "scheduler", "dag-processor", "triggerer")
LONG_RUNNING = (*AIRFLOW, "postgres", "spark-master", "spark-worker", "mlflow")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY\b|CREDENTIAL", re.I)
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    return env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def mounts(service: dict) -> dict[str, str]:
    """target → source of the service's volumes."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        out[target] = source
    return out


def test_services(services):
    assert set(services) >= {*AIRFLOW, "airflow-init", "postgres", "spark-master", "spark-worker", "mlflow", "trainer"}
    for name in (*AIRFLOW, "airflow-init"):
        assert services[name]["build"]["dockerfile"] == "Dockerfile", name
    for name in AIRFLOW:
        assert services[name]["command"] == name
    assert services["postgres"]["image"].startswith("postgres:")
    for name, service in services.items():
        assert service.get("image"), f"{name} has no image"


def test_health_checks_and_start_order(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"] and check["interval"], f"{name} has no health check"
    for name in AIRFLOW:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
    for name in ("scheduler", "dag-processor", "triggerer"):
        assert services[name]["depends_on"]["api-server"]["condition"] == "service_healthy"
    assert services["scheduler"]["depends_on"]["spark-master"]["condition"] == "service_healthy"
    assert "airflow db migrate" in services["airflow-init"]["command"][0]
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_airflow_points_at_postgres_and_the_api_server(services):
    postgres = services["postgres"]["environment"]
    for name in (*AIRFLOW, "airflow-init"):
        env = env_of(services[name])
        db = urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("${POSTGRES_PASSWORD:-airflow}", "pw"))
        assert db.scheme.startswith("postgresql") and db.hostname == "postgres" and db.port == 5432
        assert db.username == postgres["POSTGRES_USER"] and db.path == f"/{postgres['POSTGRES_DB']}"
        api = urlparse(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (api.hostname, api.port, api.path) == ("api-server", 8080, "/execution/")
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert "8080:8080" in services["api-server"]["ports"]


def test_authentication_is_on(services):
    for name in (*AIRFLOW, "airflow-init"):
        env = env_of(services[name])
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert mounts(services["api-server"])["/opt/airflow/auth"] == "airflow-auth"


def test_dags_data_spark_and_mlflow_wiring(services):
    spark_master = services["spark-master"]["command"]
    master_port = spark_master[spark_master.index("--port") + 1]
    mlflow = services["mlflow"]["command"]
    mlflow_port = mlflow[mlflow.index("--port") + 1]
    for name in AIRFLOW:
        service, env = services[name], env_of(services[name])
        volumes = mounts(service)
        assert volumes[env["AIRFLOW__CORE__DAGS_FOLDER"]] == "./dags"
        assert volumes[env["JOBTRAIL_DATA_ROOT"]] == "jobtrail-data"
        assert '"spark://spark-master"' in env["AIRFLOW_CONN_SPARK_DEFAULT"] and f'"port": {master_port}' in \
            env["AIRFLOW_CONN_SPARK_DEFAULT"]
        assert env["MLFLOW_TRACKING_URI"] == f"http://mlflow:{mlflow_port}"
    assert services["spark-worker"]["command"][1] == f"spark://spark-master:{master_port}"
    assert mounts(services["spark-worker"])["/opt/jobtrail/data"] == "jobtrail-data"  # executors read the same tables
    assert services["scheduler"]["hostname"] == "scheduler"  # the Spark driver, reachable from executors


def test_trainer_reserves_a_gpu(services):
    trainer = services["trainer"]
    devices = trainer["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert trainer["build"]["target"] == "trainer" and trainer["entrypoint"] == ["jobtrail"]
    assert env_of(trainer)["TF_USE_LEGACY_KERAS"] == "1"
    assert trainer["profiles"] == ["gpu"]  # started on demand, not by `docker compose up`


def test_only_documented_development_secrets():
    text = COMPOSE.read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    documented = dict(re.findall(r"^#\s+([A-Z_]+)\s{2,}(\S+)$", header, re.M))
    assert set(documented) == {"POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY"}
    compose = yaml.safe_load(text)
    for name, service in compose["services"].items():
        for key, value in env_of(service).items():
            if not SECRET_NAME.search(key) or key.endswith("_FILE") or value in (None, ""):
                continue
            found = INTERPOLATION.fullmatch(str(value))
            assert found, f"{name}: {key} is a literal secret; use ${{VAR:-dev default}}"
            assert found["default"] in ("", documented.get(found["name"])), f"{name}: {key} default not documented"
    for match in INTERPOLATION.finditer(text):  # secrets inside longer values (the database URL)
        if SECRET_NAME.search(match["name"]) and match["default"]:
            assert documented.get(match["name"]) == match["default"], match.group(0)


def test_dockerfile_extends_airflow_with_java_and_the_project():
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:\S*\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\} AS airflow$", text, re.M)
    assert "openjdk-17-jre-headless" in text and "JAVA_HOME" in text
    assert "-c constraints.txt" in text and "spark_jobs.jars" in text
    assert not re.search(r"^(ENV|ARG)\s.*(PASSWORD|SECRET|FERNET|TOKEN)", text, re.M | re.I)
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "data", ".git"} <= set(ignored)
