#!/usr/bin/env bash
# Create .venv (Python 3.11) and install jobtrail with the exact versions of constraints.txt.
# Called by `make setup`; re-run only when setup.cfg or constraints.txt change.
set -euo pipefail
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
UV_VERSION=0.13.9
INDEX=${PIP_INDEX_URL:-https://pypi.org/simple}

fail() {
  echo "set-up failed: $1" >&2
  echo "  tried: $2" >&2
  exit 1
}

command -v "$PYTHON" >/dev/null || fail "no $PYTHON on PATH (jobtrail needs Python 3.11)" "$PYTHON"
command -v java >/dev/null || fail "no java on PATH (Spark 4.2 needs Java 17)" "java -version"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION" \
  || fail "could not install uv==$UV_VERSION from PyPI" "$INDEX (pip install uv==$UV_VERSION)"
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -c constraints.txt -e '.[all]' \
  || fail "could not install the pinned packages from PyPI" "$INDEX (uv pip install -c constraints.txt -e .[all])"
