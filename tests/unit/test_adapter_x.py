"""The X adapter: v2 and v1.1 payloads (fixtures written in the real formats) into threads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from replyguard import Action, Guard, InvalidArgument, InvalidInput, Thread
from replyguard.adapters.x import from_x, threads_from_x
from replyguard.errors import PayloadError

FIXTURES = Path(__file__).parents[1] / "data" / "payloads" / "x"
BRAND = ["@AcmeBank", "@AcmeAir", "@AcmeShop"]
CANNED = "We are here to help, listen, and learn from our customers!"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def shape(thread: Thread) -> list[tuple[str, str, str | None, bool]]:
    return [(p.id, p.kind, p.parent_id, p.missing) for p in thread.posts]


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard.default()


# --- v2 --------------------------------------------------------------------------------


def test_v2_page_gives_one_thread_per_tweet_with_its_chain() -> None:
    threads = threads_from_x(load("v2_storm_page.json"), brand_handles=BRAND)
    original = "1811000000000000100"
    assert [t.target for t in threads] == [
        "1811000000000000101",
        "1811000000000000102",
        "1811000000000000103",
    ]
    retweet, quote, reply = threads
    assert shape(retweet) == [
        (original, "original", None, False),
        ("1811000000000000101", "retweet", original, False),
    ]
    assert quote.target_post.kind == "quote"
    assert quote.target_post.quote_of == original
    assert reply.target_post.kind == "reply"
    assert reply.target_post.in_reply_to == original
    for thread in threads:
        assert thread.platform == "x"
        assert thread.brand_handles == tuple(BRAND)
        assert thread.root.author == "@chalk_walk"


def test_v2_fields_map_to_the_post() -> None:
    retweet, quote, _ = threads_from_x(load("v2_storm_page.json"), brand_handles=BRAND)
    original = retweet.root
    assert original.author_name == "Chalk Walk"
    assert original.author_followers == 1200
    assert original.created_at is not None
    assert original.created_at.isoformat() == "2026-07-10T14:00:00+00:00"
    assert original.metrics is not None
    assert original.metrics.retweets == 212
    assert original.metrics.likes == 980
    assert original.lang == "en"
    assert original.url == "https://x.com/chalk_walk/status/1811000000000000100"
    # the photo's own t.co link is not a link; the photo is media with its alt text
    assert original.links == ()
    assert [(m.type, m.alt_text) for m in original.media] == [
        ("image", "Chalk drawings on a pavement")
    ]
    # HTML entities as X sends them are decoded; expanded links replace t.co
    assert '"here to help" & "glad to assist"' in quote.target_post.text
    assert quote.target_post.links == (
        "https://twitter.com/chalk_walk/status/1811000000000000100",
    )


def test_v2_reply_and_quote_at_once_is_a_reply_with_quote_of() -> None:
    thread = from_x(load("v2_reply_quote_note.json"), brand_handles=BRAND)
    post = thread.target_post
    assert post.kind == "reply"
    assert post.in_reply_to == "1900000000000000001"
    assert post.quote_of == "1900000000000000010"
    assert {p.author for p in thread.posts if p.id != post.id} == {"@AcmeAir"}
    # note_tweet holds the long text; `text` only its start
    assert post.text.endswith("booking QX7781 please.")
    assert "…" not in post.text


def test_v2_deleted_reference_becomes_a_placeholder_with_the_known_author() -> None:
    thread = from_x(load("v2_reply_to_deleted.json"), brand_handles=BRAND)
    parent = thread.parent
    assert parent is not None
    assert parent.missing
    assert parent.text == ""
    assert parent.author == "@gone_user"  # from in_reply_to_user_id
    assert [m.type for m in thread.target_post.media] == ["gif"]


def test_v2_a_referenced_tweet_absent_from_includes_is_a_placeholder() -> None:
    payload = load("v2_storm_page.json")
    del payload["includes"]["tweets"]
    retweet = threads_from_x(payload, brand_handles=BRAND)[0]
    root = retweet.root
    assert root.missing
    assert root.id == "1811000000000000100"
    assert root.author == "@chalk_walk"  # read from "RT @chalk_walk:"


def test_v2_target_picks_a_post_of_a_page() -> None:
    thread = from_x(load("v2_storm_page.json"), target=1811000000000000103)
    assert thread.target == "1811000000000000103"
    with pytest.raises(PayloadError, match=r"holds 3 posts: pass target="):
        from_x(load("v2_storm_page.json"))
    with pytest.raises(PayloadError, match=r"no post with id `42`"):
        from_x(load("v2_storm_page.json"), target="42")


def test_v2_a_stream_message_is_one_tweet() -> None:
    page = load("v2_storm_page.json")
    message = {
        "data": page["data"][2],
        "includes": page["includes"],
        "matching_rules": [{"id": "1", "tag": "brand mentions"}],
    }
    assert from_x(message).target == "1811000000000000103"


# --- v1.1 --------------------------------------------------------------------------


def test_v11_native_retweet_uses_the_extended_text_and_decodes_entities() -> None:
    thread = from_x(load("v11_native_retweet_extended.json"), brand_handles=BRAND)
    assert shape(thread) == [
        ("355000", "original", None, False),
        ("355001", "retweet", "355000", False),
    ]
    root = thread.root
    assert root.text.endswith("we want answers <3")
    assert "&amp;" not in root.text
    assert root.created_at is not None
    assert root.created_at.isoformat() == "2013-07-10T14:00:00+00:00"
    assert thread.target_post.author_followers == 15


def test_v11_manual_retweets_point_at_one_rebuilt_original() -> None:
    threads = threads_from_x(load("v11_manual_retweets.json"), brand_handles=BRAND)
    a, b, quote, chain, with_reply_id = threads
    assert a.target_post.kind == b.target_post.kind == "retweet"
    assert a.root.id == b.root.id  # the same words by the same author: one original
    assert a.root.author == "@chalk_walk"
    assert a.root.text == "Chalk is not a crime @AcmeBank"
    assert quote.target_post.kind == "quote"
    assert quote.target_post.quote_of == a.root.id
    # "RT @relay: RT @chalk_walk: ..." is a chain of two retweets
    assert [p.author for p in chain.posts] == ["@chalk_walk", "@relay", "@oldclient_d"]
    assert [p.kind for p in chain.posts] == ["original", "retweet", "retweet"]
    assert chain.root.id == a.root.id
    # an old client's in_reply_to on a hand-made retweet names the original
    assert shape(with_reply_id) == [
        ("354999", "original", None, False),
        ("355014", "retweet", "354999", False),
    ]


def test_v11_quote_without_the_quoted_status_is_a_placeholder() -> None:
    thread = from_x(load("v11_quote_placeholder.json"), brand_handles=BRAND)
    assert shape(thread) == [
        ("7000", "original", None, True),
        ("7001", "quote", "7000", False),
    ]
    post = thread.target_post
    assert post.text.startswith("@AcmeBank care to explain this?")  # full_text
    assert post.links == ("https://twitter.com/someone/status/7000",)
    assert [(m.type, m.alt_text) for m in post.media] == [("image", "A screenshot")]


def test_account_activity_event_gives_a_thread_per_tweet() -> None:
    first, second = threads_from_x(
        load("account_activity_event.json"), brand_handles=BRAND
    )
    assert first.target_post.kind == "original"
    assert shape(second) == [
        ("8100", "original", None, False),
        ("8101", "reply", "8100", False),
    ]


def test_integer_ids_and_the_v11_id_field_are_read_as_strings() -> None:
    status = {
        "id": 12345678901234567890,
        "text": "hi",
        "user": {"screen_name": "a"},
        "in_reply_to_status_id": 11,
        "in_reply_to_screen_name": "b",
    }
    thread = from_x(status)
    assert thread.target == "12345678901234567890"
    assert thread.parent is not None
    assert thread.parent.id == "11"
    assert thread.parent.author == "@b"


# --- with the guard ------------------------------------------------------------------


def test_the_storm_page_is_held(guard: Guard) -> None:
    decisions = [
        guard.review(CANNED, t, record=False)
        for t in threads_from_x(load("v2_storm_page.json"), brand_handles=BRAND)
    ]
    assert [d.action for d in decisions] != [Action.ALLOW] * 3
    retweet = decisions[0]
    assert retweet.action is Action.SUPPRESS
    assert "no-reply-to-retweets" in retweet.rules


def test_manual_retweets_are_suppressed_like_native_ones(guard: Guard) -> None:
    for thread in threads_from_x(load("v11_manual_retweets.json"), brand_handles=BRAND):
        decision = guard.review(CANNED, thread, record=False)
        assert decision.action is Action.SUPPRESS, thread.target_post.text


def test_a_question_to_the_brand_can_be_answered(guard: Guard) -> None:
    thread = threads_from_x(load("account_activity_event.json"), brand_handles=BRAND)[0]
    decision = guard.review(
        "Sorry to hear that, Ann. Please send us a DM and we'll look into it.",
        thread,
        record=False,
    )
    assert decision.action in (Action.ALLOW, Action.REWRITE)


# --- bad input ------------------------------------------------------------------------


def _error(payload: object, **kwargs: Any) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        threads_from_x(payload, **kwargs)
    error = info.value
    assert str(error).startswith("x payload: ")
    assert isinstance(error, InvalidInput)
    assert isinstance(error, InvalidArgument)
    assert error.platform == "x"
    return error


def test_a_truncated_payload_says_where_it_ends() -> None:
    text = (FIXTURES / "v2_storm_page.json").read_text(encoding="utf-8")
    error = _error(text[: len(text) // 2])
    assert error.path == "$"
    assert "truncated" in str(error)
    assert "line" in str(error)


@pytest.mark.parametrize(
    ("payload", "platform"),
    [
        ({"id": "1", "content": "<p>hi</p>", "account": {"acct": "a"}}, "Mastodon"),
        (
            {"uri": "at://did:plc:a/app.bsky.feed.post/1", "record": {"text": "hi"}},
            "Bluesky",
        ),
        (
            {
                "thread": {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": {"uri": "at://x"},
                }
            },
            "Bluesky",
        ),
        ({"ancestors": [], "descendants": []}, "Mastodon"),
    ],
)
def test_another_platforms_payload_is_named(
    payload: dict[str, Any], platform: str
) -> None:
    error = _error(payload)
    assert f"looks like a {platform} payload" in str(error)
    assert "replyguard.adapters." in str(error)


def test_missing_includes_names_the_expansion() -> None:
    payload = load("v2_storm_page.json")
    del payload["includes"]
    error = _error(payload)
    assert error.path == "$.includes.users"
    assert "expansions=author_id" in str(error)


def test_missing_author_id_names_the_tweet() -> None:
    payload = load("v2_storm_page.json")
    del payload["data"][1]["author_id"]
    error = _error(payload)
    assert error.path == "$.data[1].author_id"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (
            lambda p: p["data"][0].__setitem__(
                "referenced_tweets", {"type": "retweeted"}
            ),
            "$.data[0].referenced_tweets",
        ),
        (
            lambda p: p["data"][0]["referenced_tweets"][0].__setitem__("type", "liked"),
            "$.data[0].referenced_tweets[0].type",
        ),
        (
            lambda p: p["data"][0]["referenced_tweets"][0].__setitem__("id", None),
            "$.data[0].referenced_tweets[0].id",
        ),
        (
            lambda p: p["data"][2].__setitem__("created_at", "yesterday"),
            "$.data[2].created_at",
        ),
        (lambda p: p["data"][2].__setitem__("text", 5), "$.data[2].text"),
        (
            lambda p: p["includes"]["users"][1].__setitem__("username", ["x"]),
            "$.includes.users[1].username",
        ),
        (lambda p: p["includes"].__setitem__("tweets", "none"), "$.includes.tweets"),
        (lambda p: p.__setitem__("data", "nothing"), "$.data"),
        (lambda p: p["data"].__setitem__(0, 7), "$.data[0]"),
    ],
)
def test_ill_typed_fields_are_named_by_path(edit: Any, path: str) -> None:
    payload = copy.deepcopy(load("v2_storm_page.json"))
    edit(payload)
    assert _error(payload).path == path


def test_v11_missing_user_is_named() -> None:
    statuses = load("v11_manual_retweets.json")
    del statuses[3]["user"]
    assert _error(statuses).path == "$[3].user"


def test_references_in_a_cycle_are_refused() -> None:
    payload = {
        "data": {
            "id": "1",
            "text": "a",
            "author_id": "9",
            "referenced_tweets": [{"type": "replied_to", "id": "2"}],
        },
        "includes": {
            "users": [{"id": "9", "username": "nine"}],
            "tweets": [
                {
                    "id": "2",
                    "text": "b",
                    "author_id": "9",
                    "referenced_tweets": [{"type": "replied_to", "id": "1"}],
                }
            ],
        },
    }
    error = _error(payload)
    assert "cycle" in str(error)
    assert error.path.startswith(("$.data", "$.includes.tweets[0]"))


def test_a_post_referring_to_itself_is_refused() -> None:
    status = {
        "id_str": "5",
        "text": "x",
        "user": {"screen_name": "a"},
        "in_reply_to_status_id_str": "5",
    }
    assert "refers to itself" in str(_error(status))


def test_an_error_only_response_says_so() -> None:
    payload = {
        "errors": [
            {"title": "Not Found Error", "detail": "Could not find tweet with id: [1]."}
        ]
    }
    error = _error(payload)
    assert error.path == "$.data"
    assert "Not Found Error" in str(error)


@pytest.mark.parametrize("payload", [None, 5, "{}", {"foo": 1}, [1], object(), b"\xff"])
def test_nonsense_is_refused_cleanly(payload: object) -> None:
    with pytest.raises(PayloadError):
        threads_from_x(payload)


@pytest.mark.parametrize(
    "payload", [[], "[]", {"meta": {"result_count": 0}}, {"tweet_create_events": []}]
)
def test_an_empty_page_has_no_threads(payload: object) -> None:
    assert threads_from_x(payload) == []
    with pytest.raises(PayloadError, match="no posts"):
        from_x(payload)


def test_deeply_nested_retweets_are_refused_not_a_recursion_error() -> None:
    status: dict[str, Any] = {"id_str": "0", "text": "x", "user": {"screen_name": "a"}}
    for i in range(1, 400):
        status = {
            "id_str": str(i),
            "text": "x",
            "user": {"screen_name": "a"},
            "retweeted_status": status,
        }
    with pytest.raises(PayloadError, match="deeper than"):
        from_x(status)
    with pytest.raises(PayloadError, match="deeper than"):
        from_x(json.dumps(status))


def test_a_hand_made_retweet_joins_the_native_retweets_original() -> None:
    page = load("v2_storm_page.json")
    original = page["includes"]["tweets"][0]
    page["data"].append(
        {
            "id": "1811000000000000104",
            "author_id": "503",
            "text": "RT @chalk_walk: " + original["text"][:40] + "…",
            "created_at": "2026-07-10T14:07:00.000Z",
        }
    )
    manual = threads_from_x(page, brand_handles=BRAND)[-1]
    assert manual.target_post.kind == "retweet"
    assert manual.target_post.retweet_of == original["id"]  # not a rebuilt copy
    assert manual.root.metrics is not None  # so the crowd's size is known


def test_v11_hand_made_retweet_before_the_native_one_still_finds_the_original() -> None:
    native = load("v11_native_retweet_extended.json")
    words = native["retweeted_status"]["extended_tweet"]["full_text"]
    manual = {
        "id_str": "354990",
        "text": "RT @chalk_walk: " + words[:60] + "…",
        "user": {"screen_name": "early_bird"},
    }
    first, _ = threads_from_x([manual, native])
    assert first.target_post.retweet_of == "355000"
