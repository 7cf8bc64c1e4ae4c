"""
The Redis stores against a real ``redis-server``.

CI points ``REPLYGUARD_TEST_REDIS_URL`` at a server (``.ci/run``); without it, the
session starts its own ``redis-server`` on a free loopback port and stops it after.
Tests that kill a server start a dedicated one. Every test writes under its own
prefix, so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from replyguard.errors import ConfigurationError, InvalidArgument, StoreError
from replyguard.state import async_store_from_url, store_from_url
from replyguard.state._protocol import AsyncStore, Op, Reservation, Store, run_ops
from replyguard.state.redis import AsyncRedisStore, RedisStore
from replyguard.testing.store_conformance import (
    AsyncStoreConformance,
    StoreConformance,
    store_machine,
)

pytestmark = pytest.mark.redis

T0 = 1_732_368_000.0  # a POSIX time on the guard's clock, far from the server's
HOUR = 3600.0


# --- a real redis-server ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A ``redis-server`` subprocess without persistence, on a loopback port."""

    def __init__(
        self, directory: Path, port: int | None = None, *, appendonly: bool = False
    ) -> None:
        self.directory = directory
        self.port = port or _free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable, "redis-server is missing: apt-get install -y redis-server"
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "always",
                "--daemonize",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers_ping(self.port):
            assert self.process.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.02)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL): no shutdown, no goodbye to clients."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REPLYGUARD_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def dedicated(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of this test's own, that the test may kill and restart."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client, to look at the keys the store writes."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def store(redis_url: str, prefix: str) -> Iterator[RedisStore]:
    with RedisStore(redis_url, prefix=prefix) as store:
        yield store
        store.clear()


@pytest.fixture
async def astore(redis_url: str, prefix: str) -> AsyncIterator[AsyncRedisStore]:
    async with AsyncRedisStore(redis_url, prefix=prefix) as store:
        yield store
        await store.clear()


# --- the protocol -------------------------------------------------------------------


def test_the_twins_implement_the_protocols(store: RedisStore, redis_url: str) -> None:
    assert isinstance(store, Store)
    sync_store: object = store
    assert not isinstance(sync_store, AsyncStore)
    async_store = AsyncRedisStore(redis_url)
    try:
        assert isinstance(async_store, AsyncStore)
    finally:
        asyncio.run(async_store.aclose())


def test_store_from_url_builds_the_redis_twins(redis_url: str) -> None:
    built = store_from_url(redis_url)
    try:
        assert isinstance(built, RedisStore)
        assert built.url == redis_url
    finally:
        built.close()

    async def build() -> None:
        abuilt = async_store_from_url(redis_url)
        assert isinstance(abuilt, AsyncRedisStore)
        await abuilt.aclose()

    asyncio.run(build())


def test_the_lua_scripts_ship_as_package_data() -> None:
    from importlib import resources  # noqa: PLC0415

    lua = resources.files("replyguard.state").joinpath("_lua")
    names = {entry.name for entry in lua.iterdir()}
    assert {"_purge.lua", "reserve.lua", "add.lua", "release.lua"} <= names


# --- the conformance suite and the model ---------------------------------------------


class TestRedisStoreConformance(StoreConformance):
    @pytest.fixture
    def store(self, redis_url: str, prefix: str) -> Iterator[RedisStore]:
        with RedisStore(redis_url, prefix=prefix) as store:
            yield store
            store.clear()


class TestAsyncRedisStoreConformance(AsyncStoreConformance):
    @pytest.fixture
    async def store(
        self, redis_url: str, prefix: str
    ) -> AsyncIterator[AsyncRedisStore]:
        async with AsyncRedisStore(redis_url, prefix=prefix) as store:
            yield store
            await store.clear()


def test_the_redis_store_agrees_with_the_model(redis_url: str, prefix: str) -> None:
    def fresh() -> RedisStore:
        return RedisStore(redis_url, prefix=f"{prefix}{uuid.uuid4().hex}:")

    try:
        run_state_machine_as_test(
            store_machine(fresh), settings=settings(deadline=None)
        )
    finally:
        with RedisStore(redis_url, prefix=prefix) as everything:
            everything.clear()


# --- reserve ------------------------------------------------------------------------


def test_reserve_allows_up_to_the_limit_then_refuses(store: RedisStore) -> None:
    answers = [
        store.reserve("thread:1", f"d{i}", now=T0 + i, window=HOUR, limit=3)
        for i in range(5)
    ]
    assert answers == [
        Reservation(allowed=True, count=0),
        Reservation(allowed=True, count=1),
        Reservation(allowed=True, count=2),
        Reservation(allowed=False, count=3),
        Reservation(allowed=False, count=3),
    ]
    assert store.count("thread:1", now=T0 + 10, window=HOUR) == 3
    assert [m for m, _ in store.recent("thread:1", now=T0 + 10, window=HOUR)] == [
        "d2",
        "d1",
        "d0",
    ]


def test_reserve_with_a_limit_of_zero_never_allows(store: RedisStore) -> None:
    assert store.reserve("k", "a", now=T0, window=HOUR, limit=0) == Reservation(
        allowed=False, count=0
    )
    assert store.count("k", now=T0, window=HOUR) == 0


def test_the_window_is_open_at_the_start_and_closed_at_now(store: RedisStore) -> None:
    store.reserve("k", "old", now=T0, window=10.0, limit=5)
    # at T0 + 10 the member at T0 is exactly at now - window: outside (now - window, now]
    assert store.count("k", now=T0 + 10, window=10.0) == 0
    assert store.count("k", now=T0 + 9.999, window=10.0) == 1
    # a member is within the window at its own time, and not before it
    assert store.count("k", now=T0, window=10.0) == 1
    assert store.count("k", now=T0 - 0.001, window=10.0) == 0
    assert store.reserve("k", "new", now=T0 + 10, window=10.0, limit=1).allowed


def test_the_window_slides(store: RedisStore) -> None:
    for i in range(3):
        assert store.reserve("k", f"m{i}", now=T0 + i, window=60.0, limit=3).allowed
    assert not store.reserve("k", "late", now=T0 + 59.0, window=60.0, limit=3).allowed
    # m0 leaves the window at T0 + 60: one slot opens
    assert store.reserve("k", "m3", now=T0 + 60.0, window=60.0, limit=3) == (
        Reservation(allowed=True, count=2)
    )
    assert not store.reserve("k", "m4", now=T0 + 60.5, window=60.0, limit=3).allowed


def test_times_keep_full_precision(store: RedisStore) -> None:
    now = 1_732_368_000.123456
    store.reserve("k", "m", now=now, window=0.000001, limit=1)
    assert store.recent("k", now=now, window=1.0) == [("m", now)]
    assert store.count("k", now=now + 0.000001, window=0.000001) == 0
    assert store.count("k", now=now + 0.0000005, window=0.000001) == 1


def test_a_member_added_twice_is_one_member_at_the_later_time(
    store: RedisStore,
) -> None:
    assert store.reserve("k", "m", now=T0, window=HOUR, limit=5).allowed
    assert store.reserve("k", "m", now=T0 + 5, window=HOUR, limit=5) == Reservation(
        allowed=True, count=1
    )
    assert store.recent("k", now=T0 + 5, window=HOUR) == [("m", T0 + 5)]
    store.add("k", "m", now=T0 + 7, ttl=HOUR)
    assert store.recent("k", now=T0 + 7, window=HOUR) == [("m", T0 + 7)]


def test_members_expire_with_their_own_window_on_the_guard_clock(
    store: RedisStore,
) -> None:
    store.reserve("k", "short", now=T0, window=10.0, limit=5)
    store.add("k", "long", now=T0, ttl=HOUR)
    # a later write drops the member whose window has passed, whatever is read after
    store.add("k", "probe", now=T0 + 20, ttl=HOUR)
    assert [m for m, _ in store.recent("k", now=T0 + 20, window=HOUR)] == [
        "probe",
        "long",
    ]


def test_reserve_never_reads_the_server_clock(store: RedisStore) -> None:
    # yesterday's traffic, replayed: the windows are those of the guard's clock
    yesterday = time.time() - 86_400
    assert store.reserve("k", "a", now=yesterday, window=60.0, limit=1).allowed
    assert not store.reserve("k", "b", now=yesterday + 30, window=60.0, limit=1).allowed
    assert store.reserve("k", "c", now=yesterday + 61, window=60.0, limit=1).allowed


# --- add, release, count, recent ----------------------------------------------------


def test_add_records_without_a_limit(store: RedisStore) -> None:
    for i in range(20):
        store.add("inbound", f"p{i}", now=T0 + i, ttl=HOUR)
    assert store.count("inbound", now=T0 + 19, window=HOUR) == 20
    assert store.count("inbound", now=T0 + 19, window=10.0) == 10


def test_release_takes_a_member_back_and_frees_its_slot(store: RedisStore) -> None:
    assert store.reserve("k", "a", now=T0, window=HOUR, limit=1).allowed
    assert not store.reserve("k", "b", now=T0 + 1, window=HOUR, limit=1).allowed
    assert store.release("k", "a") is True
    assert store.release("k", "a") is False
    assert store.release("missing", "a") is False
    assert store.reserve("k", "b", now=T0 + 2, window=HOUR, limit=1).allowed


def test_recent_is_newest_first_and_limited(store: RedisStore) -> None:
    for i in range(10):
        store.add("k", f"m{i}", now=T0 + i, ttl=HOUR)
    assert store.recent("k", now=T0 + 9, window=HOUR, limit=3) == [
        ("m9", T0 + 9),
        ("m8", T0 + 8),
        ("m7", T0 + 7),
    ]
    assert store.recent("k", now=T0 + 5, window=2.0) == [("m5", T0 + 5), ("m4", T0 + 4)]
    assert store.recent("k", now=T0 + 9, window=HOUR, limit=0) == []
    assert store.recent("missing", now=T0, window=HOUR) == []


def test_recent_orders_ties_by_reverse_member(store: RedisStore) -> None:
    for member in ("b", "a", "c"):
        store.add("k", member, now=T0, ttl=HOUR)
    assert store.recent("k", now=T0, window=HOUR) == [
        ("c", T0),
        ("b", T0),
        ("a", T0),
    ]


def test_members_and_keys_may_hold_any_text(store: RedisStore) -> None:
    key = "crowd:@brand 🚀 [x]*?"
    member = "d\u00e9cision \n1"
    assert store.reserve(key, member, now=T0, window=HOUR, limit=1).allowed
    assert store.recent(key, now=T0, window=HOUR) == [(member, T0)]


# --- flags --------------------------------------------------------------------------


def test_a_flag_expires_on_the_guard_clock(store: RedisStore) -> None:
    assert store.get_flag("pause", now=T0) is None
    store.set_flag("pause", "incident 42", now=T0, ttl=60.0)
    assert store.get_flag("pause", now=T0) == "incident 42"
    assert store.get_flag("pause", now=T0 + 59.999) == "incident 42"
    assert store.get_flag("pause", now=T0 + 60.0) is None


def test_a_flag_without_ttl_never_expires_and_can_be_overwritten(
    store: RedisStore,
) -> None:
    store.set_flag("breaker", "open", now=T0, ttl=None)
    assert store.get_flag("breaker", now=T0 + 10 * 365 * 86_400) == "open"
    store.set_flag("breaker", "closed", now=T0 + 1, ttl=5.0)
    assert store.get_flag("breaker", now=T0 + 2) == "closed"
    assert store.get_flag("breaker", now=T0 + 6) is None
    store.set_flag("breaker", "", now=T0 + 7, ttl=None)
    assert store.get_flag("breaker", now=T0 + 8) == ""


def test_flags_and_keys_are_separate_namespaces(store: RedisStore) -> None:
    store.set_flag("x", "flag", now=T0, ttl=None)
    store.add("x", "member", now=T0, ttl=HOUR)
    assert store.get_flag("x", now=T0) == "flag"
    assert store.count("x", now=T0, window=HOUR) == 1


# --- keys in Redis: expiry, prefix, clear -------------------------------------------


def test_keys_carry_a_generous_expiry(store: RedisStore, raw: redis.Redis) -> None:
    store.reserve("k", "m", now=T0, window=HOUR, limit=5)
    store.set_flag("pause", "yes", now=T0, ttl=60.0)
    store.set_flag("forever", "yes", now=T0, ttl=None)
    names = sorted(raw.keys(f"{store.prefix}*"))
    assert names == sorted(
        f"{store.prefix}{kind}" for kind in ("z:k", "e:k", "f:pause", "f:forever")
    )
    for kind in ("z:k", "e:k"):
        pttl = raw.pttl(f"{store.prefix}{kind}")
        # at least the window, on the server's clock, and not for ever
        assert HOUR * 1000 <= pttl <= (2 * HOUR + 60) * 1000
    assert 60_000 <= raw.pttl(f"{store.prefix}f:pause") <= 180_000
    assert raw.pttl(f"{store.prefix}f:forever") == -1


def test_a_shorter_window_never_shortens_the_expiry(
    store: RedisStore, raw: redis.Redis
) -> None:
    store.add("k", "long", now=T0, ttl=10 * HOUR)
    store.reserve("k", "short", now=T0, window=1.0, limit=5)
    assert raw.pttl(f"{store.prefix}z:k") > 10 * HOUR * 1000


def test_the_prefix_isolates_two_stores_on_one_server(redis_url: str) -> None:
    tag = uuid.uuid4().hex
    with (
        RedisStore(redis_url, prefix=f"a:{tag}:") as first,
        RedisStore(redis_url, prefix=f"b:{tag}:") as second,
    ):
        assert first.reserve("k", "m", now=T0, window=HOUR, limit=1).allowed
        assert second.reserve("k", "m", now=T0, window=HOUR, limit=1).allowed
        first.set_flag("pause", "a", now=T0, ttl=None)
        assert second.get_flag("pause", now=T0) is None
        first.clear()
        assert first.count("k", now=T0, window=HOUR) == 0
        assert second.count("k", now=T0, window=HOUR) == 1
        second.clear()


def test_clear_leaves_other_prefixes_alone_even_with_glob_characters(
    redis_url: str, raw: redis.Redis
) -> None:
    tag = uuid.uuid4().hex
    with (
        RedisStore(redis_url, prefix=f"{tag}[*]:") as odd,
        RedisStore(redis_url, prefix=f"{tag}x:") as plain,
    ):
        odd.add("k", "m", now=T0, ttl=HOUR)
        plain.add("k", "m", now=T0, ttl=HOUR)
        odd.clear()
        assert sorted(raw.keys(f"{tag}*")) == [f"{tag}x:e:k", f"{tag}x:z:k"]
        plain.clear()
        assert raw.keys(f"{tag}*") == []


# --- errors -------------------------------------------------------------------------


def test_a_server_that_is_not_there_raises_store_error_without_the_password() -> None:
    url = f"redis://worker:s3cret@127.0.0.1:{_free_port()}/0"
    with RedisStore(url, socket_timeout=0.5) as store:
        assert store.url == url.replace(":s3cret", "")
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            store.reserve("k", "m", now=T0, window=HOUR, limit=1)
        assert time.monotonic() - started < 2.0
    assert caught.value.backend == "redis"
    assert "s3cret" not in str(caught.value)
    assert "redis://worker@127.0.0.1" in str(caught.value)
    assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)


def test_a_command_redis_refuses_raises_store_error(
    store: RedisStore, raw: redis.Redis
) -> None:
    raw.set(f"{store.prefix}z:k", "not a sorted set")
    with pytest.raises(StoreError, match="WRONGTYPE") as caught:
        store.count("k", now=T0, window=HOUR)
    assert isinstance(caught.value.__cause__, redis.exceptions.ResponseError)
    with pytest.raises(StoreError, match="failed to reserve"):
        store.reserve("k", "m", now=T0, window=HOUR, limit=1)


def test_a_url_that_is_not_redis_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a redis url"):
        RedisStore("http://:pw@localhost:6379")


def test_the_server_killed_mid_stream_then_restarted(dedicated: RedisServer) -> None:
    with RedisStore(dedicated.url, socket_timeout=0.5) as store:
        for i in range(3):
            assert store.reserve("k", f"m{i}", now=T0 + i, window=HOUR, limit=5).allowed
        store.set_flag("pause", "yes", now=T0, ttl=None)
        dedicated.kill()
        for operation in (
            lambda: store.reserve("k", "m3", now=T0 + 3, window=HOUR, limit=5),
            lambda: store.count("k", now=T0 + 3, window=HOUR),
            lambda: store.get_flag("pause", now=T0 + 3),
        ):
            started = time.monotonic()
            with pytest.raises(StoreError) as caught:
                operation()
            elapsed = time.monotonic() - started
            print(f"down: StoreError after {elapsed * 1000:.1f} ms: {caught.value}")  # noqa: T201
            assert elapsed < 1.5
            assert caught.value.backend == "redis"
            assert dedicated.url in str(caught.value)
        dedicated.start()
        # the scripts are loaded again, and without persistence everything is forgotten
        assert store.count("k", now=T0 + 4, window=HOUR) == 0
        assert store.get_flag("pause", now=T0 + 4) is None
        assert store.reserve("k", "m4", now=T0 + 4, window=HOUR, limit=1) == (
            Reservation(allowed=True, count=0)
        )
        assert not store.reserve("k", "m5", now=T0 + 5, window=HOUR, limit=1).allowed


def test_a_hung_server_times_out_promptly(dedicated: RedisServer) -> None:
    with RedisStore(dedicated.url, socket_timeout=0.3) as store:
        assert store.reserve("k", "a", now=T0, window=HOUR, limit=2).allowed
        assert dedicated.process is not None
        dedicated.process.send_signal(signal.SIGSTOP)  # alive, but never answers
        try:
            started = time.monotonic()
            with pytest.raises(StoreError) as caught:
                store.reserve("k", "b", now=T0 + 1, window=HOUR, limit=2)
            elapsed = time.monotonic() - started
        finally:
            dedicated.process.send_signal(signal.SIGCONT)
        print(f"hung: StoreError after {elapsed * 1000:.0f} ms: {caught.value}")  # noqa: T201
        assert 0.25 <= elapsed < 1.0  # the socket timeout, not retried
        assert isinstance(caught.value.__cause__, redis.exceptions.TimeoutError)
        # the timed-out reserve was in the server's socket: once resumed, it runs and
        # takes its slot; the guard sent nothing for it, and no slot is given twice
        time.sleep(0.2)
        assert store.count("k", now=T0 + 2, window=HOUR) == 2
        assert not store.reserve("k", "c", now=T0 + 2, window=HOUR, limit=2).allowed


def test_with_appendonly_a_killed_server_remembers(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, appendonly=True)
    server.start()
    try:
        with RedisStore(server.url, socket_timeout=0.5) as store:
            assert store.reserve("k", "sent", now=T0, window=HOUR, limit=1).allowed
            store.set_flag("pause", "incident", now=T0, ttl=HOUR)
            server.kill()
            with pytest.raises(StoreError):
                store.reserve("k", "during", now=T0 + 1, window=HOUR, limit=1)
            server.start()
            # nothing is sent twice after the restart, and the pause still holds
            assert store.reserve("k", "after", now=T0 + 2, window=HOUR, limit=1) == (
                Reservation(allowed=False, count=1)
            )
            assert store.get_flag("pause", now=T0 + 2) == "incident"
    finally:
        server.stop()


# --- the race -----------------------------------------------------------------------

RACER = textwrap.dedent(
    """
    import sys, threading, time
    from replyguard.state.redis import RedisStore

    url, prefix, key, name = sys.argv[1:5]
    threads, attempts, limit = (int(arg) for arg in sys.argv[5:8])
    start = float(sys.argv[8])
    store = RedisStore(url, prefix=prefix)
    allowed = []
    store.count(key, now=0.0, window=1.0)  # connect and load nothing before the start

    def race(thread):
        while time.time() < start:
            time.sleep(0.0005)
        won = 0
        for attempt in range(attempts):
            member = f"{name}-{thread}-{attempt}"
            now = 1_732_368_000.0  # one clock for every racer
            if store.reserve(key, member, now=now, window=3600.0, limit=limit).allowed:
                won += 1
        allowed.append(won)

    workers = [threading.Thread(target=race, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()
    print(sum(allowed))
    """
)


@pytest.mark.parametrize("limit", [1, 7])
def test_racing_processes_and_threads_get_exactly_the_limit(
    redis_url: str, prefix: str, limit: int
) -> None:
    processes, threads, attempts = 4, 8, 10
    start = time.time() + 1.5  # every racer is ready by then
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RACER,
                redis_url,
                prefix,
                "crowd:root-1",
                f"p{p}",
                str(threads),
                str(attempts),
                str(limit),
                str(start),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    counts = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        counts.append(int(out.strip()))
    tries = processes * threads * attempts
    print(  # noqa: T201 - the issue asks for the counts
        f"race: {processes} processes x {threads} threads x {attempts} attempts"
        f" = {tries} reservations, limit {limit}: allowed per process {counts},"
        f" total {sum(counts)}"
    )
    assert sum(counts) == limit
    with RedisStore(redis_url, prefix=prefix) as store:
        assert store.count("crowd:root-1", now=T0 + 1, window=HOUR) == limit
        store.clear()


# --- the async twin -----------------------------------------------------------------


async def test_async_reserve_count_recent_release(astore: AsyncRedisStore) -> None:
    answers = [
        await astore.reserve("k", f"m{i}", now=T0 + i, window=HOUR, limit=2)
        for i in range(3)
    ]
    assert [a.allowed for a in answers] == [True, True, False]
    assert await astore.count("k", now=T0 + 3, window=HOUR) == 2
    assert await astore.recent("k", now=T0 + 3, window=HOUR, limit=1) == [
        ("m1", T0 + 1)
    ]
    assert await astore.recent("k", now=T0 + 3, window=HOUR, limit=0) == []
    assert await astore.release("k", "m1") is True
    assert await astore.release("k", "m1") is False
    await astore.add("k", "m9", now=T0 + 4, ttl=HOUR)
    assert await astore.count("k", now=T0 + 4, window=HOUR) == 2


async def test_async_flags(astore: AsyncRedisStore) -> None:
    await astore.set_flag("pause", "until noon", now=T0, ttl=30.0)
    assert await astore.get_flag("pause", now=T0 + 29) == "until noon"
    assert await astore.get_flag("pause", now=T0 + 30) is None
    await astore.set_flag("forever", "x", now=T0, ttl=None)
    assert await astore.get_flag("forever", now=T0 + 1e9) == "x"


async def test_async_and_sync_workers_share_one_memory(
    astore: AsyncRedisStore, redis_url: str
) -> None:
    with RedisStore(redis_url, prefix=astore.prefix) as sync_store:
        assert sync_store.reserve("k", "sync", now=T0, window=HOUR, limit=2).allowed
        assert (
            await astore.reserve("k", "async", now=T0, window=HOUR, limit=2)
        ).allowed
        assert not sync_store.reserve("k", "late", now=T0, window=HOUR, limit=2).allowed
        sync_store.set_flag("pause", "yes", now=T0, ttl=None)
        assert await astore.get_flag("pause", now=T0) == "yes"
    await astore.clear()
    assert await astore.count("k", now=T0, window=HOUR) == 0


async def test_async_racers_get_exactly_the_limit(astore: AsyncRedisStore) -> None:
    answers = await asyncio.gather(
        *(
            astore.reserve("k", f"m{i}", now=T0, window=HOUR, limit=5)
            for i in range(200)
        )
    )
    print(  # noqa: T201 - the issue asks for the counts
        f"async race: 200 concurrent reservations, limit 5: {sum(a.allowed for a in answers)} allowed"
    )
    assert sum(a.allowed for a in answers) == 5


async def test_async_server_killed_then_restarted(dedicated: RedisServer) -> None:
    async with AsyncRedisStore(dedicated.url, socket_timeout=0.5) as store:
        assert (await store.reserve("k", "a", now=T0, window=HOUR, limit=1)).allowed
        dedicated.kill()
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            await store.reserve("k", "b", now=T0 + 1, window=HOUR, limit=1)
        assert time.monotonic() - started < 1.5
        assert caught.value.backend == "redis"
        assert isinstance(caught.value.__cause__, redis.exceptions.RedisError)
        dedicated.start()
        assert (await store.reserve("k", "c", now=T0 + 2, window=HOUR, limit=1)).allowed


# --- batches ------------------------------------------------------------------------


def _review(now: float) -> list[Op]:
    """A batch of eight operations, like the guard's for one review."""
    return [
        Op("get_flag", ("pause",), {"now": now}),
        Op("get_flag", ("breaker",), {"now": now}),
        Op("add", ("inbound", f"p{now}"), {"now": now, "ttl": 60.0}),
        Op("count", ("inbound",), {"now": now, "window": 60.0}),
        Op("recent", ("thread:1",), {"now": now, "window": HOUR, "limit": 5}),
        Op(
            "reserve", ("thread:1", f"d{now}"), {"now": now, "window": HOUR, "limit": 2}
        ),
        Op("release", ("thread:1", "never")),
        Op("count", ("thread:1",), {"now": now, "window": HOUR}),
    ]


def _review_results(first: bool) -> list[object]:
    return [
        None,
        None,
        None,
        1 if first else 2,
        [] if first else [(f"d{T0}", T0)],
        Reservation(allowed=True, count=0 if first else 1),
        False,
        1 if first else 2,
    ]


def test_a_batch_is_one_pipeline_without_script_exists(
    dedicated: RedisServer,
) -> None:
    with RedisStore(dedicated.url) as store:
        client = redis.Redis.from_url(dedicated.url, decode_responses=True)
        try:
            store.run(_review(T0))  # the first batch loads the scripts
            client.config_resetstat()
            assert store.run(_review(T0 + 1)) == _review_results(False)
            stats = client.info("commandstats")
        finally:
            client.close()
    names = {name.removeprefix("cmdstat_") for name in stats}
    assert "evalsha" in names
    assert not {"script|exists", "script|load", "eval"} & names, names


def test_a_batch_survives_script_flush(store: RedisStore, raw: redis.Redis) -> None:
    assert store.run(_review(T0)) == _review_results(True)
    raw.script_flush()
    assert store.run(_review(T0 + 1)) == _review_results(False)
    raw.script_flush()
    # single calls after a flush load their script again too
    assert store.count("thread:1", now=T0 + 2, window=HOUR) == 2
    assert not store.reserve("thread:1", "x", now=T0 + 2, window=HOUR, limit=2).allowed


async def test_an_async_batch_survives_script_flush(
    astore: AsyncRedisStore, raw: redis.Redis
) -> None:
    raw.script_flush()
    assert await astore.run(_review(T0)) == _review_results(True)
    raw.script_flush()
    assert await astore.run(_review(T0 + 1)) == _review_results(False)


def test_a_batch_when_the_server_knows_only_some_scripts(
    store: RedisStore, raw: redis.Redis
) -> None:
    store.run(_review(T0))
    raw.script_flush()
    store.reserve("other", "m", now=T0, window=HOUR, limit=5)  # loads reserve.lua only
    ops = [
        Op("release", ("thread:1", "nothing")),  # refused: NOSCRIPT
        Op(
            "reserve", ("thread:1", "late"), {"now": T0 + 1, "window": HOUR, "limit": 5}
        ),
    ]
    # the reserve ran after the refused release: sending both again would run it twice
    with pytest.raises(StoreError, match="NoScriptError"):
        store.run(ops)
    assert store.count("thread:1", now=T0 + 1, window=HOUR) == 2
    # the scripts are loaded by then: the next batch runs
    assert store.run(ops) == [False, Reservation(allowed=True, count=2)]


def test_a_batch_against_a_killed_server_raises_store_error(
    dedicated: RedisServer,
) -> None:
    with RedisStore(dedicated.url, socket_timeout=0.5) as store:
        assert store.run(_review(T0)) == _review_results(True)
        dedicated.kill()
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            store.run(_review(T0 + 1))
        assert time.monotonic() - started < 1.5
        assert caught.value.backend == "redis"
        assert dedicated.url in str(caught.value)
        assert "failed to run a batch (get_flag, get_flag, add" in str(caught.value)
        assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)
        dedicated.start()
        # a restarted server without persistence: empty, and without the scripts
        assert store.run(_review(T0 + 2)) == _review_results(True)


async def test_an_async_batch_against_a_killed_server_raises_store_error(
    dedicated: RedisServer,
) -> None:
    async with AsyncRedisStore(dedicated.url, socket_timeout=0.5) as store:
        assert await store.run(_review(T0)) == _review_results(True)
        dedicated.kill()
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            await store.run(_review(T0 + 1))
        assert time.monotonic() - started < 1.5
        assert caught.value.backend == "redis"
        assert isinstance(caught.value.__cause__, redis.exceptions.RedisError)
        dedicated.start()
        assert await store.run(_review(T0 + 2)) == _review_results(True)


def test_a_command_redis_refuses_in_a_batch_raises_store_error(
    store: RedisStore, raw: redis.Redis
) -> None:
    raw.set(f"{store.prefix}z:k", "not a sorted set")
    ops = [
        Op("set_flag", ("f", "v"), {"now": T0, "ttl": None}),
        Op("reserve", ("k", "m"), {"now": T0, "window": HOUR, "limit": 1}),
        Op("get_flag", ("f",), {"now": T0}),
    ]
    with pytest.raises(
        StoreError, match="failed to reserve: ResponseError: WRONGTYPE"
    ) as caught:
        run_ops(store, ops)
    assert isinstance(caught.value.__cause__, redis.exceptions.ResponseError)
    # a pipeline, not a transaction: the operations around the refused one ran
    assert store.get_flag("f", now=T0) == "v"


def test_a_batch_with_an_unknown_operation_sends_nothing(
    store: RedisStore, raw: redis.Redis
) -> None:
    ops = [Op("add", ("k", "m"), {"now": T0, "ttl": HOUR}), Op("drop", ("k",))]  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="'drop'"):
        store.run(ops)
    with pytest.raises(StoreError, match="nan"):
        store.run([ops[0], Op("count", ("k",), {"now": float("nan"), "window": 1.0})])
    assert raw.keys(f"{store.prefix}*") == []
