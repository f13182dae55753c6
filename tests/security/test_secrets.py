"""Security, secrets: the git-tracked files hold no secret beyond the defaults documented in docker-compose.yml's
header (tests may hold test passwords); the image copies only tracked sources and ``.dockerignore`` keeps local
state and ``.env`` files out of the build context."""

from __future__ import annotations

import re
import subprocess
from fnmatch import fnmatch

from jobtrail.settings import REPO_ROOT
from security_cases import INTERPOLATION


SECRET_NAME = r"[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|SECRET|FERNET_KEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|TOKEN)"
SECRET_PATTERNS = {
    "private key block": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub/Slack/Google/OpenAI token": re.compile(
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}\b|\bsk-[A-Za-z0-9]{32,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "secret assignment": re.compile(
        rf"(?i)\b(?<!\$\{{)(?P<name>{SECRET_NAME})\b[\"']?\s*[:=]\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;#)]+)"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:(?P<value>[^\s/@'\"]+)@"),
}
PLACEHOLDER = re.compile(r"^(?:\$\{?[A-Z0-9_]+\}?|None|null|~|true|false|<[^>]*>|\.\.\.|\*+)$", re.I)
"""Values that are placeholders, not secrets: an environment variable, nothing, a <placeholder>, ``...``."""


def documented_defaults() -> dict[str, str]:
    """``NAME  default`` lines of docker-compose.yml's header comment: the only secrets a tracked file may hold."""
    header = "\n".join(line for line in (REPO_ROOT / "docker-compose.yml").read_text().splitlines()
                       if line.startswith("#"))
    return dict(re.findall(r"^#\s+([A-Z_]+)\s{2,}(\S+)$", header, re.M))


def secret_findings(path: str, text: str) -> list[tuple[str, int, str, str]]:
    """(kind, line, name, value) of every secret-looking thing in ``text``.

    An assignment counts when its value is a literal: in Python a quoted string (a bare name there is a variable,
    ``password = os.environ[...]``), elsewhere (YAML, .env, Dockerfile, docs) any value but a placeholder.
    """
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(line):
                groups = match.groupdict()
                raw = groups.get("value") or match.group(0)
                value = raw.strip("\"'")
                if kind == "secret assignment" and (not value or PLACEHOLDER.match(value) or (
                        path.endswith(".py") and raw[0] not in "\"'")):
                    continue
                found.append((kind, number, groups.get("name") or "", value))
    return found


def allowed(path: str, value: str, defaults: dict[str, str]) -> str | None:
    """Why a finding is allowed (a documented development default, or a test's own password), else None."""
    if path.startswith("tests/"):
        return "test"
    interpolation = INTERPOLATION.fullmatch(value) or INTERPOLATION.search(value)
    if interpolation and path == "docker-compose.yml":
        default = interpolation["default"] or ""
        if default == "" or defaults.get(interpolation["name"]) == default:
            return "documented default" if default else "from the environment"
    return None


def repo_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout.split("\n")
    return sorted({f for f in out if f and (REPO_ROOT / f).is_file()})


def test_the_secret_scanner_finds_planted_secrets():
    planted = "\n".join([
        "-----BEGIN RSA " + "PRIVATE KEY-----", "aws_key = '" + "AKIA" + "ABCDEFGHIJKLMNOP'",
        "token: gh" + "p_" + "a" * 36, "DB_PASSWORD=hunter2", 'api_key = "0123456789abcdef0123"',
        "AIRFLOW__API_AUTH__JWT_SECRET: not-documented", "url = 'postgresql://u:s3cret@db/x'",
        "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
    ])
    findings = secret_findings("planted.yml", planted)
    assert {f[0] for f in findings} == set(SECRET_PATTERNS)
    assert {f[1] for f in findings} == set(range(1, 9))  # every planted line is caught
    assert [f[3] for f in secret_findings("x.py", 'password = "hunter2"\nsecret = os.environ["SECRET"]')] == ["hunter2"]
    clean = "\n".join(["password = os.environ['PASSWORD']", "token_buckets: int = 2**17", "secret=${SECRET}",
                       "AIRFLOW__SECRETS__BACKEND: ${AIRFLOW_SECRETS_BACKEND:-}", "password: str | None = None",
                       "url: postgresql://airflow:${POSTGRES_PASSWORD:-}@postgres/airflow"])
    assert [f for f in secret_findings("x.py", clean) if not allowed("docker-compose.yml", f[3], {})] == []
    assert allowed("docker-compose.yml", "${POSTGRES_PASSWORD:-hunter2}", documented_defaults()) is None


def test_no_secrets_in_tracked_files_beyond_documented_defaults(reliability):
    defaults = documented_defaults()
    assert set(defaults) == {"POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY"}
    files = repo_files()
    reasons: dict[str, int] = {}
    leaks = []
    for path in files:
        try:
            text = (REPO_ROOT / path).read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for kind, line, name, value in secret_findings(path, text):
            why = allowed(path, value, defaults)
            if why is None:
                leaks.append(f"{path}:{line}: {kind} {name} {value[:40]!r}")
            else:
                reasons[why] = reasons.get(why, 0) + 1
    assert leaks == []
    assert reasons.get("documented default", 0) >= 3  # the compose file's defaults are seen, and allowed by name
    reliability(area="security", case="no secrets in the repository",
                injected=f"scan of {len(files)} git files (tracked and new) for private keys, AWS keys, GitHub/Slack/"
                         "Google tokens, JWTs, PASSWORD/SECRET/TOKEN/KEY assignments, passwords in URLs",
                happened=f"no leak; allowed: {reasons.get('documented default', 0)} uses of the 3 development defaults "
                         f"named in docker-compose.yml's header, {reasons.get('from the environment', 0)} empty "
                         f"${{VAR:-}} value(s), {reasons.get('test', 0)} test values under tests/ (incl. this file's "
                         "planted samples)")


LOCAL_STATE = [".venv/bin/python", ".cache/jars/delta.jar", "data/demo/raw_events/x.parquet", "mlruns/0/meta.yaml",
               "metastore_db/db.lck", "derby.log", ".git/config", ".env", "prod.env", ".env.local", "conf/app.env",
               "secrets/db_password", "keys/server.pem", "keys/server.key", "jobtrail/__pycache__/cli.cpython-311.pyc",
               "spark-warehouse/t/part-0.parquet", ".pytest_cache/v/x", "airflow.cfg", "data/demo/airflow/airflow.db",
               "mlflow.db"]
IMAGE_SOURCES = ["setup.cfg", "pyproject.toml", "constraints.txt", "README.md", "orchestration/cli.py",
                 "spark_jobs/ingest.py", "tf_models/train.py", "feature_store/table.py", "dags/jobtrail_training.py"]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, enough for these patterns: a match on the path or on any parent folder excludes it."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        variants = [body, body.removeprefix("**/")] if body.startswith("**/") else [body]
        hit = any(fnmatch(c, v) or (v != body and fnmatch(c.split("/")[-1], v)) for c in candidates for v in variants)
        if hit:
            ignored = not negate
    return ignored


def test_image_holds_sources_only(reliability):
    text = (REPO_ROOT / "Dockerfile").read_text()
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    tracked = set(repo_files())
    copies = [line.split()[1:] for line in text.splitlines() if line.startswith(("COPY", "ADD"))]
    sources = [s for args in copies for s in [a for a in args if not a.startswith("--")][:-1]]
    assert sources and not any(line.startswith("ADD") for line in text.splitlines())  # ADD fetches URLs, unpacks
    for source in sources:  # only what git tracks: never ".", an .env, local data or caches
        assert source not in (".", "./", "*"), source
        assert source in tracked or any(t.startswith(source + "/") for t in tracked), source
    assert not re.search(r"^(ENV|ARG)\s.*(PASSWORD|SECRET|FERNET|TOKEN|_KEY)\b", text, re.M | re.I)
    assert [p for p in LOCAL_STATE if not dockerignored(p, patterns)] == []
    assert [p for p in IMAGE_SOURCES if dockerignored(p, patterns)] == []
    git_ignored = subprocess.run(["git", "check-ignore", ".env", "prod.env", ".env.local"], cwd=REPO_ROOT,
                                 capture_output=True, text=True).stdout.split()
    assert git_ignored == [".env", "prod.env", ".env.local"]  # the compose .env never reaches git either
    reliability(area="security", case="image: sources only, no local state or .env",
                injected=f"Dockerfile's {len(sources)} COPY sources; .dockerignore applied to {len(LOCAL_STATE)} "
                         "local-state paths (.venv, .cache, data, mlruns, metastore_db, derby.log, .git, .env files, "
                         "keys, secrets/, airflow.db) and to the image's sources",
                happened="every COPY source is a git-tracked path (no '.', no .env); all local-state paths excluded "
                         "from the build context, every source kept; no secret ENV/ARG; .env files git-ignored")
