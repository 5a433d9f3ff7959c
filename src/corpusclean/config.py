"""Run configuration: one frozen dataclass per stage section, loaded from TOML.

Every key has a default, so ``[language]\\nlanguages = ["en"]`` alone is a whole config. An
unknown section or key raises :class:`~corpusclean.errors.ConfigError` naming ``section.key``.
The defaults below are the documented defaults (see the README's configuration table).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from corpusclean.errors import ConfigError
from corpusclean.limits import PARSER_MAX_DEPTH
from corpusclean.minhash import MinHashParams

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "BoilerplateConfig",
    "DecodeConfig",
    "DedupConfig",
    "EngineConfig",
    "ExtractConfig",
    "LanguageConfig",
    "OutputConfig",
    "PipelineConfig",
    "ReadConfig",
]


@dataclass(frozen=True)
class ReadConfig:
    """``[read]``: how inputs are found and parsed."""

    #: JSONL field holding plain text.
    jsonl_text_field: str = "text"
    #: JSONL field holding HTML (used when the text field is absent or empty).
    jsonl_html_field: str = "html"
    #: JSONL field holding the record id (``source_id``); ``path:line`` when absent.
    jsonl_id_field: str = "id"
    #: Parquet column holding plain text.
    parquet_text_column: str = "text"
    #: Parquet column holding HTML.
    parquet_html_column: str = "html"
    #: Parquet column holding the record id.
    parquet_id_column: str = "id"
    #: WordPress post types kept (others are rejected ``not_content``).
    wordpress_post_types: tuple[str, ...] = ("post", "page")
    #: WordPress statuses kept (others are rejected ``not_published``).
    wordpress_statuses: tuple[str, ...] = ("publish",)
    #: Skip files and folders whose name starts with a dot when walking directories.
    skip_hidden: bool = True
    #: What a reader may hold at once: a file read whole (text, HTML, JSON, compressed Parquet)
    #: larger than this many bytes, before or after decompression, is one ``too_large`` row, and
    #: so is a longer JSONL line. JSONL, WXR and Parquet files are streamed: no size limit.
    max_record_bytes: int = 200_000_000
    #: A document (one file's text, one JSONL line, one post) larger than this many bytes is
    #: rejected ``too_large`` before any work on it: news articles are far below 1 MB.
    max_document_bytes: int = 10_000_000


@dataclass(frozen=True)
class DecodeConfig:
    """``[decode]``: bytes to text and character-level repair."""

    enabled: bool = True
    #: Run ftfy's mojibake repair (conservative: no quote uncurling, width or ligature folding).
    fix_mojibake: bool = True
    #: Decode literal ``\\uXXXX``/``\\n`` escapes when the document shows evidence of escaping.
    decode_literal_escapes: bool = True


@dataclass(frozen=True)
class ExtractConfig:
    """``[extract]``: HTML to main text with trafilatura."""

    enabled: bool = True
    include_tables: bool = True
    include_comments: bool = False
    #: trafilatura's ``favor_precision``: drop more borderline text.
    favor_precision: bool = False
    #: HTML larger than this many characters is rejected ``too_large``.
    max_markup_bytes: int = 5_000_000
    #: HTML nested deeper than this many levels (the root is level 1), or with more elements,
    #: is rejected ``too_complex``; at most ``PARSER_MAX_DEPTH`` (2,048), the HTML parser's own limit.
    max_nesting_depth: int = PARSER_MAX_DEPTH
    max_elements: int = 200_000
    #: Extraction of one document taking longer than this many seconds is rejected ``timeout``
    #: (0: no limit).
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_nesting_depth <= PARSER_MAX_DEPTH:
            raise ConfigError(
                f"extract.max_nesting_depth must be between 1 and {PARSER_MAX_DEPTH} (the HTML parser's own "
                f"limit), got {self.max_nesting_depth}"
            )
        if self.max_elements < 1:
            raise ConfigError(f"extract.max_elements must be at least 1, got {self.max_elements}")


@dataclass(frozen=True)
class BoilerplateConfig:
    """``[boilerplate]``: removal of lines and fragments that are not the article."""

    enabled: bool = True
    #: Rule packs shipped in ``corpusclean/rules/`` to load, by name.
    rule_packs: tuple[str, ...] = ("news",)
    #: Extra rule files (TOML, same format as the shipped packs) added after the packs.
    rule_files: tuple[str, ...] = ()
    #: Rule ids to switch off.
    disabled_rules: tuple[str, ...] = ()
    #: Remove lines that look like headlines of other articles placed between paragraphs
    #: (stages/headlines.py). Off: measured precision 0.94 at recall 0.32 on the labelled set,
    #: not high enough to remove text by default.
    related_headlines: bool = False
    #: Learn boilerplate from the corpus: short lines repeated in many documents of one source.
    learn: bool = True
    #: Only lines of at most this many characters can be learned.
    learn_max_chars: int = 120
    #: A line is boilerplate of its source when at least this many of the source's documents hold it …
    learn_min_documents: int = 5
    #: … and at least this share of them. Near-duplicates of a kept document do not count.
    learn_min_share: float = 0.1
    #: A document that would lose more than this share of its characters to boilerplate removal …
    max_removed_share: float = 0.6
    #: … is rejected ``boilerplate_only`` ("reject") or kept with nothing removed ("keep").
    on_excess: str = "reject"

    def __post_init__(self) -> None:
        if self.on_excess not in ("reject", "keep"):
            raise ConfigError(f"boilerplate.on_excess must be 'reject' or 'keep', got {self.on_excess!r}")
        if not 0.0 <= self.learn_min_share <= 1.0:
            raise ConfigError(f"boilerplate.learn_min_share must be between 0 and 1, got {self.learn_min_share}")
        if not 0.0 < self.max_removed_share <= 1.0:
            raise ConfigError(f"boilerplate.max_removed_share must be in (0, 1], got {self.max_removed_share}")


@dataclass(frozen=True)
class LanguageConfig:
    """``[language]``: language identification with langdetect."""

    enabled: bool = True
    #: ISO 639-1 codes to keep; empty keeps every language.
    languages: tuple[str, ...] = ()
    #: langdetect reads at most this many characters (from the start of the text). Measured on
    #: 510 documents of 5 kB in 51 languages: accuracy is 1.0 from 500 characters on; 1,000 keeps
    #: a margin at 2.8 ms per document against 9.2 ms for the whole text (bench/evals/language.py).
    sample_chars: int = 1000
    #: Fewer letters than this gives ``und``. Measured on lingua's 50,141 sentences: 20 turned
    #: 4% of right answers into ``und``, 5 still lost five (Korean, Thai, Marathi: a few letters
    #: of a script say enough), so only letterless text is ``und`` by default.
    min_letters: int = 1
    #: langdetect's random seed (it samples n-grams at random).
    seed: int = 0


@dataclass(frozen=True)
class DedupConfig:
    """``[dedup]``: duplicate detection."""

    enabled: bool = True
    #: Reject exact duplicates (same text after case, whitespace and punctuation folding).
    exact: bool = True
    #: Reject near-duplicate documents (MinHash LSH over word n-grams, then verification).
    near: bool = True
    #: Words per shingle. Chosen on the labelled near-duplicate set (bench/evals/neardup.py):
    #: 3-grams at threshold 0.4 give F1 0.995 with precision 1.0; word 5-grams at 0.8, the usual
    #: setting, find a quarter of the true pairs.
    ngram: int = 3
    #: MinHash permutations; LSH bands × rows per band (at most num_perm).
    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    #: Seed of the MinHash permutations (datasketch's default is 1).
    seed: int = 1
    #: Documents whose estimated Jaccard similarity reaches this are near-duplicates.
    threshold: float = 0.4
    #: LSH buckets larger than this pair each member with its first bucket_anchors members only.
    max_bucket_size: int = 64
    bucket_anchors: int = 8
    #: Find near-duplicate passages (paragraphs) across documents and write OUT/passages/.
    passages: bool = True
    #: Paragraphs with fewer words are not passages.
    passage_min_words: int = 20
    #: Passages whose estimated Jaccard similarity reaches this are repeats of each other.
    passage_threshold: float = 0.6
    #: Remove repeated passages from every document but the representative of each cluster.
    remove_repeated_passages: bool = False

    def __post_init__(self) -> None:
        for name in ("threshold", "passage_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"dedup.{name} must be between 0 and 1, got {getattr(self, name)}")
        try:
            self.minhash_params()
        except ValueError as exc:
            raise ConfigError(f"dedup: {exc}") from exc

    def minhash_params(self, passages: bool = False) -> MinHashParams:
        """The MinHash settings for documents (or for passages)."""
        return MinHashParams(
            ngram=self.ngram,
            num_perm=self.num_perm,
            bands=self.bands,
            rows=self.rows,
            seed=self.seed,
            threshold=self.passage_threshold if passages else self.threshold,
            max_bucket_size=self.max_bucket_size,
            bucket_anchors=self.bucket_anchors,
        )


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: what is written, and when a run gives up."""

    #: Documents with fewer words are rejected ``too_short``.
    min_words: int = 3
    #: Rows per Parquet part file.
    rows_per_file: int = 100_000
    #: Rows per Parquet row group.
    row_group_size: int = 10_000
    #: Parquet compression codec.
    compression: str = "zstd"
    #: The run fails (exit 1) when the share of ``stage_error`` rejections passes this.
    max_error_rate: float = 0.5
    #: Records per batch handed to the stages.
    batch_size: int = 256
    #: Write documents/ in hive-style partition directories by this column: "" (none),
    #: "language" (``documents/language=en/``) or "source" (``documents/source=<host>/``).
    partition_by: str = ""
    #: Where a run whose OUT is a URI (``s3://``, ``gs://`` …) builds its dataset before
    #: publishing it there (manifest.json last); "" is a directory under the system's temp
    #: directory named after OUT, so that ``--resume`` finds it again. With ``--engine ray`` on
    #: several machines, a path that every node sees.
    staging_dir: str = ""

    def __post_init__(self) -> None:
        if self.partition_by not in PARTITION_COLUMNS:
            choices = ", ".join(repr(c) for c in PARTITION_COLUMNS)
            raise ConfigError(f"output.partition_by must be one of {choices}, got {self.partition_by!r}")


#: The values ``output.partition_by`` accepts ("" writes documents/ unpartitioned).
PARTITION_COLUMNS = ("", "language", "source")
#: The values ``engine.name`` accepts.
ENGINES = ("local", "ray")
#: The values of ``engine.memory_pool`` (see :mod:`corpusclean.engines.memory`).
MEMORY_POOLS = ("auto", "jemalloc", "mimalloc", "system", "default")


@dataclass(frozen=True)
class EngineConfig:
    """``[engine]``: what runs the passes. Both engines give the same rows."""

    #: "local" (worker processes on this machine) or "ray" (Ray Data; ``pip install 'corpusclean[ray]'``).
    name: str = "local"
    #: The Ray cluster to join: "" starts a local Ray instance, "auto" joins the running cluster,
    #: or an address such as "ray://head:10001".
    ray_address: str = ""
    #: The Arrow memory pool of the run and its workers: "auto" (jemalloc, which returns freed
    #: memory to the system, unless ARROW_DEFAULT_MEMORY_POOL is set), "jemalloc", "mimalloc",
    #: "system", or "default" (pyarrow's own choice).
    memory_pool: str = "auto"

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ConfigError(f"engine.name must be one of {', '.join(map(repr, ENGINES))}, got {self.name!r}")
        if self.memory_pool not in MEMORY_POOLS:
            raise ConfigError(
                f"engine.memory_pool must be one of {', '.join(map(repr, MEMORY_POOLS))}, got {self.memory_pool!r}"
            )


_SECTIONS: dict[str, type] = {
    "read": ReadConfig,
    "decode": DecodeConfig,
    "extract": ExtractConfig,
    "boilerplate": BoilerplateConfig,
    "language": LanguageConfig,
    "dedup": DedupConfig,
    "output": OutputConfig,
    "engine": EngineConfig,
}


@dataclass(frozen=True)
class PipelineConfig:
    """The whole, immutable configuration of a run.

    >>> PipelineConfig().language.languages
    ()
    >>> PipelineConfig.from_dict({"language": {"languages": ["en"]}}).language.languages
    ('en',)
    """

    read: ReadConfig = field(default_factory=ReadConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)

    @classmethod
    def from_toml(cls, path: str | Path) -> PipelineConfig:
        """Load a config file; a missing or malformed file raises :class:`ConfigError`."""
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML in {path}: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        """Build a config from nested dicts (``{"section": {"key": value}}``)."""
        if not isinstance(data, dict):
            raise ConfigError("config must be a table of sections")
        sections: dict[str, Any] = {}
        for section_name, values in data.items():
            section_type = _SECTIONS.get(section_name)
            if section_type is None:
                known = ", ".join(_SECTIONS)
                raise ConfigError(f"unknown config section [{section_name}] (known: {known})")
            if not isinstance(values, dict):
                raise ConfigError(f"[{section_name}] must be a table")
            sections[section_name] = _build_section(section_name, section_type, values)
        return cls(**sections)

    def replace(self, **sections: Any) -> PipelineConfig:
        """A copy with whole sections replaced, or keys changed: ``replace(language={"languages": ("en",)})``."""
        changes: dict[str, Any] = {}
        for name, value in sections.items():
            if name not in _SECTIONS:
                raise ConfigError(f"unknown config section [{name}]")
            if isinstance(value, dict):
                current = dataclasses.asdict(getattr(self, name))
                current.update(value)
                value = _build_section(name, _SECTIONS[name], current)
            changes[name] = value
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain JSON-able form (tuples become lists), as written to the manifest."""
        out: dict[str, dict[str, Any]] = {}
        for name in _SECTIONS:
            section = dataclasses.asdict(getattr(self, name))
            out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in section.items()}
        return out


def _build_section(section_name: str, section_type: type, values: dict[str, Any]) -> Any:
    hints = get_type_hints(section_type)
    known = {f.name for f in fields(section_type)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown config key {section_name}.{key}")
        kwargs[key] = _coerce(f"{section_name}.{key}", hints[key], value)
    return section_type(**kwargs)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """Check a TOML value against the field's declared type (TOML arrays become tuples)."""
    origin = getattr(hint, "__origin__", None)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of strings, got {value!r}")
        return tuple(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        if value < 0:
            raise ConfigError(f"{name} must not be negative, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, got {value!r}")
        return value
    raise ConfigError(f"{name}: unsupported type {hint!r}")  # pragma: no cover
