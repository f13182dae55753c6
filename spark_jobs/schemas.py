"""Spark types derived from the Arrow contracts in :mod:`jobtrail.contracts` (declared once there)."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType


def spark_schema(schema: pa.Schema) -> StructType:
    """The Spark ``StructType`` of an Arrow contract schema (timestamps with a zone → TimestampType)."""
    return from_arrow_schema(schema)
