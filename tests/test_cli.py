"""The CLI as a person uses it: exit codes, one-line errors, help for every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from corpusclean.cli import main
from tests.conftest import SAMPLE, read_dataset


def test_run_and_validate(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "-o", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "5 records in, 5 kept, 0 rejected" in err
    assert main(["validate", str(out)]) == 0


def test_quiet_prints_nothing(tmp_path, capsys):
    assert main(["run", str(SAMPLE), "-o", str(tmp_path / "o"), "--quiet", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["clean-text"]])
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: corpusclean" in capsys.readouterr().out


def test_usage_errors_exit_2_with_one_line(tmp_path, capsys):
    assert main(["run", str(tmp_path / "absent"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "input not found" in err and "Traceback" not in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[output]\nmax_error_rat = 1\n")
    assert main(["run", str(SAMPLE), "-o", str(tmp_path / "o"), "--config", str(bad)]) == 2
    assert "output.max_error_rat" in capsys.readouterr().err
    assert main(["run", str(SAMPLE), "-o", str(tmp_path / "o"), "--config", str(tmp_path / "none.toml")]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(SAMPLE)])
    assert exit_info.value.code == 2
    assert main(["validate", str(tmp_path / "absent")]) == 2


def test_non_empty_out_is_refused_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["run", str(SAMPLE), "-o", str(out), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (out / "keep.txt").exists()
    assert main(["run", str(SAMPLE), "-o", str(out), "--quiet", "--overwrite", "--workers", "1"]) == 0
    assert not (out / "keep.txt").exists()
    assert main(["validate", str(out)]) == 0


def test_out_inside_input_is_refused(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Some text here for the test.")
    assert main(["run", str(corpus), "-o", str(corpus / "clean"), "--quiet"]) == 2
    assert "must not be inside the input" in capsys.readouterr().err


def test_languages_filter(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "en.txt").write_text("The committee approved the new budget after a long debate on Tuesday evening.")
    (corpus / "de.txt").write_text(
        "Der Ausschuss hat den neuen Haushalt nach einer langen Debatte am Dienstagabend gebilligt."
    )
    out = tmp_path / "out"
    assert main(["run", str(corpus), "-o", str(out), "--languages", "en", "--quiet", "--workers", "1"]) == 0
    assert read_dataset(out, "documents")["source_id"].to_pylist() == ["en.txt"]
    [rejected] = read_dataset(out, "rejected").to_pylist()
    assert (rejected["source_id"], rejected["reason"], rejected["stage"]) == ("de.txt", "language_filtered", "language")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["by_reason"] == {"language_filtered": 1}
    assert manifest["counts"]["by_stage"] == {"language": 1}


def test_validate_reports_incomplete_and_tampered(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "-o", str(out), "--quiet", "--workers", "1"]) == 0
    part = next((out / "documents").glob("*.parquet"))
    part.write_bytes(part.read_bytes()[:-10])
    assert main(["validate", str(out)]) == 3
    assert "checksum" in capsys.readouterr().err
    (out / "manifest.json").unlink()
    assert main(["validate", str(out)]) == 3
    assert "incomplete run" in capsys.readouterr().err


def test_clean_text_stdin_to_stdout():
    raw = "\n\nThe Mona Lisa doesnâ€™t have eyebrows.\nAlso read: Something else\n".encode()
    result = subprocess.run(
        [sys.executable, "-m", "corpusclean.cli", "clean-text"], input=raw, capture_output=True, check=True
    )
    assert result.stdout.decode() == "The Mona Lisa doesn’t have eyebrows.\n"


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("corpusclean")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("corpusclean ")
