"""
The Redis stores: the guard's memory shared by many workers on many machines.

`RedisStore` (over ``redis.Redis``) and `AsyncRedisStore` (over ``redis.asyncio.Redis``)
implement `Store` and `AsyncStore` with the same keys and the same Lua scripts:

- a key is two sorted sets with the same members: ``<prefix>z:<key>`` scores each
  member with its time, ``<prefix>e:<key>`` with the time it expires (``now + window``
  for a reservation, ``now + ttl`` for an add), both on the guard's clock; a write
  first drops the members expired at its ``now`` (the memory store's semantics);
- `reserve`, `add` and `release` are Lua scripts (``_lua/*.lua``): the check and the
  record are one atomic step, and two workers racing for the last slot get exactly
  one allowed;
- a flag is a string ``<prefix>f:<name>`` holding its expiry time on the guard's clock
  and its value; it is compared with the ``now`` passed in, never with the server's
  clock.

Windows and flag expiries are judged on the guard's clock only. Redis expiries
(``PEXPIRE``, ``SET PX``) only clean up: they are set generously (twice the window plus
a minute, `CLEANUP_FACTOR` and `CLEANUP_MARGIN`), so that a guard whose clock runs
slower than the server's never loses members it still counts.

The scripts are registered once per client and sent by their SHA (``EVALSHA``);
redis-py loads them again when the server has forgotten them (a restart).

A batch (``run(ops)``, see `run_ops`) is one non-transactional pipeline: one round
trip, the operations running in order (each sees the ones before it), each atomic, the
batch not (another worker's commands may run between two of them). Its scripts are
sent by SHA as well, without the ``SCRIPT EXISTS`` that redis-py sends before a
pipeline running `Script` objects (a second round trip): a store loads every script
before its first batch, and when the server answers ``NOSCRIPT`` (a restart, a
``SCRIPT FLUSH``) it loads them again and sends the batch again from its first refused
operation (the operations after it that did run are reads and flag writes, which give
the same answer twice). Should a script have run after the refused one (the server
had forgotten some scripts and not others), the batch raises `StoreError` instead of
running that script twice; the scripts are loaded by then, and the next batch runs.

Every failure of Redis (down, timeout, a refused command) raises `StoreError` with
``backend="redis"``, naming the URL without its password; the redis-py error is the
``__cause__``. A connection dropped under a command is retried once, at once, on a
fresh connection; timeouts are not retried. A `reserve` that failed after reaching
the server (a dropped reply, a timeout) may still have taken its slot: the guard sent
nothing for it, so a slot can be lost that way, never given twice.

Clocks: a window is ``(now - window, now]`` on each worker's own clock, so a worker
whose clock lags the others does not count the members they stamped in its future;
keep the workers' clocks in sync (NTP) to keep limits exact across machines. The two
sorted sets of a key are not hash-tagged: the stores target one Redis (or a primary
with replicas), not Redis Cluster.

What a restart forgets: without persistence (``appendonly no``, no RDB snapshot) a
restarted Redis holds nothing: every window starts empty (replies already sent count
zero, so a limit allows up to ``max`` again) and every flag (a pause, an open storm
breaker) is unset. Run Redis with ``appendonly yes`` (``appendfsync everysec`` loses at
most about a second) to keep them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.backoff
import redis.exceptions
import redis.retry

from replyguard.errors import ConfigurationError, InvalidArgument, StoreError
from replyguard.state._protocol import Op, Reservation

__all__ = ["CLEANUP_FACTOR", "CLEANUP_MARGIN", "AsyncRedisStore", "RedisStore"]

CLEANUP_FACTOR = 2.0
"""Redis expiries last this many times the window or ttl (plus `CLEANUP_MARGIN`)."""

CLEANUP_MARGIN = 60.0
"""Seconds added to every Redis expiry, so that short windows are not cut short."""

_MAX_CLEANUP_MS = 2**40
"""The longest Redis expiry set (about 35 years); longer windows get this one."""

_BACKEND = "redis"
_NEVER = "-"


def _lua(name: str) -> str:
    """Return the source of ``_lua/<name>.lua``, shipped as package data."""
    lua = resources.files("replyguard.state").joinpath("_lua", f"{name}.lua")
    return lua.read_text(encoding="utf-8")


def _script(name: str) -> str:
    """Return the script `name`, after the helpers of ``_lua/_purge.lua``."""
    return f"{_lua('_purge')}\n{_lua(name)}"


def _redact(url: str) -> str:
    """Return `url` without its password (``redis://user:secret@h`` -> ``redis://user@h``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc))


def _score(value: float) -> str:
    """Format a time for Redis exactly (Lua and ``%g`` would round it)."""
    if math.isnan(value):
        raise StoreError("a time in the redis store cannot be nan", backend=_BACKEND)
    return repr(float(value))


def _cleanup_ms(seconds: float | None) -> int:
    """Return the Redis expiry (milliseconds) for a window or ttl; 0 means none."""
    if seconds is None or math.isnan(seconds):
        return 0
    ms = (max(seconds, 0.0) * CLEANUP_FACTOR + CLEANUP_MARGIN) * 1000.0
    return _MAX_CLEANUP_MS if ms >= _MAX_CLEANUP_MS else math.ceil(ms)


def _glob_escape(text: str) -> str:
    """Escape the characters ``SCAN MATCH`` reads as a pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _flag_payload(value: str, now: float, ttl: float | None) -> str:
    expires = _NEVER if ttl is None else _score(now + ttl)
    return f"{expires} {value}"


def _flag_value(payload: bytes | str | None, now: float) -> str | None:
    if payload is None:
        return None
    if isinstance(payload, bytes):
        payload = payload.decode()
    expires, _, value = payload.partition(" ")
    if expires != _NEVER and now >= float(expires):
        return None
    return value


@dataclass(frozen=True, slots=True)
class _Keys:
    """The key layout and argument formatting both twins share."""

    prefix: str

    def zsets(self, key: str) -> list[str]:
        """Return the two sorted sets of `key`: member -> time, member -> expiry."""
        return [f"{self.prefix}z:{key}", f"{self.prefix}e:{key}"]

    def zset(self, key: str) -> str:
        return f"{self.prefix}z:{key}"

    def flag(self, name: str) -> str:
        return f"{self.prefix}f:{name}"

    def pattern(self) -> str:
        return _glob_escape(self.prefix) + "*"

    @staticmethod
    def reserve_args(
        member: str, now: float, window: float, limit: int
    ) -> list[str | int]:
        return [
            member,
            _score(now),
            _score(now - window),
            limit,
            _score(now + window),
            _cleanup_ms(window),
        ]

    @staticmethod
    def add_args(member: str, now: float, ttl: float) -> list[str | int]:
        return [member, _score(now), _score(now + ttl), _cleanup_ms(ttl)]

    @staticmethod
    def range_args(now: float, window: float) -> tuple[str, str]:
        """Return ``(min, max)`` for the window ``(now - window, now]``."""
        return f"({_score(now - window)}", _score(now)


def _reservation(result: Any) -> Reservation:
    allowed, count = result
    return Reservation(allowed=bool(int(allowed)), count=int(count))


def _pairs(rows: Any) -> list[tuple[str, float]]:
    return [(str(member), float(score)) for member, score in rows]


@contextmanager
def _translated(url: str, operation: str) -> Iterator[None]:
    """Turn any redis-py error into a `StoreError` naming the (redacted) URL."""
    try:
        yield
    except redis.exceptions.RedisError as exc:
        kind = type(exc).__name__
        detail = str(exc).replace("\n", " ").strip() or kind
        message = f"redis store at `{url}` failed to {operation}: {kind}: {detail}"
        raise StoreError(message, backend=_BACKEND) from exc


# --- batches -------------------------------------------------------------------------

_OPERATIONS = {
    "reserve": "reserve",
    "add": "add",
    "release": "release",
    "count": "count",
    "recent": "read recent members",
    "set_flag": "set a flag",
    "get_flag": "read a flag",
}
"""The operations a batch may name, and how an error message names each."""

_SCRIPTED = frozenset({"reserve", "add", "release"})


def _none(_: Any) -> None:
    return None


def _empty(_: Any) -> list[tuple[str, float]]:
    return []


@dataclass(frozen=True, slots=True)
class _Step:
    """One operation of a batch: how to queue its command, and read its answer."""

    name: str
    queue: Callable[[Any], Any] | None
    """Queue the command on a pipeline; None: the answer needs no command."""
    convert: Callable[[Any], Any]
    """Turn the raw answer into the method's result."""
    script: Any = None
    """The registered `Script` the command runs by SHA, if any."""


class _Batch:
    """
    The steps of one batch, shared by both twins (only the sending differs).

    Planning binds every operation to its method's signature and formats every
    argument before anything is sent: a bad batch raises and runs nothing.
    """

    def __init__(self, keys: _Keys, scripts: dict[str, Any], ops: Sequence[Op]) -> None:
        self.steps = [self._plan(keys, scripts, op) for op in ops]
        self.what = f"run a batch ({', '.join(step.name for step in self.steps)})"

    @staticmethod
    def _plan(keys: _Keys, scripts: dict[str, Any], op: Op) -> _Step:
        signature = _SIGNATURES.get(op.name)
        if signature is None:
            expected = ", ".join(_SIGNATURES)
            msg = f"unknown store operation {op.name!r} in a batch (expected one of {expected})"
            raise InvalidArgument(msg)
        bound = signature.bind(None, *op.args, **op.kwargs)
        bound.apply_defaults()
        a = bound.arguments
        name = op.name
        if name in _SCRIPTED:
            script = scripts[name]
            zsets = keys.zsets(a["key"])
            if name == "reserve":
                argv = keys.reserve_args(a["member"], a["now"], a["window"], a["limit"])
                convert: Callable[[Any], Any] = _reservation
            elif name == "add":
                argv = keys.add_args(a["member"], a["now"], a["ttl"])
                convert = _none
            else:
                argv = [a["member"]]
                convert = bool

            def evalsha(pipe: Any) -> Any:
                return pipe.evalsha(script.sha, len(zsets), *zsets, *argv)

            return _Step(name, evalsha, convert, script)
        if name == "count":
            low, high = keys.range_args(a["now"], a["window"])
            zset = keys.zset(a["key"])
            return _Step(name, lambda pipe: pipe.zcount(zset, low, high), int)
        if name == "recent":
            limit = a["limit"]
            if limit <= 0:
                return _Step(name, None, _empty)
            low, high = keys.range_args(a["now"], a["window"])
            zset = keys.zset(a["key"])
            return _Step(
                name,
                lambda pipe: pipe.zrevrangebyscore(
                    zset, high, low, start=0, num=limit, withscores=True
                ),
                _pairs,
            )
        if name == "set_flag":
            flag = keys.flag(a["name"])
            payload = _flag_payload(a["value"], a["now"], a["ttl"])
            px = _cleanup_ms(a["ttl"]) or None
            return _Step(name, lambda pipe: pipe.set(flag, payload, px=px), _none)
        flag, now = keys.flag(a["name"]), a["now"]  # get_flag
        return _Step(
            name, lambda pipe: pipe.get(flag), lambda raw: _flag_value(raw, now)
        )

    def queue(self, pipe: Any, start: int) -> None:
        """Queue the commands of the steps from `start` on."""
        for step in self.steps[start:]:
            if step.queue is not None:
                step.queue(pipe)

    def answers(self, raw: list[Any], start: int) -> list[Any]:
        """Align the pipeline's answers with the steps from `start` (None: no command)."""
        replies = iter(raw)
        return [
            None if step.queue is None else next(replies) for step in self.steps[start:]
        ]

    @staticmethod
    def refused(answers: list[Any]) -> int | None:
        """Return the first step the server refused with ``NOSCRIPT``, or None."""
        for index, answer in enumerate(answers):
            if isinstance(answer, redis.exceptions.NoScriptError):
                return index
        return None

    def check_resend(self, url: str, answers: list[Any], start: int) -> None:
        """
        Raise `StoreError` unless the steps from `start` may be sent again.

        They may when no script ran after the refused one: the other operations are
        reads and flag writes, which give the same answer twice. A script that ran
        (the server knew some scripts and not others) must not run twice.
        """
        for step, answer in zip(self.steps[start:], answers[start:], strict=True):
            if step.script is not None and not isinstance(
                answer, redis.exceptions.NoScriptError
            ):
                with _translated(url, self.what):
                    raise answers[start]

    def results(self, url: str, answers: list[Any]) -> list[Any]:
        """Convert each answer as the single-op method does; an error is a `StoreError`."""
        results = []
        for step, answer in zip(self.steps, answers, strict=True):
            if isinstance(answer, Exception):
                with _translated(url, _OPERATIONS[step.name]):
                    raise answer
            results.append(step.convert(answer))
        return results


def _client_options(socket_timeout: float) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
    }


def _check_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss", "unix"}:
        raise ConfigurationError(
            f"`{_redact(url)}` is not a redis url (redis://, rediss:// or unix://)"
        )
    return _redact(url)


class RedisStore:
    """
    A `Store` in Redis, shared by every worker that uses the same URL and prefix.

    Args:
        url: ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS,
            ``unix:///path.sock``); redis-py's URL options apply.
        prefix: every key this store writes starts with it: two stores with different
            prefixes on one server never see each other's data.
        socket_timeout: seconds to wait for a connection or a reply before the
            operation raises `StoreError` (keep it short: the guard then falls back to
            the policy's ``on_error`` action instead of holding the reply).
        max_connections: the most connections open at once; an operation waits up
            to `socket_timeout` for a free one (threads or tasks beyond it queue).

    The client connects lazily: creating the store never fails because Redis is down.
    `url` holds the URL without its password.
    """

    url: str

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "replyguard:",
        socket_timeout: float = 2.0,
        max_connections: int = 50,
    ) -> None:
        self.url = _check_url(url)
        self.prefix = prefix
        self._keys = _Keys(prefix)
        retry = redis.retry.Retry(
            redis.backoff.NoBackoff(),
            1,
            supported_errors=(redis.exceptions.ConnectionError,),
        )
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=socket_timeout,
            retry=retry,
            **_client_options(socket_timeout),
        )
        self._client = redis.Redis.from_pool(pool)
        self._reserve = self._client.register_script(_script("reserve"))
        self._add = self._client.register_script(_script("add"))
        self._release = self._client.register_script(_lua("release"))
        self._scripts = {
            "reserve": self._reserve,
            "add": self._add,
            "release": self._release,
        }
        self._loaded = False  # whether a batch loaded the scripts (`_load_scripts`)

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r}, prefix={self.prefix!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """Atomically add `member` to `key` unless `limit` members are within `window`."""
        args = self._keys.reserve_args(member, now, window, limit)
        with _translated(self.url, "reserve"):
            result = self._reserve(keys=self._keys.zsets(key), args=args)
        return _reservation(result)

    def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """Record `member` in `key` at `now`; it expires `ttl` seconds later."""
        args = self._keys.add_args(member, now, ttl)
        with _translated(self.url, "add"):
            self._add(keys=self._keys.zsets(key), args=args)

    def release(self, key: str, member: str) -> bool:
        """Take `member` out of `key`; return whether it was there."""
        with _translated(self.url, "release"):
            removed = self._release(keys=self._keys.zsets(key), args=[member])
        return bool(removed)

    def count(self, key: str, *, now: float, window: float) -> int:
        """Return how many members of `key` are within ``(now - window, now]``."""
        low, high = self._keys.range_args(now, window)
        with _translated(self.url, "count"):
            found = self._client.zcount(self._keys.zset(key), low, high)
        return int(found)

    def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """Return up to `limit` members within the window, newest first, with times."""
        if limit <= 0:
            return []
        low, high = self._keys.range_args(now, window)
        with _translated(self.url, "read recent members"):
            rows = self._client.zrevrangebyscore(
                self._keys.zset(key), high, low, start=0, num=limit, withscores=True
            )
        return _pairs(rows)

    def set_flag(self, name: str, value: str, *, now: float, ttl: float | None) -> None:
        """Set a shared flag; it reads as unset `ttl` seconds after `now` (None: never)."""
        payload = _flag_payload(value, now, ttl)
        ms = _cleanup_ms(ttl)
        with _translated(self.url, "set a flag"):
            self._client.set(self._keys.flag(name), payload, px=ms or None)

    def get_flag(self, name: str, *, now: float) -> str | None:
        """Return a flag's value, or None when unset or expired at `now`."""
        with _translated(self.url, "read a flag"):
            payload = self._client.get(self._keys.flag(name))
        return _flag_value(payload, now)

    def run(self, ops: Sequence[Op]) -> list[Any]:
        """
        Run a batch of operations in one round trip; return their results, in order.

        One non-transactional pipeline: the results are those of the methods the
        operations name, each operation sees the ones before it, and each is atomic
        (`reserve` still is); another worker's commands may run between two of them.
        When the server has forgotten the scripts (``NOSCRIPT``), they are loaded and
        the batch is sent again from the first refused operation. Called by `run_ops`.

        Args:
            ops: the operations, in order.

        Raises:
            InvalidArgument: an operation names no store method (nothing is sent).
            TypeError: an operation's arguments do not fit its method (nothing is sent).
            StoreError: Redis failed (down, timeout, a refused command); the operations
                before the failed one may have taken effect.
        """
        batch = _Batch(self._keys, self._scripts, ops)
        if not self._loaded:
            self._load_scripts()
        answers = self._send(batch, 0)
        start = batch.refused(answers)
        if start is not None:
            self._load_scripts()
            batch.check_resend(self.url, answers, start)
            answers[start:] = self._send(batch, start)
        return batch.results(self.url, answers)

    def _load_scripts(self) -> None:
        """Load every script on the server, in one round trip."""
        with (
            _translated(self.url, "load the scripts"),
            self._client.pipeline(transaction=False) as pipe,
        ):
            for script in self._scripts.values():
                pipe.script_load(script.script)
            pipe.execute()
        self._loaded = True

    def _send(self, batch: _Batch, start: int) -> list[Any]:
        """Send the steps of `batch` from `start` in one pipeline; align the answers."""
        with (
            _translated(self.url, batch.what),
            self._client.pipeline(transaction=False) as pipe,
        ):
            batch.queue(pipe, start)
            raw = pipe.execute(raise_on_error=False) if len(pipe) else []
        return batch.answers(raw, start)

    def clear(self) -> None:
        """Remove every key under this store's prefix (and nothing else)."""
        with _translated(self.url, "clear"):
            batch: list[str] = []
            for name in self._client.scan_iter(match=self._keys.pattern(), count=500):
                batch.append(name)
                if len(batch) >= 500:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


_SIGNATURES = {
    name: inspect.signature(getattr(RedisStore, name)) for name in _OPERATIONS
}
"""The signature each operation's arguments are bound to (`_Batch`)."""


class AsyncRedisStore:
    """
    The asyncio twin of `RedisStore` (an `AsyncStore`), over ``redis.asyncio``.

    It takes the same arguments, writes the same keys and runs the same scripts: sync
    and async workers can share one Redis. Close it with `aclose` (or ``async with``).
    """

    url: str

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "replyguard:",
        socket_timeout: float = 2.0,
        max_connections: int = 50,
    ) -> None:
        self.url = _check_url(url)
        self.prefix = prefix
        self._keys = _Keys(prefix)
        retry = redis.asyncio.retry.Retry(
            redis.backoff.NoBackoff(),
            1,
            supported_errors=(redis.exceptions.ConnectionError,),
        )
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=socket_timeout,
            retry=retry,
            **_client_options(socket_timeout),
        )
        self._client = redis.asyncio.Redis.from_pool(pool)
        self._reserve = self._client.register_script(_script("reserve"))
        self._add = self._client.register_script(_script("add"))
        self._release = self._client.register_script(_lua("release"))
        self._scripts = {
            "reserve": self._reserve,
            "add": self._add,
            "release": self._release,
        }
        self._loaded = False  # whether a batch loaded the scripts (`_load_scripts`)

    def __repr__(self) -> str:
        return f"AsyncRedisStore({self.url!r}, prefix={self.prefix!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def reserve(
        self, key: str, member: str, *, now: float, window: float, limit: int
    ) -> Reservation:
        """See `RedisStore.reserve`."""
        args = self._keys.reserve_args(member, now, window, limit)
        with _translated(self.url, "reserve"):
            result = await self._reserve(keys=self._keys.zsets(key), args=args)
        return _reservation(result)

    async def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        """See `RedisStore.add`."""
        args = self._keys.add_args(member, now, ttl)
        with _translated(self.url, "add"):
            await self._add(keys=self._keys.zsets(key), args=args)

    async def release(self, key: str, member: str) -> bool:
        """See `RedisStore.release`."""
        with _translated(self.url, "release"):
            removed = await self._release(keys=self._keys.zsets(key), args=[member])
        return bool(removed)

    async def count(self, key: str, *, now: float, window: float) -> int:
        """See `RedisStore.count`."""
        low, high = self._keys.range_args(now, window)
        with _translated(self.url, "count"):
            found = await self._client.zcount(self._keys.zset(key), low, high)
        return int(found)

    async def recent(
        self, key: str, *, now: float, window: float, limit: int = 50
    ) -> list[tuple[str, float]]:
        """See `RedisStore.recent`."""
        if limit <= 0:
            return []
        low, high = self._keys.range_args(now, window)
        with _translated(self.url, "read recent members"):
            rows = await self._client.zrevrangebyscore(
                self._keys.zset(key), high, low, start=0, num=limit, withscores=True
            )
        return _pairs(rows)

    async def set_flag(
        self, name: str, value: str, *, now: float, ttl: float | None
    ) -> None:
        """See `RedisStore.set_flag`."""
        payload = _flag_payload(value, now, ttl)
        ms = _cleanup_ms(ttl)
        with _translated(self.url, "set a flag"):
            await self._client.set(self._keys.flag(name), payload, px=ms or None)

    async def get_flag(self, name: str, *, now: float) -> str | None:
        """See `RedisStore.get_flag`."""
        with _translated(self.url, "read a flag"):
            payload = await self._client.get(self._keys.flag(name))
        return _flag_value(payload, now)

    async def run(self, ops: Sequence[Op]) -> list[Any]:
        """See `RedisStore.run`: one pipeline, one round trip."""
        batch = _Batch(self._keys, self._scripts, ops)
        if not self._loaded:
            await self._load_scripts()
        answers = await self._send(batch, 0)
        start = batch.refused(answers)
        if start is not None:
            await self._load_scripts()
            batch.check_resend(self.url, answers, start)
            answers[start:] = await self._send(batch, start)
        return batch.results(self.url, answers)

    async def _load_scripts(self) -> None:
        """See `RedisStore._load_scripts`."""
        with _translated(self.url, "load the scripts"):
            async with self._client.pipeline(transaction=False) as pipe:
                for script in self._scripts.values():
                    pipe.script_load(script.script)
                await pipe.execute()
        self._loaded = True

    async def _send(self, batch: _Batch, start: int) -> list[Any]:
        """See `RedisStore._send`."""
        with _translated(self.url, batch.what):
            async with self._client.pipeline(transaction=False) as pipe:
                batch.queue(pipe, start)
                raw = await pipe.execute(raise_on_error=False) if len(pipe) else []
        return batch.answers(raw, start)

    async def clear(self) -> None:
        """See `RedisStore.clear`."""
        with _translated(self.url, "clear"):
            batch: list[str] = []
            async for name in self._client.scan_iter(
                match=self._keys.pattern(), count=500
            ):
                batch.append(name)
                if len(batch) >= 500:
                    await self._client.unlink(*batch)
                    batch.clear()
            if batch:
                await self._client.unlink(*batch)

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()
