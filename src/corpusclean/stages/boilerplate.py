"""Boilerplate: remove lines and inline fragments that are not the article, with provenance.

Rules are data (TOML packs under ``corpusclean/rules/``, plus the user's own files); every
removal is kept in ``removed`` as (rule id, text, 1-based line number in the text before
removal), so nothing leaves a document without a record of why.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import regex

from corpusclean.config import BoilerplateConfig
from corpusclean.errors import ConfigError
from corpusclean.records import Reason, Record, Rejected, Removal, StageResult, map_records
from corpusclean.stages.decode import normalize_whitespace
from corpusclean.stages.headlines import related_headline_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BoilerplateStage", "Rule", "load_rules", "remove_boilerplate"]

_RULE_KEYS = {"id", "scope", "pattern", "description", "max_chars", "case_sensitive", "contains", "ends_with"}


@dataclass(frozen=True)
class Rule:
    """One boilerplate rule: a compiled pattern applied to whole lines or inside lines."""

    id: str
    scope: str
    pattern: regex.Pattern[str]
    description: str = ""
    max_chars: int = 200
    #: Lower-case strings of which a line must contain one for the pattern to be tried at all
    #: (a cheap pre-check: patterns that start with wildcards are slow on every line).
    contains: tuple[str, ...] = ()
    #: Lower-case strings of which the line must end with one, once lower-cased, with runs of
    #: whitespace made one space and the trailing whitespace and one final period removed: for
    #: patterns anchored at the end of the line, which are otherwise tried at every position.
    ends_with: tuple[str, ...] = ()

    def may_occur_in(self, lowered_text: str) -> bool:
        """Whether a line of ``lowered_text`` (a whole document, lower-cased) can hold a hint."""
        return not self.contains or any(hint in lowered_text for hint in self.contains)

    def may_match(self, lowered_line: str) -> bool:
        if self.contains and not any(hint in lowered_line for hint in self.contains):
            return False
        if self.ends_with:
            tail = " ".join(lowered_line.split())
            return tail.removesuffix(".").rstrip().endswith(self.ends_with)
        return True


def _parse_rules(data: dict[str, Any], origin: str) -> list[Rule]:
    rules = []
    for index, raw in enumerate(data.get("rule", [])):
        where = f"{origin} rule #{index + 1}"
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            raise ConfigError(f"{where}: missing id")
        scope = raw.get("scope", "line")
        if scope not in ("line", "inline"):
            raise ConfigError(f"{where} ({raw['id']}): scope must be 'line' or 'inline'")
        flags = regex.V0 if raw.get("case_sensitive") else regex.IGNORECASE
        try:
            pattern = regex.compile(raw["pattern"], flags)
        except (regex.error, KeyError, TypeError) as exc:
            raise ConfigError(f"{where} ({raw['id']}): invalid pattern: {exc}") from exc
        rules.append(
            Rule(
                id=raw["id"],
                scope=scope,
                pattern=pattern,
                description=raw.get("description", ""),
                max_chars=int(raw.get("max_chars", 200)),
                contains=tuple(str(hint).lower() for hint in raw.get("contains", ())),
                ends_with=tuple(" ".join(str(end).lower().split()) for end in raw.get("ends_with", ())),
            )
        )
    return rules


def load_rules(config: BoilerplateConfig) -> tuple[Rule, ...]:
    """The rules of the configured packs and files, minus the disabled ones. Later rules
    with the same id replace earlier ones, so a user file can override a shipped rule."""
    by_id: dict[str, Rule] = {}
    for pack in config.rule_packs:
        try:
            text = resources.files("corpusclean.rules").joinpath(f"{pack}.toml").read_text("utf-8")
        except FileNotFoundError as exc:
            raise ConfigError(f"boilerplate.rule_packs: no rule pack named {pack!r}") from exc
        for rule in _parse_rules(tomllib.loads(text), f"rule pack {pack!r}"):
            by_id[rule.id] = rule
    for path in config.rule_files:
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"boilerplate.rule_files: cannot read {path}: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"boilerplate.rule_files: invalid TOML in {path}: {exc}") from exc
        for rule in _parse_rules(data, str(path)):
            by_id[rule.id] = rule
    unknown = set(config.disabled_rules) - set(by_id)
    if unknown:
        raise ConfigError(f"boilerplate.disabled_rules: unknown rule id(s) {', '.join(sorted(unknown))}")
    return tuple(rule for rule_id, rule in by_id.items() if rule_id not in config.disabled_rules)


def remove_boilerplate(text: str, rules: Sequence[Rule]) -> tuple[str, tuple[Removal, ...]]:
    """Apply ``rules`` to ``text``; returns the text left and what was removed.

    >>> rules = load_rules(BoilerplateConfig())
    >>> remove_boilerplate("Story.\\nAlso read: Other story\\nMore [Photo/Xinhua]", rules)[0]
    'Story.\\nMore'
    """
    line_rules = [r for r in rules if r.scope == "line"]
    inline_rules = [r for r in rules if r.scope == "inline"]
    # the rules whose hints the document holds somewhere: no other rule can match one of its
    # lines as it is (a line that an inline rule shortened, which could join two pieces into a
    # hint, is tried with every rule after that)
    lowered_text = text.lower()
    document_line_rules = [r for r in line_rules if r.may_occur_in(lowered_text)]
    in_document = [r.may_occur_in(lowered_text) for r in inline_rules]
    removed: list[Removal] = []
    kept: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            kept.append(line)
            continue
        # inline fragments first, so that a line left holding only boilerplate is then
        # removed by a line rule in the same pass (one pass is enough: idempotent)
        lowered = line.lower()
        shortened = False  # by an inline rule: from then on every rule is tried
        for inline, hinted in zip(inline_rules, in_document, strict=True):
            if not (hinted or shortened) or not inline.may_match(lowered):
                continue
            matches = [match.group(0).strip() for match in inline.pattern.finditer(line)]
            if not matches:
                continue
            removed.extend(Removal(inline.id, match, number) for match in matches if match)
            line = inline.pattern.sub("", line)
            lowered = line.lower()
            shortened = True
        stripped = line.strip()
        rule = next(
            (
                r
                for r in (line_rules if shortened else document_line_rules)
                if len(stripped) <= r.max_chars and r.may_match(lowered) and r.pattern.fullmatch(stripped)
            ),
            None,
        )
        if rule is not None:
            removed.append(Removal(rule.id, stripped, number))
        elif stripped:
            kept.append(line)
    if not removed:
        return text, ()
    return normalize_whitespace("\n".join(kept))[0], tuple(removed)


#: ``removed.rule`` of lines learned from the corpus.
LEARNED_RULE = "learned.repeated_line"
#: The fix recorded when removal would have taken too much and ``on_excess = "keep"``.
LIMIT_FIX = "boilerplate_not_removed"

_DIGITS = regex.compile(r"\d+")
_WHITESPACE = regex.compile(r"\s+")
_LETTER = regex.compile(r"\p{L}")


def line_key(line: str) -> int:
    """The key under which a line is counted across documents: case, spacing and numbers folded
    (so "© 2023 Example" and "© 2024 Example" are one line), 64-bit BLAKE2b as a signed integer.

    >>> line_key("© 2023  Example Daily") == line_key("© 2024 example daily")
    True
    """
    normalized = _DIGITS.sub("0", _WHITESPACE.sub(" ", line.strip().casefold()))
    digest = hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def short_line_keys(text: str, max_chars: int) -> list[int]:
    r"""The distinct keys of the lines of ``text`` that could be learned: at most ``max_chars``
    characters and at least one letter.

    >>> len(short_line_keys("Footer line\nFooter line\n12:00\n" + "x" * 300, 120))
    1
    """
    keys = {line_key(line) for line in text.split("\n") if 0 < len(line.strip()) <= max_chars and _LETTER.search(line)}
    return sorted(keys)


def remove_learned_lines(text: str, keys: frozenset[int], max_chars: int) -> tuple[str, tuple[Removal, ...]]:
    r"""Remove the lines whose key is in ``keys``; line numbers are those of ``text``.

    >>> remove_learned_lines("Body.\nTips? Write to us.", frozenset({line_key("tips? write to us.")}), 120)
    ('Body.', (Removal(rule='learned.repeated_line', text='Tips? Write to us.', line=2),))
    """
    kept: list[str] = []
    removed: list[Removal] = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if 0 < len(stripped) <= max_chars and line_key(line) in keys:
            removed.append(Removal(LEARNED_RULE, stripped, number))
        else:
            kept.append(line)
    if not removed:
        return text, ()
    return normalize_whitespace("\n".join(kept))[0], tuple(removed)


def removed_share(before: str, after: str) -> float:
    """The share of ``before``'s non-space characters that ``after`` no longer has.

    >>> removed_share("aaaa bbbb", "aaaa")
    0.5
    """
    total = len(_WHITESPACE.sub("", before))
    return 1.0 - len(_WHITESPACE.sub("", after)) / total if total else 0.0


def learn_repeated_lines(
    lines: pa.Table, documents_per_source: dict[str, int], config: BoilerplateConfig
) -> dict[str, frozenset[int]]:
    """The learned boilerplate of each source, from a table of (``source``, ``key``) rows, one
    per distinct short line of each counted document (duplicates already left out):
    lines held by at least ``learn_min_documents`` documents and ``learn_min_share`` of the
    source's documents.
    """
    if lines.num_rows == 0:
        return {}
    counts = lines.group_by(["source", "key"]).aggregate([([], "count_all")])
    counts = counts.filter(pc.greater_equal(counts["count_all"], config.learn_min_documents))
    learned: dict[str, set[int]] = {}
    for source, key, count in zip(
        counts["source"].to_pylist(), counts["key"].to_pylist(), counts["count_all"].to_pylist(), strict=True
    ):
        if count >= config.learn_min_share * documents_per_source.get(source, 0):
            learned.setdefault(source, set()).add(key)
    return {source: frozenset(keys) for source, keys in learned.items()}


def limit_removal(
    record: Record, text: str, removed: tuple[Removal, ...], config: BoilerplateConfig, stage: str
) -> Record | Rejected:
    """Apply a removal to ``record`` unless it takes more than ``max_removed_share`` of the
    text (or all of it): then reject ``boilerplate_only``, or keep the record unchanged with the
    fix ``boilerplate_not_removed``, as ``on_excess`` says."""
    share = removed_share(record.text or "", text)
    if text.strip() and share <= config.max_removed_share:
        return dataclasses.replace(record, text=text, removed=record.removed + removed)
    detail = f"boilerplate removal would take {share:.0%} of the text ({len(removed)} lines or fragments)"
    if config.on_excess == "keep" and (record.text or "").strip():
        return dataclasses.replace(record, fixes=record.with_fixes([LIMIT_FIX]))
    return dataclasses.replace(record, removed=record.removed + removed).reject(stage, Reason.BOILERPLATE_ONLY, detail)


class BoilerplateStage:
    """Rule-based removal of boilerplate lines and fragments (learned lines are removed after
    the global step, see :func:`remove_learned_lines`)."""

    name = "boilerplate"

    def __init__(self, config: BoilerplateConfig) -> None:
        self.config = config
        self.rules = load_rules(config)

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def process(self, record: Record) -> Record | Rejected:
        if not self.config.enabled or not record.text:
            return record
        text, removed = remove_boilerplate(record.text, self.rules)
        if self.config.related_headlines:
            text, headlines = remove_related_headlines(text)
            removed += headlines
        if not removed:
            return record
        return limit_removal(record, text, removed, self.config, self.name)


#: ``removed.rule`` of a line judged to be the headline of another article.
HEADLINE_RULE = "headlines.related_headline"


def remove_related_headlines(text: str) -> tuple[str, tuple[Removal, ...]]:
    """Remove the lines :func:`related_headline_lines` finds; line numbers are those of ``text``."""
    numbered = [(number, line.strip()) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    found = set(related_headline_lines([line for _, line in numbered]))
    if not found:
        return text, ()
    drop = {numbered[i][0] for i in found}
    removed = tuple(Removal(HEADLINE_RULE, numbered[i][1], numbered[i][0]) for i in sorted(found))
    kept = [line for number, line in enumerate(text.split("\n"), start=1) if number not in drop]
    return normalize_whitespace("\n".join(kept))[0], removed
