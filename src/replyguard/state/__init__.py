"""
The guard's memory: stores shared by every review and every worker.

A store is chosen by URL:

- ``memory://``: this process only (the default; `MemoryStore`).
- ``sqlite:///relative.db`` or ``sqlite:////absolute/path.db``: one file shared by the
  processes of one machine (`SQLiteStore`).
- ``redis://host:port/db`` (``rediss://`` for TLS, ``unix:///path.sock``): many
  workers on many machines (``replyguard[redis]``).

`store_from_url` builds a `Store`, `async_store_from_url` its asyncio twin. The
operations and their semantics are in `Store`'s module; `replyguard.testing`
checks a backend against them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, cast

from replyguard.errors import ConfigurationError
from replyguard.state._protocol import AsyncStore, Reservation, Store
from replyguard.state.memory import AsyncMemoryStore, MemoryStore
from replyguard.state.sqlite import AsyncSQLiteStore, SQLiteStore

__all__ = [
    "SCHEMES",
    "AsyncMemoryStore",
    "AsyncSQLiteStore",
    "AsyncStore",
    "MemoryStore",
    "Reservation",
    "SQLiteStore",
    "Store",
    "async_store_from_url",
    "store_from_url",
]

SCHEMES: tuple[str, ...] = ("memory", "redis", "rediss", "sqlite", "unix")
"""The URL schemes `store_from_url` knows (``rediss``: Redis over TLS; ``unix``: Redis on a socket)."""


def store_from_url(url: str) -> Store:
    """
    Build the store a URL names.

    Args:
        url: ``memory://``, ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or
            ``redis://host:port/db``.

    Raises:
        ConfigurationError: the scheme is unknown, the URL is malformed, or the
            backend's package is not installed.
        StoreError: the store cannot be opened (a corrupt or locked SQLite file).
    """
    scheme = _scheme(url)
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        return SQLiteStore(_sqlite_path(url))
    return cast("Store", _redis_store(url, "RedisStore"))


def async_store_from_url(url: str) -> AsyncStore:
    """
    Build the asyncio store a URL names (the twin of `store_from_url`).

    Args:
        url: ``memory://``, ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or
            ``redis://host:port/db``.

    Raises:
        ConfigurationError: the scheme is unknown, the URL is malformed, or the
            backend's package is not installed.
        StoreError: the store cannot be opened (a corrupt or locked SQLite file).
    """
    scheme = _scheme(url)
    if scheme == "memory":
        return AsyncMemoryStore()
    if scheme == "sqlite":
        return AsyncSQLiteStore(_sqlite_path(url))
    return cast("AsyncStore", _redis_store(url, "AsyncRedisStore"))


def _scheme(url: str) -> str:
    scheme, separator, _ = url.partition("://")
    if not separator or scheme.lower() not in SCHEMES:
        known = ", ".join(f"`{name}://`" for name in SCHEMES)
        raise ConfigurationError(
            f"unknown store url `{url}`: known schemes are {known}"
        )
    return scheme.lower()


def _sqlite_path(url: str) -> str:
    prefix = "sqlite:///"
    path = url[len(prefix) :] if url.lower().startswith(prefix) else ""
    if not path or path == ":memory:":
        raise ConfigurationError(
            f"bad sqlite store url `{url}`: use `sqlite:///relative.db` or "
            "`sqlite:////absolute/path.db` (for a store in memory, `memory://`)"
        )
    return path


def _redis_store(url: str, name: str) -> Any:
    """Build ``replyguard.state.redis.<name>`` from `url`, importing redis only now."""
    try:
        module: ModuleType = importlib.import_module("replyguard.state.redis")
    except ImportError as exc:
        raise ConfigurationError(
            "the redis store needs the redis package: install `replyguard[redis]`"
        ) from exc
    return getattr(module, name)(url)
