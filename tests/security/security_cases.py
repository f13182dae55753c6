"""What the security tests share: the hostile values tried on every DAG Param and every command-line option, the
run used to try them, and how docker-compose.yml interpolates a variable."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone


DAY = date(2026, 10, 30)
RUN_AFTER = datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)
RUN_ID = "manual__2026-11-01T01:30:00+00:00"

HOSTILE = {
    "path traversal": "../../etc",
    "absolute path": "/etc/passwd",
    "shell command": "x; rm -rf /",
    "command substitution": "$(id)",
    "backticks": "`id`",
    "SQL quote": "x' OR '1'='1",
    "very long": "a" * 10_000,
    "NUL byte": "champion\x00",
    "trailing newline": "champion\n",
}
"""Tried on every parameter and option. ``champion\\n`` and ``champion\\x00`` are valid names plus one character."""
HOSTILE_DATES = {"impossible date": "2026-02-30", "day first": "31/10/2026", "no dashes": "20261031",
                 "ISO week": "2026-W44-5", "date and newline": "2026-10-31\n"}
"""Also tried on every date."""
HOSTILE_NUMBERS = {"nan": "nan", "infinity": "inf", "overflow": "1e309", "negative": "-5", "huge": "9" * 20}
"""Also tried on every number."""
MUST_REFUSE_IN_PATHS = ("very long", "NUL byte", "trailing newline")
"""What no path holds; the other hostile values are legal file names on a command line (tests/security/test_command_lines.py)."""
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}")
"""``${NAME}``, ``${NAME:-default}`` or ``${NAME-default}`` in docker-compose.yml."""
