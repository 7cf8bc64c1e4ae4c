"""
The tests every store backend must pass, written once for sync and async stores.

Subclass `StoreConformance` (or `AsyncStoreConformance`) in a test module and give it
a ``store`` fixture that yields an empty store; every case then runs against it::

    import pytest
    from hypothesis.stateful import run_state_machine_as_test

    from replyguard.testing.store_conformance import StoreConformance, store_machine


    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store(self):
            store = MyStore(...)
            store.clear()
            yield store
            store.close()


    def test_my_store_agrees_with_the_model():
        run_state_machine_as_test(store_machine(lambda: MyStore(...)))

Each case is a generator of store calls, run by a synchronous and an asynchronous
driver (as httpx runs one ``auth_flow`` both ways), so that both kinds of store are
held to exactly the same expectations. What the cases pin down:

- a window is ``(now - window, now]``: a member exactly `window` seconds old is out,
  a member recorded after `now` is out;
- `reserve` allows while fewer than `limit` members are in the window, reports the
  count it saw, and records nothing when it refuses;
- a member recorded again is one member, at its latest time;
- `recent` is newest first; members recorded at the same time come in reverse order
  of their text (Redis's ``ZREVRANGEBYSCORE``);
- flags expire `ttl` seconds after the `now` they were set at, on the guard's clock:
  a replay of times long past behaves like the present;
- keys, and flags, are independent of each other; `clear` empties everything;
- threads (or tasks) racing for the last slots of a limit get exactly `limit`;
- a batch (`run_ops`, `arun_ops`) returns what the same operations return one by one,
  each operation seeing the ones before it (`BATCHES`); a store with its own
  ``run(ops)`` raises `InvalidArgument` for an operation it does not know (before
  running any of the batch), and a `TypeError` for arguments that do not fit.

`store_machine` adds random sequences of every operation, alone and in batches, with
a clock that moves forward, checked against a pure-Python model.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pytest

from replyguard.errors import InvalidArgument
from replyguard.state._protocol import (
    AsyncStore,
    Op,
    Reservation,
    Store,
    arun_ops,
    run_ops,
)

if TYPE_CHECKING:
    from hypothesis.stateful import RuleBasedStateMachine

__all__ = [
    "BATCHES",
    "CASES",
    "AsyncStoreConformance",
    "Batch",
    "StoreConformance",
    "store_machine",
]

T = 1_700_000_000.0
"""A present-day time, POSIX seconds: the cases' clock starts here."""


@dataclass(frozen=True, slots=True)
class _Call:
    """One store call a case makes: a method name and its arguments."""

    name: str
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] = field(default_factory=dict)


Case = Generator[_Call, Any, None]
"""A case: yields the store calls to make, receives their results, checks them."""

CASES: list[Callable[[], Case]] = []
"""Every case, in the order they are defined (the tests are parametrized by it)."""


def _case(function: Callable[[], Case]) -> Callable[[], Case]:
    CASES.append(function)
    return function


def _call(name: str, *args: object, **kwargs: object) -> _Call:
    return _Call(name, args, kwargs)


def _expect(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        msg = f"{what}: expected {expected!r}, got {actual!r}"
        raise AssertionError(msg)


def _run(store: Store, case: Callable[[], Case]) -> None:
    steps = case()
    result: object = None
    with contextlib.suppress(StopIteration):
        while True:
            call = steps.send(result)
            result = getattr(store, call.name)(*call.args, **call.kwargs)


async def _arun(store: AsyncStore, case: Callable[[], Case]) -> None:
    steps = case()
    result: object = None
    with contextlib.suppress(StopIteration):
        while True:
            call = steps.send(result)
            result = await getattr(store, call.name)(*call.args, **call.kwargs)


# --- the cases ------------------------------------------------------------------------


@_case
def reserve_allows_until_the_limit() -> Case:
    """Three slots: three members are allowed, each seeing the ones before it."""
    for seen, member in enumerate("abc"):
        got = yield _call("reserve", "k", member, now=T + seen, window=60.0, limit=3)
        _expect(got, Reservation(allowed=True, count=seen), f"reserve {member}")
    got = yield _call("reserve", "k", "d", now=T + 3, window=60.0, limit=3)
    _expect(got, Reservation(allowed=False, count=3), "reserve past the limit")
    got = yield _call("count", "k", now=T + 3, window=60.0)
    _expect(got, 3, "count after a refusal")
    got = yield _call("recent", "k", now=T + 3, window=60.0)
    _expect([m for m, _ in got], ["c", "b", "a"], "a refused member is not recorded")


@_case
def reserve_with_limit_zero_refuses() -> Case:
    """A limit of zero allows nothing, even on an empty key."""
    got = yield _call("reserve", "k", "a", now=T, window=60.0, limit=0)
    _expect(got, Reservation(allowed=False, count=0), "reserve with limit 0")
    got = yield _call("count", "k", now=T, window=60.0)
    _expect(got, 0, "count")


@_case
def reserve_window_edges() -> Case:
    """A member exactly `window` seconds old no longer takes a slot."""
    got = yield _call("reserve", "k", "a", now=T, window=10.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "first reserve")
    got = yield _call("reserve", "k", "b", now=T + 9.75, window=10.0, limit=1)
    _expect(got, Reservation(allowed=False, count=1), "reserve inside the window")
    got = yield _call("reserve", "k", "c", now=T + 10, window=10.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "reserve at the window's edge")


@_case
def count_window_edges() -> Case:
    """The window is ``(now - window, now]``: open below, closed above."""
    yield _call("add", "k", "a", now=T, ttl=100.0)
    yield _call("add", "k", "b", now=T + 5, ttl=100.0)
    got = yield _call("count", "k", now=T + 10, window=10.0)
    _expect(got, 1, "member exactly `window` old is out")
    got = yield _call("count", "k", now=T + 9.5, window=10.0)
    _expect(got, 2, "both inside")
    got = yield _call("count", "k", now=T + 5, window=5.0)
    _expect(got, 1, "member at `now` is in, member at `now - window` is out")
    got = yield _call("count", "k", now=T + 4, window=10.0)
    _expect(got, 1, "member recorded after `now` is out")
    got = yield _call("count", "missing", now=T, window=10.0)
    _expect(got, 0, "a key never written")


@_case
def adding_again_updates_the_time() -> Case:
    """A member recorded twice is one member, at the later time."""
    yield _call("add", "k", "a", now=T, ttl=100.0)
    yield _call("add", "k", "a", now=T + 8, ttl=100.0)
    got = yield _call("count", "k", now=T + 8, window=100.0)
    _expect(got, 1, "one member")
    got = yield _call("count", "k", now=T + 8, window=1.0)
    _expect(got, 1, "at its later time")
    got = yield _call("recent", "k", now=T + 8, window=100.0)
    _expect(got, [("a", T + 8)], "recent")


@_case
def reserving_again_updates_the_time() -> Case:
    """A member already in the window takes a slot, and an allowed reserve moves it."""
    got = yield _call("reserve", "k", "a", now=T, window=60.0, limit=2)
    _expect(got, Reservation(allowed=True, count=0), "first reserve")
    got = yield _call("reserve", "k", "a", now=T + 1, window=60.0, limit=2)
    _expect(got, Reservation(allowed=True, count=1), "the member counts itself")
    got = yield _call("recent", "k", now=T + 1, window=60.0)
    _expect(got, [("a", T + 1)], "one member, at the later time")
    got = yield _call("reserve", "k", "a", now=T + 2, window=60.0, limit=1)
    _expect(got, Reservation(allowed=False, count=1), "refused at its own limit")
    got = yield _call("recent", "k", now=T + 2, window=60.0)
    _expect(got, [("a", T + 1)], "a refusal keeps the old time")


@_case
def release_takes_a_member_back() -> Case:
    """Release returns whether the member was there, and frees its slot."""
    got = yield _call("reserve", "k", "a", now=T, window=60.0, limit=1)
    _expect(got.allowed, True, "reserve")  # noqa: FBT003
    got = yield _call("release", "k", "a")
    _expect(got, True, "release a member that is there")  # noqa: FBT003
    got = yield _call("release", "k", "a")
    _expect(got, False, "release it twice")  # noqa: FBT003
    got = yield _call("release", "missing", "a")
    _expect(got, False, "release from a key never written")  # noqa: FBT003
    got = yield _call("count", "k", now=T, window=60.0)
    _expect(got, 0, "count after release")
    got = yield _call("reserve", "k", "b", now=T + 1, window=60.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "the slot is free again")


@_case
def release_leaves_other_members() -> Case:
    """Release touches one member of one key."""
    yield _call("add", "k", "a", now=T, ttl=60.0)
    yield _call("add", "k", "b", now=T, ttl=60.0)
    yield _call("add", "other", "a", now=T, ttl=60.0)
    got = yield _call("release", "k", "a")
    _expect(got, True, "release")  # noqa: FBT003
    got = yield _call("recent", "k", now=T, window=60.0)
    _expect(got, [("b", T)], "the other member stays")
    got = yield _call("count", "other", now=T, window=60.0)
    _expect(got, 1, "the same member in another key stays")


@_case
def recent_is_newest_first() -> Case:
    """Recent lists members newest first, within the window, up to `limit`."""
    for member, offset in (("a", 0.0), ("b", 2.0), ("c", 1.0), ("d", 3.0)):
        yield _call("add", "k", member, now=T + offset, ttl=100.0)
    everything = [("d", T + 3), ("b", T + 2), ("c", T + 1), ("a", T)]
    got = yield _call("recent", "k", now=T + 3, window=100.0)
    _expect(got, everything, "recent")
    got = yield _call("recent", "k", now=T + 3, window=100.0, limit=2)
    _expect(got, everything[:2], "recent with a limit")
    got = yield _call("recent", "k", now=T + 3, window=3.0)
    _expect(got, everything[:3], "recent within a window")
    got = yield _call("recent", "k", now=T + 1.5, window=100.0)
    _expect(got, everything[2:], "recent leaves out members after `now`")
    got = yield _call("recent", "missing", now=T, window=100.0)
    _expect(got, [], "recent of a key never written")


@_case
def recent_breaks_ties_by_member() -> Case:
    """Members recorded at one time come in reverse order of their text."""
    for member in ("b", "c", "a"):
        yield _call("add", "k", member, now=T, ttl=60.0)
    got = yield _call("recent", "k", now=T, window=60.0)
    _expect(got, [("c", T), ("b", T), ("a", T)], "recent")


@_case
def times_and_text_round_trip() -> Case:
    """Fractional times come back exactly; keys and members may be any text."""
    key, member = "crowd:🙂:x y", "café ☕ — «ok»"
    at = T + 0.123456789
    yield _call("add", key, member, now=at, ttl=60.0)
    got = yield _call("recent", key, now=at, window=60.0)
    _expect(got, [(member, at)], "recent")
    got = yield _call("recent", "crowd:🙂", now=at, window=60.0)
    _expect(got, [], "a key that is a prefix of another")


@_case
def keys_are_isolated() -> Case:
    """Writing one key changes no other key, and flags are a namespace of their own."""
    got = yield _call("reserve", "k1", "a", now=T, window=60.0, limit=1)
    _expect(got.allowed, True, "reserve in k1")  # noqa: FBT003
    got = yield _call("reserve", "k2", "a", now=T, window=60.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "reserve in k2")
    got = yield _call("reserve", "k", "a", now=T, window=60.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "reserve in a prefix key")
    yield _call("set_flag", "k1", "on", now=T, ttl=None)
    got = yield _call("count", "k1", now=T, window=60.0)
    _expect(got, 1, "a flag named like a key")
    got = yield _call("get_flag", "k2", now=T)
    _expect(got, None, "a key named like a flag")


@_case
def flags_without_ttl_never_expire() -> Case:
    """A flag set without a ttl reads the same forever, and can be overwritten."""
    got = yield _call("get_flag", "pause", now=T)
    _expect(got, None, "a flag never set")
    yield _call("set_flag", "pause", "incident 42", now=T, ttl=None)
    got = yield _call("get_flag", "pause", now=T + 10 * 365 * 86400)
    _expect(got, "incident 42", "ten years later")
    yield _call("set_flag", "pause", "", now=T, ttl=None)
    got = yield _call("get_flag", "pause", now=T)
    _expect(got, "", "an empty value is a value")


@_case
def flags_expire_after_their_ttl() -> Case:
    """A flag reads as unset `ttl` seconds after the `now` it was set at."""
    yield _call("set_flag", "breaker", "open", now=T, ttl=10.0)
    got = yield _call("get_flag", "breaker", now=T + 9.75)
    _expect(got, "open", "before the ttl")
    got = yield _call("get_flag", "breaker", now=T + 10)
    _expect(got, None, "exactly at the ttl")
    got = yield _call("get_flag", "breaker", now=T + 11)
    _expect(got, None, "after the ttl")
    yield _call("set_flag", "breaker", "half-open", now=T + 11, ttl=10.0)
    got = yield _call("get_flag", "breaker", now=T + 20)
    _expect(got, "half-open", "set again")
    yield _call("set_flag", "breaker", "closed", now=T + 20, ttl=None)
    got = yield _call("get_flag", "breaker", now=T + 1000)
    _expect(got, "closed", "a ttl replaced by none")


@_case
def times_are_the_guards_clock() -> Case:
    """Yesterday's traffic, or 1970's, replays as it happened: the store's clock is not used."""
    old = 1000.0
    yield _call("set_flag", "pause", "replay", now=old, ttl=60.0)
    got = yield _call("get_flag", "pause", now=old + 30)
    _expect(got, "replay", "a flag set long ago, read at its own time")
    got = yield _call("get_flag", "pause", now=old + 60)
    _expect(got, None, "and expired at its own time")
    yield _call("set_flag", "future", "on", now=T + 86400, ttl=60.0)
    got = yield _call("get_flag", "future", now=T + 86400 + 30)
    _expect(got, "on", "a flag set tomorrow")
    got = yield _call("reserve", "k", "a", now=old, window=60.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "reserve long ago")
    got = yield _call("reserve", "k", "b", now=old + 30, window=60.0, limit=1)
    _expect(got, Reservation(allowed=False, count=1), "its window, long ago")
    got = yield _call("count", "k", now=old + 59, window=60.0)
    _expect(got, 1, "count long ago")


@_case
def clear_removes_everything() -> Case:
    """After clear, no key has members and no flag is set."""
    yield _call("add", "k", "a", now=T, ttl=60.0)
    yield _call("reserve", "k2", "b", now=T, window=60.0, limit=5)
    yield _call("set_flag", "pause", "on", now=T, ttl=None)
    yield _call("clear")
    got = yield _call("count", "k", now=T, window=60.0)
    _expect(got, 0, "count after clear")
    got = yield _call("recent", "k2", now=T, window=60.0)
    _expect(got, [], "recent after clear")
    got = yield _call("get_flag", "pause", now=T)
    _expect(got, None, "flag after clear")
    got = yield _call("reserve", "k2", "b", now=T, window=60.0, limit=1)
    _expect(got, Reservation(allowed=True, count=0), "reserve after clear")


def _case_id(case: object) -> str:
    return str(getattr(case, "__name__", case))


# --- the batches ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch case: operations run one by one first, then a batch, and its results."""

    name: str
    setup: tuple[Op, ...]
    ops: tuple[Op, ...]
    expected: tuple[object, ...]


def _op(name: str, /, *args: object, **kwargs: object) -> Op:
    return Op(cast("Any", name), args, kwargs)


BATCHES: list[Batch] = [
    Batch(
        "reserve_up_to_the_limit_then_refuse",
        setup=(_op("reserve", "k", "a", now=T, window=60.0, limit=3),),
        ops=(
            _op("reserve", "k", "b", now=T + 1, window=60.0, limit=3),
            _op("reserve", "k", "c", now=T + 2, window=60.0, limit=3),
            _op("reserve", "k", "d", now=T + 3, window=60.0, limit=3),
            _op("reserve", "k", "e", now=T + 3, window=60.0, limit=4),
            _op("reserve", "k", "f", now=T + 3, window=60.0, limit=0),
            _op("count", "k", now=T + 3, window=60.0),
            _op("recent", "k", now=T + 3, window=60.0),
        ),
        expected=(
            Reservation(allowed=True, count=1),
            Reservation(allowed=True, count=2),
            Reservation(allowed=False, count=3),
            Reservation(allowed=True, count=3),
            Reservation(allowed=False, count=4),
            4,
            [("e", T + 3), ("c", T + 2), ("b", T + 1), ("a", T)],
        ),
    ),
    Batch(
        "add_then_count",
        setup=(),
        ops=(
            _op("count", "k", now=T, window=60.0),
            _op("add", "k", "a", now=T, ttl=60.0),
            _op("count", "k", now=T, window=60.0),
            _op("add", "k", "b", now=T + 1, ttl=60.0),
            _op("add", "k", "a", now=T + 2, ttl=60.0),
            _op("count", "k", now=T + 2, window=60.0),
            _op("count", "k", now=T + 2, window=1.5),
            _op("recent", "k", now=T + 2, window=60.0),
            _op("count", "other", now=T + 2, window=60.0),
        ),
        expected=(0, None, 1, None, None, 2, 2, [("a", T + 2), ("b", T + 1)], 0),
    ),
    Batch(
        "get_flag_after_set_flag",
        setup=(_op("set_flag", "breaker", "open", now=T - 5, ttl=10.0),),
        ops=(
            _op("get_flag", "pause", now=T),
            _op("set_flag", "pause", "on", now=T, ttl=10.0),
            _op("get_flag", "pause", now=T + 9.75),
            _op("get_flag", "pause", now=T + 10),
            _op("get_flag", "breaker", now=T),
            _op("set_flag", "breaker", "half-open", now=T, ttl=None),
            _op("get_flag", "breaker", now=T + 10 * 365 * 86400),
            _op("set_flag", "pause", "", now=T, ttl=None),
            _op("get_flag", "pause", now=T),
            _op("get_flag", "k", now=T),
        ),
        expected=(None, None, "on", None, "open", None, "half-open", None, "", None),
    ),
    Batch(
        "release_then_reserve",
        setup=(_op("reserve", "k", "a", now=T, window=60.0, limit=1),),
        ops=(
            _op("reserve", "k", "b", now=T + 1, window=60.0, limit=1),
            _op("release", "k", "a"),
            _op("release", "k", "a"),
            _op("release", "missing", "a"),
            _op("reserve", "k", "b", now=T + 1, window=60.0, limit=1),
            _op("count", "k", now=T + 1, window=60.0),
            _op("release", "k", "b"),
            _op("count", "k", now=T + 1, window=60.0),
        ),
        expected=(
            Reservation(allowed=False, count=1),
            True,
            False,
            False,
            Reservation(allowed=True, count=0),
            1,
            True,
            0,
        ),
    ),
    Batch(
        "recent_within_a_batch",
        setup=tuple(
            _op("add", "k", member, now=T + offset, ttl=100.0)
            for member, offset in (("a", 0.0), ("b", 2.0), ("c", 1.0), ("d", 3.0))
        ),
        ops=(
            _op("recent", "k", now=T + 3, window=100.0, limit=2),
            _op("recent", "k", now=T + 3, window=100.0, limit=0),
            _op("recent", "k", now=T + 3, window=3.0),
            _op("add", "k", "e", now=T + 3, ttl=100.0),
            _op("recent", "k", now=T + 3, window=0.5),
            _op("recent", "missing", now=T, window=100.0),
        ),
        expected=(
            [("d", T + 3), ("b", T + 2)],
            [],
            [("d", T + 3), ("b", T + 2), ("c", T + 1)],
            None,
            [("e", T + 3), ("d", T + 3)],
            [],
        ),
    ),
    Batch(
        "a_review",
        setup=(
            _op("reserve", "thread:1", "d0", now=T - 30, window=3600.0, limit=2),
            _op("add", "inbound:1", "p0", now=T - 1, ttl=60.0),
        ),
        ops=(
            _op("get_flag", "pause", now=T),
            _op("get_flag", "breaker:1", now=T),
            _op("add", "inbound:1", "p1", now=T, ttl=60.0),
            _op("count", "inbound:1", now=T, window=60.0),
            _op("recent", "thread:1", now=T, window=3600.0, limit=5),
            _op("reserve", "thread:1", "d1", now=T, window=3600.0, limit=2),
            _op("reserve", "crowd:1", "d1", now=T, window=600.0, limit=1),
            _op("reserve", "thread:1", "d2", now=T, window=3600.0, limit=2),
        ),
        expected=(
            None,
            None,
            None,
            2,
            [("d0", T - 30)],
            Reservation(allowed=True, count=1),
            Reservation(allowed=True, count=0),
            Reservation(allowed=False, count=2),
        ),
    ),
    Batch(
        "arguments_by_name",
        setup=(_op("add", "k", "a", now=T, ttl=60.0),),
        ops=(
            _op("count", key="k", now=T, window=60.0),
            _op("reserve", key="k", member="b", now=T, window=60.0, limit=5),
            _op("recent", key="k", now=T, window=60.0, limit=1),
            _op("set_flag", name="f", value="v", now=T, ttl=None),
            _op("get_flag", name="f", now=T),
            _op("release", key="k", member="a"),
            _op("add", "k", member="c", now=T + 1, ttl=60.0),
            _op("recent", "k", now=T + 1, window=60.0),
        ),
        expected=(
            1,
            Reservation(allowed=True, count=1),
            [("b", T)],
            None,
            "v",
            True,
            None,
            [("c", T + 1), ("b", T)],
        ),
    ),
    Batch("empty", setup=(), ops=(), expected=()),
]
"""Every batch case: each is run as a batch, then one by one, from the same start."""


def _batch_id(batch: object) -> str:
    return str(getattr(batch, "name", batch))


def _one_by_one(store: Store, ops: Sequence[Op]) -> list[Any]:
    return [getattr(store, op.name)(*op.args, **op.kwargs) for op in ops]


async def _aone_by_one(store: AsyncStore, ops: Sequence[Op]) -> list[Any]:
    return [await getattr(store, op.name)(*op.args, **op.kwargs) for op in ops]


def _unknown_op() -> Op:
    return _op("explode", "k", now=T)


def _check_batch(batch: Batch, batched: list[Any], single: list[Any]) -> None:
    _expect(batched, single, f"batch {batch.name}: batch against one by one")
    _expect(batched, list(batch.expected), f"batch {batch.name}")


# --- the test classes -----------------------------------------------------------------


class StoreConformance:
    """
    The conformance tests of a synchronous `Store`.

    Subclass it as ``TestSomething`` and provide a ``store`` fixture that yields an
    empty store (and closes it after).
    """

    def test_is_a_store(self, store: Store) -> None:
        """The store satisfies the `Store` protocol and names its URL."""
        _expect(isinstance(store, Store), True, "isinstance(store, Store)")  # noqa: FBT003
        _expect(isinstance(store.url, str), True, "store.url is text")  # noqa: FBT003

    @pytest.mark.parametrize("case", CASES, ids=_case_id)
    def test_case(self, store: Store, case: Callable[[], Case]) -> None:
        """Run one case of `CASES` against the store."""
        _run(store, case)

    def test_threads_racing_for_the_last_slots(self, store: Store) -> None:
        """Threads reserving on one key at once get exactly `limit` slots."""
        threads, attempts, limit = 8, 10, 5
        start = threading.Barrier(threads)
        allowed: list[bool] = []

        def attempt(thread: int) -> None:
            start.wait()
            allowed.extend(
                store.reserve(
                    "race", f"{thread}-{n}", now=T, window=60.0, limit=limit
                ).allowed
                for n in range(attempts)
            )

        workers = [threading.Thread(target=attempt, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        _expect(len(allowed), threads * attempts, "every attempt answered")
        _expect(sum(allowed), limit, "slots allowed")
        _expect(store.count("race", now=T, window=60.0), limit, "members recorded")

    @pytest.mark.parametrize("batch", BATCHES, ids=_batch_id)
    def test_batch(self, store: Store, batch: Batch) -> None:
        """A batch (`run_ops`) returns what its operations return one by one."""
        _one_by_one(store, batch.setup)
        batched = run_ops(store, batch.ops)
        store.clear()
        _one_by_one(store, batch.setup)
        _check_batch(batch, batched, _one_by_one(store, batch.ops))

    def test_batch_refuses_what_it_cannot_run(self, store: Store) -> None:
        """An unknown operation raises before the batch runs; bad arguments raise."""
        if getattr(store, "run", None) is None:
            pytest.skip("the store has no run(ops): run_ops runs one by one")
        add = _op("add", "k", "a", now=T, ttl=60.0)
        with pytest.raises(InvalidArgument, match="explode"):
            run_ops(store, [add, _unknown_op()])
        _expect(store.count("k", now=T, window=60.0), 0, "nothing ran")
        with pytest.raises(TypeError):
            run_ops(store, [_op("count", "k", now=T)])


class AsyncStoreConformance:
    """
    The conformance tests of an `AsyncStore` (needs pytest-asyncio).

    Subclass it as ``TestSomething`` and provide a ``store`` fixture (sync or async)
    that yields an empty store (and closes it after).
    """

    @pytest.mark.asyncio
    async def test_is_an_async_store(self, store: AsyncStore) -> None:
        """The store satisfies the `AsyncStore` protocol and names its URL."""
        _expect(isinstance(store, AsyncStore), True, "isinstance(store, AsyncStore)")  # noqa: FBT003
        _expect(isinstance(store.url, str), True, "store.url is text")  # noqa: FBT003

    @pytest.mark.asyncio
    @pytest.mark.parametrize("case", CASES, ids=_case_id)
    async def test_case(self, store: AsyncStore, case: Callable[[], Case]) -> None:
        """Run one case of `CASES` against the store."""
        await _arun(store, case)

    @pytest.mark.asyncio
    async def test_tasks_racing_for_the_last_slots(self, store: AsyncStore) -> None:
        """Tasks reserving on one key at once get exactly `limit` slots."""
        limit = 5
        answers = await asyncio.gather(
            *(
                store.reserve("race", f"task-{n}", now=T, window=60.0, limit=limit)
                for n in range(50)
            )
        )
        _expect(sum(answer.allowed for answer in answers), limit, "slots allowed")
        _expect(
            await store.count("race", now=T, window=60.0), limit, "members recorded"
        )

    @pytest.mark.asyncio
    @pytest.mark.parametrize("batch", BATCHES, ids=_batch_id)
    async def test_batch(self, store: AsyncStore, batch: Batch) -> None:
        """A batch (`arun_ops`) returns what its operations return one by one."""
        await _aone_by_one(store, batch.setup)
        batched = await arun_ops(store, batch.ops)
        await store.clear()
        await _aone_by_one(store, batch.setup)
        _check_batch(batch, batched, await _aone_by_one(store, batch.ops))

    @pytest.mark.asyncio
    async def test_batch_refuses_what_it_cannot_run(self, store: AsyncStore) -> None:
        """An unknown operation raises before the batch runs; bad arguments raise."""
        if getattr(store, "run", None) is None:
            pytest.skip("the store has no run(ops): arun_ops runs one by one")
        add = _op("add", "k", "a", now=T, ttl=60.0)
        with pytest.raises(InvalidArgument, match="explode"):
            await arun_ops(store, [add, _unknown_op()])
        _expect(await store.count("k", now=T, window=60.0), 0, "nothing ran")
        with pytest.raises(TypeError):
            await arun_ops(store, [_op("count", "k", now=T)])


# --- the state machine ----------------------------------------------------------------


class _Model:
    """The reference: the contract in a few lines, with no expiry."""

    def __init__(self) -> None:
        self.members: dict[str, dict[str, float]] = {}
        self.flags: dict[str, tuple[str, float | None]] = {}

    def within(self, key: str, now: float, window: float) -> list[tuple[str, float]]:
        low = now - window
        found = [
            (m, at) for m, at in self.members.get(key, {}).items() if low < at <= now
        ]
        return sorted(found, key=lambda item: (item[1], item[0]), reverse=True)

    def reserve(
        self, key: str, member: str, now: float, window: float, limit: int
    ) -> Reservation:
        seen = len(self.within(key, now, window))
        if seen >= limit:
            return Reservation(allowed=False, count=seen)
        self.members.setdefault(key, {})[member] = now
        return Reservation(allowed=True, count=seen)

    def get_flag(self, name: str, now: float) -> str | None:
        value, expires = self.flags.get(name, (None, None))
        return None if expires is not None and now >= expires else value


def store_machine(
    factory: Callable[[], Store], *, window: float = 60.0
) -> type[RuleBasedStateMachine]:
    """
    Build a Hypothesis state machine that checks a store against a reference model.

    The machine runs random sequences of `reserve`, `add`, `release`, `count`,
    `recent`, `set_flag` and `get_flag`, alone and in batches (`run_ops`), on a few
    keys, members and flags, with a clock
    that moves forward by steps that land on window edges, and checks every result
    against a pure-Python model of the contract. Run it with
    ``hypothesis.stateful.run_state_machine_as_test``, or through its ``TestCase``.

    Every member is recorded for `window` seconds and read within at most `window`
    (reading further back than a key's ttl is not defined by the contract). Once a
    member is older than `window`, `release` may find it or not.

    Args:
        factory: returns a store to test; it is cleared first, and closed after each run.
        window: the longest window and ttl used, in seconds (a power of two times a
            small integer keeps every time exact).
    """
    from hypothesis import strategies as st  # noqa: PLC0415  (keep hypothesis optional)
    from hypothesis.stateful import (  # noqa: PLC0415
        RuleBasedStateMachine,
        invariant,
        rule,
    )

    keys = st.sampled_from(("thread:1", "thread:2", "crowd:1"))
    members = st.sampled_from(("a", "b", "c", "d", "e"))
    windows = st.sampled_from((window / 8, window / 2, window))
    steps = st.sampled_from(
        (0.0, 0.25, 1.0, window / 4, window / 2, window, window + 0.25)
    )
    names = st.sampled_from(("pause", "breaker"))
    values = st.sampled_from(("on", "open", ""))
    ttls = st.sampled_from((None, 1.0, window / 2, window))
    limits = st.integers(0, 4)
    recent_limits = st.sampled_from((1, 2, 50))
    one_op = st.one_of(
        st.tuples(st.just("reserve"), keys, members, limits),
        st.tuples(st.just("add"), keys, members),
        st.tuples(st.just("release"), keys, members),
        st.tuples(st.just("count"), keys, windows),
        st.tuples(st.just("recent"), keys, windows, recent_limits),
        st.tuples(st.just("set_flag"), names, values, ttls),
        st.tuples(st.just("get_flag"), names),
    )

    class StoreMachine(RuleBasedStateMachine):
        """Random operations on a store and on the reference model, compared."""

        def __init__(self) -> None:
            super().__init__()
            self.store = factory()
            self.store.clear()
            self.model = _Model()
            self.now = T

        def teardown(self) -> None:
            self.store.close()

        @rule(step=steps)
        def tick(self, step: float) -> None:
            self.now += step

        @rule(key=keys, member=members, limit=st.integers(0, 4))
        def reserve(self, key: str, member: str, limit: int) -> None:
            got = self.store.reserve(
                key, member, now=self.now, window=window, limit=limit
            )
            want = self.model.reserve(key, member, self.now, window, limit)
            _expect(got, want, f"reserve({key!r}, {member!r}, limit={limit})")

        @rule(key=keys, member=members)
        def add(self, key: str, member: str) -> None:
            self.store.add(key, member, now=self.now, ttl=window)
            self.model.members.setdefault(key, {})[member] = self.now

        @rule(key=keys, member=members)
        def release(self, key: str, member: str) -> None:
            got = self.store.release(key, member)
            at = self.model.members.get(key, {}).pop(member, None)
            if at is None or at > self.now - window:
                _expect(got, at is not None, f"release({key!r}, {member!r})")

        @rule(key=keys, span=windows)
        def count(self, key: str, span: float) -> None:
            got = self.store.count(key, now=self.now, window=span)
            want = len(self.model.within(key, self.now, span))
            _expect(got, want, f"count({key!r}, window={span})")

        @rule(key=keys, span=windows, limit=st.sampled_from((1, 2, 50)))
        def recent(self, key: str, span: float, limit: int) -> None:
            got = self.store.recent(key, now=self.now, window=span, limit=limit)
            want = self.model.within(key, self.now, span)[:limit]
            _expect(got, want, f"recent({key!r}, window={span}, limit={limit})")

        @rule(name=names, value=values, ttl=ttls)
        def set_flag(self, name: str, value: str, ttl: float | None) -> None:
            self.store.set_flag(name, value, now=self.now, ttl=ttl)
            self.model.flags[name] = (value, None if ttl is None else self.now + ttl)

        @rule(name=names)
        def get_flag(self, name: str) -> None:
            got = self.store.get_flag(name, now=self.now)
            _expect(got, self.model.get_flag(name, self.now), f"get_flag({name!r})")

        @rule(steps=st.lists(one_op, max_size=8))
        def batch(self, steps: list[tuple[Any, ...]]) -> None:
            ops: list[Op] = []
            wanted: list[tuple[bool, object]] = []  # (checked, expected)
            for step in steps:
                name, *params = step
                want: object
                if name == "reserve":
                    key, member, limit = params
                    ops.append(
                        _op(
                            "reserve",
                            key,
                            member,
                            now=self.now,
                            window=window,
                            limit=limit,
                        )
                    )
                    want = self.model.reserve(key, member, self.now, window, limit)
                    wanted.append((True, want))
                elif name == "add":
                    key, member = params
                    ops.append(_op("add", key, member, now=self.now, ttl=window))
                    self.model.members.setdefault(key, {})[member] = self.now
                    wanted.append((True, None))
                elif name == "release":
                    key, member = params
                    ops.append(_op("release", key, member))
                    at = self.model.members.get(key, {}).pop(member, None)
                    checked = at is None or at > self.now - window
                    wanted.append((checked, at is not None))
                elif name == "count":
                    key, span = params
                    ops.append(_op("count", key, now=self.now, window=span))
                    wanted.append((True, len(self.model.within(key, self.now, span))))
                elif name == "recent":
                    key, span, limit = params
                    ops.append(
                        _op("recent", key, now=self.now, window=span, limit=limit)
                    )
                    want = self.model.within(key, self.now, span)[:limit]
                    wanted.append((True, want))
                elif name == "set_flag":
                    flag, value, ttl = params
                    ops.append(_op("set_flag", flag, value, now=self.now, ttl=ttl))
                    expires = None if ttl is None else self.now + ttl
                    self.model.flags[flag] = (value, expires)
                    wanted.append((True, None))
                else:
                    (flag,) = params
                    ops.append(_op("get_flag", flag, now=self.now))
                    wanted.append((True, self.model.get_flag(flag, self.now)))
            got = run_ops(self.store, ops)
            _expect(len(got), len(ops), "one result per operation")
            for index, (op, result, (checked, want)) in enumerate(
                zip(ops, got, wanted, strict=True)
            ):
                if checked:
                    _expect(result, want, f"batch step {index}: {op.name}{op.args}")

        @invariant()
        def counts_agree(self) -> None:
            for key in ("thread:1", "thread:2", "crowd:1"):
                got = self.store.count(key, now=self.now, window=window)
                want = len(self.model.within(key, self.now, window))
                _expect(got, want, f"count({key!r}, window={window})")

    return StoreMachine
