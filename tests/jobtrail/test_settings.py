from __future__ import annotations

from pathlib import Path

import pytest

from jobtrail.errors import ConfigError
from jobtrail.settings import Settings


def test_defaults_and_environment():
    assert Settings.from_env({}).spark_master == "local[2]"
    s = Settings.from_env({"JOBTRAIL_SPARK_MASTER": "spark://h:7077", "JOBTRAIL_DATA_ROOT": "/srv/data",
                           "JOBTRAIL_CACHE_DIR": "/srv/cache", "JOBTRAIL_SPARK_SHUFFLE_PARTITIONS": "64"})
    assert (s.spark_master, s.data_root, s.shuffle_partitions) == ("spark://h:7077", Path("/srv/data"), 64)
    assert s.jars_dir == Path("/srv/cache/jars")


@pytest.mark.parametrize("raw", ["many", "0", "-3"])
def test_bad_numbers_are_refused(raw):
    with pytest.raises(ConfigError, match="JOBTRAIL_SPARK_SHUFFLE_PARTITIONS"):
        Settings.from_env({"JOBTRAIL_SPARK_SHUFFLE_PARTITIONS": raw})
