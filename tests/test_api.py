"""The public API: an explicit, tested __all__ and the exception tree of DESIGN.md."""

from __future__ import annotations

import corpusclean
from corpusclean import errors

EXPECTED_ALL = {
    "__version__",
    "clean_text",
    "clean_document",
    "clean_table",
    "Pipeline",
    "PipelineConfig",
    "ReadConfig",
    "DecodeConfig",
    "ExtractConfig",
    "BoilerplateConfig",
    "LanguageConfig",
    "DedupConfig",
    "OutputConfig",
    "RunReport",
    "Progress",
    "Document",
    "Rejected",
    "Removal",
    "Reason",
    "validate_output",
    "CorpusCleanError",
    "ConfigError",
    "InputError",
    "SchemaError",
    "EngineError",
}


def test_all_is_explicit_and_complete():
    assert set(corpusclean.__all__) == EXPECTED_ALL
    assert len(corpusclean.__all__) == len(EXPECTED_ALL)
    for name in corpusclean.__all__:
        assert hasattr(corpusclean, name), name


def test_exception_tree():
    for cls in (errors.ConfigError, errors.InputError, errors.SchemaError, errors.EngineError):
        assert issubclass(cls, errors.CorpusCleanError)
    assert issubclass(errors.CorpusCleanError, Exception)
    assert not issubclass(errors.InputError, errors.ConfigError)


def test_version_matches_package_metadata():
    from importlib.metadata import version

    assert corpusclean.__version__ == version("corpusclean")
