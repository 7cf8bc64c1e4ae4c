"""
The in-process store: dictionaries behind one lock.

`MemoryStore` is the default store. It is exact within one process (every operation
holds a `threading.Lock`) and shares nothing with other processes: run several
workers on SQLite or Redis instead.

Each key keeps its members twice: by name (their time) and sorted by time, so that a
count or a reservation costs a binary search, however busy the key (an inbound storm
of ten thousand posts). A key remembers the longest ttl it was written with (the
window of a reservation, the ttl of an add); members older than that, on the guard's
clock, are dropped when the key is next written. Keys and flags whose time has passed
are forgotten through a heap of expiry times (one entry per key or flag), so that
forgetting costs a heap pop per expired key, never a scan of every key.
"""

from __future__ import annotations

import heapq
import inspect
import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Sequence
from typing import Any

from replyguard.errors import InvalidArgument
from replyguard.state._protocol import Op, Reservation

__all__ = ["AsyncMemoryStore", "MemoryStore"]

_KEY, _FLAG = 0, 1
"""The kinds of entries in the expiry heap."""


def _time(item: tuple[float, str]) -> float:
    return item[0]


class _Key:
    """The members of one key: by name, and as ``(at, member)`` pairs sorted by time."""

    __slots__ = ("at", "order", "scheduled", "ttl")

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.order: list[tuple[float, str]] = []
        self.ttl = 0.0
        self.scheduled = False  # an entry for this key is in the expiry heap

    def expires(self) -> float:
        """Return when the newest member expires (the key is empty after it)."""
        return self.order[-1][0] + self.ttl if self.order else float("-inf")

    def put(self, member: str, now: float, ttl: float) -> None:
        self.remove(member)
        self.at[member] = now
        insort(self.order, (now, member))
        self.ttl = max(self.ttl, ttl)

    def remove(self, member: str) -> bool:
        at = self.at.pop(member, None)
        if at is None:
            return False
        del self.order[bisect_left(self.order, (at, member))]
        return True

    def expire(self, now: float) -> None:
        """Drop the members whose time is `ttl` or more before `now`."""
        end = bisect_right(self.order, now - self.ttl, key=_time)
        for _, member in self.order[:end]:
            del self.at[member]
        del self.order[:end]

    def span(self, now: float, window: float) -> tuple[int, int]:
        """Return the slice of `order` within ``(now - window, now]``."""
        low = bisect_right(self.order, now - window, key=_time)
        high = bisect_right(self.order, now, key=_time)
        return low, max(low, high)


class MemoryStore:
    """
    A `Store` held in this process's memory (``memory://``).

    Thread-safe; not shared between processes. Never raises `StoreError`.
    """

    url: str = "memory://"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        # name -> (value, expires or None)
        self._flags: dict[str, tuple[str, float | None]] = {}
        # (expires, kind, name): at most one entry per key and per flag
        self._heap: list[tuple[float, int, str]] = []
        self._flags_scheduled: set[str] = set()

    def __repr__(self) -> str:
        return f"MemoryStore(keys={len(self._keys)}, flags={len(self._flags)})"

    def _written(self, key: str, now: float, ttl: float) -> _Key:
        """Return `key` (created when missing) without its expired members."""
        heap = self._heap
        if heap and heap[0][0] <= now:
            self._sweep(now)
        found = self._keys.get(key)
        if found is None:
            found = self._keys[key] = _Key()
        else:
            found.expire(now)
        if not found.scheduled:
            found.scheduled = True
            # due when this write expires; then re-scheduled if written since
            heapq.heappush(heap, (now + max(found.ttl, ttl, 1.0), _KEY, key))
        return found

    def _sweep(self, now: float) -> None:
        """Forget the keys and flags whose time has passed (their heap entries came due)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, kind, name = heapq.heappop(heap)
            if kind == _KEY:
                found = self._keys.get(name)
                if found is None:
                    continue
                found.expire(now)
                if not found.at:
                    del self._keys[name]
                else:
                    heapq.heappush(heap, (max(found.expires(), now + 1.0), _KEY, name))
            else:
                flag = self._flags.get(name)
                if flag is None:
                    self._flags_scheduled.discard(name)
                    continue
                expires = flag[1]
                if expires is not None and expires <= now:
                    del self._flags[name]
                    self._flags_scheduled.discard(name)
                elif expires is not None:
                    heapq.heappush(heap, (expires, _FLAG, name))
                else:
                    self._flags_scheduled.discard(name)

    def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """
        Atomically add `member` to `key` unless `limit` members are within `window`.

        Args:
            key: what is limited (a thread, a crowd, a text fingerprint).
            member: what is recorded (a decision id).
            now: the guard's time, POSIX seconds.
            window: the limit's window in seconds; the member expires after it.
            limit: how many members the window may hold.
        """
        with self._lock:
            return self._reserve(key, member, now, window, limit)

    def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """
        Record `member` in `key` at `now`, without a limit.

        Args:
            key: where to record it.
            member: what to record; recorded again, it takes the new time.
            now: the guard's time, POSIX seconds.
            ttl: seconds after which the member may be forgotten.
        """
        with self._lock:
            self._add(key, member, now, ttl)

    def release(self, key: str, member: str) -> bool:
        """
        Take `member` out of `key`; return whether it was there.

        Args:
            key: where it was recorded.
            member: what to take back.
        """
        with self._lock:
            return self._release(key, member)

    def count(self, key: str, *, now: float, window: float) -> int:
        """
        Return how many members of `key` are within ``(now - window, now]``.

        Args:
            key: the key to read.
            now: the guard's time, POSIX seconds.
            window: seconds back from `now`.
        """
        with self._lock:
            return self._count(key, now, window)

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
        """
        with self._lock:
            return self._recent(key, now, window, limit)

    def set_flag(self, name: str, value: str, *, now: float, ttl: float | None) -> None:
        """
        Set a shared flag.

        Args:
            name: the flag's name (flags and keys are separate namespaces).
            value: its value.
            now: the guard's time, POSIX seconds.
            ttl: seconds after `now` when it reads as unset; None: never.
        """
        with self._lock:
            self._set_flag(name, value, now, ttl)

    def get_flag(self, name: str, *, now: float) -> str | None:
        """
        Return a flag's value, or None when unset or expired.

        Args:
            name: the flag's name.
            now: the guard's time, POSIX seconds.
        """
        with self._lock:
            return self._get_flag(name, now)

    def run(self, ops: Sequence[Op]) -> list[Any]:
        """
        Run a batch of operations under one hold of the lock; return their results.

        The results are those of the methods the operations name, in order: each
        operation sees the ones before it (a `count` after an `add` counts it), and no
        other thread runs in between. Called by `run_ops`.

        Args:
            ops: the operations, in order.

        Raises:
            InvalidArgument: an operation names no store method (nothing runs).
            TypeError: an operation's arguments do not fit its method (the operations
                before it have run).
        """
        for op in ops:
            if op.name not in _UNLOCKED:
                raise _unknown(op.name)
        results: list[Any] = []
        append = results.append
        # The usual shapes (``Op("count", (key,), {"now": t, "window": w})``) are read
        # here directly, without a call per operation to parse them: a plain
        # ``f(self, *op.args, **op.kwargs)`` costs about as much as the lock it saves.
        # Any other shape is bound to the public method's signature (`_bound`).
        with self._lock:
            for op in ops:
                name, args, kw = op.name, op.args, op.kwargs
                size, named = len(args), len(kw)
                if (
                    name == "count"
                    and size == 1
                    and named == 2
                    and "now" in kw
                    and "window" in kw
                ):
                    append(self._count(args[0], kw["now"], kw["window"]))
                elif name == "get_flag" and size == 1 and named == 1 and "now" in kw:
                    append(self._get_flag(args[0], kw["now"]))
                elif (
                    name == "add"
                    and size == 2
                    and named == 2
                    and "now" in kw
                    and "ttl" in kw
                ):
                    self._add(args[0], args[1], kw["now"], kw["ttl"])
                    append(None)
                elif (
                    name == "reserve"
                    and size == 2
                    and named == 3
                    and "now" in kw
                    and "window" in kw
                    and "limit" in kw
                ):
                    append(
                        self._reserve(
                            args[0], args[1], kw["now"], kw["window"], kw["limit"]
                        )
                    )
                elif (
                    name == "recent"
                    and size == 1
                    and "now" in kw
                    and "window" in kw
                    and (named == 2 or (named == 3 and "limit" in kw))
                ):
                    limit = kw.get("limit", 50)
                    append(self._recent(args[0], kw["now"], kw["window"], limit))
                elif (
                    name == "set_flag"
                    and size == 2
                    and named == 2
                    and "now" in kw
                    and "ttl" in kw
                ):
                    self._set_flag(args[0], args[1], kw["now"], kw["ttl"])
                    append(None)
                elif name == "release" and size == 2 and not named:
                    append(self._release(args[0], args[1]))
                else:
                    append(_bound(self, name, args, kw))
        return results

    # --- the operations, without the lock (the caller holds it) ----------------------

    def _reserve(
        self, key: str, member: str, now: float, window: float, limit: int
    ) -> Reservation:
        found = self._written(key, now, window)
        low, high = found.span(now, window)
        seen = high - low
        if seen >= limit:
            return Reservation(allowed=False, count=seen)
        found.put(member, now, window)
        return Reservation(allowed=True, count=seen)

    def _add(self, key: str, member: str, now: float, ttl: float) -> None:
        self._written(key, now, ttl).put(member, now, ttl)

    def _release(self, key: str, member: str) -> bool:
        found = self._keys.get(key)
        # an emptied key stays until its heap entry comes due (one entry per key)
        return found is not None and found.remove(member)

    def _count(self, key: str, now: float, window: float) -> int:
        found = self._keys.get(key)
        if found is None:
            return 0
        low, high = found.span(now, window)
        return high - low

    def _recent(
        self, key: str, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        found = self._keys.get(key)
        if found is None or limit <= 0:
            return []
        low, high = found.span(now, window)
        newest = found.order[max(low, high - limit) : high]
        return [(member, at) for at, member in reversed(newest)]

    def _set_flag(self, name: str, value: str, now: float, ttl: float | None) -> None:
        expires = None if ttl is None else now + ttl
        self._flags[name] = (value, expires)
        if self._heap and self._heap[0][0] <= now:
            self._sweep(now)
        if expires is not None and name not in self._flags_scheduled:
            self._flags_scheduled.add(name)
            heapq.heappush(self._heap, (expires, _FLAG, name))

    def _get_flag(self, name: str, now: float) -> str | None:
        found = self._flags.get(name)
        if found is None:
            return None
        value, expires = found
        return None if expires is not None and now >= expires else value

    def clear(self) -> None:
        """Remove every member and flag."""
        with self._lock:
            self._keys.clear()
            self._flags.clear()
            self._heap.clear()
            self._flags_scheduled.clear()

    def close(self) -> None:
        """Do nothing: memory needs no closing (the contents stay)."""


# --- batches ---------------------------------------------------------------------------

_UNLOCKED: dict[str, Callable[..., Any]] = {
    "reserve": MemoryStore._reserve,
    "add": MemoryStore._add,
    "release": MemoryStore._release,
    "count": MemoryStore._count,
    "recent": MemoryStore._recent,
    "set_flag": MemoryStore._set_flag,
    "get_flag": MemoryStore._get_flag,
}
"""The operation a batch may name -> its unlocked twin (`MemoryStore.run`)."""

_SIGNATURES = {
    name: inspect.signature(getattr(MemoryStore, name)) for name in _UNLOCKED
}


def _bound(
    store: MemoryStore, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Run `name` with arguments of any shape its public method accepts (or TypeError)."""
    bound = _SIGNATURES[name].bind(store, *args, **kwargs)
    bound.apply_defaults()
    return _UNLOCKED[name](*bound.args, **bound.kwargs)


def _unknown(name: object) -> InvalidArgument:
    expected = ", ".join(_UNLOCKED)
    return InvalidArgument(
        f"unknown store operation {name!r} in a batch (expected one of {expected})"
    )


class AsyncMemoryStore:
    """
    The asyncio twin of `MemoryStore` (an `AsyncStore`); nothing in it waits.

    Args:
        store: the `MemoryStore` to share with synchronous code; a new one by default.
    """

    url: str = "memory://"

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.sync = MemoryStore() if store is None else store
        """The `MemoryStore` behind this one."""

    def __repr__(self) -> str:
        return f"Async{self.sync!r}"

    async def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """See `MemoryStore.reserve`."""
        return self.sync.reserve(key, member, now=now, window=window, limit=limit)

    async def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """See `MemoryStore.add`."""
        self.sync.add(key, member, now=now, ttl=ttl)

    async def release(self, key: str, member: str) -> bool:
        """See `MemoryStore.release`."""
        return self.sync.release(key, member)

    async def count(self, key: str, *, now: float, window: float) -> int:
        """See `MemoryStore.count`."""
        return self.sync.count(key, now=now, window=window)

    async def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """See `MemoryStore.recent`."""
        return self.sync.recent(key, now=now, window=window, limit=limit)

    async def set_flag(
        self, name: str, value: str, *, now: float, ttl: float | None
    ) -> None:
        """See `MemoryStore.set_flag`."""
        self.sync.set_flag(name, value, now=now, ttl=ttl)

    async def get_flag(self, name: str, *, now: float) -> str | None:
        """See `MemoryStore.get_flag`."""
        return self.sync.get_flag(name, now=now)

    async def run(self, ops: Sequence[Op]) -> list[Any]:
        """See `MemoryStore.run`: the batch runs under one hold of the lock."""
        return self.sync.run(ops)

    async def clear(self) -> None:
        """See `MemoryStore.clear`."""
        self.sync.clear()

    async def aclose(self) -> None:
        """See `MemoryStore.close`."""
        self.sync.close()
