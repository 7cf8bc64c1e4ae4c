"""The guard's memory across reviews: recording, counts, forget, pause (memory and SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replyguard import Action, Guard
from replyguard.errors import ConfigurationError, InvalidArgument, StoreError
from replyguard.state import MemoryStore, SQLiteStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANSWER = "Hi! Sorry about that. Please DM us and we'll take a look."


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _thread(
    post_id: str, author: str, text: str = "where is my parcel?"
) -> dict[str, object]:
    return {
        "brand_handles": ["@Acme"],
        "posts": [
            {
                "id": post_id,
                "author": author,
                "kind": "original",
                "text": f"@Acme {text}",
            }
        ],
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock: Clock) -> Guard:
    return Guard.default(store="memory://", clock=clock)


def test_without_a_store_nothing_is_remembered() -> None:
    guard = Guard.default()

    guard.review(ANSWER, _thread("1", "@a"))

    assert 0 == guard.analyze(_thread("2", "@a"), ANSWER).state.sent_to_author
    assert guard.forget("nope") is False


def test_a_reply_that_goes_out_is_counted_for_its_author_crowd_and_text(
    guard: Guard,
) -> None:
    first = guard.review(ANSWER, _thread("1", "@a"))
    state = guard.analyze(_thread("1", "@a"), ANSWER).state

    assert Action.ALLOW == first.action
    assert (1, 1, 1) == (
        state.sent_for_original,
        state.sent_to_author,
        state.sent_same_text,
    )
    assert (
        1
        == guard.analyze(
            _thread("2", "@b"), "@b " + ANSWER.upper()
        ).state.sent_same_text
    )


def test_dry_runs_and_explanations_record_nothing(guard: Guard) -> None:
    guard.review(ANSWER, _thread("1", "@a"), record=False)
    guard.explain(ANSWER, _thread("1", "@a"))

    assert 0 == guard.analyze(_thread("1", "@a"), ANSWER).state.sent_same_text


def test_held_replies_are_not_recorded(guard: Guard) -> None:
    grief = "my dad passed away and I need to close his account"
    decision = guard.review(ANSWER, _thread("1", "@a", grief))

    assert Action.ESCALATE == decision.action
    assert 0 == guard.analyze(_thread("1", "@a"), ANSWER).state.sent_same_text


def test_the_same_text_five_times_in_an_hour_goes_to_a_person(
    guard: Guard, clock: Clock
) -> None:
    actions = []
    for number in range(7):
        clock.now = START + timedelta(minutes=5 * number)
        actions.append(
            guard.review(ANSWER, _thread(str(number), f"@user{number}")).action
        )

    assert [Action.ALLOW] * 5 + [Action.ESCALATE] * 2 == actions
    clock.now = START + timedelta(hours=2)
    assert Action.ALLOW == guard.review(ANSWER, _thread("9", "@late")).action


def test_forget_takes_a_record_back_by_decision_or_id(guard: Guard) -> None:
    first = guard.review(ANSWER, _thread("1", "@a"))
    second = guard.review(ANSWER, _thread("2", "@b"))

    assert guard.forget(first) is True
    assert guard.forget(second.decision_id) is True
    assert guard.forget(second) is False
    assert 0 == guard.analyze(_thread("3", "@c"), ANSWER).state.sent_same_text
    with pytest.raises(InvalidArgument):
        guard.forget(42)  # type: ignore[arg-type]


def test_replies_sent_without_review_are_counted(guard: Guard) -> None:
    guard.record(ANSWER, _thread("1", "@a"))

    assert 1 == guard.analyze(_thread("1", "@a"), ANSWER).state.sent_to_author


def test_a_pause_holds_every_reply_until_it_ends(guard: Guard, clock: Clock) -> None:
    guard.pause(
        "shooting in Austin, all social paused", until=START + timedelta(hours=3)
    )

    held = guard.review(ANSWER, _thread("1", "@a"))
    clock.now = START + timedelta(hours=4)
    after = guard.review(ANSWER, _thread("2", "@b"))

    assert Action.ESCALATE == held.action
    assert "paused-means-people" in held.rules
    assert "shooting in Austin" in held.reasons[-1].message
    assert Action.ALLOW == after.action


def test_resume_lifts_a_pause(guard: Guard) -> None:
    guard.pause("checking a complaint wave")
    guard.resume()

    assert Action.ALLOW == guard.review(ANSWER, _thread("1", "@a")).action


def test_pause_needs_a_store() -> None:
    with pytest.raises(ConfigurationError, match="pause needs a store"):
        Guard.default().pause("x")


def test_two_workers_share_a_sqlite_store(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = Guard.default(store=url, clock=clock)
    second = Guard.default(store=SQLiteStore(tmp_path / "state.db"), clock=clock)

    first.review(ANSWER, _thread("1", "@a"))
    first.pause("incident")

    assert 1 == second.analyze(_thread("1", "@a"), ANSWER).state.sent_to_author
    assert Action.ESCALATE == second.review(ANSWER, _thread("2", "@b")).action


class BrokenStore(MemoryStore):
    """A store that fails on some operations, like a Redis that went away."""

    run = None  # no batches: every operation goes through the methods below

    def __init__(self, *, reads: bool, writes: bool) -> None:
        super().__init__()
        self.reads, self.writes = reads, writes

    def count(self, key: str, *, now: float, window: float) -> int:
        if self.reads:
            raise StoreError(
                "redis store at `redis://x` failed: ConnectionError", backend="redis"
            )
        return super().count(key, now=now, window=window)

    def add(self, key: str, member: str, *, now: float, ttl: float) -> None:
        if self.writes:
            raise StoreError(
                "redis store at `redis://x` failed: ConnectionError", backend="redis"
            )
        super().add(key, member, now=now, ttl=ttl)


@pytest.mark.parametrize(("reads", "writes"), [(True, False), (False, True)])
def test_a_failing_store_gives_the_on_error_action_never_a_send(
    clock: Clock, *, reads: bool, writes: bool
) -> None:
    guard = Guard.default(store=BrokenStore(reads=reads, writes=writes), clock=clock)

    decision = guard.review(ANSWER, _thread("1", "@a"))

    assert Action.ESCALATE == decision.action
    assert decision.text is None
    assert [("StoreError", "state")] == [(e.type, e.stage) for e in decision.errors]


def _crowd(post_id: str, author: str, text: str) -> dict[str, object]:
    return {
        "brand_handles": ["@Acme"],
        "posts": [
            {
                "id": "root",
                "author": "@angry",
                "kind": "original",
                "text": "@Acme lost my bag",
            },
            {
                "id": post_id,
                "author": author,
                "kind": "reply",
                "in_reply_to": "root",
                "text": text,
            },
        ],
        "target": post_id,
    }


def test_a_crowd_is_answered_once_then_people_decide(guard: Guard) -> None:
    first = guard.review(
        ANSWER, _crowd("2", "@b", "@angry @Acme same here, where is mine?")
    )
    second = guard.review(ANSWER, _crowd("3", "@c", "@angry @Acme mine too, any news?"))
    again = guard.review(
        "Got it, thanks! We'll reply in DM within the hour.",
        _crowd("4", "@b", "@angry @Acme thanks, DMed you"),
    )

    assert Action.ALLOW == first.action
    assert Action.ESCALATE == second.action
    assert "one-automatic-answer-per-crowd" in second.rules
    assert Action.ALLOW == again.action  # the conversation with @b goes on


def test_customers_under_the_brands_own_post_keep_getting_answers(guard: Guard) -> None:
    def under_brand(post_id: str, author: str) -> dict[str, object]:
        return {
            "brand_handles": ["@Acme"],
            "posts": [
                {
                    "id": "news",
                    "author": "@Acme",
                    "kind": "original",
                    "text": "New app!",
                },
                {
                    "id": post_id,
                    "author": author,
                    "kind": "reply",
                    "in_reply_to": "news",
                    "text": "@Acme does it work on tablets?",
                },
            ],
            "target": post_id,
        }

    answers = [
        "Yes, the app runs on every tablet with Android 12 or later.",
        "It does! On an iPad, get it from the App Store: it is the same app.",
        "Tablets are supported; landscape mode arrives next month.",
    ]
    actions = [
        guard.review(answer, under_brand(str(i), f"@fan{i}")).action
        for i, answer in enumerate(answers)
    ]

    assert [Action.ALLOW] * 3 == actions


def test_the_same_words_twice_into_one_crowd_go_to_a_person(guard: Guard) -> None:
    def under_brand(post_id: str, author: str) -> dict[str, object]:
        return {
            "brand_handles": ["@Acme"],
            "posts": [
                {"id": "news", "author": "@Acme", "kind": "original", "text": "Oops"},
                {
                    "id": post_id,
                    "author": author,
                    "kind": "reply",
                    "in_reply_to": "news",
                    "text": "@Acme what was that post about?",
                },
            ],
            "target": post_id,
        }

    apology = "We are deeply sorry for the post and have deleted it."
    first = guard.review(f"@a {apology}", under_brand("1", "@a"))
    second = guard.review(
        f"@b {apology.replace('deeply', 'truly')}", under_brand("2", "@b")
    )

    assert Action.ALLOW == first.action
    assert Action.ESCALATE == second.action
    assert ("same-words-once-per-crowd",) == second.rules


def test_a_pause_until_a_naive_time_is_an_invalid_argument(guard: Guard) -> None:
    with pytest.raises(InvalidArgument, match="until must be an aware datetime"):
        guard.pause("x", until=datetime(2026, 3, 2, 12, 0))  # noqa: DTZ001 - the point
