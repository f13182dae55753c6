"""``python -m evaluation`` = ``jobtrail evaluate``."""

import sys

from evaluation.cli import main

sys.exit(main())
