# (house style, STYLE.md 9: tests assert `expected == actual`)
"""Invariants of the engine, checked with Hypothesis over generated threads and policies."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import replyguard.guard
from replyguard import Action, Decision, Guard, Reply, Thread
from replyguard.analysis import Brand, analyze
from replyguard.policy import Policy

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BRAND = Brand.build(handles=["@brand"], names=["Brand Co"])

# --- threads --------------------------------------------------------------------------

AUTHORS = ["@brand", "@Brand", "@ana", "@bo", "@cy", "@dee@social.example"]
TEXTS = [
    "@brand my card was declined, help?",
    "@ana @brand same here",
    "Chalk art outside @brand: Theft. Fraud.",
    "RT @ana: Chalk art outside @brand: Theft. Fraud.",
    "done with Brand  Co forever",
    "so true RT @bo: @brand is the worst",
    "We are here to help, listen, and learn",
    "@ana We are here to help, listen, and learn",
    "lol",
    "",
    "thanks @BRAND!! love it 😍",
]
REPLIES = [
    "We are here to help, listen, and learn",
    "@ana We are here to help, listen, and learn",
    "Sorry about that! Please DM us.",
    "Great news!! 🎉",
    "",
]
REFERENCE = {"reply": "in_reply_to", "retweet": "retweet_of", "quote": "quote_of"}


@st.composite
def posts(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """Return post number `index + 1`, referring only to earlier posts."""
    post: dict[str, Any] = {
        "id": str(index + 1),
        "author": draw(st.sampled_from(AUTHORS)),
        "text": draw(st.one_of(st.sampled_from(TEXTS), st.text(max_size=40))),
        "kind": "original",
    }
    if index > 0:
        kind = draw(st.sampled_from(["original", "reply", "retweet", "quote"]))
        post["kind"] = kind
        if kind in REFERENCE:
            post[REFERENCE[kind]] = str(draw(st.integers(1, index)))
        if kind == "reply" and draw(st.booleans()):
            post["quote_of"] = str(draw(st.integers(1, index)))
    if draw(st.booleans()):
        post["metrics"] = {
            "retweets": draw(st.integers(0, 500)),
            "quotes": draw(st.integers(0, 50)),
        }
    if draw(st.integers(0, 9)) == 0:
        post["missing"] = True
    return post


@st.composite
def threads(draw: st.DrawFn) -> Thread:
    """Return a valid thread: 1 to 6 posts, kinds and references mixed, brand or not."""
    count = draw(st.integers(1, 6))
    data: dict[str, Any] = {"posts": [draw(posts(i)) for i in range(count)]}
    if draw(st.booleans()):
        data["target"] = str(draw(st.integers(1, count)))
    if draw(st.booleans()):
        data["brand_handles"] = draw(
            st.sampled_from([["@brand"], ["brand", "@other"], ["@ana"]])
        )
    return Thread.model_validate(data)


replies = st.one_of(st.sampled_from(REPLIES), st.text(max_size=60)).map(
    lambda text: Reply(text=text)
)

# --- policies -------------------------------------------------------------------------

CONDITIONS = [
    "'true'",
    "'false'",
    "'thread.target.kind == \"retweet\"'",
    '\'thread.target.kind in ["reply", "quote"]\'',
    "thread.depth > 0",
    "thread.depth >= 2",
    "thread.parent is none",
    "'thread.parent.author == \"@brand\"'",
    "signals.chain.addressed_to_brand",
    "not signals.chain.addressed_to_brand",
    "signals.chain.target_is_brand",
    "signals.chain.amplification >= 3",
    "signals.chain.near_duplicates > 0",
    "signals.reply.repeats_brand_post >= 0.85",
    "'contains(reply.text, \"help\")'",
    '\'contains_any(thread.target.text, ["fraud", "card"])\'',
    "len(thread.posts) > 3",
    "reply.text | length > 30",
    "thread.target.metrics.retweets > 100",
    "thread.depth > 0 and signals.chain.addressed_to_brand",
    "thread.depth > 1 or signals.chain.brand_in_chain",
]
FAILING_CONDITIONS = [
    "thread.depth / 0 > 1",
    "len(thread.posts) % 0 == 1",
    "signals.chain.amplification // (thread.depth - thread.depth) > 0",
]
ACTIONS = ["allow", "rewrite", "escalate", "suppress"]
TEMPLATES = ["'{{ reply.text | upper }}'", "'{{ reply.text | strip_exclamations }}'"]

Rule = tuple[str, str, str]
"""(condition, action, rewrite template)."""

rule_specs = st.tuples(
    st.sampled_from(CONDITIONS), st.sampled_from(ACTIONS), st.sampled_from(TEMPLATES)
)
rule_lists = st.lists(rule_specs, min_size=1, max_size=6)


def _yaml(rules: list[Rule] | tuple[Rule, ...], *, head: str = "") -> str:
    """Return a policy whose rule ids follow the condition and action, not the order."""
    text = "replyguard: 1\nname: generated\n" + head + "rules:\n"
    seen: dict[str, int] = {}
    for condition, action, template in rules:
        key = (
            f"{CONDITIONS.index(condition) if condition in CONDITIONS else 99}-{action}"
        )
        seen[key] = seen.get(key, 0) + 1
        text += (
            f"  - id: r{key}-{seen[key]}\n    when: {condition}\n    action: {action}\n"
        )
        if action == "rewrite":
            text += f"    template: {template}\n"
    return text


@functools.lru_cache(maxsize=4096)
def _guard(text: str) -> Guard:
    """Compile each generated policy once, whatever the number of examples."""
    return Guard(Policy.from_string(text), clock=lambda: AT)


def _review(
    rules: list[Rule] | tuple[Rule, ...],
    reply: Reply,
    thread: Thread,
    *,
    head: str = "",
) -> Decision:
    return _guard(_yaml(rules, head=head)).review(reply, thread)


# --- properties -----------------------------------------------------------------------


@given(rules=rule_lists, data=st.data(), reply=replies, thread=threads())
def test_shuffling_rules_never_changes_the_action(
    rules: list[Rule], data: st.DataObject, reply: Reply, thread: Thread
) -> None:
    shuffled = data.draw(st.permutations(rules))

    before = _review(rules, reply, thread)
    after = _review(shuffled, reply, thread)

    assert before.action == after.action
    assert sorted(before.rules) == sorted(after.rules)
    assert () == before.errors == after.errors


@given(
    rules=rule_lists,
    action=st.sampled_from(ACTIONS),
    data=st.data(),
    reply=replies,
    thread=threads(),
)
def test_adding_a_matching_rule_never_lowers_severity(
    rules: list[Rule], action: str, data: st.DataObject, reply: Reply, thread: Thread
) -> None:
    position = data.draw(st.integers(0, len(rules)))
    more = [*rules[:position], ("'true'", action, TEMPLATES[0]), *rules[position:]]

    before = _review(rules, reply, thread)
    after = _review(more, reply, thread)

    assert after.action.severity >= before.action.severity
    expected = max(before.action.severity, Action(action).severity)
    if after.action.severity != expected:
        # only one thing may raise it further: a reply the guard changed (a rewrite)
        # that fails its scan is escalated, never sent (render, then scan)
        assert Action.ESCALATE == after.action
        assert "rewrite-failed-scan" in after.rules
        assert after.escalation is not None
        assert Action.REWRITE.severity == expected


@given(
    rules=rule_lists,
    failing=st.sampled_from(FAILING_CONDITIONS),
    on_error=st.sampled_from(["", "on_error: escalate\n", "on_error: suppress\n"]),
    mode=st.sampled_from(["", "mode: enforce\n", "mode: shadow\n"]),
    data=st.data(),
    reply=replies,
    thread=threads(),
)
def test_a_failing_rule_never_yields_allow(
    rules: list[Rule],
    failing: str,
    on_error: str,
    mode: str,
    data: st.DataObject,
    reply: Reply,
    thread: Thread,
) -> None:
    position = data.draw(st.integers(0, len(rules)))
    more = [*rules[:position], (failing, "allow", TEMPLATES[0]), *rules[position:]]
    expected = Action.SUPPRESS if "suppress" in on_error else Action.ESCALATE

    decision = _review(more, reply, thread, head=on_error + mode)

    assert expected == decision.action
    assert decision.text is None
    assert ["ZeroDivisionError"] == [e.type for e in decision.errors]
    assert "evaluate" == decision.errors[0].stage


@given(
    rules=rule_lists,
    on_error=st.sampled_from(["", "on_error: escalate\n", "on_error: suppress\n"]),
    mode=st.sampled_from(["", "mode: shadow\n"]),
    reply=replies,
    thread=threads(),
)
def test_a_crashing_analyzer_never_yields_allow(
    rules: list[Rule], on_error: str, mode: str, reply: Reply, thread: Thread
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected")

    expected = Action.SUPPRESS if "suppress" in on_error else Action.ESCALATE
    guard = _guard(_yaml(rules, head=on_error + mode))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replyguard.guard.Analyzer, "analyze", crash)
        decision = guard.review(reply, thread)

    assert expected == decision.action
    assert decision.text is None
    assert [("RuntimeError", "analyze")] == [(e.type, e.stage) for e in decision.errors]


@given(reply=replies, thread=threads())
def test_default_decision_json_round_trips(reply: Reply, thread: Thread) -> None:
    decision = _guard_default().review(reply, thread)

    assert decision == Decision.model_validate_json(decision.model_dump_json())
    assert (decision.text is not None) == decision.action.sends


@given(rules=rule_lists, reply=replies, thread=threads())
def test_generated_decision_json_round_trips(
    rules: list[Rule], reply: Reply, thread: Thread
) -> None:
    decision = _review(rules, reply, thread)

    assert decision == Decision.model_validate_json(decision.model_dump_json())


@given(reply=st.one_of(st.none(), replies), thread=threads())
def test_analyze_is_deterministic(reply: Reply | None, thread: Thread) -> None:
    first = analyze(thread, reply, brand=BRAND, thresholds={"sarcasm": 0.6}, now=AT)
    second = analyze(thread, reply, brand=BRAND, thresholds={"sarcasm": 0.6}, now=AT)
    copied = Thread.model_validate_json(thread.model_dump_json())
    third = analyze(copied, reply, brand=BRAND, thresholds={"sarcasm": 0.6}, now=AT)

    assert first == second
    assert first == third


@given(thread=threads())
def test_signal_scores_are_in_range(thread: Thread) -> None:
    signals = analyze(thread, Reply(text="We are here to help"), brand=BRAND)

    assert 0.0 <= signals.reply.repeats_brand_post <= 1.0
    assert signals.chain.amplification >= 0
    assert 0 <= signals.chain.near_duplicates < len(thread.posts)
    assert thread.depth == signals.chain.depth
    assert thread.target_post.kind == signals.chain.target_kind
    assert not (signals.chain.target_is_brand and signals.chain.addressed_to_brand)


@functools.cache
def _guard_default() -> Guard:
    return Guard.default(clock=lambda: AT)
