from __future__ import annotations

import dataclasses

import pytest

from corpusclean import ConfigError, PipelineConfig


def test_defaults_are_documented_values():
    config = PipelineConfig()
    assert config.read.jsonl_text_field == "text"
    assert config.read.jsonl_html_field == "html"
    assert config.read.jsonl_id_field == "id"
    assert config.output.max_error_rate == 0.5
    assert config.output.compression == "zstd"
    assert config.language.languages == ()
    assert config.boilerplate.rule_packs == ("news",)


def test_frozen():
    config = PipelineConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.language = None  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.language.seed = 3  # type: ignore[misc]


def test_one_key_is_a_whole_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[language]\nlanguages = ["en", "de"]\n')
    config = PipelineConfig.from_toml(path)
    assert config.language.languages == ("en", "de")
    assert config.decode == PipelineConfig().decode


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[nope]\nx = 1\n", "[nope]"),
        ("[language]\nlanguagez = []\n", "language.languagez"),
        ("[output]\nmax_error_rate = 'high'\n", "output.max_error_rate"),
        ("[decode]\nenabled = 1\n", "decode.enabled"),
        ("[language]\nlanguages = 'en'\n", "language.languages"),
        ("[output]\nmin_words = -1\n", "output.min_words"),
        ("[read]\nenabled = false\n", "read.enabled"),
        ("[language\n", "invalid TOML"),
    ],
)
def test_errors_name_section_and_key(tmp_path, toml, message):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PipelineConfig.from_toml(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        PipelineConfig.from_toml(tmp_path / "absent.toml")


def test_every_stage_section_but_read_and_output_can_be_disabled():
    for section in ("decode", "extract", "boilerplate", "language", "dedup"):
        config = PipelineConfig.from_dict({section: {"enabled": False}})
        assert getattr(config, section).enabled is False


def test_replace_and_round_trip():
    config = PipelineConfig().replace(language={"languages": ("en",)})
    assert config.language.languages == ("en",)
    assert PipelineConfig.from_dict(config.to_dict()) == config
