"""Validation of everything a DAG run accepts: dates, model names and aliases, paths inside the data root.

The trigger form validates the same rules first (the patterns below are the ``Param`` schemas); the tasks
check again at run time, because a run's conf can also come from the REST API or the CLI. Every failure is
a :class:`~jobtrail.errors.ConfigError` that names the parameter and says what a valid value looks like.
Paths given by operators are always *relative to the data root*: absolute paths, ``..`` segments and
symlinks that lead outside the root are refused.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path, PurePosixPath

from jobtrail.errors import ConfigError

DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
"""``YYYY-MM-DD``; the calendar check (no 2026-02-30) is :func:`parse_date` and the form's ``format: date``."""
MODEL_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$"
"""Registered model names; the same rule as ``tf_models.registry.MODEL_NAME``."""
ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
RELATIVE_PATH_PATTERN = r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9_.=/{}-]{1,255}$"
"""A path relative to the data root: no leading ``/``, no ``..`` segment, only ``[A-Za-z0-9_.=/{}-]``."""
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)

_DATE = re.compile(DATE_PATTERN)
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
_ALIAS = re.compile(ALIAS_PATTERN)
_RELATIVE_PATH = re.compile(RELATIVE_PATH_PATTERN)


def parse_date(value: object, what: str) -> date:
    """``value`` (``YYYY-MM-DD`` or a ``date``) as a date within 2000..2100; ``what`` names the parameter."""
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _DATE.match(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError as e:
            raise ConfigError(f"{what}={value!r} is not a calendar date; give YYYY-MM-DD") from e
    else:
        raise ConfigError(f"{what}={value!r} is not a date of the form YYYY-MM-DD")
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise ConfigError(f"{what}={parsed} is outside {MIN_DATE}..{MAX_DATE}")
    return parsed


def optional_date(value: object, what: str) -> date | None:
    """Like :func:`parse_date`, but ``None`` and ``""`` mean "not given"."""
    return None if value in (None, "") else parse_date(value, what)


def check_model_name(value: object, what: str = "model_name") -> str:
    if not isinstance(value, str) or not _MODEL_NAME.match(value):
        raise ConfigError(f"{what}={value!r} must match {MODEL_NAME_PATTERN} (a letter, then letters, digits, _ . -)")
    return value


def check_alias(value: object, what: str = "model_alias") -> str:
    if not isinstance(value, str) or not _ALIAS.match(value):
        raise ConfigError(f"{what}={value!r} must match {ALIAS_PATTERN} (e.g. champion)")
    return value


def check_int(value: object, what: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{what}={value!r} must be a whole number in {minimum}..{maximum}")
    return value


def check_number(value: object, what: str, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        raise ConfigError(f"{what}={value!r} must be a number in {minimum}..{maximum}")
    return float(value)


def check_choice(value: object, what: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{what}={value!r} must be one of {', '.join(choices)}")
    return str(value)


def inside_root(root: Path, relative: object, what: str) -> Path:
    """``root / relative``, refusing anything that would leave ``root``.

    ``relative`` must match :data:`RELATIVE_PATH_PATTERN` (no absolute path, no ``..``); the resolved path
    (symlinks followed) must still lie inside the resolved root.
    """
    if not isinstance(relative, str) or not _RELATIVE_PATH.match(relative):
        raise ConfigError(
            f"{what}={relative!r} must be a path relative to the data root {root} "
            "(letters, digits, _ . = / { } -; no leading '/', no '..')"
        )
    parts = PurePosixPath(relative).parts
    if any(part in ("..", "") for part in parts):  # defence in depth; the pattern already refuses these
        raise ConfigError(f"{what}={relative!r} may not contain '..'")
    base = root.resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise ConfigError(f"{what}={relative!r} resolves to {target}, outside the data root {base}")
    return target


def run_key(run_id: str) -> str:
    """A folder-safe, stable name for a DAG run.

    ``manual__2026-10-31T00:00:00+00:00`` → ``manual__2026-10-31T00_00_00_00_00``.
    """
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id).strip("._") or "run"
    return key[:120]
