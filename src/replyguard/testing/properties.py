"""
Property checks of a policy, searched with Hypothesis: three lines in a pytest test.

::

    from replyguard.policy import Policy
    from replyguard.testing.properties import assert_never
    from replyguard.testing.strategies import threads

    def test_never_answers_a_retweet():
        assert_never(Policy.packaged("default"), "allow", over=threads(kinds=("retweet",)))

`assert_never` searches for a thread on which a policy takes an action it must never
take; `assert_equivalent` searches for a thread on which two policies disagree. Both
return None when the search finds nothing, and raise `PolicyPropertyError` (an
`AssertionError`) with the *shrunk* counterexample otherwise: the thread as thread
JSON (``docs/threads.md``), the reply, and the decision(s) with their rules and
reasons. Hypothesis's own report is left out of the traceback.

Every review is a dry run (``record=False``) on a fixed clock,
2026-01-05 12:00 UTC (`CLOCK`), unless you pass a `Guard`, whose clock and store
are used as they are.

Misuse (an unknown action, a `policy` that is no policy) raises
`replyguard.errors.InvalidArgument` at the call, before any search.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from replyguard.errors import InvalidArgument
from replyguard.guard import Guard
from replyguard.models import Action, Decision, Reply, Thread
from replyguard.policy.compiled import Policy
from replyguard.state import Store

__all__ = [
    "CLOCK",
    "COMPARABLE",
    "DEFAULT_REPLY",
    "PolicyPropertyError",
    "assert_equivalent",
    "assert_never",
]

CLOCK = datetime(2026, 1, 5, 12, tzinfo=UTC)
"""The time every review runs at (when the caller passes no `Guard`)."""

DEFAULT_REPLY = Reply(text="We're here to help! DM us.")
"""The reply reviewed when the caller gives none: the canned answer of many bots."""

COMPARABLE: tuple[str, ...] = ("action", "rules", "text", "route")
"""What `assert_equivalent` can compare between two decisions."""

PolicyLike = Policy | Guard | str | Path
"""A `Policy`, a `Guard`, a policy file's path, or ``replyguard:NAME``."""

ReplyLike = Reply | str | st.SearchStrategy[Reply] | st.SearchStrategy[str] | None
"""A fixed reply (a `Reply` or its text), a strategy of replies, or None (default)."""


class PolicyPropertyError(AssertionError):
    """
    A search found a thread that breaks a policy property.

    The message shows the shrunk counterexample; the attributes hold it.

    Attributes:
        thread: the counterexample thread.
        reply: the reply that was reviewed.
        decisions: the decision (`assert_never`), or the old and the new decision
            (`assert_equivalent`).
    """

    def __init__(
        self,
        message: str,
        *,
        thread: Thread,
        reply: Reply,
        decisions: tuple[Decision, ...],
    ) -> None:
        super().__init__(message)
        self.thread = thread
        self.reply = reply
        self.decisions = decisions


class _Found(Exception):
    """Raised inside the search when an example breaks the property."""


# --- arguments ---------------------------------------------------------------------


def _clock() -> datetime:
    return CLOCK


def _guard(name: str, policy: object, store: str | Store | None) -> Guard:
    if isinstance(policy, Guard):
        if store is not None:
            raise InvalidArgument(
                f"store= applies to a policy, not to a Guard ({name} is a Guard): "
                "build the guard with its store"
            )
        return policy
    if isinstance(policy, str | Path):
        policy = Policy.from_file(policy)
    if not isinstance(policy, Policy):
        raise InvalidArgument(
            f"{name} must be a Policy, a Guard, a path or 'replyguard:NAME', "
            f"not {type(policy).__name__}"
        )
    return Guard(policy, clock=_clock, store=store)


def _action(action: object) -> Action:
    if isinstance(action, str) and action in {a.value for a in Action}:
        return Action(action)
    choices = ", ".join(repr(a.value) for a in Action)
    raise InvalidArgument(f"action={action!r} must be an Action or one of {choices}")


def _max_examples(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"max_examples={value!r} must be an integer >= 1")
    return value


def _over(over: object) -> st.SearchStrategy[Any]:
    if not isinstance(over, st.SearchStrategy):
        raise InvalidArgument(
            f"over={over!r} must be a Hypothesis strategy of threads (or of "
            "(thread, reply) tuples), such as replyguard.testing.strategies.threads()"
        )
    return over


def _replies(reply: object) -> tuple[st.SearchStrategy[Any], bool]:
    """Return the strategy of replies, and whether the caller chose them."""
    if reply is None:
        return st.just(DEFAULT_REPLY), False
    if isinstance(reply, str):
        return st.just(Reply(text=reply)), True
    if isinstance(reply, Reply | st.SearchStrategy):
        return (reply if isinstance(reply, st.SearchStrategy) else st.just(reply)), True
    raise InvalidArgument(
        f"reply={reply!r} must be a Reply, a string, a strategy of replies or None"
    )


def _case(example: Any, drawn_reply: Any, *, reply_given: bool) -> tuple[Thread, Reply]:
    item, reply = example, drawn_reply
    if isinstance(item, tuple):
        if len(item) != 2:
            raise InvalidArgument(
                f"`over` drew a tuple of {len(item)}; it must draw threads or "
                "(thread, reply) pairs"
            )
        if reply_given:
            raise InvalidArgument(
                "`over` draws (thread, reply) pairs and reply= was given too: "
                "give the reply one way"
            )
        item, reply = item
    if isinstance(item, Mapping):
        item = Thread.model_validate(item)
    if not isinstance(item, Thread):
        raise InvalidArgument(
            f"`over` drew a {type(item).__name__}; it must draw Thread models "
            "(or thread JSON mappings)"
        )
    if isinstance(reply, str):
        reply = Reply(text=reply)
    if not isinstance(reply, Reply):
        raise InvalidArgument(
            f"the reply drawn is a {type(reply).__name__}; it must be a Reply or a str"
        )
    return item, reply


def _search(
    over: st.SearchStrategy[Any],
    replies: st.SearchStrategy[Any],
    *,
    reply_given: bool,
    max_examples: int,
    check: Callable[[Thread, Reply], tuple[Decision, ...] | None],
) -> tuple[Thread, Reply, tuple[Decision, ...]] | None:
    """Return the shrunk example whose `check` returned decisions, or None."""
    found: list[tuple[Thread, Reply, tuple[Decision, ...]]] = []

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.tuples(over, replies))
    def search(example: tuple[Any, Any]) -> None:
        thread, reply = _case(example[0], example[1], reply_given=reply_given)
        decisions = check(thread, reply)
        if decisions is not None:
            # the last failing run Hypothesis makes is the shrunk example
            found[:] = [(thread, reply, decisions)]
            raise _Found

    try:
        search()
    except _Found:
        return found[0]
    return None


# --- reports -------------------------------------------------------------------------


def _thread_json(thread: Thread) -> str:
    return json.dumps(
        thread.model_dump(mode="json", exclude_defaults=True),
        indent=2,
        ensure_ascii=False,
    )


def _reply_text(reply: Reply) -> str:
    data = reply.model_dump(mode="json", exclude_defaults=True)
    if set(data) <= {"text"}:
        return json.dumps(reply.text, ensure_ascii=False)
    return json.dumps(data, indent=2, ensure_ascii=False)


def _route(decision: Decision) -> str | None:
    if decision.escalation is not None:
        return decision.escalation.route
    return next((r.route for r in decision.reasons if r.route is not None), None)


def _fields(decision: Decision) -> dict[str, str]:
    return {
        "action": decision.action.value,
        "rules": ", ".join(decision.rules) or "-",
        "route": _route(decision) or "-",
        "text": json.dumps(decision.text, ensure_ascii=False),
    }


def _reasons(decision: Decision) -> list[str]:
    lines = [
        f"  - {reason.rule} ({reason.action.value}): {reason.message}"
        for reason in decision.reasons
    ]
    lines += [
        f"  - error in {error.stage}: {error.type}: {error.message}"
        for error in decision.errors
    ]
    return lines or ["  (no rule matched)"]


def _policy_label(guard: Guard) -> str:
    return f"`{guard.policy.name}` (version {guard.policy.version})"


def _report(head: str, thread: Thread, reply: Reply, body: list[str]) -> str:
    return "\n".join(
        [
            head,
            "",
            "thread (shrunk by Hypothesis):",
            _thread_json(thread),
            "",
            f"reply: {_reply_text(reply)}",
            "",
            *body,
        ]
    )


# --- the checks -----------------------------------------------------------------------


def assert_never(
    policy: PolicyLike,
    action: Action | str,
    *,
    over: st.SearchStrategy[Any],
    reply: ReplyLike = None,
    max_examples: int = 200,
    store: str | Store | None = None,
) -> None:
    """
    Check that `policy` never takes `action` on any thread `over` generates.

    Hypothesis searches up to `max_examples` threads; on the first one where the
    decision is `action`, it shrinks it to a simplest one and this raises.

    Args:
        policy: a `Policy`, a `Guard` (its clock and store are used), a policy
            file's path, or ``replyguard:NAME``.
        action: the action that must never come out (an `Action` or its name).
        over: a strategy of `Thread` (or thread JSON), or of ``(thread, reply)``
            pairs, such as `replyguard.testing.strategies.threads`.
        reply: the reply to review: a `Reply` or its text, or a strategy of them;
            None (default): `DEFAULT_REPLY`, ``"We're here to help! DM us."``.
        max_examples: how many examples Hypothesis tries.
        store: a store (or store URL) for the guard built from `policy`, when the
            property depends on what it remembers; reviews only read it.

    Raises:
        PolicyPropertyError: a thread where the decision is `action` (shrunk).
        replyguard.errors.InvalidArgument: a bad argument (before any search).

    Example::

        from replyguard.policy import Policy
        from replyguard.testing.properties import assert_never
        from replyguard.testing.strategies import threads

        def test_never_answers_a_retweet():
            retweets = threads(kinds=("retweet",))
            assert_never(Policy.packaged("default"), "allow", over=retweets)
    """
    guard = _guard("policy", policy, store)
    forbidden = _action(action)
    replies, reply_given = _replies(reply)

    def check(thread: Thread, reply: Reply) -> tuple[Decision, ...] | None:
        decision = guard.review(reply, thread, record=False)
        return (decision,) if decision.action == forbidden else None

    found = _search(
        _over(over),
        replies,
        reply_given=reply_given,
        max_examples=_max_examples(max_examples),
        check=check,
    )
    if found is None:
        return
    thread, used, decisions = found
    decision = decisions[0]
    fields = _fields(decision)
    body = [
        f"decision: {fields['action']}",
        f"  rules: {fields['rules']}",
        f"  route: {fields['route']}",
        f"  text:  {fields['text']}",
        "reasons:",
        *_reasons(decision),
    ]
    head = (
        f"policy {_policy_label(guard)} decided {forbidden.value!r}, which it must "
        "never do, on this thread:"
    )
    raise PolicyPropertyError(
        _report(head, thread, used, body),
        thread=thread,
        reply=used,
        decisions=decisions,
    ) from None


def _compared(compare: object) -> tuple[str, ...]:
    if isinstance(compare, str) or not isinstance(compare, Sequence):
        raise InvalidArgument(
            f"compare={compare!r} must be a sequence such as ('action', 'rules')"
        )
    names = tuple(compare)
    unknown = [name for name in names if name not in COMPARABLE]
    if not names or unknown:
        raise InvalidArgument(
            f"compare={compare!r} must name one or more of {', '.join(COMPARABLE)}"
        )
    return names


def _side_by_side(titles: tuple[str, str], old: Decision, new: Decision) -> list[str]:
    left, right = _fields(old), _fields(new)
    width = max(len(titles[0]), *(len(value) for value in left.values())) + 2
    lines = [f"{'':8}{titles[0]:<{width}}{titles[1]}"]
    lines += [f"{name + ':':8}{left[name]:<{width}}{right[name]}" for name in left]
    return lines


def assert_equivalent(
    old_policy: PolicyLike,
    new_policy: PolicyLike,
    *,
    over: st.SearchStrategy[Any],
    reply: ReplyLike = None,
    max_examples: int = 200,
    compare: Sequence[str] = ("action",),
) -> None:
    """
    Check that two policies decide alike on every thread `over` generates.

    Use it before shipping a policy change that should change nothing (a refactor,
    a renamed rule), or to find what a change does change.

    Args:
        old_policy: a `Policy`, `Guard`, path or ``replyguard:NAME``.
        new_policy: the same, for the policy compared with it.
        over: a strategy of threads, or of ``(thread, reply)`` pairs.
        reply: the reply to review (see `assert_never`).
        max_examples: how many examples Hypothesis tries.
        compare: what must be equal, among `COMPARABLE`: ``"action"`` (default),
            ``"rules"`` (the ids of the matched rules), ``"text"`` (what would be
            sent, rewrites included) and ``"route"`` (who gets an escalation).

    Raises:
        PolicyPropertyError: a thread where the decisions differ (shrunk); the
            message shows both decisions side by side.
        replyguard.errors.InvalidArgument: a bad argument (before any search).

    Example::

        from replyguard.policy import Policy
        from replyguard.testing.properties import assert_equivalent
        from replyguard.testing.strategies import threads

        def test_the_refactor_changes_nothing():
            old, new = Policy.packaged("default"), Policy.from_file("policy.yaml")
            assert_equivalent(old, new, over=threads(), compare=("action", "rules"))
    """
    old_guard = _guard("old_policy", old_policy, None)
    new_guard = _guard("new_policy", new_policy, None)
    names = _compared(compare)
    replies, reply_given = _replies(reply)

    def check(thread: Thread, reply: Reply) -> tuple[Decision, ...] | None:
        old = old_guard.review(reply, thread, record=False)
        new = new_guard.review(reply, thread, record=False)
        left, right = _fields(old), _fields(new)
        if all(left[name] == right[name] for name in names):
            return None
        return (old, new)

    found = _search(
        _over(over),
        replies,
        reply_given=reply_given,
        max_examples=_max_examples(max_examples),
        check=check,
    )
    if found is None:
        return
    thread, used, decisions = found
    old, new = decisions
    titles = (f"old {_policy_label(old_guard)}", f"new {_policy_label(new_guard)}")
    differing = [name for name in names if _fields(old)[name] != _fields(new)[name]]
    body = [
        f"decisions (differ in {', '.join(differing)}):",
        *_side_by_side(titles, old, new),
        "",
        f"{titles[0]} reasons:",
        *_reasons(old),
        f"{titles[1]} reasons:",
        *_reasons(new),
    ]
    head = "the two policies decide differently on this thread:"
    raise PolicyPropertyError(
        _report(head, thread, used, body),
        thread=thread,
        reply=used,
        decisions=decisions,
    ) from None
