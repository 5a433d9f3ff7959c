"""The exception tree of corpusclean.

Everything the library raises on purpose derives from :class:`CorpusCleanError`, so a
caller can catch the whole family in one ``except``. A bad *record* never raises out of a
run: it becomes a rejected row. These exceptions are for problems with the run itself.

    CorpusCleanError
    ├── ConfigError   an unknown section or key, a bad value, an unreadable config file
    ├── InputError    an INPUT path that does not exist, an OUT that may not be written
    ├── SchemaError   output that does not match the declared schema (``validate``)
    └── EngineError   the run could not complete (too many stage errors, a worker died)
"""

from __future__ import annotations

__all__ = ["ConfigError", "CorpusCleanError", "EngineError", "InputError", "SchemaError"]


class CorpusCleanError(Exception):
    """Base class of every error corpusclean raises on purpose."""


class ConfigError(CorpusCleanError, ValueError):
    """The configuration is invalid: names the offending ``section.key`` where there is one."""


class InputError(CorpusCleanError):
    """An input or output path cannot be used (missing INPUT, non-empty OUT, …)."""


class SchemaError(CorpusCleanError):
    """Data does not match the declared schema."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])


class EngineError(CorpusCleanError):
    """The run stopped: too many stage errors, or an engine failure."""
