"""``engine.memory_pool``: the Arrow pool of a run, restored after it, the same rows whatever it is."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpusclean import Pipeline, PipelineConfig
from corpusclean.engines.memory import arrow_memory_pool, resolve_pool, with_memory_pool
from corpusclean.errors import ConfigError
from tests.conftest import SAMPLE, read_dataset


@pytest.fixture
def restore_pool():
    previous = pa.default_memory_pool()
    yield
    pa.set_memory_pool(previous)


def test_auto_is_jemalloc_unless_the_user_chose_a_pool(monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    assert resolve_pool("auto").backend_name == "jemalloc"
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    assert resolve_pool("auto") is None
    assert resolve_pool("default") is None
    assert resolve_pool("system").backend_name == "system"
    with pytest.raises(ValueError, match="unknown Arrow memory pool"):
        resolve_pool("tcmalloc")


def test_the_config_rejects_an_unknown_pool():
    with pytest.raises(ConfigError, match=r"engine\.memory_pool"):
        PipelineConfig.from_dict({"engine": {"memory_pool": "tcmalloc"}})


def test_the_previous_pool_is_restored(restore_pool):
    pa.set_memory_pool(pa.system_memory_pool())
    with arrow_memory_pool("jemalloc"):
        assert pa.default_memory_pool().backend_name == "jemalloc"
        assert pa.array(["allocated from jemalloc"]).nbytes > 0
    assert pa.default_memory_pool().backend_name == "system"
    with pytest.raises(RuntimeError), arrow_memory_pool("jemalloc"):
        raise RuntimeError("restored on errors too")
    assert pa.default_memory_pool().backend_name == "system"


def test_a_worker_sets_its_pool_before_building_its_state(restore_pool):
    seen = with_memory_pool("system", lambda tag: (tag, pa.default_memory_pool().backend_name), "state")
    assert seen == ("state", "system")


@pytest.mark.parametrize("workers", [1, 2])
def test_every_pool_gives_the_same_rows_and_the_callers_pool_is_kept(tmp_path, restore_pool, workers):
    pa.set_memory_pool(pa.system_memory_pool())
    tables = {}
    for pool in ("jemalloc", "mimalloc", "default"):
        config = PipelineConfig.from_dict({"engine": {"memory_pool": pool}})
        out = tmp_path / pool
        Pipeline(config).run([SAMPLE], out, workers=workers)
        assert pa.default_memory_pool().backend_name == "system"
        tables[pool] = {kind: read_dataset(out, kind) for kind in ("documents", "rejected")}
    for kind in ("documents", "rejected"):
        assert tables["jemalloc"][kind].num_rows > 0 or kind == "rejected"
        assert tables["jemalloc"][kind].equals(tables["mimalloc"][kind])
        assert tables["jemalloc"][kind].equals(tables["default"][kind])
