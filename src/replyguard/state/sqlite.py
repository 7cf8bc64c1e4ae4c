"""
The embedded store: one SQLite file, shared by every process on one machine.

The file is in WAL mode (readers never wait for the writer). Every write runs in a
``BEGIN IMMEDIATE`` transaction, which takes the file's write lock before it reads:
the check and the insert of `SQLiteStore.reserve` are one step for every thread and
every process that opens the same file. A writer that finds the lock taken waits up
to `timeout` seconds (SQLite's busy timeout), then `StoreError` says the database is
locked: it never hangs.

Schema::

    members(key, member, at, expires)   primary key (key, member); index (key, at)
    flags(name, value, expires)         expires is NULL for a flag that never expires

Times are the guard's clock. Expired members of a key are deleted when the key is
written; the whole file is swept now and then.

Durability: ``synchronous = NORMAL``, the usual setting with WAL. A worker that
crashes loses nothing it committed; a power cut may lose the last transactions
(reservations), never corrupt the file.

Each thread has its own connection (SQLite connections are not to be shared across
threads while in use). `AsyncSQLiteStore` runs the same calls in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from replyguard.errors import InvalidArgument, StoreError
from replyguard.state._protocol import Op, Reservation

__all__ = ["AsyncSQLiteStore", "SQLiteStore"]

_T = TypeVar("_T")

_SWEEP_EVERY = 512
"""Writes (per thread) between two sweeps of the whole file for expired rows."""

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS members (key TEXT NOT NULL, member TEXT NOT NULL,"
        " at REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (key, member)) WITHOUT ROWID"
    ),
    "CREATE INDEX IF NOT EXISTS members_by_time ON members (key, at)",
    (
        "CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY, value TEXT NOT NULL,"
        " expires REAL) WITHOUT ROWID"
    ),
)


class SQLiteStore:
    """
    A `Store` in one SQLite file (``sqlite:///relative.db``, ``sqlite:////abs.db``).

    Safe across threads and processes. Opening creates the file and its tables; a
    file that is not a SQLite database, or is locked, raises `StoreError`.

    Args:
        path: the database file (created when missing; its folder must exist).
        timeout: seconds a write waits for another writer's lock before
            `StoreError`.
    """

    url: str

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        """The database file."""
        self.timeout = timeout
        """Seconds a write waits for the lock."""
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        try:
            self._use_wal(self._connection())
        except sqlite3.Error as exc:
            self.close()
            raise self._error(exc) from exc
        try:
            self._run(_create_schema)
        except StoreError:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _use_wal(self, connection: sqlite3.Connection) -> None:
        """
        Switch the file to write-ahead logging, once, however many workers start at once.

        Reading the mode takes no lock; switching it needs the file to itself, and
        SQLite answers "locked" at once (no busy wait) when another worker is opening
        or switching the same new file: retry, briefly, then give up with the error.
        """
        mode = connection.execute("PRAGMA journal_mode").fetchone()
        if mode is not None and str(mode[0]).lower() == "wal":
            return
        deadline = time.monotonic() + max(self.timeout, 10.0)
        while True:
            try:
                connection.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if (
                    "locked" not in text and "busy" not in text
                ) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.005, 0.05))  # noqa: S311 - jitter, not security
            else:
                return

    # --- connections and transactions ------------------------------------------------

    def _error(self, exc: sqlite3.Error) -> StoreError:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, sqlite3.OperationalError) and "locked" in reason:
            reason = (
                f"database is locked (waited {self.timeout:g} s for the write lock)"
            )
        return StoreError(f"sqlite store `{self.path}`: {reason}", backend="sqlite")

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        if self._closed:
            raise StoreError(f"sqlite store `{self.path}` is closed", backend="sqlite")
        connection = sqlite3.connect(
            self.path,
            timeout=self.timeout,
            isolation_level=None,  # transactions are explicit
            check_same_thread=False,  # `close` may run in another thread
        )
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            connection.close()
            raise
        self._local.connection = connection
        self._local.writes = 0
        with self._connections_lock:
            self._connections.append(connection)
        return connection

    def _run(
        self,
        work: Callable[[sqlite3.Connection], _T],
        *,
        write: bool = True,
        begin: str = "BEGIN IMMEDIATE",
    ) -> _T:
        """
        Run `work` in a transaction started with `begin` when it writes, else bare.

        A batch of reads (`run`) passes ``write=True, begin="BEGIN"``: a deferred
        transaction, so that its reads see one snapshot without taking the write lock.
        """
        try:
            connection = self._connection()
            if not write:
                return work(connection)
            connection.execute(begin)
            try:
                result = work(connection)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return result

    def _purge(self, connection: sqlite3.Connection, key: str, now: float) -> None:
        """Delete the expired members of `key`, and now and then of every key."""
        self._local.writes += 1
        if self._local.writes % _SWEEP_EVERY == 0:
            connection.execute("DELETE FROM members WHERE expires <= ?", (now,))
            connection.execute("DELETE FROM flags WHERE expires <= ?", (now,))
        else:
            connection.execute(
                "DELETE FROM members WHERE key = ? AND expires <= ?", (key, now)
            )

    # --- the Store operations ---------------------------------------------------------

    def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """
        Atomically add `member` to `key` unless `limit` members are within `window`.

        Atomic across threads and processes: two callers racing for the last slot
        cannot both be allowed.

        Args:
            key: what is limited (a thread, a crowd, a text fingerprint).
            member: what is recorded (a decision id).
            now: the guard's time, POSIX seconds.
            window: the limit's window in seconds; the member expires after it.
            limit: how many members the window may hold.

        Raises:
            StoreError: the file is locked past the timeout, corrupt or unreadable.
        """
        return self._run(
            lambda c: self._reserve(c, key, member, now=now, window=window, limit=limit)
        )

    def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """
        Record `member` in `key` at `now`, without a limit.

        Args:
            key: where to record it.
            member: what to record; recorded again, it takes the new time.
            now: the guard's time, POSIX seconds.
            ttl: seconds after which the member may be forgotten.

        Raises:
            StoreError: the file is locked past the timeout, corrupt or unreadable.
        """
        self._run(lambda c: self._add(c, key, member, now=now, ttl=ttl))

    def release(self, key: str, member: str) -> bool:
        """
        Take `member` out of `key`; return whether it was there.

        Args:
            key: where it was recorded.
            member: what to take back.

        Raises:
            StoreError: the file is locked past the timeout, corrupt or unreadable.
        """
        return self._run(lambda c: self._release(c, key, member))

    def count(self, key: str, *, now: float, window: float) -> int:
        """
        Return how many members of `key` are within ``(now - window, now]``.

        Args:
            key: the key to read.
            now: the guard's time, POSIX seconds.
            window: seconds back from `now`.

        Raises:
            StoreError: the file is corrupt or unreadable.
        """
        return self._run(
            lambda c: self._count(c, key, now=now, window=window), write=False
        )

    def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """
        Return up to `limit` members within the window, newest first, with their times.

        Members recorded at the same time come in reverse order of their text, as in
        Redis.

        Args:
            key: the key to read.
            now: the guard's time, POSIX seconds.
            window: seconds back from `now`.
            limit: the most members to return.

        Raises:
            StoreError: the file is corrupt or unreadable.
        """
        if limit <= 0:
            return []
        return self._run(
            lambda c: self._recent(c, key, now=now, window=window, limit=limit),
            write=False,
        )

    def set_flag(self, name: str, value: str, *, now: float, ttl: float | None) -> None:
        """
        Set a shared flag.

        Args:
            name: the flag's name (flags and keys are separate namespaces).
            value: its value.
            now: the guard's time, POSIX seconds.
            ttl: seconds after `now` when it reads as unset; None: never.

        Raises:
            StoreError: the file is locked past the timeout, corrupt or unreadable.
        """
        self._run(lambda c: self._set_flag(c, name, value, now=now, ttl=ttl))

    def get_flag(self, name: str, *, now: float) -> str | None:
        """
        Return a flag's value, or None when unset or expired.

        Args:
            name: the flag's name.
            now: the guard's time, POSIX seconds.

        Raises:
            StoreError: the file is corrupt or unreadable.
        """
        return self._run(lambda c: self._get_flag(c, name, now=now), write=False)

    def run(self, ops: Sequence[Op]) -> list[Any]:
        """
        Run a batch of operations in one transaction; return their results, in order.

        The results are those of the methods the operations name. A batch that writes
        runs in one ``BEGIN IMMEDIATE`` transaction (`reserve` stays atomic, and each
        operation sees the ones before it); a batch of reads only, in one deferred
        transaction (one snapshot, no write lock). The batch is all or nothing: when
        one operation fails, none of the batch is kept. Called by `run_ops`.

        Args:
            ops: the operations, in order.

        Raises:
            InvalidArgument: an operation names no store method (nothing runs).
            TypeError: an operation's arguments do not fit its method (nothing runs).
            StoreError: the file is locked past the timeout, corrupt or unreadable.
        """
        steps = [self._step(op) for op in ops]
        if not steps:
            return []
        writes = any(op.name in _WRITES for op in ops)

        def work(connection: sqlite3.Connection) -> list[Any]:
            return [step(connection) for step in steps]

        return self._run(work, begin="BEGIN IMMEDIATE" if writes else "BEGIN")

    def _step(self, op: Op) -> Callable[[sqlite3.Connection], Any]:
        """Return `op` as work to run in the batch's transaction (or raise)."""
        signature = _SIGNATURES.get(op.name)
        if signature is None:
            expected = ", ".join(_SIGNATURES)
            msg = f"unknown store operation {op.name!r} in a batch (expected one of {expected})"
            raise InvalidArgument(msg)
        bound = signature.bind(self, *op.args, **op.kwargs)
        bound.apply_defaults()
        work = getattr(self, f"_{op.name}")
        args, kwargs = bound.args[1:], bound.kwargs
        return lambda connection: work(connection, *args, **kwargs)

    # --- the operations, inside a transaction -----------------------------------------

    def _reserve(
        self,
        connection: sqlite3.Connection,
        key: str,
        member: str,
        *,
        now: float,
        window: float,
        limit: int,
    ) -> Reservation:
        self._purge(connection, key, now)
        seen = _count(connection, key, now, window)
        if seen >= limit:
            return Reservation(allowed=False, count=seen)
        _upsert(connection, key, member, now, now + window)
        return Reservation(allowed=True, count=seen)

    def _add(
        self,
        connection: sqlite3.Connection,
        key: str,
        member: str,
        *,
        now: float,
        ttl: float,
    ) -> None:
        self._purge(connection, key, now)
        _upsert(connection, key, member, now, now + ttl)

    def _release(self, connection: sqlite3.Connection, key: str, member: str) -> bool:
        cursor = connection.execute(
            "DELETE FROM members WHERE key = ? AND member = ?", (key, member)
        )
        return cursor.rowcount > 0

    def _count(
        self, connection: sqlite3.Connection, key: str, *, now: float, window: float
    ) -> int:
        return _count(connection, key, now, window)

    def _recent(
        self,
        connection: sqlite3.Connection,
        key: str,
        *,
        now: float,
        window: float,
        limit: int = 50,
    ) -> list[tuple[str, float]]:
        if limit <= 0:
            return []
        rows = connection.execute(
            "SELECT member, at FROM members WHERE key = ? AND at > ? AND at <= ?"
            " ORDER BY at DESC, member DESC LIMIT ?",
            (key, now - window, now, limit),
        ).fetchall()
        return [(str(member), float(at)) for member, at in rows]

    def _set_flag(
        self,
        connection: sqlite3.Connection,
        name: str,
        value: str,
        *,
        now: float,
        ttl: float | None,
    ) -> None:
        expires = None if ttl is None else now + ttl
        connection.execute(
            "INSERT INTO flags (name, value, expires) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET"
            " value = excluded.value, expires = excluded.expires",
            (name, value, expires),
        )

    def _get_flag(
        self, connection: sqlite3.Connection, name: str, *, now: float
    ) -> str | None:
        row = connection.execute(
            "SELECT value FROM flags WHERE name = ? AND (expires IS NULL OR expires > ?)",
            (name, now),
        ).fetchone()
        return None if row is None else str(row[0])

    def clear(self) -> None:
        """
        Remove every member and flag (the file and its tables stay).

        Raises:
            StoreError: the file is locked past the timeout, corrupt or unreadable.
        """

        def work(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM members")
            connection.execute("DELETE FROM flags")

        self._run(work)

    def close(self) -> None:
        """Close the connections of every thread; the store cannot be used after."""
        self._closed = True
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()


# --- SQL, run inside a transaction ----------------------------------------------------


def _create_schema(connection: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        connection.execute(statement)


def _count(connection: sqlite3.Connection, key: str, now: float, window: float) -> int:
    row = connection.execute(
        "SELECT count(*) FROM members WHERE key = ? AND at > ? AND at <= ?",
        (key, now - window, now),
    ).fetchone()
    return int(row[0])


def _upsert(
    connection: sqlite3.Connection, key: str, member: str, at: float, expires: float
) -> None:
    connection.execute(
        "INSERT INTO members (key, member, at, expires) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key, member) DO UPDATE SET at = excluded.at, expires = excluded.expires",
        (key, member, at, expires),
    )


_SIGNATURES = {
    name: inspect.signature(getattr(SQLiteStore, name))
    for name in ("reserve", "add", "release", "count", "recent", "set_flag", "get_flag")
}
"""The operations a batch may name, and their signatures (`SQLiteStore.run`)."""

_WRITES = frozenset({"reserve", "add", "release", "set_flag"})
"""The operations that write: a batch holding one takes the write lock at once."""


class AsyncSQLiteStore:
    """
    The asyncio twin of `SQLiteStore` (an `AsyncStore`): each call runs in a thread.

    Args:
        path: the database file (created when missing; its folder must exist).
        timeout: seconds a write waits for another writer's lock before
            `StoreError`.
    """

    url: str

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        self.sync = SQLiteStore(path, timeout=timeout)
        """The `SQLiteStore` the calls run on."""
        self.url = self.sync.url

    def __repr__(self) -> str:
        return f"Async{self.sync!r}"

    async def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """See `SQLiteStore.reserve`."""
        return await asyncio.to_thread(
            self.sync.reserve, key, member, now=now, window=window, limit=limit
        )

    async def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """See `SQLiteStore.add`."""
        await asyncio.to_thread(self.sync.add, key, member, now=now, ttl=ttl)

    async def release(self, key: str, member: str) -> bool:
        """See `SQLiteStore.release`."""
        return await asyncio.to_thread(self.sync.release, key, member)

    async def count(self, key: str, *, now: float, window: float) -> int:
        """See `SQLiteStore.count`."""
        return await asyncio.to_thread(self.sync.count, key, now=now, window=window)

    async def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """See `SQLiteStore.recent`."""
        return await asyncio.to_thread(
            self.sync.recent, key, now=now, window=window, limit=limit
        )

    async def set_flag(
        self, name: str, value: str, *, now: float, ttl: float | None
    ) -> None:
        """See `SQLiteStore.set_flag`."""
        await asyncio.to_thread(self.sync.set_flag, name, value, now=now, ttl=ttl)

    async def get_flag(self, name: str, *, now: float) -> str | None:
        """See `SQLiteStore.get_flag`."""
        return await asyncio.to_thread(self.sync.get_flag, name, now=now)

    async def run(self, ops: Sequence[Op]) -> list[Any]:
        """See `SQLiteStore.run`: the batch's one transaction runs in a thread."""
        return await asyncio.to_thread(self.sync.run, ops)

    async def clear(self) -> None:
        """See `SQLiteStore.clear`."""
        await asyncio.to_thread(self.sync.clear)

    async def aclose(self) -> None:
        """See `SQLiteStore.close`."""
        await asyncio.to_thread(self.sync.close)
