"""The rule book of every value a run accepts: dates, model names and aliases, paths inside the data root.

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

END = r"$(?!\n)"
r"""End of input in both regex dialects a pattern meets: Python's ``$`` also matches before a final newline
(``re.match("^a$", "a\n")``, and the ``jsonschema`` library behind ``Param`` uses ``re.search``), JavaScript's
does not; ``$(?!\n)`` means the very end in both, so ``"champion\n"`` is refused by the form and at run time."""
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])" + END
"""``YYYY-MM-DD``; the calendar check (no 2026-02-30) is :func:`parse_date` and the form's ``format: date``."""
MODEL_NAME_RULE = r"[A-Za-z][A-Za-z0-9_.-]{0,99}"
"""Registered model names: a letter, then up to 99 letters, digits, ``_ . -`` (``tf_models.registry`` uses it)."""
MODEL_NAME_PATTERN = "^" + MODEL_NAME_RULE + END
ALIAS_RULE = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
"""Registry aliases (``champion``); ``models:/<name>@<alias>`` URIs use the same rule."""
ALIAS_PATTERN = "^" + ALIAS_RULE + END
MODEL_URI_PATTERN = (rf"^models:/(?P<name>{MODEL_NAME_RULE})"
                     rf"(?:@(?P<alias>{ALIAS_RULE})|/(?P<version>[1-9][0-9]{{0,8}}))" + END)
"""``models:/<name>@<alias>`` or ``models:/<name>/<version>`` (the name becomes a folder of the model cache)."""
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}" + END
"""A model version label of a local model directory (``3``, ``dev-1``): it becomes part of file names."""
RELATIVE_PATH_PATTERN = r"^(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9_.=/{}-]{1,255}" + END
"""A path relative to the data root: no leading ``/``, no ``..`` segment, only ``[A-Za-z0-9_.=/{}-]``."""
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)

_DATE = re.compile(DATE_PATTERN)
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
_ALIAS = re.compile(ALIAS_PATTERN)
_RELATIVE_PATH = re.compile(RELATIVE_PATH_PATTERN)
_LABEL = re.compile(LABEL_PATTERN)


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: a 10,000-character value must not flood the log."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value) if isinstance(value, str) else '?'} chars)"


def parse_date(value: object, what: str) -> date:
    """``value`` (``YYYY-MM-DD`` or a ``date``) as a date within 2000..2100; ``what`` names the parameter."""
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError as e:
            raise ConfigError(f"{what}={value!r} is not a calendar date; give YYYY-MM-DD") from e
    else:
        raise ConfigError(f"{what}={shown(value)} is not a date of the form YYYY-MM-DD")
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise ConfigError(f"{what}={parsed} is outside {MIN_DATE}..{MAX_DATE}")
    return parsed


def optional_date(value: object, what: str) -> date | None:
    """Like :func:`parse_date`, but ``None`` and ``""`` mean "not given"."""
    return None if value in (None, "") else parse_date(value, what)


def check_model_name(value: object, what: str = "model_name") -> str:
    if not isinstance(value, str) or not _MODEL_NAME.fullmatch(value):
        raise ConfigError(f"{what}={shown(value)} is not a model name: a letter, then up to 99 letters, digits, _ . -")
    return value


def check_alias(value: object, what: str = "model_alias") -> str:
    if not isinstance(value, str) or not _ALIAS.fullmatch(value):
        raise ConfigError(f"{what}={shown(value)} is not an alias: a letter, then up to 63 letters, digits, _ - "
                          "(e.g. champion)")
    return value


def check_label(value: object, what: str = "model_version") -> str:
    """A version label of a local model (``3``, ``dev-1``): letters, digits, ``_ . -``, not starting with ``.``."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise ConfigError(f"{what}={shown(value)} is not a version label: a letter or digit, then up to 63 "
                          "letters, digits, _ . -")
    return value


def check_bool(value: object, what: str) -> bool:
    """A real boolean: ``"false"`` or ``"x; rm -rf /"`` from a REST conf is refused, not read as true."""
    if not isinstance(value, bool):
        raise ConfigError(f"{what}={shown(value)} must be true or false")
    return value


def check_int(value: object, what: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{what}={shown(value)} must be a whole number in {minimum}..{maximum}")
    return value


def check_number(value: object, what: str, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        raise ConfigError(f"{what}={shown(value)} must be a number in {minimum}..{maximum}")
    return float(value)


def check_choice(value: object, what: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{what}={shown(value)} must be one of {', '.join(choices)}")
    return str(value)


def inside_root(root: Path, relative: object, what: str) -> Path:
    """``root / relative``, refusing anything that would leave ``root``.

    ``relative`` must match :data:`RELATIVE_PATH_PATTERN` (no absolute path, no ``..``); the resolved path
    (symlinks followed) must still lie inside the resolved root.
    """
    if not isinstance(relative, str) or not _RELATIVE_PATH.fullmatch(relative):
        raise ConfigError(
            f"{what}={shown(relative)} must be a path relative to the data root {root} "
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
