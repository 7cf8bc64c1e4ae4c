"""The memory store: the conformance suite, the state machine, and its own details."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from replyguard.errors import ConfigurationError
from replyguard.state import (
    AsyncMemoryStore,
    MemoryStore,
    SQLiteStore,
    async_store_from_url,
    store_from_url,
)
from replyguard.testing.store_conformance import (
    AsyncStoreConformance,
    StoreConformance,
    store_machine,
)

MACHINE_SETTINGS = settings(max_examples=60, stateful_step_count=40, deadline=None)


class TestMemoryStore(StoreConformance):
    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        store = MemoryStore()
        yield store
        store.close()


class TestAsyncMemoryStore(AsyncStoreConformance):
    @pytest.fixture
    async def store(self) -> AsyncMemoryStore:
        return AsyncMemoryStore()


def test_memory_store_agrees_with_the_model():
    run_state_machine_as_test(store_machine(MemoryStore), settings=MACHINE_SETTINGS)


def test_expired_members_are_dropped():
    store = MemoryStore()
    store.add("k", "a", now=0.0, ttl=10.0)
    store.add("k", "b", now=5.0, ttl=10.0)
    store.add("k", "c", now=11.0, ttl=10.0)  # a write drops the key's expired members
    assert store.release("k", "a") is False
    assert store.release("k", "b") is True


def test_sweep_forgets_old_keys_and_flags():
    store = MemoryStore()
    store.add("old", "a", now=0.0, ttl=10.0)
    store.set_flag("old", "on", now=0.0, ttl=10.0)
    for i in range(2048):
        store.add("new", str(i % 3), now=100.0 + i, ttl=10.0)
    assert "old" not in store._keys
    assert "old" not in store._flags


def test_threads_never_overshoot_a_limit():
    store = MemoryStore()
    allowed: list[bool] = []
    barrier = threading.Barrier(16)

    def worker(index: int) -> None:
        barrier.wait()
        for attempt in range(50):
            result = store.reserve(
                "crowd", f"{index}-{attempt}", now=1.0, window=60.0, limit=7
            )
            allowed.append(result.allowed)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 7
    assert len(allowed) == 800


def test_async_twin_shares_a_sync_store():
    sync = MemoryStore()
    assert AsyncMemoryStore(sync).sync is sync


# --- store_from_url -------------------------------------------------------------------


def test_memory_url():
    store = store_from_url("memory://")
    assert isinstance(store, MemoryStore)
    assert store.url == "memory://"
    assert isinstance(async_store_from_url("memory://"), AsyncMemoryStore)
    assert store_from_url("memory://") is not store  # each call, a new memory


def test_sqlite_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = store_from_url("sqlite:///relative.db")
    assert isinstance(relative, SQLiteStore)
    assert (tmp_path / "relative.db").exists()
    assert relative.url == "sqlite:///relative.db"
    relative.close()
    absolute = tmp_path / "sub" / "abs.db"
    absolute.parent.mkdir()
    store = store_from_url(f"sqlite:///{absolute}")
    assert isinstance(store, SQLiteStore)
    assert store.path == absolute
    assert store.url == f"sqlite:///{absolute}"
    assert store.url.startswith("sqlite:////")
    store.close()


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite://relative.db", "sqlite:///", "sqlite:///:memory:"]
)
def test_bad_sqlite_urls(url):
    with pytest.raises(ConfigurationError, match=r"sqlite:///relative\.db"):
        store_from_url(url)


@pytest.mark.parametrize("url", ["postgres://x", "memory", "", "file:///x.db"])
def test_unknown_scheme_lists_the_known_ones(url):
    with pytest.raises(ConfigurationError) as info:
        store_from_url(url)
    for scheme in ("memory://", "sqlite://", "redis://"):
        assert scheme in str(info.value)
    with pytest.raises(ConfigurationError):
        async_store_from_url(url)


def test_importing_state_does_not_import_redis():
    code = "import sys, replyguard.state; print('redis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_redis_without_its_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "replyguard.state.redis", None)
    with pytest.raises(ConfigurationError, match=r"replyguard\[redis\]"):
        store_from_url("redis://localhost:6379/0")
    with pytest.raises(ConfigurationError, match=r"replyguard\[redis\]"):
        async_store_from_url("redis://localhost:6379/0")
