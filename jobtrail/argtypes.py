"""argparse types of every jobtrail command line: the rules of :mod:`jobtrail.rules`, at the CLI.

A value that breaks a rule makes argparse exit with status 2 and ``argument --name: <what is wrong>``, so the
message always names the argument. Used by ``spark_jobs/*.py``, ``jobtrail train|promote|evaluate`` and
``jobtrail generate``:

    parser.add_argument("--as-of", type=iso_date, required=True)
    parser.add_argument("--window", type=int_range(8, 256), default=32)
    parser.add_argument("--model-name", type=model_name)
    parser.add_argument("--out", type=cli_path)

Paths on a command line belong to the person running it and may be anywhere (an export folder, ``/tmp``),
so :func:`cli_path` only refuses what no path can hold (NUL, control characters, more than 4096 characters);
paths that come from a DAG's trigger form are relative to the data root and checked by
:func:`jobtrail.rules.inside_root` before they reach a command line.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from pathlib import Path

from jobtrail import rules
from jobtrail.errors import ConfigError

CLI_MIN_DATE = date(1970, 1, 1)
"""Earliest date a command line accepts: the public benchmark datasets (MovieLens, Amazon) reach back to the
1990s. A DAG run's dates stay within ``rules.MIN_DATE``..``MAX_DATE``."""
MAX_PATH_CHARS = 4096
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.~:+/@=-]{0,299}")
"""Run ids recorded in Delta commits: ``<dag id>/<Airflow run id>`` (Airflow allows ``[A-Za-z0-9_.~:+-]``, up to
250 characters) and hand-made ones (``backfill-1``); no spaces, quotes or shell characters."""
TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127})?")
MODEL_URI = re.compile(rules.MODEL_URI_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE = re.compile(rules.DATE_PATTERN)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 80 else f"{text[:80]!r}... ({len(text)} characters)"


def _checked(rule: Callable[[object, str], object], what: str) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return rule(text, what)
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e).removeprefix(f"{what}=")) from e

    parse.__name__ = what
    return parse


def iso_date(text: str) -> date:
    """``YYYY-MM-DD`` exactly (not ``20261031``, not ``2026-W44``), a calendar date within 1970..2100."""
    if not _DATE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a date of the form YYYY-MM-DD")
    try:
        value = date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a calendar date (YYYY-MM-DD)") from e
    if not CLI_MIN_DATE <= value <= rules.MAX_DATE:
        raise argparse.ArgumentTypeError(f"{text} is outside {CLI_MIN_DATE}..{rules.MAX_DATE}")
    return value


def iso_datetime(text: str) -> datetime:
    """An ISO date or date-time as an aware UTC datetime (naive = UTC), e.g. ``2026-10-31T00:00:00Z``."""
    if len(text) > 64 or _CONTROL.search(text):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not an ISO date-time")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or date-time, e.g. 2026-10-01T00:00:00Z") from e
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def int_range(minimum: int, maximum: int) -> Callable[[str], int]:
    """A whole number within ``minimum..maximum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not a whole number") from e
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{value} is outside {minimum}..{maximum}")
        return value

    parse.__name__ = f"int_range({minimum}, {maximum})"
    return parse


positive_int = int_range(1, 2**31 - 1)
"""A whole number from 1 to 2**31 - 1."""
seed = int_range(0, 2**31 - 1)


def number(minimum: float, maximum: float, *, above: bool = False) -> Callable[[str], float]:
    """A finite number within ``minimum..maximum`` (``above``: strictly greater than ``minimum``); no nan/inf."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not a number") from e
        low_ok = value > minimum if above else value >= minimum
        if not math.isfinite(value) or not low_ok or value > maximum:
            low = f"({minimum}" if above else f"[{minimum}"
            raise argparse.ArgumentTypeError(f"{text} is outside {low}, {maximum}]")
        return value

    parse.__name__ = "number"
    return parse


model_name = _checked(rules.check_model_name, "model name")
"""A registered model name (``rules.MODEL_NAME_PATTERN``)."""
alias = _checked(rules.check_alias, "alias")
version_label = _checked(rules.check_label, "version label")
"""A model version label (``3``, ``dev-1``): it becomes part of file names, so no ``/`` and no leading ``.``."""


def version_number(text: str) -> str:
    """A registry version: 1..999999999, ASCII digits (``"²"`` is a digit to ``str.isdigit``, not here)."""
    if not re.fullmatch(r"[1-9][0-9]{0,8}", text):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a version number (1, 2, ...)")
    return text


def run_id(text: str) -> str:
    if not RUN_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a run id: a letter or digit, then up to 299 of "
                                         "letters, digits and _ . ~ : + / @ = -")
    return text


def table_name(text: str) -> str:
    """A Spark catalogue name, ``table`` or ``database.table``: it is written into SQL statements."""
    if not TABLE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not <table> or <database>.<table> "
                                         "(letters, digits, _; not starting with a digit)")
    return text


def location(text: str) -> str:
    """A path or URI anywhere (the caller's own data): refuses only what no path holds — NUL and other control
    characters, nothing at all, more than 4096 characters."""
    if not text or len(text) > MAX_PATH_CHARS or _CONTROL.search(text):
        what = "empty" if not text else ("longer than 4096 characters" if len(text) > MAX_PATH_CHARS
                                         else "holds a control character (NUL, newline, ...)")
        raise argparse.ArgumentTypeError(f"{_shown(text)} is not a path: {what}")
    return text


def cli_path(text: str) -> Path:
    """:func:`location` as a :class:`~pathlib.Path`."""
    return Path(location(text))


def sql_path(text: str) -> Path:
    """A table location that is also written into SQL (``delta.`<path>```, ``LOCATION '<path>'``): no quotes."""
    path = location(text)
    if any(c in path for c in "`'\"\\;"):
        raise argparse.ArgumentTypeError(f"{_shown(text)}: a table location may not hold ` ' \" \\ or ;")
    return Path(path)


def model_ref(text: str) -> str:
    """``models:/<name>@<alias>``, ``models:/<name>/<version>`` (both checked) or a local model directory."""
    if text.startswith("models:"):
        if not MODEL_URI.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{_shown(text)} is not models:/<name>@<alias> or models:/<name>/<version>"
                                             " (name: a letter, then letters, digits, _ . -; alias: e.g. champion)")
        return text
    return location(text)


MAX_TARGET_GAP_S = 365 * 86_400
"""Largest ``--target-gap`` in seconds (a year)."""


def _target_gap_rule(text: str, what: str) -> str | int:
    if text == "midnight":
        return text
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) > MAX_TARGET_GAP_S:
        raise ConfigError(f"{what}={_shown(text)} is neither 'midnight' nor whole seconds within 0..{MAX_TARGET_GAP_S}")
    return int(text)


target_gap = _checked(_target_gap_rule, "target gap")
"""``midnight`` or whole seconds within 0..a year: where the future window of a training position starts."""


def names(choices: Iterable[str], *, what: str = "name") -> Callable[[str], tuple[str, ...]]:
    """Comma-separated names, each one of ``choices`` (``apply,save``)."""
    allowed = tuple(choices)

    def parse(text: str) -> tuple[str, ...]:
        values = tuple(v.strip() for v in text.split(",") if v.strip())
        unknown = [v for v in values if v not in allowed]
        if unknown or len(text) > 1000:
            raise argparse.ArgumentTypeError(f"{_shown(text)}: unknown {what}(s) {_shown(','.join(unknown))}; "
                                             f"choose among {', '.join(allowed)}")
        return values

    parse.__name__ = f"{what} list"
    return parse
