"""Documentation matches behaviour: every config key, reason, fix and rule id is documented."""

from __future__ import annotations

import dataclasses
import re

from corpusclean.config import PipelineConfig
from corpusclean.records import Reason
from corpusclean.stages.boilerplate import load_rules
from corpusclean.stages.decode import __doc__ as decode_doc
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_in_the_readme_with_its_default():
    config = PipelineConfig()
    for section in dataclasses.fields(config):
        for field in dataclasses.fields(getattr(config, section.name)):
            key = f"`{section.name}.{field.name}`"
            assert key in README, key
            row = next(line for line in README.splitlines() if line.startswith(f"| {key}"))
            default = getattr(getattr(config, section.name), field.name)
            rendered = (
                "[" + ", ".join(f'"{v}"' for v in default) + "]"
                if isinstance(default, tuple)
                else str(default).lower()
                if isinstance(default, bool)
                else f'"{default}"'
                if isinstance(default, str)
                else str(default)
            )
            assert f"`{rendered}`" in row, (key, rendered, row)


def test_every_reason_is_documented():
    for reason in Reason:
        assert f"| `{reason.value}` |" in README, reason


def test_every_fix_name_is_documented():
    names = set(re.findall(r"^``(\w+)``", decode_doc, re.MULTILINE)) | {"date_local_as_utc"}
    for name in names:
        assert f"| `{name}` |" in README, name


def test_every_rule_id_is_documented():
    from corpusclean.config import BoilerplateConfig

    for rule in load_rules(BoilerplateConfig()):
        assert f"`{rule.id}`" in README, rule.id


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quickstart, re.DOTALL)
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "corpusclean run fixtures/sample" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
