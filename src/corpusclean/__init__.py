"""corpusclean: turn messy text corpora into clean, validated Parquet datasets.

>>> from corpusclean import clean_text
>>> clean_text("Caf\\u00c3\\u00a9 au lait.  ")
'Café au lait.'
"""

from __future__ import annotations

__version__ = "0.1.0"

from corpusclean.config import (
    BoilerplateConfig,
    DecodeConfig,
    DedupConfig,
    ExtractConfig,
    LanguageConfig,
    OutputConfig,
    PipelineConfig,
    ReadConfig,
)
from corpusclean.errors import (
    ConfigError,
    CorpusCleanError,
    EngineError,
    InputError,
    SchemaError,
)
from corpusclean.pipeline import (
    Pipeline,
    Progress,
    RunReport,
    clean_document,
    clean_table,
    clean_text,
)
from corpusclean.records import Document, Reason, Rejected, Removal
from corpusclean.validate import validate_output

__all__ = [
    "BoilerplateConfig",
    "ConfigError",
    "CorpusCleanError",
    "DecodeConfig",
    "DedupConfig",
    "Document",
    "EngineError",
    "ExtractConfig",
    "InputError",
    "LanguageConfig",
    "OutputConfig",
    "Pipeline",
    "PipelineConfig",
    "Progress",
    "ReadConfig",
    "Reason",
    "Rejected",
    "Removal",
    "RunReport",
    "SchemaError",
    "__version__",
    "clean_document",
    "clean_table",
    "clean_text",
    "validate_output",
]
