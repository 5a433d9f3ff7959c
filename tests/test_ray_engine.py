"""`--engine ray` gives exactly the rows of `--engine local`, also when a worker dies once.

A local Ray instance with 2 CPUs is started once for the module (skipped when Ray is not
installed: `pip install 'corpusclean[ray]'`; CI installs it through the `dev` extra).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corpusclean import Pipeline, PipelineConfig, validate_output
from tests.conftest import FIXTURES, SAMPLE, read_dataset
from tests.test_pass2 import _generated_corpus

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'corpusclean[ray]' to run these tests")
ray_passes = pytest.importorskip("corpusclean.engines.ray_passes")

#: language detection is most of pass 1's time and changes nothing the engines do differently
CONFIG = PipelineConfig.from_dict({"language": {"enabled": False}})
KINDS = ("documents", "rejected", "passages")


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    """The fixtures, the sample, and a generated corpus with exact and near duplicates, shared
    passages and footers (about 700 documents)."""
    generated = _generated_corpus(tmp_path_factory.mktemp("generated") / "corpus", documents=600, seed=3)
    return [FIXTURES, SAMPLE, generated]


def _assert_same_rows(local: Path, distributed: Path) -> None:
    for kind in KINDS:
        expected, found = read_dataset(local, kind), read_dataset(distributed, kind)
        assert found.num_rows == expected.num_rows, kind
        assert found.equals(expected), kind


def test_ray_engine_gives_the_local_rows(ray_cluster, corpus, tmp_path):
    local = Pipeline(CONFIG).run(corpus, tmp_path / "local", workers=2)
    distributed = Pipeline(CONFIG).run(corpus, tmp_path / "ray", engine="ray")
    assert local.by_reason.get("exact_duplicate") and local.by_reason.get("near_duplicate")
    assert local.manifest["counts"]["passages"] and local.manifest["counts"]["learned_boilerplate_lines"]
    assert distributed.manifest["counts"] == local.manifest["counts"]
    assert distributed.manifest["inputs"] == local.manifest["inputs"]
    assert distributed.manifest["timings"]["engine"] == "ray"
    _assert_same_rows(tmp_path / "local", tmp_path / "ray")
    assert validate_output(tmp_path / "ray") == []


class _DiesOnce(ray_passes.Pass1Worker):
    """Kills its worker process on the first task of the run (a marker file says it happened)."""

    marker = ""

    def run(self, task):
        if not os.path.exists(self.marker):
            Path(self.marker).write_text("died")
            os._exit(1)
        return super().run(task)


def test_a_worker_that_dies_is_retried_and_the_rows_do_not_change(ray_cluster, tmp_path, monkeypatch):
    inputs = [FIXTURES, SAMPLE]
    Pipeline(CONFIG).run(inputs, tmp_path / "local", workers=1)
    marker = tmp_path / "died"
    monkeypatch.setattr(_DiesOnce, "marker", str(marker))
    monkeypatch.setattr(ray_passes, "Pass1Worker", _DiesOnce)
    ray.cloudpickle.register_pickle_by_value(__import__(__name__))
    Pipeline(CONFIG).run(inputs, tmp_path / "ray", engine="ray")
    assert marker.read_text() == "died"
    _assert_same_rows(tmp_path / "local", tmp_path / "ray")


def test_a_local_run_resumes_on_ray(ray_cluster, tmp_path, monkeypatch):
    inputs = [FIXTURES, SAMPLE]
    Pipeline(CONFIG).run(inputs, tmp_path / "reference", workers=1)
    with monkeypatch.context() as patch:
        patch.setattr("corpusclean.pipeline.local_global_step", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            Pipeline(CONFIG).run(inputs, tmp_path / "out", workers=1)
    Pipeline(CONFIG).run(inputs, tmp_path / "out", engine="ray", resume=True)
    _assert_same_rows(tmp_path / "reference", tmp_path / "out")
