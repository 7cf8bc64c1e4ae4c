"""The platform bot examples: what they post, what they hold, and that they keep going."""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from replyguard import Escalation, Guard
from replyguard.sinks import CallbackSink

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PAYLOADS = EXAMPLES / "payloads"
REWRITTEN = (
    "Thanks for reaching out! We're here to help. "
    "Please send us a direct message so we can look into this privately."
)


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def recorded(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def make_guard(module: ModuleType, escalations: list[Escalation]) -> Guard:
    return Guard.default(
        store="memory://",
        clock=lambda: module.RECORDED_AT,
        sinks=[CallbackSink(escalations.append)],
    )


@pytest.fixture(autouse=True)
def _info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


# --- X --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def x_bot() -> ModuleType:
    return load_example("x_mentions_bot")


def x_question(tweet_id: str, text: str) -> dict[str, Any]:
    return {
        "data": [
            {
                "id": tweet_id,
                "text": text,
                "author_id": "8001",
                "created_at": "2026-09-14T16:04:30.000Z",
            }
        ],
        "includes": {"users": [{"id": "8001", "username": "ines_p", "name": "Inês"}]},
        "meta": {"newest_id": tweet_id, "oldest_id": tweet_id, "result_count": 1},
    }


def test_x_bot_answers_the_question_and_holds_the_retweet_storm(
    x_bot: ModuleType,
) -> None:
    escalations: list[Escalation] = []
    guard = make_guard(x_bot, escalations)
    since_ids: list[str | None] = []
    sent: list[tuple[str, str]] = []

    def fetch(since_id: str | None) -> dict[str, Any]:
        since_ids.append(since_id)
        if len(since_ids) == 1:
            return recorded("x_mentions_page.json")
        return {"meta": {"result_count": 0}}

    handled = x_bot.run(
        guard,
        fetch,
        lambda text, to: sent.append((to, text)),
        brand_handles=x_bot.BRAND_HANDLES,
        rounds=2,
        pause=0,
    )

    # the canned answer asked a customer for an account number in public: rewritten
    assert [("1850000000000000214", REWRITTEN)] == sent
    held = {
        thread.target: decision for thread, decision in handled if not decision.sends
    }
    assert {
        "1850000000000000211",
        "1850000000000000212",
        "1850000000000000213",
    } == set(held)
    assert all("no-reply-to-retweets" in d.rules for d in held.values())
    # one person hears of the crowd, then updates: the hand-made "RT @..." joins the
    # native retweets' original (the adapter finds it in the page), not a crowd of its own
    assert [("pr", False), ("pr", True), ("pr", True)] == [
        (e.route, e.update) for e in escalations
    ]
    # the second poll asks only for what is newer than the page
    assert [None, "1850000000000000214"] == since_ids


def test_x_bot_logs_a_broken_page_and_keeps_polling(
    x_bot: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    broken = x_question("1850000000000000300", "@AcmeBank hello?")
    del broken["data"][0]["author_id"]
    question = x_question(
        "1850000000000000301", "@AcmeBank how do I order a new debit card?"
    )
    pages = iter([broken, question])
    since_ids: list[str | None] = []
    sent: list[tuple[str, str]] = []

    def fetch(since_id: str | None) -> dict[str, Any]:
        since_ids.append(since_id)
        return next(pages)

    x_bot.run(
        make_guard(x_bot, []),
        fetch,
        lambda text, to: sent.append((to, text)),
        brand_handles=x_bot.BRAND_HANDLES,
        rounds=2,
        pause=0,
    )

    assert [("1850000000000000301", REWRITTEN)] == sent
    assert (
        "SKIP a page replyguard cannot read: x payload: $.data[0].author_id: missing"
        in caplog.text
    )
    # the broken page is not fetched again and again
    assert [None, "1850000000000000300"] == since_ids


def test_x_bot_survives_a_failed_fetch_and_a_failed_post(
    x_bot: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    calls = iter(
        [OSError("connection reset"), x_question("9", "@AcmeBank how do I pay?")]
    )

    def fetch(since_id: str | None) -> dict[str, Any]:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    def post(text: str, to: str) -> None:
        raise RuntimeError("429 Too Many Requests")

    handled = x_bot.run(
        make_guard(x_bot, []),
        fetch,
        post,
        brand_handles=x_bot.BRAND_HANDLES,
        rounds=2,
        pause=0,
    )

    assert ["9"] == [thread.target for thread, _ in handled]
    assert "fetching mentions failed: connection reset" in caplog.text
    assert "sending to 9 failed" in caplog.text


# --- Bluesky ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bluesky_bot() -> ModuleType:
    return load_example("bluesky_notifications_bot")


ACME_POST = {
    "uri": "at://did:plc:acmebank0001/app.bsky.feed.post/3lbq5acme01",
    "cid": "bafyreiacmeannouncement00000000000000000000000000000001",
}
DANA_POST = {
    "uri": "at://did:plc:dana4k2m7q/app.bsky.feed.post/3lbq7dana01",
    "cid": "bafyreidanaquestion0000000000000000000000000000000000001",
}


def test_bluesky_bot_replies_under_the_question_and_holds_the_reposts(
    bluesky_bot: ModuleType,
) -> None:
    escalations: list[Escalation] = []
    sent: list[tuple[str, dict[str, str], dict[str, str]]] = []
    page = recorded("bluesky_notifications_page.json")

    handled = bluesky_bot.run(
        make_guard(bluesky_bot, escalations),
        lambda: copy.deepcopy(page),
        lambda text, parent, root: sent.append((text, parent, root)),
        brand_handles=bluesky_bot.BRAND_HANDLES,
        rounds=2,
        pause=0,
    )

    # the reply goes under Dana's post, in the thread of the brand's post she answered
    assert [(REWRITTEN, DANA_POST, ACME_POST)] == sent
    held = {t.target_post.kind: d for t, d in handled if not d.sends}
    assert {"quote", "retweet"} == set(held)  # the protest quoting it, the reposts
    assert "activism-to-pr" in held["quote"].rules
    assert "no-reply-to-retweets" in held["retweet"].rules
    assert ["pr"] == [e.route for e in escalations]
    # the like is not a post; the second poll of the same page finds nothing new
    assert 4 == len(handled)


def test_bluesky_bot_answers_a_mention_in_its_own_thread(
    bluesky_bot: ModuleType,
) -> None:
    mention = {
        "uri": "at://did:plc:ines000001/app.bsky.feed.post/3lbq8ines01",
        "cid": "bafyreiinesmention",
        "author": {"did": "did:plc:ines000001", "handle": "ines.bsky.social"},
        "reason": "mention",
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "@acmebank.bsky.social how do I order a new debit card?",
            "createdAt": "2026-09-14T16:04:00.000Z",
        },
        "isRead": False,
        "indexedAt": "2026-09-14T16:04:01.000Z",
    }
    sent: list[tuple[str, dict[str, str], dict[str, str]]] = []

    bluesky_bot.run(
        make_guard(bluesky_bot, []),
        lambda: {"notifications": [mention]},
        lambda text, parent, root: sent.append((text, parent, root)),
        brand_handles=bluesky_bot.BRAND_HANDLES,
        rounds=1,
        pause=0,
    )

    ref = {"uri": mention["uri"], "cid": mention["cid"]}
    assert [(REWRITTEN, ref, ref)] == sent


def test_bluesky_bot_logs_a_broken_page_and_keeps_polling(
    bluesky_bot: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    page = recorded("bluesky_notifications_page.json")
    broken = copy.deepcopy(page)
    broken["notifications"][0]["record"]["text"] = 42
    pages = iter([broken, {"cursor": "x", "notifications": "oops"}, page])
    sent: list[str] = []

    bluesky_bot.run(
        make_guard(bluesky_bot, []),
        lambda: next(pages),
        lambda text, parent, root: sent.append(parent["uri"]),
        brand_handles=bluesky_bot.BRAND_HANDLES,
        rounds=3,
        pause=0,
    )

    assert (
        "SKIP a page replyguard cannot read: bluesky payload: "
        "$.notifications[0].record.text: expected a string, found a number"
        in caplog.text
    )
    assert "SKIP a page replyguard cannot read: bluesky payload: $: not a Bluesky" in (
        caplog.text
    )
    # the broken page was seen: only what is newer than it counts as new
    assert [] == sent


# --- Mastodon ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mastodon_bot() -> ModuleType:
    return load_example("mastodon_streaming_bot")


def replay(*notifications: Any):
    def stream(handler: Any) -> None:
        for notification in notifications:
            handler(copy.deepcopy(notification))

    return stream


def test_mastodon_bot_keeps_the_visibility_of_the_post_answered(
    mastodon_bot: ModuleType,
) -> None:
    escalations: list[Escalation] = []
    sent: list[tuple[str, str, str]] = []

    handled = mastodon_bot.run(
        make_guard(mastodon_bot, escalations),
        replay(*recorded("mastodon_notifications.json")),
        lambda text, to, visibility: sent.append((to, visibility, text)),
        brand_handles=mastodon_bot.BRAND_HANDLES,
    )

    assert [
        ("113100000000000102", "public", f"@dana@mastodon.social {REWRITTEN}"),
        ("113100000000000103", "direct", f"@lee@bank.example {REWRITTEN}"),
    ] == sent
    held = {t.target: d for t, d in handled if not d.sends}
    assert {
        "113100000000000100",  # the protest
        "113100000000000101",  # a reply in it, mentioning the brand
        "113100000000000050#reblog-by-110200000000000012",  # a boost
    } == set(held)
    assert (
        "no-reply-to-retweets"
        in held["113100000000000050#reblog-by-110200000000000012"].rules
    )
    assert [("pr", False), ("pr", True)] == [(e.route, e.update) for e in escalations]
    assert 5 == len(handled)  # the favourite is no post


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        pytest.param("direct", "direct", id="direct-stays-direct"),
        pytest.param("private", "private", id="followers-only-stays-so"),
        pytest.param("unlisted", "unlisted", id="unlisted"),
        pytest.param(None, "direct", id="unknown-is-direct"),
    ],
)
def test_mastodon_bot_never_answers_wider_than_asked(
    mastodon_bot: ModuleType, visibility: str | None, expected: str
) -> None:
    notification = recorded("mastodon_notifications.json")[4]  # Dana's question
    notification["status"]["visibility"] = visibility
    sent: list[str] = []

    mastodon_bot.run(
        make_guard(mastodon_bot, []),
        replay(notification),
        lambda text, to, vis: sent.append(vis),
        brand_handles=mastodon_bot.BRAND_HANDLES,
    )

    assert [expected] == sent


def test_mastodon_bot_logs_a_broken_notification_and_keeps_streaming(
    mastodon_bot: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    notifications = recorded("mastodon_notifications.json")
    broken = copy.deepcopy(notifications[4])
    del broken["status"]["account"]
    sent: list[str] = []

    mastodon_bot.run(
        make_guard(mastodon_bot, []),
        replay(broken, notifications[5]),
        lambda text, to, visibility: sent.append(to),
        brand_handles=mastodon_bot.BRAND_HANDLES,
    )

    assert (
        "SKIP a notification replyguard cannot read: mastodon payload: $.status.account"
        in (caplog.text)
    )
    assert ["113100000000000103"] == sent


# --- --offline, as a reader runs them -----------------------------------------------------


@pytest.mark.parametrize(
    ("script", "lines"),
    [
        pytest.param(
            "x_mentions_bot.py",
            [
                (
                    "HOLD 1850000000000000211 from @pavement_pat [retweet] (suppress: "
                    "no-reply-to-retweets"
                ),
                "     escalation for pr (new), sent to the guard's sinks",
                "     escalation for pr (an update), sent to the guard's sinks",
                (
                    "SEND 1850000000000000214 to @dana_travels (rewrite: "
                    f"no-public-ask-for-private-data): {REWRITTEN}"
                ),
                "4 mentions: 1 answered, 3 held; 3 escalation packet(s) delivered",
            ],
            id="x",
        ),
        pytest.param(
            "bluesky_notifications_bot.py",
            [
                (
                    "HOLD at://did:plc:rosa9x1c3v/app.bsky.feed.repost/3lbq7rosa01 from "
                    "@rosadraws.bsky.social [retweet] (suppress: no-reply-to-retweets"
                ),
                (
                    "SEND at://did:plc:dana4k2m7q/app.bsky.feed.post/3lbq7dana01 to "
                    "@dana.bsky.social (rewrite: no-public-ask-for-private-data)"
                ),
                "4 notifications about posts: 1 answered, 3 held; 1 escalation",
            ],
            id="bluesky",
        ),
        pytest.param(
            "mastodon_streaming_bot.py",
            [
                "HOLD 113100000000000101 from @rosa@mastodon.social [reply] (suppress:",
                "SEND 113100000000000102 to @dana@mastodon.social [public]",
                "SEND 113100000000000103 to @lee@bank.example [direct]",
                "5 notifications about posts: 2 answered (public, direct), 3 held",
            ],
            id="mastodon",
        ),
    ],
)
def test_offline_run_prints_what_it_would_send_and_hold(
    script: str, lines: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--offline"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert 0 == result.returncode, result.stdout + result.stderr
    for line in lines:
        assert line in result.stdout, result.stdout
