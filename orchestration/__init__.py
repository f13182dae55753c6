"""Orchestration, the top floor under ``dags/``: what the DAGs build, the ``jobtrail`` command, the demo.

Kept out of the DAG files so they stay thin; it may import every floor below it (the evaluation, the jobs,
the ground floor ``jobtrail/``), and nothing below imports it (``tests/test_import_rules.py``).

- :mod:`~orchestration.cli` — the ``jobtrail`` command: one subcommand per job, evaluate, train, promote;
- :mod:`~orchestration.demo` / :mod:`~orchestration.onboarding` — ``make demo`` / ``make onboarding`` (from the
  disguised export of :mod:`~orchestration.portal_export`);
- :mod:`~orchestration.params` — the typed trigger-form ``Param``\\ s of both DAGs;
- :mod:`~orchestration.plans` — pure functions from a run's parameters to the exact argument
  lists of every job (one module per DAG) (the same arguments a data engineer passes to ``spark-submit``), checked with the
  rule book :mod:`jobtrail.rules` (messages that say what to fix);
- :mod:`~orchestration.daily`, :mod:`~orchestration.training` — bodies of the tasks that
  are not Spark jobs (plan, resolve the model, publish; read results, promote, report);
- :mod:`~orchestration.spark` — the ``SparkSubmitOperator`` factory (the ``spark_default`` connection, the
  provider's public arguments only);
- :mod:`~orchestration.launchers` / :mod:`~orchestration.config` — the training launcher
  chosen by configuration (``local`` process, ``kubernetes`` pod with ``nvidia.com/gpu``, ``docker``
  container with GPU device requests);
- :mod:`~orchestration.runtime` — running a ``jobtrail`` command from a task, failure messages;
- :mod:`~orchestration.assets` — the feature table's Airflow Asset;
- :mod:`~orchestration.embedded` / :mod:`~orchestration.standalone` — the embedded
  Airflow (SQLite) of ``make demo``, ``make airflow`` and the tests.

The DAGs' modules import no Spark, TensorFlow, MLflow or pyarrow at module level; Airflow providers are imported
inside the factory functions, when an operator is built.
"""
