"""Orchestration: what the Airflow DAGs in ``dags/`` build, kept out of the DAG files so they stay thin.

- :mod:`~jobtrail.rules` — every value a DAG run accepts (dates, model names, paths
  that must stay inside the data root), checked again at run time with messages that say what to fix;
- :mod:`~jobtrail.orchestration.params` — the typed trigger-form ``Param``\\ s of both DAGs;
- :mod:`~jobtrail.orchestration.plans` — pure functions from a run's parameters to the exact argument
  lists of every job (the same arguments a data engineer passes to ``spark-submit``);
- :mod:`~jobtrail.orchestration.daily`, :mod:`~jobtrail.orchestration.training` — bodies of the tasks that
  are not Spark jobs (plan, resolve the model, publish; read results, promote, report);
- :mod:`~jobtrail.orchestration.spark` / :mod:`~jobtrail.orchestration.operators` — the
  ``SparkSubmitOperator`` factory (``spark_default`` connection, ``local[2]`` by default);
- :mod:`~jobtrail.orchestration.launchers` / :mod:`~jobtrail.orchestration.config` — the training launcher
  chosen by configuration (``local`` process, ``kubernetes`` pod with ``nvidia.com/gpu``, ``docker``
  container with GPU device requests);
- :mod:`~jobtrail.orchestration.runtime` — running a ``jobtrail`` command from a task, failure messages;
- :mod:`~jobtrail.orchestration.assets` — the feature table's Airflow Asset;
- :mod:`~jobtrail.orchestration.embedded` / :mod:`~jobtrail.orchestration.standalone` — the embedded
  Airflow (SQLite) of ``make demo``, ``make airflow`` and the tests.

Nothing here imports Spark, TensorFlow or MLflow at module level; Airflow providers are imported inside
the factory functions (and by :mod:`~jobtrail.orchestration.operators`, imported only when an operator is built).
"""
