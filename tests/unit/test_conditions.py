# (house style, STYLE.md 9: tests assert `expected == actual`)
"""The condition compiler: what compiles, every problem code, and runtime behaviour."""

from __future__ import annotations

import re
from typing import Any

import pytest

from replyguard import Reply, Thread
from replyguard.analysis import analyze
from replyguard.policy import Policy
from replyguard.policy._types import policy_type
from replyguard.policy.conditions import CompileProblem, compile_condition

POLICY_TYPE = policy_type(["sarcasm"])


def _compile(source: str | bool):
    return compile_condition(source, policy_type=POLICY_TYPE)


# --- valid conditions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('thread.target.kind == "retweet"', id="kind-eq"),
        pytest.param('thread.target.kind in ["retweet", "quote"]', id="kind-in-list"),
        pytest.param('thread.target.kind not in ["original"]', id="kind-not-in"),
        pytest.param("signals.sarcasm.detected or signals.tone.mockery > 0.5", id="or"),
        pytest.param(
            "signals.chain.amplification >= 100 and not signals.chain.is_brand_original",
            id="and-not",
        ),
        pytest.param(
            "signals.sarcasm.score >= policy.thresholds.sarcasm", id="threshold"
        ),
        pytest.param("state.sent_for_original > 0", id="state"),
        pytest.param("signals.state.storm_level > 0.5", id="signals-state"),
        pytest.param('thread.parent.author == "@brand"', id="optional-parent"),
        pytest.param("thread.parent is none", id="is-none"),
        pytest.param("thread.parent is not none", id="is-not-none"),
        pytest.param("thread.target.metrics.retweets > 10", id="optional-metrics"),
        pytest.param('thread.posts[0].kind == "original"', id="index"),
        pytest.param('thread.posts[-1].kind == "quote"', id="negative-index"),
        pytest.param('thread.posts[0]["kind"] == "original"', id="string-index"),
        pytest.param("thread.depth > 2 and thread.depth <= 10", id="int-compare"),
        pytest.param("1 < thread.depth < 3", id="chained-compare"),
        pytest.param("len(thread.posts) > 3", id="len"),
        pytest.param("thread.posts | length > 3", id="length-filter"),
        pytest.param('reply.text | lower == "hi"', id="lower-filter"),
        pytest.param('contains(reply.text, "refund")', id="contains"),
        pytest.param(
            'contains_any(thread.target.text, ["fraud", "stolen"])', id="contains-any"
        ),
        pytest.param('starts_with(reply.text, "@")', id="starts-with"),
        pytest.param(
            "similarity(reply.text, thread.target.text) > 0.9", id="similarity"
        ),
        pytest.param(r'matches(reply.text, "\\bpin\\b")', id="matches"),
        pytest.param("signals.reply.repeats_brand_post * 100 >= 85", id="arithmetic"),
        pytest.param(
            'thread.target.author == "@a" if thread.depth > 0 else false', id="ternary"
        ),
        pytest.param('"@brand" in reply.text', id="in-text"),
        pytest.param('thread.platform == "bluesky"', id="platform"),
        pytest.param(
            "thread.target.created_at > thread.root.created_at", id="datetime-order"
        ),
        pytest.param('policy.mode == "shadow"', id="policy-mode"),
        pytest.param('"@brand" in policy.brand.handles', id="policy-brand"),
        pytest.param("thread.target.missing", id="bool-attribute"),
        pytest.param("true", id="true"),
    ],
)
def test_valid_condition_compiles(source: str) -> None:
    compiled = _compile(source)

    assert source.strip() == compiled.source
    assert compiled.python


def test_bool_condition_compiles_to_a_constant() -> None:
    assert "True" == _compile(True).python
    assert "False" == _compile(False).python


def test_condition_records_the_names_it_reads() -> None:
    compiled = _compile("thread.depth > 0 and signals.sarcasm.detected")

    assert frozenset({"thread", "signals"}) == compiled.names


def test_top_level_operands_are_kept_for_explanations() -> None:
    compiled = _compile(
        "thread.depth > 0 and signals.sarcasm.detected and signals.reply.length > 1"
    )

    assert [
        "thread.depth > 0",
        "signals.sarcasm.detected",
        "signals.reply.length > 1",
    ] == [display for display, _ in compiled.operands]


# --- every problem code -------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "code", "message", "help_text"),
    [
        pytest.param(
            'thred.target.kind == "retweet"',
            "policy.unknown_name",
            "unknown name `thred`",
            "did you mean `thread`?",
            id="unknown-root",
        ),
        pytest.param(
            "signals.sarcsm.detected",
            "policy.unknown_name",
            "unknown signal `signals.sarcsm`",
            "did you mean `sarcasm`?",
            id="unknown-signal",
        ),
        pytest.param(
            "reply.txt == 'x'",
            "policy.unknown_name",
            "unknown name `reply.txt`",
            "did you mean `text`?",
            id="unknown-attribute",
        ),
        pytest.param(
            "policy.thresholds.mockery > 0.5",
            "policy.unknown_name",
            "unknown name `policy.thresholds.mockery`",
            None,
            id="undeclared-threshold",
        ),
        pytest.param(
            "thread.__class__",
            "policy.unsafe_attribute",
            "`thread.__class__` is private",
            None,
            id="dunder",
        ),
        pytest.param(
            "reply._x",
            "policy.unsafe_attribute",
            "`reply._x` is private",
            None,
            id="underscore",
        ),
        pytest.param(
            "reply.text.__len__",
            "policy.unsafe_attribute",
            "`reply.text.__len__` is private",
            None,
            id="dunder-on-text",
        ),
        pytest.param(
            "reply.text.lower()",
            "policy.unsafe_call",
            "`reply.text.lower` cannot be called",
            None,
            id="method-call",
        ),
        pytest.param(
            "foo(reply.text)",
            "policy.unknown_function",
            "unknown function `foo`",
            None,
            id="unknown-function",
        ),
        pytest.param(
            "contain(reply.text, 'x')",
            "policy.unknown_function",
            "unknown function `contain`",
            "did you mean `contains`?",
            id="function-typo",
        ),
        pytest.param(
            "reply.text | lowr",
            "policy.unknown_filter",
            "unknown filter `lowr`",
            "did you mean `lower`?",
            id="filter-typo",
        ),
        pytest.param(
            'thread.target.kind == "retweat"',
            "policy.unknown_value",
            "`retweat` is never a value of `thread.target.kind`",
            "did you mean `retweet`?",
            id="kind-typo",
        ),
        pytest.param(
            '"retweat" == thread.target.kind',
            "policy.unknown_value",
            "`retweat` is never a value of `thread.target.kind`",
            "did you mean `retweet`?",
            id="kind-typo-on-left",
        ),
        pytest.param(
            'thread.target.kind in ["reply", "retweat"]',
            "policy.unknown_value",
            "`retweat` is never a value",
            "did you mean `retweet`?",
            id="kind-typo-in-list",
        ),
        pytest.param(
            'thread.platform == "twitter"',
            "policy.unknown_value",
            "`twitter` is never a value of `thread.platform`",
            None,
            id="platform",
        ),
        pytest.param(
            "reply.text > 3",
            "policy.type_mismatch",
            "cannot order `reply.text` (text) against `3` (number)",
            None,
            id="order",
        ),
        pytest.param(
            "reply.text == 3",
            "policy.type_mismatch",
            "they can never be equal",
            None,
            id="equal",
        ),
        pytest.param(
            "reply.text + 1",
            "policy.type_mismatch",
            "but `+` needs a number",
            None,
            id="arithmetic",
        ),
        pytest.param(
            "thread.depth.value",
            "policy.type_mismatch",
            "`thread.depth` is a number and has no attribute `value`",
            None,
            id="attribute-of-number",
        ),
        pytest.param(
            "thread.depth[0]",
            "policy.type_mismatch",
            "`thread.depth` is a number and cannot be indexed",
            None,
            id="index-number",
        ),
        pytest.param(
            "'a' in thread.depth",
            "policy.type_mismatch",
            "`in` needs a list or a text on its right",
            None,
            id="in-number",
        ),
        pytest.param(
            "(", "policy.bad_expression", "cannot parse condition", None, id="open"
        ),
        pytest.param(
            "thread.depth ==",
            "policy.bad_expression",
            "cannot parse condition",
            None,
            id="dangling-operator",
        ),
        pytest.param(
            "thread.depth > 1 thread",
            "policy.bad_expression",
            "unexpected `thread` after the end of the condition",
            None,
            id="trailing",
        ),
        pytest.param(
            "   ", "policy.bad_expression", "the condition is empty", None, id="empty"
        ),
        pytest.param(
            'matches(reply.text, "(")',
            "policy.bad_regex",
            "invalid regular expression `(`",
            None,
            id="bad-regex",
        ),
        pytest.param(
            "reply.text is string",
            "policy.unknown_test",
            "unknown test `is string`",
            None,
            id="unknown-test",
        ),
        pytest.param(
            "contains(reply.text)",
            "policy.bad_arguments",
            "`contains` takes 2 arguments, not 1",
            None,
            id="too-few",
        ),
        pytest.param(
            "len(reply.text, 2)",
            "policy.bad_arguments",
            "`len` takes 1 argument, not 2",
            None,
            id="too-many",
        ),
        pytest.param(
            "matches(reply.text, reply.text)",
            "policy.bad_arguments",
            "the pattern of `matches` must be a constant text",
            None,
            id="non-constant-pattern",
        ),
        pytest.param(
            '{"a": 1}',
            "policy.unsupported_syntax",
            "is not allowed in a condition",
            None,
            id="dict",
        ),
        pytest.param(
            "thread.posts[thread.depth]",
            "policy.unsupported_syntax",
            "index of `thread.posts` must be a constant number",
            None,
            id="dynamic-index",
        ),
        pytest.param(
            "reply.text[1:2]",
            "policy.unsupported_syntax",
            "index of `reply.text` must be a constant number",
            None,
            id="slice",
        ),
        pytest.param(
            "reply.text | lower(1)",
            "policy.unsupported_syntax",
            "filter `lower` takes no arguments here",
            None,
            id="filter-arguments",
        ),
        pytest.param(
            'contains(reply.text, phrase="x")',
            "policy.unsupported_syntax",
            "`contains` takes positional arguments only",
            None,
            id="keyword-arguments",
        ),
    ],
)
def test_compile_problem(
    source: str, code: str, message: str, help_text: str | None
) -> None:
    with pytest.raises(CompileProblem, match=re.escape(message)) as info:
        _compile(source)

    assert code == info.value.code
    if help_text is not None:
        assert help_text == info.value.help


def test_unknown_name_lists_the_roots() -> None:
    with pytest.raises(CompileProblem) as info:
        _compile("user.name == 'x'")

    assert (
        "unknown name `user`; conditions read `policy`, `reply`, `signals`, `state`, `thread`"
        == info.value.message
    )


def test_unknown_filter_without_close_match_lists_the_filters() -> None:
    with pytest.raises(CompileProblem) as info:
        _compile("reply.text | zzzzzz")

    assert info.value.help.startswith("filters: ")
    assert "`lower`" in info.value.help


def test_problem_line_of_a_multi_line_condition() -> None:
    with pytest.raises(CompileProblem) as info:
        _compile("thread.depth > 0\nand\nthred.x")

    assert 3 == info.value.lineno


# --- runtime, through a compiled policy ---------------------------------------------


def _thread(*posts: dict[str, Any]) -> Thread:
    return Thread.model_validate({"brand_handles": ["@brand"], "posts": list(posts)})


def _post(
    post_id: str, author: str, text: str, kind: str = "original", **extra: Any
) -> dict:
    return {"id": post_id, "author": author, "text": text, "kind": kind, **extra}


LONE = _thread(_post("1", "@a", "@brand my card was stolen"))
REPLY_CHAIN = _thread(
    _post("1", "@a", "@brand hello", metrics={"retweets": 40}),
    _post("2", "@b", "@a @brand me too, it was FRAUD", "reply", in_reply_to="1"),
)


def _matches(condition: str, thread: Thread, reply: str = "hi there") -> bool:
    policy = Policy.from_string(
        "replyguard: 1\nname: t\nrules:\n  - id: r\n    when: "
        + repr(condition)
        + "\n    action: suppress\n"
    )
    reply_model = Reply(text=reply)
    signals = analyze(thread, reply_model)
    return ["r"] == [rule.id for rule in policy.match(thread, reply_model, signals)]


@pytest.mark.parametrize(
    ("condition", "thread", "expected"),
    [
        pytest.param(
            'thread.parent.author == "@a"', LONE, False, id="parent-missing-eq"
        ),
        pytest.param('thread.parent.author == "@a"', REPLY_CHAIN, True, id="parent-eq"),
        pytest.param(
            "thread.parent.author is none", LONE, True, id="parent-missing-is-none"
        ),
        pytest.param(
            "thread.parent.metrics.retweets > 1", LONE, False, id="no-parent-order"
        ),
        pytest.param(
            "thread.parent.metrics.retweets > 1", REPLY_CHAIN, True, id="parent-order"
        ),
        pytest.param(
            "thread.target.metrics.retweets > 1", REPLY_CHAIN, False, id="no-metrics"
        ),
        pytest.param(
            "thread.target.metrics.retweets <= 1",
            REPLY_CHAIN,
            False,
            id="no-metrics-never-orders",
        ),
        pytest.param("thread.depth == 1", REPLY_CHAIN, True, id="depth"),
        pytest.param('thread.root.author == "@a"', REPLY_CHAIN, True, id="root"),
        pytest.param("len(thread.ancestors) == 1", REPLY_CHAIN, True, id="ancestors"),
        pytest.param(
            'contains(thread.target.text, "fraud")',
            REPLY_CHAIN,
            True,
            id="contains-ignores-case",
        ),
        pytest.param(
            'contains_any(thread.target.text, ["stolen", "lost"])',
            LONE,
            True,
            id="contains-any",
        ),
        pytest.param(
            'starts_with(thread.target.text, "@BRAND")',
            LONE,
            True,
            id="starts-with-ignores-case",
        ),
        pytest.param(
            'thread.target.text | lower == "@brand my card was stolen"',
            LONE,
            True,
            id="lower",
        ),
        pytest.param("thread.posts | length == 2", REPLY_CHAIN, True, id="length"),
        pytest.param(
            "policy.thresholds.sarcasm == 0.45", LONE, True, id="default-threshold"
        ),
        pytest.param(
            'thread.target.kind in ["reply", "quote"]', REPLY_CHAIN, True, id="in"
        ),
        pytest.param(
            'thread.target.kind not in ["reply", "quote"]',
            REPLY_CHAIN,
            False,
            id="not-in",
        ),
        pytest.param("signals.chain.addressed_to_brand", LONE, True, id="signal"),
        pytest.param("1 < thread.depth + 1 < 3", REPLY_CHAIN, True, id="chained"),
        pytest.param(
            "(thread.depth + 3) // 2 == 2", REPLY_CHAIN, True, id="floor-division"
        ),
    ],
)
def test_condition_evaluates(condition: str, thread: Thread, expected: bool) -> None:
    assert expected == _matches(condition, thread)


@pytest.mark.parametrize(
    ("condition", "thread", "expected"),
    [
        pytest.param(
            'thread.posts[0].kind == "original"', REPLY_CHAIN, True, id="in-range"
        ),
        pytest.param(
            'thread.posts[-1].kind == "reply"', REPLY_CHAIN, True, id="negative"
        ),
        pytest.param(
            "thread.posts[5] is none", REPLY_CHAIN, True, id="out-of-range-none"
        ),
        pytest.param(
            'thread.posts[5].kind == "reply"', REPLY_CHAIN, False, id="out-of-range"
        ),
        pytest.param(
            "thread.ancestors[0].metrics.retweets > 1",
            REPLY_CHAIN,
            True,
            id="ancestor-metrics",
        ),
    ],
)
def test_index_evaluates(condition: str, thread: Thread, expected: bool) -> None:
    assert expected == _matches(condition, thread)


@pytest.mark.parametrize(
    ("condition", "thread", "expected"),
    [
        pytest.param(
            'matches(thread.target.text, "card\\s+was")', LONE, True, id="matches"
        ),
        pytest.param(
            'matches(thread.target.text, "CARD")', LONE, True, id="matches-ignores-case"
        ),
        pytest.param(
            'matches(thread.target.text, "^card")', LONE, False, id="matches-anchor"
        ),
        pytest.param('thread.target.author ~ "!" == "@a!"', LONE, True, id="concat"),
    ],
)
def test_str_helpers_evaluate(condition: str, thread: Thread, expected: bool) -> None:
    assert expected == _matches(condition, thread)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(
            "len(thread.ancestors) > 0 and 1 / thread.depth > 0.5",
            False,
            id="and-guard",
        ),
        pytest.param(
            "len(thread.ancestors) == 0 or 1 / thread.depth > 0.5", True, id="or-guard"
        ),
        pytest.param(
            "thread.ancestors | length > 0 and thread.depth // thread.depth == 1",
            False,
            id="filter-guard",
        ),
    ],
)
def test_and_or_short_circuit_left_to_right(condition: str, expected: bool) -> None:
    reply_thread = _thread(_post("1", "@a", "@brand hello"))

    assert expected == _matches(condition, reply_thread, reply="no")
