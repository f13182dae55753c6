"""The ``main`` of a jobtrail command that is not a Spark job: parse, run, one JSON line; errors as exit code 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from jobtrail.errors import JobtrailError

Args = TypeVar("Args")


def command_main(name: str, parse_args: Callable[[list[str] | None], Args], run: Callable[[Args], dict[str, Any]],
                 argv: list[str] | None, *,
                 summary: Callable[[Args, dict[str, Any]], dict[str, Any]] | None = None) -> int:
    """``jobtrail <name> ARGV``: ``run(parse_args(argv))``, its result (or ``summary(args, result)``) printed as one
    JSON line, exit 0; a :class:`JobtrailError` becomes ``jobtrail <name>: error: ...`` on stderr, exit 2
    (argparse's own errors exit 2 too)."""
    args = parse_args(argv)
    try:
        result = run(args)
    except JobtrailError as e:
        print(f"jobtrail {name}: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result if summary is None else summary(args, result), default=str), flush=True)
    return 0
