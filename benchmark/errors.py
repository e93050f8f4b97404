"""The project's documented error types.

Every user-facing failure raises one of these (never a bare ``KeyError`` or a pydicom/pandas
exception), so callers, the CLI and the fuzz tests can rely on one family. Each message names the
file / key / value at fault and says how to fix it.

Example:
    >>> try:
    ...     raise ConfigError("task.yaml: unknown key 'seeds_'; valid keys: seeds, metrics")
    ... except MammoBenchError as err:
    ...     print(type(err).__name__)
    ConfigError
"""
from __future__ import annotations


class MammoBenchError(Exception):
    """Base class of every error MammoBench raises on purpose."""

    exit_code = 2


class ConfigError(MammoBenchError, ValueError):
    """A task, suite, checklist, answers or card YAML is malformed or names something unknown."""


class DataError(MammoBenchError, ValueError):
    """A dataset, manifest CSV or column is missing, malformed or inconsistent."""


class DicomError(DataError):
    """A DICOM file cannot be read or decoded; the message names the file and the reason."""


class SchemaError(MammoBenchError, ValueError):
    """A result file, bundle or export does not match its schema."""


class RegistryError(MammoBenchError, KeyError):
    """An unknown or duplicate plug-in name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class LeakageError(MammoBenchError):
    """A generator saw, or claims to have seen, validation/test patients."""


class IntegrityError(MammoBenchError):
    """A run folder or bundle fails hash or signature verification."""


class RunLockedError(MammoBenchError):
    """Another process holds the lock on this run folder."""


class StatisticsError(MammoBenchError, ValueError):
    """A statistic is undefined for the data given (e.g. AUC of a single-class group)."""
