"""The storm breaker, once-per-crowd escalations, blackouts and pauses, through `Guard`."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replyguard import Action, Decision, Guard
from replyguard.errors import PolicyError
from replyguard.policy import Policy

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# replies that share no near-duplicate family with each other (no limit gets in the way)
REPLIES = [
    "We are sorry to hear this, a colleague will check the bag trace",
    "Thanks for flagging, our airport team is on it right now",
    "Could you tell us which flight it was so we can look",
    "The baggage desk opens at six and can help with a claim",
    "Our tracing system shows delays at the transfer hub this week",
    "We will post an update about the delays this afternoon",
    "Apologies for the wait, the claims form is on our site",
    "Noted, we have passed this on to the ground handling partner",
    "Weather at the hub slowed transfers, bags are moving again",
    "The lost property office in terminal two keeps items for a month",
    "Your case reference is in the confirmation mail we sent",
    "Happy to look into it, which airport did you fly from",
]


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def at(self, **delta: float) -> None:
        self.now = START + timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock: Clock) -> Guard:
    return Guard.default(store="memory://", clock=clock)


def _crowd(
    post_id: str,
    author: str,
    *,
    root: str = "root",
    root_author: str = "@angry",
    text: str = "@angry @Acme same here, where is mine?",
) -> dict[str, object]:
    """A reply by `author` in the crowd around post `root`."""
    return {
        "brand_handles": ["@Acme"],
        "posts": [
            {
                "id": root,
                "author": root_author,
                "kind": "original",
                "text": "@Acme lost my bag" if root_author != "@Acme" else "New app!",
            },
            {
                "id": post_id,
                "author": author,
                "kind": "reply",
                "in_reply_to": root,
                "text": text,
            },
        ],
        "target": post_id,
    }


def _original(post_id: str, author: str, text: str) -> dict[str, object]:
    return {
        "brand_handles": ["@Acme"],
        "posts": [{"id": post_id, "author": author, "kind": "original", "text": text}],
    }


def _policy(body: str) -> Policy:
    return Policy.from_string(
        "replyguard: 1\nname: storm-test\nbrand: {handles: ['@Acme']}\n"
        + textwrap.dedent(body)
    )


# -- 12. the storm breaker ---------------------------------------------------------------


def _storm(
    guard: Guard, clock: Clock, people: int, *, root: str = "root"
) -> list[Decision]:
    decisions = []
    for i in range(people):
        clock.at(minutes=i)
        decisions.append(
            guard.review(REPLIES[i], _crowd(f"{root}-{i}", f"@person{i}", root=root))
        )
    return decisions


def test_eight_different_people_open_the_breaker(guard: Guard, clock: Clock) -> None:
    decisions = _storm(guard, clock, 8)

    states = [d.signals.state for d in decisions]
    assert [i + 1 for i in range(8)] == [s.crowd_inbound for s in states]
    assert [False] * 7 + [True] == [s.storm_open for s in states]
    assert 1.0 == states[-1].storm_level
    assert states[-2].storm_level < 1.0
    assert Action.SUPPRESS == decisions[-1].action
    assert "storm-breaker" in decisions[-1].rules


def test_one_person_posting_eight_times_is_no_storm(guard: Guard, clock: Clock) -> None:
    decisions = []
    for i in range(10):
        clock.at(minutes=i)
        decisions.append(guard.review(REPLIES[i], _crowd(f"p{i}", "@loud")))

    assert {1} == {d.signals.state.crowd_inbound for d in decisions}
    assert not any(d.signals.state.storm_open for d in decisions)
    assert all("storm-breaker" not in d.rules for d in decisions)


def test_people_outside_the_window_do_not_make_a_storm(
    guard: Guard, clock: Clock
) -> None:
    decisions = []
    for i in range(12):
        clock.at(minutes=3 * i)  # never 8 people within 15 minutes
        decisions.append(guard.review(REPLIES[i], _crowd(f"p{i}", f"@person{i}")))

    assert max(d.signals.state.crowd_inbound for d in decisions) <= 6
    assert not any(d.signals.state.storm_open for d in decisions)


def test_a_storm_in_one_crowd_leaves_other_crowds_alone(
    guard: Guard, clock: Clock
) -> None:
    _storm(guard, clock, 8)

    other = guard.review(REPLIES[9], _crowd("elsewhere", "@calm", root="other"))

    assert not other.signals.state.storm_open
    assert Action.ALLOW == other.action


def test_a_storm_under_a_brand_original_opens_but_is_not_suppressed(
    guard: Guard, clock: Clock
) -> None:
    decisions = []
    for i in range(9):
        clock.at(minutes=i)
        thread = _crowd(
            f"p{i}",
            f"@fan{i}",
            root="news",
            root_author="@Acme",
            text="@Acme does it work on tablets?",
        )
        decisions.append(guard.review(REPLIES[i], thread))

    assert decisions[-1].signals.state.storm_open
    assert "storm-breaker" not in decisions[-1].rules


def test_a_storm_reaches_a_person_once(clock: Clock) -> None:
    guard = Guard.default(store="memory://", clock=clock)

    decisions = _storm(guard, clock, 8)
    for i in range(8, 12):
        clock.at(minutes=i)
        decisions.append(guard.review(REPLIES[i], _crowd(f"late{i}", f"@person{i}")))

    assert all(d.action is Action.SUPPRESS for d in decisions[7:])
    escalations = [
        d.escalation
        for d in decisions
        if d.escalation is not None and not d.escalation.update
    ]
    # once per route and priority: a second answer refused (normal), then the storm
    # itself (high), with its size; never once per post
    assert [("social-care", "normal"), ("social-care", "high")] == [
        (e.route, e.priority) for e in escalations
    ]
    assert {"root"} == {e.crowd for e in escalations}
    assert escalations[-1].crowd_size >= 8
    assert "storm-breaker" in escalations[-1].rules


def test_the_breaker_escalates_the_crowd_once_when_nothing_else_did(
    clock: Clock,
) -> None:
    # only the storm-breaker rule: its first decision carries the crowd to a person
    policy = _policy(
        """\
        rules:
          - id: storm-breaker
            when: state.storm_open
            action: suppress
            route: social-care
        escalations: {once_per: crowd, per: 4h}
        """
    )
    guard = Guard(policy, store="memory://", clock=clock)

    decisions = _storm(guard, clock, 11)

    assert [Action.ALLOW] * 7 + [Action.SUPPRESS] * 4 == [d.action for d in decisions]
    carried = [d.escalation for d in decisions]
    assert carried[7] is not None
    assert "root" == carried[7].crowd
    assert 8 == carried[7].crowd_size
    # the later ones update it, with the crowd's size as it grows
    assert [(True, carried[7].escalation_id)] * 3 == [
        (e.update, e.escalation_id) for e in carried[8:] if e is not None
    ]
    assert [9, 10, 11] == [e.crowd_size for e in carried[8:] if e is not None]
    assert all("escalated-once" in d.rules for d in decisions[8:])


# -- 13. a busy hour of ordinary customers -----------------------------------------------

_TOPICS = [
    (
        "my card was declined at the till",
        "Sorry about the declined card; a retry after five minutes usually clears the hold.",
    ),
    (
        "the app logs me out every hour",
        "The logout loop is fixed in version 4.2, out in the store since this morning.",
    ),
    (
        "where is my parcel",
        "Parcels sent on Friday reach the depot on Monday; tracking updates at noon.",
    ),
    (
        "my router blinks red",
        "A red light means the line is down in your area, engineers are already there.",
    ),
    (
        "can I change my delivery address",
        "Yes, the address can be edited under Orders until the label is printed.",
    ),
    (
        "the refund page is blank",
        "That page needs the latest browser; Chrome and Firefox both show it again.",
    ),
    (
        "my bill doubled this month",
        "Bills for March include two months of line rental after the switch.",
    ),
    (
        "how do I close my old account",
        "Closing takes two minutes under Settings, then Account, then Close.",
    ),
    (
        "is the store in Leeds open Sunday",
        "Leeds opens from ten to four on Sundays, the café too.",
    ),
    (
        "the discount code does not work",
        "Codes from the newsletter start working at midnight on launch day.",
    ),
    (
        "my eSIM will not activate",
        "Activation needs wifi for the first ten minutes; please keep it connected.",
    ),
    (
        "why was my order split",
        "Large orders ship from two warehouses, so they arrive in separate boxes.",
    ),
]
_NAMES = ["Ann", "Bob", "Cleo", "Dev", "Ema"]


def _busy_hour() -> list[tuple[dict[str, object], str]]:
    out = []
    for n in range(60):
        question, answer = _TOPICS[n % len(_TOPICS)]
        name = _NAMES[n // len(_TOPICS)]
        # different openings and closings keep equal answers apart in words
        opening = [
            "Thanks for writing",
            "Good question",
            "Happy to help",
            "Hello there",
            "Thanks for the patience",
        ][n // len(_TOPICS)]
        closing = [
            "Anything else, just ask here.",
            "We are around until late tonight.",
            "Have a good evening.",
            "Let us know how it goes.",
            "Glad to help further if needed.",
        ][n // len(_TOPICS)]
        reply = f"{opening}, {name}. {answer} {closing}"
        thread = _original(f"c{n}", f"@customer{n}", f"@Acme {question} ({n})")
        out.append((thread, reply))
    return out


def test_a_busy_hour_of_customers_opens_no_breaker(guard: Guard, clock: Clock) -> None:
    decisions = []
    for minute, (thread, reply) in enumerate(_busy_hour()):
        clock.at(seconds=59 * minute)
        decisions.append(guard.review(reply, thread))

    assert not any(d.signals.state.storm_open for d in decisions)
    allowed = [d for d in decisions if d.action is Action.ALLOW]
    assert len(allowed) >= 54, [
        (d.proposed, d.rules) for d in decisions if d.action is not Action.ALLOW
    ]


# -- 14. cool-down -----------------------------------------------------------------------


def test_the_breaker_stays_open_for_the_cool_down_after_the_last_storming_post(
    guard: Guard, clock: Clock
) -> None:
    _storm(guard, clock, 8)  # the last storming post at minute 7
    probe = _crowd("probe", "@probe")

    clock.at(minutes=36, seconds=59)
    assert guard.analyze(probe).state.storm_open
    clock.at(minutes=37, seconds=1)
    assert not guard.analyze(probe).state.storm_open


def test_posts_that_keep_storming_extend_the_cool_down(
    guard: Guard, clock: Clock
) -> None:
    for i in range(20):  # one new person a minute: storming from minute 7 to 19
        clock.at(minutes=i)
        guard.review(REPLIES[i % len(REPLIES)], _crowd(f"p{i}", f"@person{i}"))
    probe = _crowd("probe", "@probe")

    clock.at(minutes=48)
    assert guard.analyze(probe).state.storm_open
    clock.at(minutes=49, seconds=1)
    assert not guard.analyze(probe).state.storm_open


def test_a_review_after_the_cool_down_is_answered_again(
    guard: Guard, clock: Clock
) -> None:
    _storm(guard, clock, 8)

    clock.at(minutes=20)  # the storm stopped: still open
    during = guard.review(REPLIES[8], _crowd("late1", "@late1"))
    clock.at(minutes=40)
    after = guard.review(REPLIES[9], _crowd("late2", "@late2"))

    assert during.signals.state.storm_open
    assert "storm-breaker" in during.rules
    assert not after.signals.state.storm_open
    assert "storm-breaker" not in after.rules


# -- 15. inbound counts ------------------------------------------------------------------


def test_brand_inbound_counts_posts_and_crowd_inbound_counts_people(
    guard: Guard,
) -> None:
    guard.review(REPLIES[0], _crowd("p1", "@a"))
    guard.review(REPLIES[1], _crowd("p1", "@a"))  # the same post again
    state = guard.analyze(_crowd("p1", "@a")).state
    assert (1, 1) == (state.brand_inbound, state.crowd_inbound)

    guard.review(REPLIES[2], _crowd("p2", "@a"))  # the same person, another post
    state = guard.analyze(_crowd("p2", "@a")).state
    assert (2, 1) == (state.brand_inbound, state.crowd_inbound)

    guard.review(REPLIES[3], _crowd("p3", "@b"))
    state = guard.analyze(_crowd("p3", "@b")).state
    assert (3, 2) == (state.brand_inbound, state.crowd_inbound)


def test_dry_runs_and_analyze_count_no_inbound(guard: Guard) -> None:
    for i in range(9):
        guard.review(REPLIES[i], _crowd(f"p{i}", f"@person{i}"), record=False)
        guard.explain(REPLIES[i], _crowd(f"e{i}", f"@other{i}"))
        guard.analyze(_crowd(f"a{i}", f"@third{i}"))

    state = guard.analyze(_crowd("x", "@x")).state
    assert (0, 0, False) == (state.brand_inbound, state.crowd_inbound, state.storm_open)


def test_a_handle_in_another_case_is_the_same_person(guard: Guard) -> None:
    guard.review(REPLIES[0], _crowd("p1", "@Ann"))
    guard.review(REPLIES[1], _crowd("p2", "@ann"))

    assert 1 == guard.analyze(_crowd("p3", "ANN")).state.crowd_inbound


# -- 11. escalations once per crowd ------------------------------------------------------

ESCALATING = """\
rules:
  - id: to-care
    when: "'care' in reply.text"
    action: escalate
    route: social-care
  - id: to-legal
    when: "'legal' in reply.text"
    action: escalate
    route: legal
  - id: urgent-crisis
    when: "'crisis' in reply.text"
    action: escalate
    route: social-care
    priority: urgent
"""
ONCE_PER_CROWD = "escalations: {once_per: crowd, per: 4h}\n"


def test_the_first_escalation_of_a_crowd_goes_later_ones_are_suppressed(
    clock: Clock,
) -> None:
    guard = Guard(_policy(ESCALATING + ONCE_PER_CROWD), store="memory://", clock=clock)

    first = guard.review("care one", _crowd("p1", "@a"))
    second = guard.review("care two", _crowd("p2", "@b"))

    assert Action.ESCALATE == first.action
    assert first.escalation is not None
    assert ("social-care", "root") == (first.escalation.route, first.escalation.crowd)
    assert Action.SUPPRESS == second.action
    assert "escalated-once" in second.rules
    assert first.decision_id in second.reasons[-1].message
    # the second is an update of the first escalation, not a new page
    assert second.escalation is not None
    assert (True, first.decision_id, 2) == (
        second.escalation.update,
        second.escalation.escalation_id,
        second.escalation.occurrences,
    )
    assert (False, first.decision_id, 1) == (
        first.escalation.update,
        first.escalation.escalation_id,
        first.escalation.occurrences,
    )


def test_another_route_or_crowd_still_escalates(clock: Clock) -> None:
    guard = Guard(_policy(ESCALATING + ONCE_PER_CROWD), store="memory://", clock=clock)
    guard.review("care one", _crowd("p1", "@a"))

    legal = guard.review("legal one", _crowd("p2", "@b"))
    elsewhere = guard.review("care again", _crowd("p3", "@c", root="other"))
    legal_again = guard.review("legal two", _crowd("p4", "@d"))

    assert (Action.ESCALATE, "legal") == (legal.action, legal.escalation.route)  # type: ignore[union-attr]
    assert Action.ESCALATE == elsewhere.action
    assert elsewhere.escalation is not None
    assert Action.SUPPRESS == legal_again.action
    assert legal_again.escalation is not None
    assert (True, legal.decision_id) == (
        legal_again.escalation.update,
        legal_again.escalation.escalation_id,
    )


def test_urgent_escalations_always_go(clock: Clock) -> None:
    guard = Guard(_policy(ESCALATING + ONCE_PER_CROWD), store="memory://", clock=clock)
    guard.review("care one", _crowd("p1", "@a"))

    urgent = [guard.review(f"crisis {i}", _crowd(f"u{i}", f"@u{i}")) for i in range(3)]

    assert [Action.ESCALATE] * 3 == [d.action for d in urgent]
    assert all(d.escalation is not None for d in urgent)
    assert {"urgent"} == {d.escalation.priority for d in urgent}  # type: ignore[union-attr]
    # urgent ones took no slot from the crowd: a normal one is still suppressed
    assert Action.SUPPRESS == guard.review("care two", _crowd("p2", "@b")).action


def test_after_per_the_crowd_escalates_again(clock: Clock) -> None:
    guard = Guard(_policy(ESCALATING + ONCE_PER_CROWD), store="memory://", clock=clock)
    guard.review("care one", _crowd("p1", "@a"))

    clock.at(hours=3, minutes=59)
    still = guard.review("care two", _crowd("p2", "@b"))
    clock.at(hours=4, minutes=1)
    again = guard.review("care three", _crowd("p3", "@c"))

    assert Action.SUPPRESS == still.action
    assert Action.ESCALATE == again.action
    assert again.escalation is not None


def test_dry_runs_reserve_no_escalation(clock: Clock) -> None:
    guard = Guard(_policy(ESCALATING + ONCE_PER_CROWD), store="memory://", clock=clock)

    dry = [
        guard.review(f"care {i}", _crowd(f"d{i}", f"@d{i}"), record=False)
        for i in range(3)
    ]
    explained = guard.explain("care x", _crowd("x", "@x")).decision
    real = guard.review("care real", _crowd("r", "@r"))
    dry_after = guard.review("care after", _crowd("z", "@z"), record=False)

    assert [Action.ESCALATE] * 3 == [d.action for d in dry]
    assert all(d.escalation is not None for d in dry)
    assert Action.ESCALATE == explained.action
    assert Action.ESCALATE == real.action
    assert real.escalation is not None
    assert Action.SUPPRESS == dry_after.action
    assert dry_after.escalation is not None
    assert (True, real.decision_id) == (
        dry_after.escalation.update,
        dry_after.escalation.escalation_id,
    )
    assert "escalated-once" in dry_after.rules


def test_without_escalations_every_escalation_goes(clock: Clock) -> None:
    guard = Guard(_policy(ESCALATING), store="memory://", clock=clock)

    decisions = [guard.review(f"care {i}", _crowd(f"p{i}", f"@p{i}")) for i in range(4)]

    assert [Action.ESCALATE] * 4 == [d.action for d in decisions]
    assert all(d.escalation is not None for d in decisions)
    assert "target" == guard.policy.escalations.once_per


def test_a_limit_that_escalates_is_grouped_by_crowd_too(clock: Clock) -> None:
    body = (
        ONCE_PER_CROWD
        + "limits:\n  - id: one-per-crowd\n    key: thread.crowd\n    max: 1\n"
        "    per: 1h\n    action: escalate\n"
    )
    guard = Guard(_policy(body), store="memory://", clock=clock)

    decisions = [guard.review(REPLIES[i], _crowd(f"p{i}", f"@p{i}")) for i in range(4)]

    assert [Action.ALLOW, Action.ESCALATE, Action.SUPPRESS, Action.SUPPRESS] == [
        d.action for d in decisions
    ]
    assert [False, True, False, False] == [
        d.escalation is not None and not d.escalation.update for d in decisions
    ]
    assert [None, False, True, True] == [
        d.escalation.update if d.escalation else None for d in decisions
    ]


# -- 16. blackouts -----------------------------------------------------------------------

BLACKOUT = """\
blackouts:
  - id: memorial
    reason: a day of mourning
    start: 2026-03-02T10:00:00Z
    end: 2026-03-02T12:00:00Z
"""


@pytest.mark.parametrize("store", [None, "memory://"])
def test_a_blackout_holds_every_review_inside_it(
    clock: Clock, store: str | None
) -> None:
    guard = Guard(_policy(BLACKOUT), store=store, clock=clock)

    clock.at(minutes=59, seconds=59)
    before = guard.review(REPLIES[0], _crowd("p0", "@a"))
    decisions = []
    for i, minute in enumerate((60, 90, 179)):
        clock.at(minutes=minute)
        decisions.append(guard.review(REPLIES[i + 1], _crowd(f"p{i + 1}", f"@b{i}")))
    clock.at(minutes=180)  # 12:00, the end: outside
    after = guard.review(REPLIES[5], _crowd("p5", "@c"))

    assert (Action.ALLOW, "") == (before.action, before.signals.state.blackout)
    for decision in decisions:
        assert Action.ESCALATE == decision.action
        assert "memorial" in decision.rules
        assert "memorial" == decision.signals.state.blackout
        assert "a day of mourning" == decision.signals.state.blackout_reason
        assert decision.text is None
        assert decision.escalation is not None
    assert (Action.ALLOW, "") == (after.action, after.signals.state.blackout)


def test_a_blackout_can_suppress(clock: Clock) -> None:
    body = BLACKOUT + "    action: suppress\n"
    guard = Guard(_policy(body), clock=clock)

    clock.at(minutes=61)
    decision = guard.review(REPLIES[0], _crowd("p0", "@a"))

    assert (Action.SUPPRESS, ("memorial",)) == (decision.action, decision.rules)


def test_a_blackout_shows_in_analyze(clock: Clock) -> None:
    guard = Guard(_policy(BLACKOUT), clock=clock)

    clock.at(minutes=61)

    assert "memorial" == guard.analyze(_crowd("p0", "@a")).state.blackout


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (datetime(2026, 12, 14, 4, 59, tzinfo=UTC), False),
        (datetime(2026, 12, 14, 5, 0, tzinfo=UTC), True),
        (datetime(2026, 12, 15, 4, 59, tzinfo=UTC), True),
        (datetime(2026, 12, 15, 5, 0, tzinfo=UTC), False),
        (datetime(2030, 12, 15, 4, 59, tzinfo=UTC), True),
    ],
)
def test_an_every_year_blackout_covers_the_local_day(
    clock: Clock, moment: datetime, *, inside: bool
) -> None:
    body = """\
    blackouts:
      - id: anniversary
        reason: the anniversary
        every_year: "12-14"
        timezone: America/New_York
    """
    guard = Guard(_policy(body), clock=clock)
    clock.now = moment

    decision = guard.review(REPLIES[0], _crowd("p0", "@a"))

    assert inside == ("anniversary" in decision.rules)
    assert (Action.ESCALATE if inside else Action.ALLOW) == decision.action


def _problems(body: str) -> list[tuple[str, int]]:
    with pytest.raises(PolicyError) as caught:
        _policy(body)
    return [(p.code, p.line) for p in caught.value.problems]


def test_a_blackout_that_ends_before_it_starts_is_an_error() -> None:
    body = """\
    blackouts:
      - id: backwards
        reason: oops
        start: 2026-03-02T12:00:00Z
        end: 2026-03-02T10:00:00Z
    """
    problems = _problems(body)
    assert 1 == len(problems)
    # three lines of header: `- id:` is line 5, `end:` line 8
    assert problems[0][1] in (5, 8)


def test_an_unknown_time_zone_is_an_error_at_its_line() -> None:
    body = """\
    blackouts:
      - id: anniversary
        reason: the anniversary
        every_year: "12-14"
        timezone: Mars/Olympus_Mons
    """
    assert [("policy.unknown_timezone", 8)] == _problems(body)


def test_blackouts_are_inherited_and_can_be_disabled(
    tmp_path: Path, clock: Clock
) -> None:
    (tmp_path / "parent.yaml").write_text(
        "replyguard: 1\nname: parent\nbrand: {handles: ['@Acme']}\n" + BLACKOUT,
        encoding="utf-8",
    )
    (tmp_path / "child.yaml").write_text(
        "replyguard: 1\nname: child\nextends: parent.yaml\n", encoding="utf-8"
    )
    (tmp_path / "off.yaml").write_text(
        "replyguard: 1\nname: switched-off\nextends: parent.yaml\ndisable: [memorial]\n",
        encoding="utf-8",
    )
    clock.at(minutes=61)

    child = Guard.from_file(tmp_path / "child.yaml", clock=clock)
    off = Guard.from_file(tmp_path / "off.yaml", clock=clock)

    assert Action.ESCALATE == child.review(REPLIES[0], _crowd("p", "@a")).action
    assert Action.ALLOW == off.review(REPLIES[0], _crowd("p", "@a")).action


# -- pause -------------------------------------------------------------------------------


def test_a_pause_ends_exactly_at_until(guard: Guard, clock: Clock) -> None:
    guard.pause("checking a wave", until=START + timedelta(hours=1))

    clock.at(minutes=59, seconds=59)
    held = guard.review(REPLIES[0], _original("1", "@a", "@Acme where is my parcel?"))
    clock.at(hours=1)
    after = guard.review(REPLIES[1], _original("2", "@b", "@Acme where is my parcel?"))

    assert Action.ESCALATE == held.action
    assert "paused-means-people" in held.rules
    assert "checking a wave" == held.signals.state.pause_reason
    assert Action.ALLOW == after.action
    assert not after.signals.state.paused


def test_resume_lifts_a_pause_before_until(guard: Guard, clock: Clock) -> None:
    guard.pause("checking a wave", until=START + timedelta(hours=5))
    assert guard.analyze(_original("1", "@a", "@Acme hi")).state.paused

    guard.resume()

    state = guard.analyze(_original("1", "@a", "@Acme hi")).state
    assert (False, "") == (state.paused, state.pause_reason)
    assert (
        Action.ALLOW
        == guard.review(REPLIES[0], _original("2", "@b", "@Acme hi")).action
    )


def test_a_pause_is_shared_by_guards_on_one_store(clock: Clock, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    one = Guard.default(store=url, clock=clock)
    two = Guard.default(store=url, clock=clock)

    one.pause("incident", until=START + timedelta(minutes=30))

    assert "paused-means-people" in two.review(REPLIES[0], _crowd("p", "@a")).rules
    clock.at(minutes=30)
    assert Action.ALLOW == two.review(REPLIES[1], _crowd("q", "@b", root="r2")).action


def test_a_child_policy_sets_only_the_storm_and_escalation_fields_it_names(
    tmp_path: Path,
) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(
        "replyguard: 1\nname: child\nextends: [replyguard:default]\n"
        "escalations: {per: 2h}\nstorm: {min_people: 5}\n",
        encoding="utf-8",
    )

    policy = Policy.from_file(child)

    assert "crowd" == policy.escalations.once_per  # inherited from the default
    assert 7200.0 == policy.escalation_window
    assert (5, 1800.0) == (policy.storm.min_people, policy.storm.cool_down)
