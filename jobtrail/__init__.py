"""jobtrail: job-seekers' activity histories to daily user embeddings.

The ``jobtrail`` package is the thin shell: CLI, configuration, data contracts, synthetic and
public data. It never imports pyspark or TensorFlow at module level.
"""

__version__ = "0.1.0"
