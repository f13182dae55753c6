"""The pure sequence core: how a user's timeline becomes training windows, sequences and inference contexts.

numpy and pyarrow only — no Spark, TensorFlow or Airflow — so the Spark jobs (inside ``mapInArrow``), the
evaluation's in-process runs and the tests cut exactly the same rows:

- :mod:`~jobtrail.sequence_core.windows` — a timeline (:class:`UserTimeline`), the context before a target,
  one-target windows with their random negative (``WindowConfig``);
- :mod:`~jobtrail.sequence_core.chunks` — per-position training sequences (``SequenceConfig``): chunks, their
  targets and future windows, the validation split;
- :mod:`~jobtrail.sequence_core.arrow_io` — an Arrow batch of per-user rows → timelines, rows → an Arrow table.
"""
