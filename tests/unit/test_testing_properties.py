# (house style, STYLE.md 9: tests assert `expected == actual`)
"""`assert_never` and `assert_equivalent`: they pass, and they fail with a shrunk thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import strategies as st

from replyguard import Guard, Reply, Thread
from replyguard.errors import InvalidArgument
from replyguard.models import Action
from replyguard.policy import Policy
from replyguard.testing.properties import (
    PolicyPropertyError,
    assert_equivalent,
    assert_never,
)
from replyguard.testing.strategies import (
    hostile_posts,
    replies,
    service_requests,
    threads,
)

REFUNDS = Policy.from_string(
    "replyguard: 1\nname: refunds\nrules:\n"
    "  - id: no-refund-talk\n"
    "    when: \"'refund' in thread.target.text\"\n"
    "    action: suppress\n"
)
"""A tiny policy that suppresses every reply to a post saying "refund"."""

SERVICE_THREADS = threads(texts=service_requests(), max_posts=3)

LENIENT = Policy.from_string(
    "replyguard: 1\nname: lenient\nextends: [replyguard:default]\n"
    "thresholds:\n  hostility: 0.95\n"
)
"""The default policy with one threshold raised: hostility no longer holds a reply."""


@pytest.fixture(scope="module")
def default() -> Policy:
    return Policy.packaged("default")


def test_assert_never_passes_when_the_property_holds(default):
    assert_never(default, "allow", over=threads(kinds=("retweet",)), max_examples=30)


def test_assert_never_raises_with_the_shrunk_thread_when_it_does_not():
    with pytest.raises(PolicyPropertyError) as info:
        assert_never(REFUNDS, "suppress", over=SERVICE_THREADS, max_examples=300)

    error = info.value
    assert isinstance(error, AssertionError)
    assert 1 == len(error.thread.posts)  # shrunk: one post, the one saying "refund"
    assert "refund" in error.thread.target_post.text
    assert Action.SUPPRESS == error.decisions[0].action
    message = str(error)
    # the thread is shown as thread JSON, and reads back as the same thread
    start = message.index("{")
    end = message.index("\n}\n") + 2
    assert error.thread == Thread.model_validate(json.loads(message[start:end]))
    assert "policy `refunds` (version 0) decided 'suppress'" in message
    assert 'reply: "We\'re here to help! DM us."' in message
    assert "decision: suppress" in message
    assert "rules: no-refund-talk" in message
    assert "no-refund-talk (suppress): rule `no-refund-talk` matched" in message


def test_the_report_is_not_buried_under_hypothesis_output():
    with pytest.raises(PolicyPropertyError) as info:
        assert_never(REFUNDS, "suppress", over=SERVICE_THREADS, max_examples=300)

    assert info.value.__suppress_context__
    assert None is info.value.__cause__
    assert "Falsifying example" not in str(info.value)
    assert not getattr(info.value, "__notes__", [])


def test_assert_never_takes_a_path_and_an_action(tmp_path):
    path = tmp_path / "refunds.yaml"
    path.write_text(
        "replyguard: 1\nname: refunds\nrules:\n"
        "  - id: no-refund-talk\n"
        "    when: \"'refund' in thread.target.text\"\n"
        "    action: suppress\n",
        encoding="utf-8",
    )

    with pytest.raises(PolicyPropertyError):
        assert_never(str(path), Action.SUPPRESS, over=SERVICE_THREADS)
    assert_never(path, "escalate", over=threads(), max_examples=20)


def test_assert_never_takes_a_packaged_name_and_a_guard():
    guard = Guard(REFUNDS, clock=lambda: datetime(2030, 1, 1, tzinfo=UTC))

    assert_never("replyguard:default", "allow", over=threads(kinds=("retweet",)))
    with pytest.raises(PolicyPropertyError):
        assert_never(guard, "suppress", over=SERVICE_THREADS)


def test_a_reply_strategy_is_searched_and_shown():
    with pytest.raises(PolicyPropertyError) as info:
        assert_never(
            REFUNDS,
            "suppress",
            over=SERVICE_THREADS,
            reply=replies(with_links=True),
            max_examples=300,
        )

    assert info.value.reply.links
    assert '"links": [' in str(info.value)


def test_over_may_draw_thread_and_reply_pairs(default):
    pairs = st.tuples(threads(kinds=("retweet",)), replies())

    assert_never(default, "allow", over=pairs, max_examples=20)
    with pytest.raises(InvalidArgument, match="give the reply one way"):
        assert_never(default, "allow", over=pairs, reply="hi", max_examples=5)


def test_assert_equivalent_finds_the_threshold_that_differs(default):
    with pytest.raises(PolicyPropertyError) as info:
        assert_equivalent(
            default,
            LENIENT,
            over=threads(texts=hostile_posts(), mentions=True, max_posts=3),
            max_examples=200,
        )

    old, new = info.value.decisions
    assert old.action != new.action
    assert "hostility-goes-to-a-person" in old.rules
    message = str(info.value)
    assert "decisions (differ in action):" in message
    header = next(line for line in message.splitlines() if "old `default`" in line)
    assert "new `lenient`" in header  # side by side, on one line
    action_line = next(
        line for line in message.splitlines() if line.startswith("action:")
    )
    assert old.action.value in action_line
    assert new.action.value in action_line


def test_assert_equivalent_passes_for_a_policy_and_itself(default):
    assert_equivalent(
        default,
        Policy.packaged("default"),
        over=threads(max_posts=4),
        compare=("action", "rules", "text", "route"),
        max_examples=40,
    )


def test_assert_equivalent_compares_what_it_is_asked_to():
    same_action = Policy.from_string(
        "replyguard: 1\nname: renamed\nrules:\n"
        "  - id: refund-talk-renamed\n"
        "    when: \"'refund' in thread.target.text\"\n"
        "    action: suppress\n"
    )
    over = threads(texts=service_requests(), max_posts=2)

    assert_equivalent(REFUNDS, same_action, over=over, max_examples=40)
    with pytest.raises(PolicyPropertyError, match="differ in rules"):
        assert_equivalent(REFUNDS, same_action, over=over, compare=("action", "rules"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"action": "block"}, "action='block' must be an Action or one of"),
        ({"over": [1, 2]}, "must be a Hypothesis strategy"),
        ({"reply": 3}, "reply=3 must be a Reply"),
        ({"max_examples": 0}, "max_examples=0 must be an integer >= 1"),
        (
            {"store": "memory://", "policy": Guard(REFUNDS)},
            "store= applies to a policy",
        ),
        ({"policy": 42}, "policy must be a Policy, a Guard"),
    ],
)
def test_assert_never_refuses_bad_arguments(kwargs, match):
    arguments = {"policy": REFUNDS, "action": "allow", "over": threads(), **kwargs}

    with pytest.raises(InvalidArgument, match=match):
        assert_never(**arguments)


@pytest.mark.parametrize("compare", [("colour",), (), "action"])
def test_assert_equivalent_refuses_an_unknown_comparison(compare):
    with pytest.raises(InvalidArgument, match="compare="):
        assert_equivalent(REFUNDS, REFUNDS, over=threads(), compare=compare)


def test_a_strategy_drawing_something_else_is_reported():
    with pytest.raises(InvalidArgument, match="it must draw Thread models"):
        assert_never(REFUNDS, "allow", over=st.just(42), max_examples=1)


def test_a_thread_mapping_is_accepted():
    thread = {
        "posts": [{"id": "1", "author": "@a", "text": "my refund?", "kind": "original"}]
    }

    with pytest.raises(PolicyPropertyError) as info:
        assert_never(REFUNDS, "suppress", over=st.just(thread), reply=Reply(text="hi"))

    assert "my refund?" == info.value.thread.target_post.text
    assert 'reply: "hi"' in str(info.value)
