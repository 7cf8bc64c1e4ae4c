"""
The store contract: the small set of operations the guard's memory needs.

Everything the state step does (limits, crowds, the storm breaker, pauses) is built
from these operations, so that each backend implements only them, atomically:

- `reserve`: the check-and-record of a limit, in one atomic step. Count the members
  of `key` whose time is within ``(now - window, now]``; when that count is below
  `limit`, add `member` at time `now` and allow; otherwise refuse. Two workers racing
  for the last slot: exactly one is allowed.
- `add`: record a member without a limit (a reply sent without review, an inbound
  post counted for the storm breaker).
- `release`: take a member back (the send failed: ``guard.forget(decision)``).
- `count` and `recent`: read a key within a window (recent: newest first, the member
  and its time), for near-duplicate comparison and storm rates.
- `set_flag` / `get_flag`: a small value that expires (a pause, a breaker state),
  shared by every worker.

Times are POSIX seconds (floats) from the guard's clock, never the store's: a replay of
yesterday's traffic behaves as it did. Keys expire by themselves once their window
(``ttl``) has passed. Members are strings; a member added twice to one key is one
member (the later time wins).

Every failure of the backend (down, locked, corrupt) raises `StoreError` naming the
backend; the guard turns it into the policy's ``on_error`` action.

Batches: the guard sends the operations of one review step together (`Op`,
`run_ops`, `arun_ops`). A store may add an optional ``run(ops) -> list`` method (``async
def run`` on an `AsyncStore`) that runs them at lower cost (memory: one hold of the
lock; SQLite: one transaction; Redis: one pipeline), returning what the operations
return one by one, each seeing the ones before it, and raising `InvalidArgument` for
an operation it does not know. ``run`` is not part of `Store` or `AsyncStore`: a store
without it still is one, and `run_ops` runs its operations one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["AsyncStore", "Op", "Reservation", "Store", "arun_ops", "run_ops"]

OpName = Literal["reserve", "add", "release", "count", "recent", "set_flag", "get_flag"]


@dataclass(frozen=True, slots=True)
class Op:
    """
    One store operation, to run in a batch: the method's name and its arguments.

    ``Op("count", ("k",), {"now": t, "window": 60.0})`` is ``store.count("k", now=t,
    window=60.0)``. The guard sends the operations of one review step as a batch
    (`run_ops`), which a backend may run in one round trip (Redis: a pipeline).
    """

    name: OpName
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer of `Store.reserve`: allowed or not, and the count it saw (before adding)."""

    allowed: bool
    count: int


@runtime_checkable
class Store(Protocol):
    """A synchronous store. Implementations: memory, SQLite, Redis."""

    url: str
    """Where the store lives (``memory://``, ``sqlite:///path.db``, ``redis://...``)."""

    def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """Atomically add `member` to `key` unless `limit` members are within `window`."""
        ...

    def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """Record `member` in `key` at `now`; the key may expire `ttl` seconds later."""
        ...

    def release(self, key: str, member: str) -> bool:
        """Take `member` out of `key`; return whether it was there."""
        ...

    def count(self, key: str, *, now: float, window: float) -> int:
        """Return how many members of `key` are within ``(now - window, now]``."""
        ...

    def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """Return up to `limit` members within the window, newest first, with times."""
        ...

    def set_flag(self, name: str, value: str, *, now: float, ttl: float | None) -> None:
        """Set a shared flag; it reads as unset `ttl` seconds after `now` (None: never)."""
        ...

    def get_flag(self, name: str, *, now: float) -> str | None:
        """Return a flag's value, or None when unset or expired."""
        ...

    def clear(self) -> None:
        """Remove everything this store holds (tests, and `replyguard` admin tools)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class AsyncStore(Protocol):
    """The asyncio twin of `Store`: the same operations, awaited."""

    url: str

    async def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """See `Store.reserve`."""
        ...

    async def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """See `Store.add`."""
        ...

    async def release(self, key: str, member: str) -> bool:
        """See `Store.release`."""
        ...

    async def count(self, key: str, *, now: float, window: float) -> int:
        """See `Store.count`."""
        ...

    async def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """See `Store.recent`."""
        ...

    async def set_flag(
        self, name: str, value: str, *, now: float, ttl: float | None
    ) -> None:
        """See `Store.set_flag`."""
        ...

    async def get_flag(self, name: str, *, now: float) -> str | None:
        """See `Store.get_flag`."""
        ...

    async def clear(self) -> None:
        """See `Store.clear`."""
        ...

    async def aclose(self) -> None:
        """See `Store.close`."""
        ...


def run_ops(store: Store, ops: Sequence[Op]) -> list[Any]:
    """
    Run `ops` in order and return their results in order.

    A store with a ``run(ops)`` method runs the batch itself (in one round trip); any
    other store runs the operations one by one. Each operation is atomic, the batch
    is not: when one fails (`StoreError`), the ones before it have taken effect.
    """
    runner = getattr(store, "run", None)
    if runner is not None:
        results: list[Any] = runner(ops)
        return results
    return [getattr(store, op.name)(*op.args, **op.kwargs) for op in ops]


async def arun_ops(store: AsyncStore, ops: Sequence[Op]) -> list[Any]:
    """Run `ops` on an asyncio store, as `run_ops` does (``await store.run(ops)``)."""
    runner = getattr(store, "run", None)
    if runner is not None:
        results: list[Any] = await runner(ops)
        return results
    return [await getattr(store, op.name)(*op.args, **op.kwargs) for op in ops]
