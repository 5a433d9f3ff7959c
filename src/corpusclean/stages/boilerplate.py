"""Boilerplate: remove lines and inline fragments that are not the article, with provenance.

Rules are data (TOML packs under ``corpusclean/rules/``, plus the user's own files); every
removal is kept in ``removed`` as (rule id, text, 1-based line number in the text before
removal), so nothing leaves a document without a record of why.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from corpusclean.config import BoilerplateConfig
from corpusclean.errors import ConfigError
from corpusclean.records import Record, Rejected, Removal, StageResult, map_records
from corpusclean.stages.decode import normalize_whitespace

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["BoilerplateStage", "Rule", "load_rules", "remove_boilerplate"]

_RULE_KEYS = {"id", "scope", "pattern", "description", "max_chars", "case_sensitive", "contains"}


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

    def may_match(self, lowered_line: str) -> bool:
        return not self.contains or any(hint in lowered_line for hint in self.contains)


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
    removed: list[Removal] = []
    kept: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            kept.append(line)
            continue
        # inline fragments first, so that a line left holding only boilerplate is then
        # removed by a line rule in the same pass (one pass is enough: idempotent)
        lowered = line.lower()
        for inline in inline_rules:
            if not inline.may_match(lowered):
                continue
            for match in inline.pattern.finditer(line):
                if match.group(0).strip():
                    removed.append(Removal(inline.id, match.group(0).strip(), number))
            line = inline.pattern.sub("", line)
            lowered = line.lower()
        stripped = line.strip()
        rule = next(
            (
                r
                for r in line_rules
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


class BoilerplateStage:
    """Rule-based removal of boilerplate lines and fragments."""

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
        if not removed:
            return record
        return dataclasses.replace(record, text=text, removed=record.removed + removed)
