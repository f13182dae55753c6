"""Security, Airflow: authentication on, connections without inline passwords, the secrets backend configurable."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import yaml

from jobtrail.settings import REPO_ROOT
from security_cases import INTERPOLATION


AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer", "airflow-init")


def compose_env() -> dict[str, dict[str, str]]:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    out = {}
    for name, service in services.items():
        env = service.get("environment", {})
        out[name] = env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)
    return out


def test_airflow_auth_on_and_credentials_from_the_environment(monkeypatch, reliability):
    envs = compose_env()
    connections = 0
    for name in AIRFLOW_SERVICES:
        env = envs[name]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
        assert INTERPOLATION.fullmatch(env["AIRFLOW__API_AUTH__JWT_SECRET"])["name"] == "AIRFLOW_JWT_SECRET"
        assert INTERPOLATION.fullmatch(env["AIRFLOW__SECRETS__BACKEND"])["name"] == "AIRFLOW_SECRETS_BACKEND"
        assert INTERPOLATION.fullmatch(env["AIRFLOW__SECRETS__BACKEND_KWARGS"])["default"] == ""
    for service, env in envs.items():
        for key, value in env.items():
            if not key.startswith("AIRFLOW_CONN_"):
                continue
            connections += 1
            try:
                conn = json.loads(value)
                password = conn.get("password") or urlparse(conn.get("host", "")).password
            except json.JSONDecodeError:
                password = urlparse(value).password
            assert not password or INTERPOLATION.fullmatch(password), f"{service}: {key} has an inline password"
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "AIRFLOW_CONN_" not in dockerfile and "SECRETS__BACKEND" not in dockerfile  # the image sets neither
    # The variable compose sets is the one Airflow reads: empty = no backend; a class path loads that backend.
    from airflow.configuration import conf

    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "")
    assert conf.getimport("secrets", "backend") is None
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "airflow.secrets.local_filesystem.LocalFilesystemBackend")
    assert conf.getimport("secrets", "backend").__name__ == "LocalFilesystemBackend"
    reliability(area="security", case="Airflow: authentication and where credentials come from",
                injected=f"docker-compose.yml's {len(AIRFLOW_SERVICES)} Airflow services and {connections} "
                         "AIRFLOW_CONN_* values; the Dockerfile; AIRFLOW__SECRETS__BACKEND set through Airflow's config",
                happened="simple auth manager with ALL_ADMINS False and the JWT secret from ${AIRFLOW_JWT_SECRET} in "
                         "every service; no connection with an inline password; the image sets no connection; the "
                         "secrets backend comes from ${AIRFLOW_SECRETS_BACKEND} (empty: none; a class path: loaded)")
