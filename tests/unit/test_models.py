# (house style, STYLE.md 9: tests assert `expected == actual`)
"""Thread, Reply, Action and Decision: validation, resolution and round-trips."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from replyguard import (
    Action,
    Decision,
    Escalation,
    Evidence,
    InvalidArgument,
    InvalidInput,
    Reason,
    Reply,
    ReplyGuardError,
    Signals,
    Thread,
)
from replyguard._inputs import reply_from, thread_from
from replyguard.models import (
    MAX_POST_BYTES,
    ChainSignals,
    DecisionError,
    PolicyRef,
)

DESIGN_THREAD = {
    "platform": "x",
    "brand_handles": ["@BankofAmerica", "@BofA_Help"],
    "posts": [
        {
            "id": "1",
            "author": "@occupy_chalk",
            "text": "Chalk art outside @BankofAmerica ...",
            "kind": "original",
            "created_at": "2013-07-10T14:00:00Z",
        },
        {
            "id": "2",
            "author": "@someone",
            "text": "RT @occupy_chalk: Chalk art outside @BankofAmerica ...",
            "kind": "retweet",
            "retweet_of": "1",
            "created_at": "2013-07-10T14:03:00Z",
        },
    ],
    "target": "2",
}

ORIGINAL = {"id": "1", "author": "@a", "text": "hello @brand", "kind": "original"}


def _chain_thread() -> Thread:
    """1 original <- 2 reply <- 3 quote of 2 <- 4 retweet of 3; 5 an unrelated reply."""
    return Thread.model_validate(
        {
            "posts": [
                ORIGINAL,
                {
                    "id": "2",
                    "author": "@b",
                    "text": "@a agreed",
                    "kind": "reply",
                    "in_reply_to": "1",
                },
                {
                    "id": "3",
                    "author": "@c",
                    "text": "look",
                    "kind": "quote",
                    "quote_of": "2",
                },
                {
                    "id": "4",
                    "author": "@d",
                    "text": "RT",
                    "kind": "retweet",
                    "retweet_of": "3",
                },
                {
                    "id": "5",
                    "author": "@e",
                    "text": "@a me too",
                    "kind": "reply",
                    "in_reply_to": "1",
                },
            ],
            "target": "4",
        }
    )


# --- the interchange format ---------------------------------------------------------


def test_design_thread_parses() -> None:
    thread = Thread.model_validate(DESIGN_THREAD)

    assert "x" == thread.platform
    assert ("@BankofAmerica", "@BofA_Help") == thread.brand_handles
    assert ["1", "2"] == [p.id for p in thread.posts]
    assert "2" == thread.target_post.id
    assert "retweet" == thread.target_post.kind
    assert "1" == thread.target_post.retweet_of
    assert datetime(2013, 7, 10, 14, 3, tzinfo=UTC) == thread.posts[1].created_at


def test_design_thread_json_round_trips() -> None:
    thread = Thread.model_validate(DESIGN_THREAD)

    again = Thread.model_validate_json(thread.model_dump_json())

    assert thread == again
    assert thread.target_post == again.target_post


def test_target_defaults_to_the_last_post() -> None:
    data = copy.deepcopy(DESIGN_THREAD)
    del data["target"]
    data["posts"].append(
        {"id": "3", "author": "@late", "text": "@BofA_Help hi", "kind": "original"}
    )

    thread = Thread.model_validate(data)

    assert "3" == thread.target_post.id
    assert thread.parent is None


def test_explicit_target_need_not_be_the_last_post() -> None:
    data = copy.deepcopy(DESIGN_THREAD)
    data["target"] = "1"

    thread = Thread.model_validate(data)

    assert "1" == thread.target_post.id
    assert 0 == thread.depth


def test_root_parent_ancestors_and_depth() -> None:
    thread = _chain_thread()

    assert "4" == thread.target_post.id
    assert "3" == thread.parent.id
    assert ["3", "2", "1"] == [p.id for p in thread.ancestors]
    assert "1" == thread.root.id
    assert 3 == thread.depth


def test_an_original_target_is_its_own_root() -> None:
    thread = Thread.model_validate({"posts": [ORIGINAL]})

    assert ORIGINAL["id"] == thread.root.id
    assert thread.parent is None
    assert () == thread.ancestors
    assert 0 == thread.depth


def test_post_lookup_and_original_of() -> None:
    thread = _chain_thread()

    assert "@c" == thread.post("3").author
    assert thread.get("99") is None
    assert thread.get(None) is None
    assert "3" == thread.original_of(thread.post("4")).id
    assert "2" == thread.original_of(thread.post("3")).id
    assert "2" == thread.original_of(thread.post("2")).id
    with pytest.raises(KeyError):
        thread.post("99")


def test_reply_that_also_quotes_is_a_reply_with_quote_of() -> None:
    thread = Thread.model_validate(
        {
            "posts": [
                ORIGINAL,
                {"id": "2", "author": "@b", "text": "this", "kind": "original"},
                {
                    "id": "3",
                    "author": "@c",
                    "text": "@a see this",
                    "kind": "reply",
                    "in_reply_to": "1",
                    "quote_of": "2",
                },
            ]
        }
    )

    assert "1" == thread.parent.id
    assert "2" == thread.target_post.quote_of


def test_integer_ids_and_references_are_coerced_to_strings() -> None:
    thread = Thread.model_validate(
        {
            "posts": [
                {"id": 10, "author": "@a", "text": "hi", "kind": "original"},
                {
                    "id": 11,
                    "author": "@b",
                    "text": "RT",
                    "kind": "retweet",
                    "retweet_of": 10,
                },
            ],
            "target": 11,
        }
    )

    assert ["10", "11"] == [p.id for p in thread.posts]
    assert "10" == thread.posts[1].retweet_of
    assert "11" == thread.target
    assert "10" == thread.parent.id


def test_naive_created_at_becomes_utc() -> None:
    data = {"posts": [{**ORIGINAL, "created_at": "2013-07-10T14:00:00"}]}

    created = Thread.model_validate(data).posts[0].created_at

    assert datetime(2013, 7, 10, 14, 0, tzinfo=UTC) == created
    assert timedelta(0) == created.utcoffset()


def test_aware_created_at_keeps_its_offset() -> None:
    data = {"posts": [{**ORIGINAL, "created_at": "2013-07-10T16:00:00+02:00"}]}

    created = Thread.model_validate(data).posts[0].created_at

    assert timedelta(hours=2) == created.utcoffset()
    assert datetime(2013, 7, 10, 14, 0, tzinfo=UTC) == created


def test_post_handle_is_comparable() -> None:
    thread = Thread.model_validate({"posts": [{**ORIGINAL, "author": " @BofA_Help "}]})

    assert "bofa_help" == thread.posts[0].handle


def test_platform_defaults_to_x() -> None:
    assert "x" == Thread.model_validate({"posts": [ORIGINAL]}).platform


# --- bad input ----------------------------------------------------------------------


def _retweet(**extra: object) -> dict[str, object]:
    return {
        "id": "2",
        "author": "@b",
        "text": "RT @a: hello",
        "kind": "retweet",
        **extra,
    }


BAD_THREADS = [
    pytest.param(
        {"posts": [ORIGINAL, _retweet(retweet_of="9")]},
        "posts[1].retweet_of: unknown post id `9`",
        id="unknown-reference",
    ),
    pytest.param(
        {
            "posts": [
                {
                    "id": "1",
                    "author": "@a",
                    "text": "@b yes",
                    "kind": "reply",
                    "in_reply_to": "2",
                },
                {"id": "2", "author": "@b", "text": "question?", "kind": "original"},
            ]
        },
        "posts[0].in_reply_to: post `2` comes later in the thread",
        id="forward-reference",
    ),
    pytest.param(
        {
            "posts": [
                {
                    "id": "1",
                    "author": "@a",
                    "text": "me",
                    "kind": "quote",
                    "quote_of": "1",
                }
            ]
        },
        "posts[0].quote_of: post `1` refers to itself",
        id="self-reference",
    ),
    pytest.param(
        {"posts": [ORIGINAL, {**ORIGINAL, "text": "again"}]},
        "posts[1].id: duplicate post id `1`",
        id="duplicate-id",
    ),
    pytest.param(
        {"posts": [ORIGINAL, _retweet()]},
        "posts[1].retweet_of: a retweet must name the post it retweets",
        id="retweet-without-retweet-of",
    ),
    pytest.param(
        {
            "posts": [
                ORIGINAL,
                {"id": "2", "author": "@b", "text": "look", "kind": "quote"},
            ]
        },
        "posts[1].quote_of: a quote must name the post it quotes",
        id="quote-without-quote-of",
    ),
    pytest.param(
        {"posts": [ORIGINAL, {**_retweet(retweet_of="1"), "kind": "original"}]},
        "posts[1].retweet_of: only a post of kind `retweet` can retweet",
        id="original-with-retweet-of",
    ),
    pytest.param(
        {"posts": [ORIGINAL, {**_retweet(retweet_of="1"), "in_reply_to": "1"}]},
        "posts[1].in_reply_to: a post of kind `retweet` cannot reply",
        id="retweet-with-in-reply-to",
    ),
    pytest.param(
        {"posts": [ORIGINAL, {**ORIGINAL, "id": "2", "quote_of": "1"}]},
        "posts[1].quote_of: a post of kind `original` cannot quote",
        id="original-with-quote-of",
    ),
    pytest.param(
        {"posts": [ORIGINAL, _retweet(retweet_off="1")]},
        "posts[1].retweet_off: unknown key",
        id="unknown-key-typo",
    ),
    pytest.param(
        {"posts": [ORIGINAL], "targett": "1"},
        "targett: unknown key",
        id="unknown-top-level-key",
    ),
    pytest.param({"posts": []}, "posts:", id="empty-posts"),
    pytest.param({"platform": "x"}, "posts: required key is missing", id="no-posts"),
    pytest.param(
        {"posts": [{**ORIGINAL, "text": "a" * (MAX_POST_BYTES + 1)}]},
        "posts[0].text: text is larger than 256 KiB of UTF-8",
        id="post-text-over-256-kib",
    ),
    pytest.param(
        {"posts": [ORIGINAL], "target": "7"},
        "target: unknown post id `7`",
        id="unknown-target",
    ),
    pytest.param(
        {"posts": [{**ORIGINAL, "kind": "repost"}]},
        "posts[0].kind:",
        id="unknown-kind",
    ),
    pytest.param(
        {"posts": [{**ORIGINAL, "id": ""}]},
        "posts[0].id:",
        id="empty-id",
    ),
    pytest.param(
        {"posts": [{"id": "1", "text": "hi", "kind": "original"}]},
        "posts[0].author: required key is missing",
        id="missing-author",
    ),
    pytest.param(
        {"posts": [{**ORIGINAL, "metrics": {"retweets": -1}}]},
        "posts[0].metrics.retweets:",
        id="negative-metric",
    ),
]


@pytest.mark.parametrize(("data", "expected"), BAD_THREADS)
def test_bad_thread_raises_validation_error(
    data: dict[str, object], expected: str
) -> None:
    with pytest.raises(ValidationError):
        Thread.model_validate(data)


@pytest.mark.parametrize(("data", "expected"), BAD_THREADS)
def test_bad_thread_raises_invalid_input_naming_the_path(
    data: dict[str, object], expected: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        thread_from(data)

    assert str(info.value).startswith("invalid thread: ")
    assert expected in str(info.value)
    assert any(problem.startswith(expected) for problem in info.value.problems)


def test_empty_posts_message_names_no_python_type() -> None:
    with pytest.raises(InvalidInput) as info:
        thread_from({"posts": []})

    assert "tuple" not in str(info.value)


def test_invalid_input_is_a_value_error_and_a_replyguard_error() -> None:
    with pytest.raises(InvalidInput) as info:
        thread_from({"posts": []})

    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ReplyGuardError)


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "posts": [
            ORIGINAL,
            _retweet(retweet_of="8"),
            {**ORIGINAL, "id": "3", "kind": "reply", "in_reply_to": "9"},
        ],
        "target": "7",
    }

    with pytest.raises(InvalidInput) as info:
        thread_from(data)

    assert (
        "posts[1].retweet_of: unknown post id `8`",
        "posts[2].in_reply_to: unknown post id `9`",
        "target: unknown post id `7`",
    ) == info.value.problems


def test_problems_keep_a_message_that_contains_a_semicolon() -> None:
    data = {
        "posts": [
            {
                "id": "1",
                "author": "@a",
                "text": "@b yes",
                "kind": "reply",
                "in_reply_to": "2",
            },
            {"id": "2", "author": "@b", "text": "question?", "kind": "original"},
        ]
    }

    with pytest.raises(InvalidInput) as info:
        thread_from(data)

    expected = "posts[0].in_reply_to: post `2` comes later in the thread; posts are chronological"
    assert (expected,) == info.value.problems


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        pytest.param("a" * MAX_POST_BYTES, True, id="ascii-at-limit"),
        pytest.param("a" * (MAX_POST_BYTES + 1), False, id="ascii-over-limit"),
        pytest.param("é" * (MAX_POST_BYTES // 2), True, id="two-byte-at-limit"),
        pytest.param("é" * (MAX_POST_BYTES // 2 + 1), False, id="two-byte-over-limit"),
        pytest.param("😀" * (MAX_POST_BYTES // 4), True, id="four-byte-at-limit"),
        pytest.param(
            "😀" * (MAX_POST_BYTES // 4 + 1), False, id="four-byte-over-limit"
        ),
    ],
)
def test_post_size_limit_counts_utf8_bytes(text: str, ok: bool) -> None:
    data = {"posts": [{**ORIGINAL, "text": text}]}

    if ok:
        assert text == thread_from(data).posts[0].text
    else:
        with pytest.raises(InvalidInput, match=r"posts\[0\]\.text: text is larger"):
            thread_from(data)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(["posts"], id="list"),
        pytest.param("{}", id="json-text"),
        pytest.param(3, id="number"),
    ],
)
def test_thread_from_refuses_other_types(value: object) -> None:
    with pytest.raises(
        InvalidArgument, match="a thread must be a `Thread` or a mapping"
    ):
        thread_from(value)


def test_thread_from_returns_a_thread_unchanged() -> None:
    thread = Thread.model_validate(DESIGN_THREAD)

    assert thread is thread_from(thread)


def test_models_are_frozen() -> None:
    thread = Thread.model_validate(DESIGN_THREAD)

    with pytest.raises(ValidationError):
        thread.platform = "bluesky"


# --- replies ------------------------------------------------------------------------


def test_reply_from_string() -> None:
    assert Reply(text="We are here to help") == reply_from("We are here to help")


def test_reply_from_dict() -> None:
    reply = reply_from({"text": "Sorry!", "links": ["https://x.test/help"]})

    assert Reply(text="Sorry!", links=("https://x.test/help",)) == reply


def test_reply_from_reply_is_unchanged() -> None:
    reply = Reply(text="hi")

    assert reply is reply_from(reply)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"txt": "hi"}, "reply.txt: unknown key", id="unknown-key"),
        pytest.param({}, "reply.text: required key is missing", id="missing-text"),
        pytest.param(
            {"text": "a" * (MAX_POST_BYTES + 1)},
            "reply.text: text is larger than 256 KiB of UTF-8",
            id="too-large",
        ),
        pytest.param({"text": 5}, "reply.text:", id="text-not-text"),
    ],
)
def test_bad_reply_raises_invalid_input_naming_the_path(
    data: dict[str, object], expected: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        reply_from(data)

    assert str(info.value).startswith("invalid reply: ")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param(42, id="number"),
        pytest.param(["hi"], id="list"),
        pytest.param(b"hi", id="bytes"),
    ],
)
def test_reply_from_refuses_other_types(value: object) -> None:
    with pytest.raises(
        InvalidArgument, match="a reply must be a `Reply`, a string or a mapping"
    ):
        reply_from(value)


# --- actions and decisions ----------------------------------------------------------


def test_action_severity_order() -> None:
    ordered = sorted(Action, key=lambda action: action.severity)

    assert [Action.ALLOW, Action.REWRITE, Action.ESCALATE, Action.SUPPRESS] == ordered
    assert [0, 1, 2, 3] == [a.severity for a in ordered]


@pytest.mark.parametrize(
    ("action", "sends"),
    [
        pytest.param(Action.ALLOW, True, id="allow"),
        pytest.param(Action.REWRITE, True, id="rewrite"),
        pytest.param(Action.ESCALATE, False, id="escalate"),
        pytest.param(Action.SUPPRESS, False, id="suppress"),
    ],
)
def test_action_sends(action: Action, sends: bool) -> None:
    assert sends == action.sends


def test_action_is_a_str_enum() -> None:
    assert "suppress" == Action.SUPPRESS
    assert Action.ESCALATE == Action("escalate")


def _full_decision() -> Decision:
    evidence = Evidence(
        signal="chain.addressed_to_brand",
        cue="mention",
        post_id="2",
        start=3,
        end=13,
        text="@BofA_Help",
        weight=0.75,
    )
    return Decision(
        action=Action.SUPPRESS,
        text=None,
        reasons=(
            Reason(
                rule="crowd-goes-to-a-person",
                action=Action.ESCALATE,
                message="a crowd",
                evidence=(evidence,),
                route="pr",
                priority="high",
            ),
            Reason(
                rule="no-reply-to-retweets", action=Action.SUPPRESS, message="a retweet"
            ),
        ),
        escalation=Escalation(
            route="pr",
            priority="high",
            summary="Retweet 2 by @someone",
            proposed_reply="We are here to help",
            rules=("crowd-goes-to-a-person",),
            target_id="2",
        ),
        signals=Signals(
            chain=ChainSignals(
                target_kind="retweet", amplification=412, depth=1, evidence=(evidence,)
            ),
            analyzers=("chain.v1", "reply.v1"),
        ),
        errors=(DecisionError(type="StoreError", message="down", stage="state"),),
        policy=PolicyRef(name="default", version="1.0", hash="sha256:0123456789abcdef"),
        at=datetime(
            2013, 7, 10, 14, 5, 30, 123456, tzinfo=timezone(timedelta(hours=-4))
        ),
        target_id="2",
        proposed="We are here to help",
        would_have=Action.SUPPRESS,
    )


def test_decision_json_round_trip() -> None:
    decision = _full_decision()

    again = Decision.model_validate_json(decision.model_dump_json())

    assert decision == again
    assert decision.at.utcoffset() == again.at.utcoffset()


def test_decision_rules_and_sends() -> None:
    decision = _full_decision()

    assert ("crowd-goes-to-a-person", "no-reply-to-retweets") == decision.rules
    assert decision.sends is False
    assert decision.model_copy(update={"text": "hi"}).sends is True


def test_decisions_get_distinct_ids() -> None:
    first = _full_decision()
    second = _full_decision()

    assert first.decision_id != second.decision_id
    assert 32 == len(first.decision_id)
