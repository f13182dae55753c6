"""What each DAG run does, as data: validated parameters → dates, paths and the exact argument lists of every job.

Pure functions, no Airflow: the DAG tasks call them with the run's params and dates, the tests call them
directly and feed the argument lists to each job's own ``parse_args``. Every list is what a data engineer
would type after ``spark-submit spark_jobs/<job>.py`` (or ``jobtrail``); paths are absolute, inside the data
root, and ``--data-root`` is always explicit so a job never depends on the environment of a remote driver.

One module per DAG — :mod:`~orchestration.plans.daily`, :mod:`~orchestration.plans.training`,
:mod:`~orchestration.plans.history` — over what their forms share (:mod:`~orchestration.plans.form`) and where
each takes job attributes from (:mod:`~orchestration.plans.catalog`: catalogue snapshots on the contract, an export
in its own layout read through a catalogue mapping, or none at all).
"""

from orchestration.plans.catalog import CatalogSource, catalog_source
from orchestration.plans.daily import DAILY_PARAMS, DailyPlan, daily_plan, run_day
from orchestration.plans.form import CATALOG_PARAMS, DEFAULT_ALIAS, DEFAULT_MODEL_NAME, INPUT_FORMATS, check_known
from orchestration.plans.history import HISTORY_PARAMS, MAX_HISTORY_DAYS, HistoryPlan, history_plan
from orchestration.plans.training import TRAINING_DAYS, TRAINING_PARAMS, VALIDATION_DAYS, TrainingPlan, training_plan

__all__ = [
    "CATALOG_PARAMS", "DAILY_PARAMS", "DEFAULT_ALIAS", "DEFAULT_MODEL_NAME", "HISTORY_PARAMS", "INPUT_FORMATS",
    "MAX_HISTORY_DAYS", "TRAINING_DAYS", "TRAINING_PARAMS", "VALIDATION_DAYS", "CatalogSource", "DailyPlan",
    "HistoryPlan", "TrainingPlan", "catalog_source", "check_known", "daily_plan", "history_plan", "run_day",
    "training_plan",
]
