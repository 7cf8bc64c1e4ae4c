# (house style, STYLE.md 9: tests assert `expected == actual`)
"""The Guard facade: review, areview, explain, on_error, shadow mode, reload, clock."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import replyguard.guard
from replyguard import (
    Action,
    ConfigurationError,
    Decision,
    Guard,
    InvalidArgument,
    InvalidInput,
    PolicyError,
    Reply,
    Thread,
)
from replyguard.policy import Policy

AT = datetime(2013, 7, 10, 14, 5, tzinfo=UTC)

CANNED = (
    "We are here to help, listen, and learn from our customers and are glad to assist "
    "with any account related inquiries."
)


def _clock() -> datetime:
    return AT


def _guard(text: str, **kwargs: Any) -> Guard:
    return Guard(Policy.from_string(text), clock=_clock, **kwargs)


def _policy(*rules: str, extra: str = "") -> str:
    return "replyguard: 1\nname: t\n" + extra + "rules:\n" + "".join(rules)


def _rule(rule_id: str, when: str, action: str, **extra: str) -> str:
    text = f"  - id: {rule_id}\n    when: {when}\n    action: {action}\n"
    for key, value in extra.items():
        text += f"    {key}: {value}\n"
    return text


def _comparable(decision: Decision) -> dict[str, Any]:
    # ids are random; the escalation carries the decision's id as its own
    return decision.model_dump(
        exclude={
            "decision_id": True,
            "escalation": {"decision_id", "escalation_id"},
        }
    )


ADDRESSED = {
    "brand_handles": ["@BofA_Help"],
    "posts": [
        {
            "id": "1",
            "author": "@customer",
            "text": "@BofA_Help my card was declined twice today, can you check?",
            "kind": "original",
        }
    ],
}

STORM = {
    "brand_handles": ["@BankofAmerica", "@BofA_Help"],
    "posts": [
        {
            "id": "1",
            "author": "@occupy_chalk",
            "text": "Chalk art outside @BankofAmerica: Theft. Illegal Foreclosures. Fraud.",
            "kind": "original",
            "metrics": {"retweets": 340},
        },
        {
            "id": "2",
            "author": "@someone",
            "text": "RT @occupy_chalk: Chalk art outside @BankofAmerica: Theft. Fraud.",
            "kind": "retweet",
            "retweet_of": "1",
        },
    ],
}


@pytest.fixture(scope="module")
def default() -> Guard:
    return Guard.default(clock=_clock)


# --- the default policy on hand-built threads ---------------------------------------


def test_default_allows_a_reply_to_a_customer_who_asked(default: Guard) -> None:
    decision = default.review(
        "Sorry about that, please DM us so we can look.", ADDRESSED
    )

    assert Action.ALLOW == decision.action
    assert "Sorry about that, please DM us so we can look." == decision.text
    assert () == decision.reasons
    assert decision.escalation is None
    assert () == decision.errors
    assert "1" == decision.target_id
    assert decision.sends is True


def test_default_suppresses_a_reply_to_a_retweet(default: Guard) -> None:
    decision = default.review(CANNED, STORM)

    assert Action.SUPPRESS == decision.action
    assert decision.text is None
    assert "no-reply-to-retweets" in decision.rules
    assert CANNED == decision.proposed


def test_default_suppresses_a_post_that_never_spoke_to_the_brand(
    default: Guard, thread: Callable[..., dict], post: Callable[..., dict]
) -> None:
    data = thread(
        post("1", "@a", "my bank lost my deposit again"), brand_handles=["@bank"]
    )

    decision = default.review("We are here to help", data)

    assert Action.SUPPRESS == decision.action
    assert ("not-addressed-to-brand",) == decision.rules


def test_default_never_answers_the_brand(
    default: Guard, thread: Callable[..., dict], post: Callable[..., dict]
) -> None:
    data = thread(post("1", "@Bank", "Our branches open at 9"), brand_handles=["@bank"])

    decision = default.review("Thanks!", data)

    assert Action.SUPPRESS == decision.action
    assert "never-answer-the-brand" in decision.rules


def test_default_suppresses_canned_text_twice_and_escalates(
    default: Guard, thread: Callable[..., dict], post: Callable[..., dict]
) -> None:
    data = thread(
        post("1", "@x", "@BofA_Help why did you foreclose on my neighbour"),
        post("2", "@BofA_Help", f"@x {CANNED}", "reply", in_reply_to="1"),
        post(
            "3",
            "@y",
            "@BofA_Help nobody had any account related inquiries",
            "reply",
            in_reply_to="2",
        ),
        brand_handles=["@BofA_Help"],
    )

    decision = default.review(f"@y {CANNED}", data)

    assert Action.SUPPRESS == decision.action
    assert ("no-canned-text-twice-in-a-thread",) == decision.rules
    assert "the brand already posted this text in the thread (100% alike)" == (
        decision.reasons[0].message
    )
    assert decision.escalation is not None
    assert "social-care" == decision.escalation.route
    assert "normal" == decision.escalation.priority
    assert f"@y {CANNED}" == decision.escalation.proposed_reply
    assert ("no-canned-text-twice-in-a-thread",) == decision.escalation.rules


def test_default_escalates_a_crowd(
    default: Guard, thread: Callable[..., dict], post: Callable[..., dict]
) -> None:
    data = thread(
        post("1", "@occupy_chalk", "Theft. Fraud.", metrics={"retweets": 250}),
        post("2", "@fan", "@BofA_Help explain this", "quote", quote_of="1"),
        brand_handles=["@BofA_Help"],
    )

    decision = default.review("We are here to help", data)

    assert Action.ESCALATE == decision.action
    assert ("crowd-goes-to-a-person",) == decision.rules
    assert "the original by @occupy_chalk was retweeted or quoted 250 times" == (
        decision.reasons[0].message
    )
    assert decision.text is None
    assert ("pr", "high") == (decision.escalation.route, decision.escalation.priority)
    assert "2" == decision.escalation.target_id


def test_reasons_carry_the_evidence_of_the_signals_they_read(default: Guard) -> None:
    decision = default.review(CANNED, STORM)

    [reason] = [r for r in decision.reasons if r.rule == "no-reply-to-retweets"]
    assert () == reason.evidence  # the condition reads no signal
    assert (
        "A plain retweet never addressed the brand; the person only passed someone "
        "else's post on." == reason.message
    )


def test_decision_names_the_policy(default: Guard) -> None:
    decision = default.review("hi", ADDRESSED)

    assert default.policy.ref == decision.policy
    assert "default" == decision.policy.name


def test_default_on_scenarios_round_trips_and_suppresses_mocking_retweets(
    default: Guard, scenarios: list[dict], scenario_thread: Callable[[dict], dict]
) -> None:
    retweets = 0
    for scenario in scenarios:
        decision = default.review(scenario["reply"], scenario_thread(scenario))

        assert decision == Decision.model_validate_json(decision.model_dump_json())
        assert () == decision.errors
        assert (decision.text is not None) == decision.action.sends
        if scenario["category"] == "mocking-retweet":
            retweets += 1
            assert Action.SUPPRESS == decision.action, scenario["id"]
            assert "no-reply-to-retweets" in decision.rules, scenario["id"]
    assert retweets >= 3


def test_finance_allows_a_plain_answer() -> None:
    guard = Guard.from_file("replyguard:finance", clock=_clock)

    decision = guard.review("Sorry about that, please DM us so we can look.", ADDRESSED)

    assert () == decision.errors
    assert Action.ALLOW == decision.action


@pytest.mark.parametrize(
    ("reply", "rule"),
    [
        pytest.param(
            "Please reply with your account number so we can check.",
            "no-private-data-in-public",
            id="private-data",
        ),
        pytest.param(
            "We will refund you today.", "no-promises-about-money", id="money"
        ),
    ],
)
def test_finance_holds_risky_replies(reply: str, rule: str) -> None:
    guard = Guard.from_file("replyguard:finance", clock=_clock)

    decision = guard.review(reply, ADDRESSED)

    assert () == decision.errors
    assert rule == decision.rules[-1]  # the finance rule, after any default rule
    assert decision.text is None


# --- inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param("Please DM us", id="str"),
        pytest.param(Reply(text="Please DM us"), id="reply"),
        pytest.param({"text": "Please DM us"}, id="dict"),
    ],
)
@pytest.mark.parametrize(
    "as_model",
    [pytest.param(False, id="thread-dict"), pytest.param(True, id="thread-model")],
)
def test_review_accepts_every_reply_and_thread_form(
    default: Guard, reply: object, as_model: bool
) -> None:
    data = Thread.model_validate(ADDRESSED) if as_model else ADDRESSED

    decision = default.review(reply, data)

    assert _comparable(default.review("Please DM us", ADDRESSED)) == _comparable(
        decision
    )


def test_review_record_false_decides_the_same(default: Guard) -> None:
    expected = _comparable(default.review(CANNED, STORM))

    assert expected == _comparable(default.review(CANNED, STORM, record=False))


def test_review_of_a_bad_thread_dict_names_the_path(default: Guard) -> None:
    data = {
        "posts": [
            *ADDRESSED["posts"],
            {
                "id": "2",
                "author": "@b",
                "text": "RT",
                "kind": "retweet",
                "retweet_of": "9",
            },
        ]
    }

    with pytest.raises(
        InvalidInput, match=re.escape("posts[1].retweet_of: unknown post id `9`")
    ):
        default.review("hi", data)


def test_review_of_a_bad_reply_dict_names_the_path(default: Guard) -> None:
    with pytest.raises(InvalidInput, match=re.escape("reply.txt: unknown key")):
        default.review({"txt": "hi"}, ADDRESSED)


@pytest.mark.parametrize(
    ("reply", "thread", "match"),
    [
        pytest.param(
            1,
            ADDRESSED,
            "a reply must be a `Reply`, a string or a mapping, not `int`",
            id="reply-int",
        ),
        pytest.param(None, ADDRESSED, "a reply must be a `Reply`", id="reply-none"),
        pytest.param(
            "hi",
            [ADDRESSED],
            "a thread must be a `Thread` or a mapping, not `list`",
            id="thread-list",
        ),
        pytest.param(
            "hi",
            "{}",
            "a thread must be a `Thread` or a mapping, not `str`",
            id="thread-str",
        ),
    ],
)
def test_review_with_wrong_types_raises_invalid_argument(
    default: Guard, reply: object, thread: object, match: str
) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(match)):
        default.review(reply, thread)


def test_guard_needs_a_policy() -> None:
    with pytest.raises(
        InvalidArgument, match=re.escape("policy must be a `Policy`, not `str`")
    ):
        Guard("replyguard:default")


def test_guard_clock_must_be_callable() -> None:
    with pytest.raises(InvalidArgument, match="clock must be a callable"):
        Guard.default(clock=AT)


def test_naive_clock_is_refused() -> None:
    guard = Guard.default(clock=lambda: datetime(2013, 7, 10, 14, 5))  # noqa: DTZ001

    with pytest.raises(
        InvalidArgument, match="the guard's clock must return an aware datetime"
    ):
        guard.review("hi", ADDRESSED)


def test_unknown_store_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="mongodb"):
        Guard.default(store="mongodb://localhost")


def test_a_store_of_the_wrong_type_is_an_invalid_argument() -> None:
    with pytest.raises(
        InvalidArgument, match="store must be a URL, a `Store` or an `AsyncStore`"
    ):
        Guard.default(store=42)  # type: ignore[arg-type]


# --- clock, async, analyze ----------------------------------------------------------


def test_clock_is_injected(default: Guard) -> None:
    assert AT == default.review("hi", ADDRESSED).at


def test_clock_keeps_its_offset() -> None:
    eastern = datetime(2013, 7, 10, 10, 5, tzinfo=timezone(timedelta(hours=-4)))
    guard = Guard.default(clock=lambda: eastern)

    at = guard.review("hi", ADDRESSED).at

    assert eastern == at
    assert timedelta(hours=-4) == at.utcoffset()


def test_wall_clock_is_aware_and_current() -> None:
    before = datetime.now(UTC)
    at = Guard.default().review("hi", ADDRESSED).at

    assert before <= at <= datetime.now(UTC)


async def test_areview_equals_review(default: Guard) -> None:
    for reply, data in (("hi", ADDRESSED), (CANNED, STORM)):
        expected = default.review(reply, data)

        actual = await default.areview(reply, data)

        assert _comparable(expected) == _comparable(actual)


def test_analyze_returns_the_signals_review_decides_on(default: Guard) -> None:
    signals = default.analyze(STORM, CANNED)

    assert signals == default.review(CANNED, STORM).signals
    assert "retweet" == signals.chain.target_kind
    assert 340 == signals.chain.amplification


# --- explain ------------------------------------------------------------------------

LOCATION = re.compile(r"^<string>:\d+:\d+$")


def test_explain_traces_every_rule() -> None:
    guard = _guard(
        _policy(
            _rule("depth", "thread.depth == 0 and reply.text == 'x'", "escalate"),
            _rule("never", "thread.depth > 3", "suppress"),
        )
    )

    explanation = guard.explain("x", ADDRESSED)

    assert [
        ("enter", "depth", "thread.depth == 0 and reply.text == 'x'", None),
        ("eval", "depth", "thread.depth == 0", True),
        ("eval", "depth", 'reply.text == "x"', True),
        ("match", "depth", "thread.depth == 0 and reply.text == 'x'", True),
        ("enter", "never", "thread.depth > 3", None),
        ("fail", "never", "thread.depth > 3", False),
    ] == [(e.op, e.rule, e.expr, e.value) for e in explanation.trace]
    assert ["<string>:5:11"] * 4 + ["<string>:8:11"] * 2 == [
        e.location for e in explanation.trace
    ]
    assert ("depth",) == explanation.decision.rules
    assert Action.ESCALATE == explanation.decision.action


def test_explain_of_the_default_policy_locates_every_rule(default: Guard) -> None:
    explanation = default.explain(CANNED, STORM)

    ops = {event.op for event in explanation.trace}
    assert {"enter", "eval", "match", "fail"} == ops
    entered = [e.rule for e in explanation.trace if e.op == "enter"]
    assert [r.id for r in default.policy.rules] == entered
    assert all(
        re.fullmatch(r"replyguard:default:\d+:\d+", e.location)
        for e in explanation.trace
    )
    assert _comparable(default.review(CANNED, STORM)) == _comparable(
        explanation.decision
    )


def test_explain_shows_a_failing_condition_as_an_error() -> None:
    guard = _guard(_policy(_rule("boom", "thread.depth / 0 > 1", "allow")))

    explanation = guard.explain("x", ADDRESSED)

    [last] = [e for e in explanation.trace if e.op in ("match", "fail")]
    assert "fail" == last.op
    assert "error: ZeroDivisionError: division by zero" == last.value
    assert Action.ESCALATE == explanation.decision.action


# --- shadow mode --------------------------------------------------------------------


def test_shadow_mode_allows_and_says_what_it_would_have_done() -> None:
    guard = _guard(
        _policy(_rule("s", "'true'", "suppress", route="pr"), extra="mode: shadow\n")
    )

    decision = guard.review("hello", ADDRESSED)

    assert Action.ALLOW == decision.action
    assert Action.SUPPRESS == decision.would_have
    assert "hello" == decision.text
    assert ("s",) == decision.rules
    assert decision.escalation is None


def test_enforce_mode_has_no_would_have(default: Guard) -> None:
    assert default.review(CANNED, STORM).would_have is None


# --- on_error -----------------------------------------------------------------------

BOOM = _rule("boom", "thread.depth / 0 > 1", "allow")


@pytest.mark.parametrize(
    ("on_error", "expected"),
    [
        pytest.param("", Action.ESCALATE, id="default"),
        pytest.param("on_error: escalate\n", Action.ESCALATE, id="escalate"),
        pytest.param("on_error: suppress\n", Action.SUPPRESS, id="suppress"),
    ],
)
def test_a_rule_that_raises_gives_the_on_error_action(
    on_error: str, expected: Action
) -> None:
    guard = _guard(_policy(BOOM, _rule("fine", "'true'", "allow"), extra=on_error))

    decision = guard.review("hello", ADDRESSED)

    assert expected == decision.action
    assert decision.text is None
    [error] = decision.errors
    assert ("ZeroDivisionError", "evaluate") == (error.type, error.stage)
    line = 5 + on_error.count("\n")
    assert f"rule `boom` (<string>:{line}:11): division by zero" == error.message
    assert ("on-error", "fine") == decision.rules


def test_on_error_escalation_names_the_failure() -> None:
    guard = _guard(_policy(BOOM))

    decision = guard.review("hello", ADDRESSED)

    assert decision.escalation is not None
    assert "hello" == decision.escalation.proposed_reply
    assert "1" == decision.escalation.target_id
    assert decision.escalation.summary.startswith(
        "review of a reply to post 1 by @customer failed"
    )


def test_on_error_in_shadow_mode_is_not_allow() -> None:
    guard = _guard(_policy(BOOM, extra="mode: shadow\non_error: suppress\n"))

    decision = guard.review("hello", ADDRESSED)

    assert Action.SUPPRESS == decision.action
    assert decision.would_have is None
    assert 1 == len(decision.errors)


def test_strict_reraises_a_failing_rule() -> None:
    guard = _guard(_policy(BOOM), strict=True)

    with pytest.raises(ZeroDivisionError):
        guard.review("hello", ADDRESSED)


def test_a_crashing_analyzer_gives_the_on_error_action(
    monkeypatch: pytest.MonkeyPatch, default: Guard
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("analyzer exploded")

    monkeypatch.setattr(replyguard.guard.Analyzer, "analyze", crash)

    decision = default.review("hello", ADDRESSED)

    assert Action.ESCALATE == decision.action
    assert decision.text is None
    [error] = decision.errors
    assert ("RuntimeError", "analyzer exploded", "analyze") == (
        error.type,
        error.message,
        error.stage,
    )


def test_strict_reraises_a_crashing_analyzer(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("analyzer exploded")

    monkeypatch.setattr(replyguard.guard.Analyzer, "analyze", crash)
    guard = Guard.default(strict=True)

    with pytest.raises(RuntimeError, match="analyzer exploded"):
        guard.review("hello", ADDRESSED)


def test_a_failing_message_template_gives_the_on_error_action() -> None:
    guard = _guard(
        _policy(
            _rule("a", "'true'", "escalate", message="'{{ thread.posts[9].text }}'")
        )
    )

    decision = guard.review("hello", ADDRESSED)

    assert Action.ESCALATE == decision.action
    assert ("on-error",) == decision.rules
    assert 1 == len(decision.errors)


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("'{{ thread.posts[9].text }}'", id="undefined"),
        pytest.param("'{{ (reply.text | int) // 0 }}'", id="render-error"),
    ],
)
def test_a_failing_rewrite_never_sends(template: str) -> None:
    guard = _guard(
        _policy(
            _rule("a", "'true'", "rewrite", template=template),
            extra="on_error: suppress\n",
        )
    )

    decision = guard.review("hello", ADDRESSED)

    assert Action.SUPPRESS == decision.action
    assert decision.text is None
    assert 1 == len(decision.errors)


def test_a_failing_rewrite_is_recorded_at_the_rewrite_stage() -> None:
    guard = _guard(
        _policy(
            _rule("a", "'true'", "rewrite", template="'{{ thread.posts[9].text }}'")
        )
    )

    [error] = guard.review("hello", ADDRESSED).errors

    assert "rewrite" == error.stage


# --- rewrite and escalation ---------------------------------------------------------


def test_rewrite_rule_rewrites_the_text() -> None:
    guard = _guard(
        _policy(
            _rule(
                "calm",
                "'true'",
                "rewrite",
                template="'{{ reply.text | strip_exclamations | drop_emoji }}'",
            )
        )
    )

    decision = guard.review("Great news!! 🎉", ADDRESSED)

    assert Action.REWRITE == decision.action
    assert "Great news." == decision.text
    assert "Great news!! 🎉" == decision.proposed
    assert decision.sends is True


def test_rewrites_apply_in_rule_order() -> None:
    guard = _guard(
        _policy(
            _rule(
                "first",
                "'true'",
                "rewrite",
                template="'{{ reply.text }} (for {{ thread.target.author }})'",
            ),
            _rule("second", "'true'", "rewrite", template="'{{ reply.text | upper }}'"),
        )
    )

    assert "HELLO (FOR @CUSTOMER)" == guard.review("hello", ADDRESSED).text


def test_a_more_severe_rule_overrides_a_rewrite() -> None:
    guard = _guard(
        _policy(
            _rule("rw", "'true'", "rewrite", template="'{{ reply.text | upper }}'"),
            _rule("esc", "'true'", "escalate"),
        )
    )

    decision = guard.review("hello", ADDRESSED)

    assert Action.ESCALATE == decision.action
    assert decision.text is None
    assert "hello" == decision.escalation.proposed_reply


def test_escalation_is_filled_for_suppress_with_a_route() -> None:
    guard = _guard(
        _policy(
            _rule("hold", "'true'", "suppress", route="pr"),
            _rule("look", "'true'", "escalate", priority="low"),
            extra="routes: {pr: urgent}\n",
        )
    )

    decision = guard.review("hello", ADDRESSED)

    assert Action.SUPPRESS == decision.action
    assert decision.text is None
    escalation = decision.escalation
    assert ("pr", "urgent") == (escalation.route, escalation.priority)
    assert ("hold", "look") == escalation.rules
    assert "hello" == escalation.proposed_reply
    assert "1" == escalation.target_id
    assert escalation.summary.startswith("Post 1 by @customer.")
    assert "Held by hold (rule `hold` matched); look (rule `look` matched)." in (
        escalation.summary
    )


def test_suppress_without_a_route_has_no_escalation() -> None:
    guard = _guard(_policy(_rule("hold", "'true'", "suppress")))

    assert guard.review("hello", ADDRESSED).escalation is None


def test_rule_message_template_is_rendered() -> None:
    guard = _guard(
        _policy(
            _rule(
                "m",
                "'true'",
                "escalate",
                message="'depth {{ thread.depth }} for {{ reply.text }}'",
            )
        )
    )

    [reason] = guard.review("hello", ADDRESSED).reasons

    assert "depth 0 for hello" == reason.message


# --- from_file and reload -----------------------------------------------------------


def _write(path: Path, *rules: str) -> Path:
    path.write_text(_policy(*rules), encoding="utf-8")
    return path


def test_from_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", _rule("all", "'true'", "escalate"))

    decision = Guard.from_file(path, clock=_clock).review("hi", ADDRESSED)

    assert ("all",) == decision.rules
    assert Action.ESCALATE == decision.action


def test_from_file_with_problems_raises_policy_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", _rule("all", "'true'", "supress"))

    with pytest.raises(PolicyError, match=re.escape("policy.unknown_action")):
        Guard.from_file(path)


def test_reload_keeps_the_old_policy_when_the_new_file_is_broken(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "p.yaml", _rule("all", "'true'", "escalate"))
    guard = Guard.from_file(path, clock=_clock)
    old = guard.policy
    _write(path, _rule("all", "'true'", "supress"))

    with pytest.raises(PolicyError):
        guard.reload()

    assert old is guard.policy
    assert Action.ESCALATE == guard.review("hi", ADDRESSED).action


def test_reload_swaps_in_a_good_policy(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.yaml", _rule("all", "'true'", "escalate"))
    guard = Guard.from_file(path, clock=_clock)
    old_hash = guard.policy.hash
    _write(path, _rule("all", "'true'", "suppress"))

    new = guard.reload()

    assert new is guard.policy
    assert old_hash != new.hash
    decision = guard.review("hi", ADDRESSED)
    assert Action.SUPPRESS == decision.action
    assert new.ref == decision.policy


def test_reload_from_another_path(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.yaml", _rule("all", "'true'", "escalate"))
    second = _write(tmp_path / "b.yaml", _rule("none", "'false'", "suppress"))
    guard = Guard.from_file(first, clock=_clock)

    guard.reload(second)

    assert ["none"] == [r.id for r in guard.policy.rules]
    assert Action.ALLOW == guard.review("hi", ADDRESSED).action


def test_reload_needs_a_path_when_built_from_a_policy() -> None:
    guard = Guard(Policy.packaged("default"))

    with pytest.raises(InvalidArgument, match="give reload a path"):
        guard.reload()


def test_default_guard_reloads_its_packaged_policy(default: Guard) -> None:
    guard = Guard.default()

    assert guard.policy.hash == guard.reload().hash


# --- threads ------------------------------------------------------------------------


def test_reviews_from_many_threads_agree(default: Guard) -> None:
    cases = [("hi", ADDRESSED), (CANNED, STORM)] * 100
    expected = [_comparable(default.review(reply, data)) for reply, data in cases]

    def run(_: int) -> list[dict[str, Any]]:
        return [_comparable(default.review(reply, data)) for reply, data in cases]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(8)))

    # name the first review and field that differ (a race shows up rarely: say where)
    for worker, got in enumerate(results):
        for index, (want, have) in enumerate(zip(expected, got, strict=True)):
            assert want == have, (
                f"worker {worker}, review {index}: {_first_difference(want, have)}; "
                f"errors: {have.get('errors')}"
            )


def _first_difference(want: Any, have: Any, path: str = "decision") -> str:
    if isinstance(want, dict) and isinstance(have, dict):
        for key in sorted(set(want) | set(have), key=str):
            if want.get(key) != have.get(key):
                return _first_difference(want.get(key), have.get(key), f"{path}.{key}")
    if isinstance(want, list | tuple) and isinstance(have, list | tuple):
        for index, (a, b) in enumerate(zip(want, have, strict=False)):
            if a != b:
                return _first_difference(a, b, f"{path}[{index}]")
        if len(want) != len(have):
            return f"{path}: {len(want)} items expected, {len(have)} found"
    return f"{path}: expected {want!r:.300}, found {have!r:.300}"


def test_a_failed_review_still_routes_to_the_team_a_matched_rule_names() -> None:
    guard = _guard(
        _policy(
            _rule("lawyers", "'true'", "escalate", route="legal", priority="urgent"),
            _rule("broken", "1 // thread.depth > 0", "suppress"),
        )
    )

    decision = guard.review("hello", ADDRESSED)

    assert Action.ESCALATE == decision.action
    assert ["evaluate"] == [e.stage for e in decision.errors]
    assert decision.escalation is not None
    assert ("legal", "urgent") == (
        decision.escalation.route,
        decision.escalation.priority,
    )


def test_a_failed_review_with_no_rule_asking_goes_to_social_care() -> None:
    guard = _guard(_policy(_rule("broken", "1 // thread.depth > 0", "suppress")))

    decision = guard.review("hello", ADDRESSED)

    assert decision.escalation is not None
    assert ("social-care", "high") == (
        decision.escalation.route,
        decision.escalation.priority,
    )
