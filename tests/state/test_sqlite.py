"""The SQLite store: conformance, the state machine, files, locks and a real race."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from replyguard.errors import StoreError
from replyguard.state import AsyncSQLiteStore, Reservation, SQLiteStore
from replyguard.testing.store_conformance import (
    AsyncStoreConformance,
    StoreConformance,
    store_machine,
)

MACHINE_SETTINGS = settings(max_examples=40, stateful_step_count=40, deadline=None)


class TestSQLiteStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        store = SQLiteStore(tmp_path / "store.db")
        yield store
        store.close()


class TestAsyncSQLiteStore(AsyncStoreConformance):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[AsyncSQLiteStore]:
        store = AsyncSQLiteStore(tmp_path / "store.db")
        yield store
        await store.aclose()


def test_sqlite_store_agrees_with_the_model(tmp_path):
    path = tmp_path / "machine.db"
    run_state_machine_as_test(
        store_machine(lambda: SQLiteStore(path)), settings=MACHINE_SETTINGS
    )


def test_the_file_is_in_wal_mode_with_its_schema(tmp_path):
    path = tmp_path / "store.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"
            )
        }
    connection.close()
    assert {"members", "flags", "members_by_time"} <= tables


def test_two_stores_on_one_file_share_everything(tmp_path):
    path = tmp_path / "shared.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    assert first.reserve("k", "a", now=1.0, window=60.0, limit=1).allowed
    assert second.reserve("k", "b", now=2.0, window=60.0, limit=1) == Reservation(
        allowed=False, count=1
    )
    first.set_flag("pause", "on", now=1.0, ttl=None)
    assert second.get_flag("pause", now=2.0) == "on"
    first.close()
    second.close()


def test_expired_rows_are_purged(tmp_path):
    path = tmp_path / "purge.db"
    store = SQLiteStore(path)
    store.add("k", "a", now=0.0, ttl=10.0)
    store.add("k", "b", now=20.0, ttl=10.0)
    store.close()
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT member FROM members").fetchall()
    connection.close()
    assert rows == [("b",)]


def test_a_corrupt_file_is_a_store_error_naming_it(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database, it is garbage \x00\xff" * 200)
    with pytest.raises(StoreError) as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)
    assert info.value.backend == "sqlite"
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_a_corrupted_store_fails_with_a_store_error(tmp_path):
    path = tmp_path / "later.db"
    store = SQLiteStore(path)
    store.add("k", "a", now=1.0, ttl=60.0)
    store.close()
    path.write_bytes(b"\x00garbage" * 4096)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match=r"later\.db"):
        SQLiteStore(path)


def test_a_locked_database_is_a_store_error_not_a_hang(tmp_path):
    path = tmp_path / "locked.db"
    store = SQLiteStore(path, timeout=0.25)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.perf_counter()
        with pytest.raises(StoreError, match="database is locked") as info:
            store.reserve("k", "a", now=1.0, window=60.0, limit=1)
        waited = time.perf_counter() - started
        assert info.value.backend == "sqlite"
        assert str(path) in str(info.value)
        assert 0.2 <= waited < 2.0
        with pytest.raises(StoreError, match="database is locked"):
            SQLiteStore(path, timeout=0.1)  # opening needs the write lock too
        assert store.count("k", now=1.0, window=60.0) == 0  # WAL: reads go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.reserve("k", "a", now=1.0, window=60.0, limit=1).allowed
    store.close()


def test_a_closed_store_raises(tmp_path):
    store = SQLiteStore(tmp_path / "closed.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count("k", now=1.0, window=1.0)


async def test_the_async_store_runs_in_threads(tmp_path):
    store = AsyncSQLiteStore(tmp_path / "async.db")
    assert store.url == f"sqlite:///{tmp_path / 'async.db'}"
    assert await store.reserve("k", "a", now=1.0, window=60.0, limit=1) == Reservation(
        allowed=True, count=0
    )
    assert store.sync.count("k", now=1.0, window=60.0) == 1
    await store.aclose()


# --- N processes x M threads racing for k slots ---------------------------------------

PROCESSES, THREADS, ATTEMPTS, LIMIT = 4, 6, 5, 7


def _race(path: str, process: int, ready: Any, start: Any, results: Any) -> None:
    """One process of the race: THREADS threads, each reserving ATTEMPTS times."""
    store = SQLiteStore(path)
    allowed = [0] * THREADS

    def attempt(thread: int) -> None:
        start.wait()
        for n in range(ATTEMPTS):
            member = f"p{process}-t{thread}-{n}"
            if store.reserve(
                "crowd:1", member, now=1_700_000_000.0, window=3600.0, limit=LIMIT
            ).allowed:
                allowed[thread] += 1

    threads = [threading.Thread(target=attempt, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    ready.put(process)
    for thread in threads:
        thread.join()
    store.close()
    results.put((process, allowed))


def test_processes_and_threads_never_overshoot_a_limit(tmp_path):
    path = tmp_path / "race.db"
    SQLiteStore(path).close()
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_race, args=(str(path), p, ready, start, results))
        for p in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=30)
    start.set()
    counts = dict(results.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    total = sum(sum(per_thread) for per_thread in counts.values())
    for process, per_thread in sorted(counts.items()):
        print(f"sqlite race: process {process} allowed {sum(per_thread)} {per_thread}")  # noqa: T201
    attempts = PROCESSES * THREADS * ATTEMPTS
    print(  # noqa: T201  (pytest -s shows the counts)
        f"sqlite race: {PROCESSES} processes x {THREADS} threads x {ATTEMPTS} attempts"
        f" = {attempts} reserves, limit {LIMIT}: {total} allowed"
    )
    assert total == LIMIT
    store = SQLiteStore(path)
    assert store.count("crowd:1", now=1_700_000_000.0, window=3600.0) == LIMIT
    store.close()
