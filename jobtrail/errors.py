"""The one small exception hierarchy of jobtrail.

Every error raised at a boundary says what is wrong and what to do about it.
"""


class JobtrailError(Exception):
    """Base class of every error jobtrail raises on purpose."""


class ConfigError(JobtrailError):
    """A setting, argument or environment variable is missing or invalid."""


class DataContractError(JobtrailError):
    """Input data does not match a declared contract (missing column, wrong type)."""


class SetupError(JobtrailError):
    """The environment is not set up (no Delta jars, a registry could not be reached)."""


class DatasetUnavailableError(JobtrailError):
    """A public dataset could not be fetched or read."""
