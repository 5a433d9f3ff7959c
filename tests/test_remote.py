"""Inputs and outputs through pyarrow filesystems: ``s3://`` URIs against a real S3 protocol peer
(moto's server on loopback, started for the module), read and written with the same code as
local paths, giving the same rows as a local run.

The endpoint reaches pyarrow (and the worker processes) through ``AWS_ENDPOINT_URL``, as it
would for a user's MinIO or another S3-compatible store; the URIs are plain ``s3://bucket/…``.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from corpusclean import Pipeline, PipelineConfig
from corpusclean.engines import local as local_engine
from corpusclean.errors import InputError
from corpusclean.sinks import remote
from corpusclean.sources import expand_inputs
from tests.conftest import FIXTURES, SAMPLE, read_dataset, run_cli
from tests.test_input_shards import _article, _write_jsonl, _write_parquet

moto_server = pytest.importorskip(
    "moto.server", reason="moto is not installed: pip install -e '.[dev]' to run the S3 tests"
)

#: language detection is most of pass 1's time and reads nothing through a filesystem
CONFIG = PipelineConfig.from_dict({"language": {"enabled": False}})
KINDS = ("documents", "rejected", "passages")
BUCKET = "corpus"


@pytest.fixture(scope="module")
def s3():
    """An S3 endpoint on 127.0.0.1 with one bucket; yields its filesystem (for the tests' own
    uploads and checks)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        patch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        filesystem = pafs.S3FileSystem(endpoint_override=f"http://{host}:{port}", allow_bucket_creation=True)
        filesystem.create_dir(BUCKET)
        try:
            yield filesystem
        finally:
            server.stop()


def _upload(filesystem: pafs.FileSystem, local: Path, key: str) -> str:
    pafs.copy_files(
        str(local), f"{BUCKET}/{key}", source_filesystem=pafs.LocalFileSystem(), destination_filesystem=filesystem
    )
    return f"s3://{BUCKET}/{key}"


def _keys(filesystem: pafs.FileSystem, key: str) -> list[str]:
    found = filesystem.get_file_info(pafs.FileSelector(f"{BUCKET}/{key}", recursive=True, allow_not_found=True))
    prefix = f"{BUCKET}/{key.split('/')[0]}/"
    return sorted(info.path[len(prefix) :] for info in found if info.type == pafs.FileType.File)


def _remote_table(filesystem: pafs.FileSystem, key: str, kind: str) -> pa.Table:
    """All parts of ``kind`` under ``key``, in file order (as :func:`read_dataset` reads them)."""
    parts = [k for k in _keys(filesystem, f"{key}/{kind}") if k.endswith(".parquet")]
    return ds.dataset([f"{BUCKET}/{key}/{p}" for p in parts], filesystem=filesystem).to_table()


def _manifest(filesystem: pafs.FileSystem, key: str) -> dict:
    with filesystem.open_input_stream(f"{BUCKET}/{key}/manifest.json") as handle:
        return json.loads(handle.read())


def _assert_same_as_local(filesystem: pafs.FileSystem, key: str, local: Path) -> None:
    for kind in KINDS:
        assert _remote_table(filesystem, key, kind).equals(read_dataset(local, kind)), kind
    manifest, expected = _manifest(filesystem, key), json.loads((local / "manifest.json").read_text())
    assert manifest["counts"] == expected["counts"]
    assert manifest["outputs"] == expected["outputs"]
    drop_input = [{k: v for k, v in entry.items() if k != "input"} for entry in manifest["inputs"]]
    assert drop_input == [{k: v for k, v in entry.items() if k != "input"} for entry in expected["inputs"]]


def test_a_prefix_is_listed_like_a_directory(s3):
    uri = _upload(s3, FIXTURES / "formats", "listing/")
    with s3.open_output_stream(f"{BUCKET}/listing/.hidden/secret.txt") as handle:
        handle.write(b"not an input")
    files = expand_inputs([uri])
    local = expand_inputs([FIXTURES / "formats"])
    assert [f.relpath for f in files] == [f.relpath for f in local]
    assert all(f.path == f"{uri}{f.relpath}" and f.listed is not None for f in files)
    assert [f.stat().size for f in files] == [f.stat().size for f in local]  # from the one listing

    named = expand_inputs([f"{uri}text/article-utf8.txt"])
    assert [(f.relpath, f.source_id, f.named_directly) for f in named] == [
        ("article-utf8.txt", f"{uri}text/article-utf8.txt", True)
    ]
    for bad, message in (
        (f"s3://{BUCKET}/no-such-prefix/", "input not found"),
        (f"{uri}*.txt", "patterns are not supported"),
        ("nosuchscheme://bucket/key", "cannot open input"),
    ):
        with pytest.raises(InputError, match=message):
            expand_inputs([bad])


def test_a_run_from_s3_to_s3_gives_the_rows_of_a_local_run(s3, tmp_path, capsys):
    uri = _upload(s3, FIXTURES / "formats", "formats/")
    config = tmp_path / "config.toml"
    config.write_text("[language]\nenabled = false\n")
    assert run_cli("run", uri, "-o", f"s3://{BUCKET}/clean", "--workers", "2", "--config", config) == 0
    assert f"output: s3://{BUCKET}/clean/" in capsys.readouterr().err
    Pipeline(CONFIG).run([FIXTURES / "formats"], tmp_path / "local", workers=2)
    _assert_same_as_local(s3, "clean", tmp_path / "local")
    assert {"manifest.json", "report.html", "README.md"} <= set(_keys(s3, "clean"))
    assert not any(k.startswith("_work") or k.endswith(".tmp") for k in _keys(s3, "clean"))
    staging = remote.staging_dir(CONFIG, f"s3://{BUCKET}/clean")
    assert not staging.exists()  # removed once published


def test_a_destination_that_is_not_empty_needs_overwrite(s3, tmp_path):
    destination = f"s3://{BUCKET}/replaced"
    Pipeline(CONFIG).run([SAMPLE], destination, workers=1)
    with pytest.raises(InputError, match="is not empty"):
        Pipeline(CONFIG).run([SAMPLE], destination, workers=1)
    assert run_cli("run", SAMPLE, "-o", destination, "--quiet") == 2
    with s3.open_output_stream(f"{BUCKET}/replaced/stray.txt") as handle:
        handle.write(b"left by someone")
    report = Pipeline(CONFIG).run([SAMPLE], destination, workers=1, overwrite=True)
    assert report.out == destination and report.report == f"{destination}/report.html"
    assert "stray.txt" not in [k.split("/")[-1] for k in _keys(s3, "replaced")]
    Pipeline(CONFIG).run([SAMPLE], tmp_path / "local", workers=1)
    _assert_same_as_local(s3, "replaced", tmp_path / "local")
    with pytest.raises(InputError, match="overlap"):
        Pipeline(CONFIG).run([f"s3://{BUCKET}/replaced/documents/"], destination, overwrite=True)


def test_a_run_interrupted_while_publishing_is_published_by_resume(s3, tmp_path, monkeypatch):
    destination = f"s3://{BUCKET}/interrupted"
    copy_files = pafs.copy_files

    def no_manifest(source, *args, **kwargs):
        if source.endswith("manifest.json"):
            raise OSError("connection reset while uploading")
        return copy_files(source, *args, **kwargs)

    monkeypatch.setattr(remote.pafs, "copy_files", no_manifest)
    with pytest.raises(OSError, match="connection reset"):
        Pipeline(CONFIG).run([SAMPLE], destination, workers=1)
    published = _keys(s3, "interrupted")
    assert "manifest.json" not in published and any(k.startswith("documents/") for k in published)
    monkeypatch.setattr(remote.pafs, "copy_files", copy_files)

    # what is there is an incomplete run: a new run must not replace it unasked
    with pytest.raises(InputError, match="is not empty"):
        Pipeline(CONFIG).run([SAMPLE], destination, workers=1)
    report = Pipeline(CONFIG).run([SAMPLE], destination, workers=1, resume=True)
    assert report.kept == 5 and "manifest.json" in _keys(s3, "interrupted")
    Pipeline(CONFIG).run([SAMPLE], tmp_path / "local", workers=1)
    _assert_same_as_local(s3, "interrupted", tmp_path / "local")
    with pytest.raises(InputError, match="holds a complete run"):
        Pipeline(CONFIG).run([SAMPLE], destination, resume=True)


def test_resume_never_replaces_what_it_did_not_write(s3):
    with s3.open_output_stream(f"{BUCKET}/foreign/data.csv") as handle:
        handle.write(b"a,b\n1,2\n")
    with pytest.raises(InputError, match="not an incomplete corpusclean run"):
        Pipeline(CONFIG).run([SAMPLE], f"s3://{BUCKET}/foreign", resume=True)
    assert _keys(s3, "foreign") == ["data.csv"]


def test_large_files_on_s3_are_read_in_pieces_with_the_rows_of_a_whole_read(s3, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_jsonl(corpus / "wire.jsonl", 120)
    _write_parquet(corpus / "table.parquet", 96)
    (corpus / "small.jsonl").write_text(json.dumps({"id": "s1", "text": _article(random.Random(1))}) + "\n")
    uri = _upload(s3, corpus, "large/")
    config = PipelineConfig.from_dict({"read": {"max_record_bytes": 30000}, "language": {"enabled": False}})
    Pipeline(config).run([corpus], tmp_path / "whole", workers=1)
    monkeypatch.setattr(local_engine, "PIECE_BYTES", 6000)
    tasks = local_engine.plan_tasks(expand_inputs([uri]))
    assert {t.files[0].relpath for t in tasks if t.piece is not None} == {"wire.jsonl", "table.parquet"}
    report = Pipeline(config).run([uri], tmp_path / "pieces", workers=2)
    whole = json.loads((tmp_path / "whole" / "manifest.json").read_text())
    assert report.manifest["counts"] == whole["counts"]
    assert [e["sha256"] for e in report.manifest["inputs"]] == [e["sha256"] for e in whole["inputs"]]
    for kind in KINDS:
        keys = ["doc_id", "paragraph_index"] if kind == "passages" else ["doc_id"]
        found = read_dataset(tmp_path / "pieces", kind).sort_by([(k, "ascending") for k in keys])
        expected = read_dataset(tmp_path / "whole", kind).sort_by([(k, "ascending") for k in keys])
        assert found.equals(expected), kind


def test_the_ray_engine_reads_and_writes_s3(s3, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'corpusclean[ray]'")
    uri = _upload(s3, FIXTURES / "formats", "ray-input/")
    Pipeline(CONFIG).run([FIXTURES / "formats"], tmp_path / "local", workers=2)
    # started here, after the endpoint and credentials are set: its workers inherit them
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        report = Pipeline(CONFIG).run([uri], f"s3://{BUCKET}/ray-output", engine="ray")
    finally:
        ray.shutdown()
    assert report.manifest["timings"]["engine"] == "ray"
    _assert_same_as_local(s3, "ray-output", tmp_path / "local")


def test_validate_and_report_take_a_uri(s3, capsys):
    destination = f"s3://{BUCKET}/checked"
    Pipeline(CONFIG).run([SAMPLE], destination, workers=1)
    assert run_cli("validate", destination) == 0
    s3.delete_file(f"{BUCKET}/checked/report.html")
    assert run_cli("report", destination) == 0
    assert "report.html" in _keys(s3, "checked")
    assert f"{destination}/report.html" in capsys.readouterr().err

    # problems name parts relative to OUT, and the dataset by its URI
    part = next(k for k in _keys(s3, "checked") if k.startswith("documents/"))
    with s3.open_output_stream(f"{BUCKET}/checked/{part}") as handle:
        handle.write(b"PAR1 broken")
    assert run_cli("validate", destination) == 3
    err = capsys.readouterr().err
    assert f"{part}: checksum differs" in err and f"{destination} is not valid" in err
    s3.delete_file(f"{BUCKET}/checked/manifest.json")
    assert run_cli("validate", destination) == 3
    assert run_cli("report", destination) == 3
    assert run_cli("validate", f"s3://{BUCKET}/nothing-here") == 2
