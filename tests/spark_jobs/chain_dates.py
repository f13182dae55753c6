"""The days of the small chain of tests/spark_jobs/conftest.py: events of START..END, validation targets from
VALID_FROM, the catalogue snapshot of END.

(A module of its own, not conftest.py: several test folders have a conftest.py, so ``from conftest import``
would depend on which one pytest loaded last.)
"""

from datetime import date

START, END, VALID_FROM = date(2026, 10, 1), date(2026, 10, 14), date(2026, 10, 11)
