"""
Replay recorded traffic through a policy: what would the bot have sent, and why?

A stream is JSON Lines, one event a line: ``{"at": ISO time, "thread": {...}, "reply":
"..."}`` (`replyguard audit export` makes one from a decision log). `replay` reviews
every event with a guard whose clock follows the events, so limits, crowds and the
storm breaker behave as they did that day, and sums up what happened: actions, rules,
crowds, escalations, storm-breaker openings, and (with `against`) every decision a
candidate policy would change. Events are read one at a time and every tally is
bounded, so a month of traffic replays in constant memory.

>>> from replyguard.replay import replay_file
>>> summary = replay_file("examples/bofa_2013/stream.jsonl", policy="replyguard:default")
>>> summary.events, summary.actions["allow"], summary.escalations
(16, 1, 1)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from replyguard._inputs import thread_from
from replyguard.errors import InvalidInput
from replyguard.guard import Guard
from replyguard.models import Decision
from replyguard.policy.compiled import Policy
from replyguard.testing.shadow import (
    StreamDiff,
    change_of,
    differs,
    read_stream,
    read_stream_sorted,
)

__all__ = ["CrowdTally", "ReplaySummary", "count_events", "replay", "replay_file"]

ACTIONS = ("allow", "rewrite", "escalate", "suppress")

MAX_CROWDS = 5_000
"""Crowds tallied at once; past twice this, the smallest are dropped (their posts still count)."""
MAX_PEOPLE = 1_000
"""Distinct people remembered per crowd; more are counted as this many."""
MAX_KEPT = 200
"""Escalations and storm-breaker openings kept whole (every one is counted)."""


@dataclass(slots=True)
class CrowdTally:
    """What happened around one original post: posts, people, answers, escalations."""

    crowd: str
    author: str
    posts: int = 0
    sent: int = 0
    escalated: int = 0
    people: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    @property
    def size(self) -> int:
        """Return how many different people posted (at most `MAX_PEOPLE`)."""
        return len(self.people)


@dataclass
class ReplaySummary:
    """The sums of a replay (all bounded, whatever the stream's length)."""

    policy: str
    events: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    escalations: int = 0
    """New escalation packets (a person is told)."""
    updates: int = 0
    """Updates to an escalation already open for the crowd."""
    kept_escalations: list[Decision] = field(default_factory=list)
    storm_openings: list[tuple[datetime | None, str]] = field(default_factory=list)
    storm_opened: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    crowds: dict[str, CrowdTally] = field(default_factory=dict)
    crowds_dropped: int = 0
    first: datetime | None = None
    last: datetime | None = None
    seconds: float = 0.0
    out_of_order: int = 0
    diff: StreamDiff | None = None

    @property
    def per_second(self) -> float:
        """Return the replay's throughput in events per second."""
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def held(self) -> int:
        """Return how many replies were not sent (escalated or suppressed)."""
        return self.actions["escalate"] + self.actions["suppress"]

    def top_crowds(self, n: int = 10) -> list[CrowdTally]:
        """Return the `n` crowds with the most posts."""
        return sorted(self.crowds.values(), key=lambda t: (-t.posts, t.crowd))[:n]

    def to_json(self) -> dict[str, Any]:
        """Return the summary as JSON data (``replyguard replay --json``)."""
        return {
            "policy": self.policy,
            "events": self.events,
            "from": self.first.isoformat() if self.first else None,
            "to": self.last.isoformat() if self.last else None,
            "actions": {a: self.actions[a] for a in ACTIONS},
            "rules": dict(self.rules.most_common()),
            "routes": dict(self.routes.most_common()),
            "escalations": {"new": self.escalations, "updates": self.updates},
            "storm_openings": [
                {"at": at.isoformat() if at else None, "crowd": crowd}
                for at, crowd in self.storm_openings
            ],
            "errors": dict(self.errors),
            "crowds": [
                {
                    "crowd": t.crowd,
                    "author": t.author,
                    "posts": t.posts,
                    "people": t.size,
                    "sent": t.sent,
                    "escalated": t.escalated,
                }
                for t in self.top_crowds(50)
            ],
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.per_second, 1),
            "out_of_order": self.out_of_order,
        }


def count_events(path: str | Path) -> int:
    """Return the number of non-blank lines of a stream file (for a progress bar)."""
    count = 0
    with Path(path).open("rb") as handle:
        for line in handle:
            if line.strip():
                count += 1
    return count


def replay(
    events: Iterable[tuple[int, dict[str, Any]]],
    guard: Guard,
    *,
    clock: list[datetime],
    against: Guard | None = None,
    on_decision: Callable[[int, dict[str, Any], Decision], None] | None = None,
) -> ReplaySummary:
    """
    Review every event with `guard` (and `against`), in order; return the sums.

    Args:
        events: ``(line, event)`` pairs, as `read_stream` yields them.
        guard: the guard to replay through; its clock must read ``clock[0]``.
        clock: a one-item list the replay sets to each event's `at` before its review.
        against: a second guard (the current policy) to compare with, each with its
            own store; its clock must read ``clock[0]`` too.
        on_decision: called with ``(line, event, decision)`` after each review (a
            progress bar, a custom tally).

    Raises:
        InvalidInput: an event's thread or reply is malformed (named by its line).
    """
    summary = ReplaySummary(policy=f"{guard.policy.name} {guard.policy.version}")
    if against is not None:
        summary.diff = StreamDiff()
    open_crowds: set[str] = set()
    started = time.perf_counter()
    for number, event in events:
        at = event.get("at")
        if isinstance(at, datetime):
            clock[0] = at
            summary.first = summary.first or at
            summary.last = at
        try:
            thread = thread_from(event["thread"])
            decision = guard.review(event["reply"], thread)
            old = (
                against.review(event["reply"], thread) if against is not None else None
            )
        except InvalidInput as exc:
            problems = tuple(f"line {number}: {p}" for p in exc.problems)
            raise InvalidInput(problems[0], problems=problems) from None
        _tally(
            summary,
            decision,
            thread.crowd,
            thread.root.author,
            thread.target_post.author,
            at,
            open_crowds,
        )
        if old is not None and summary.diff is not None:
            diff = summary.diff
            diff.events += 1
            diff.old_actions[old.action.value] += 1
            diff.new_actions[decision.action.value] += 1
            if differs(old, decision):
                diff.add(change_of(number, event, old, decision))
        if on_decision is not None:
            on_decision(number, event, decision)
    summary.seconds = time.perf_counter() - started
    return summary


def _tally(
    summary: ReplaySummary,
    decision: Decision,
    crowd: str,
    original_author: str,
    author: str,
    at: Any,
    open_crowds: set[str],
) -> None:
    summary.events += 1
    summary.actions[decision.action.value] += 1
    summary.rules.update(decision.rules)
    for error in decision.errors:
        summary.errors[f"{error.stage}: {error.type}"] += 1
    escalation = decision.escalation
    if escalation is not None:
        summary.routes[escalation.route] += 1
        if escalation.update:
            summary.updates += 1
        else:
            summary.escalations += 1
            if len(summary.kept_escalations) < MAX_KEPT:
                summary.kept_escalations.append(decision)
    storm = decision.signals.state.storm_open
    if storm and crowd not in open_crowds:
        open_crowds.add(crowd)
        summary.storm_opened += 1
        if len(summary.storm_openings) < MAX_KEPT:
            summary.storm_openings.append(
                (at if isinstance(at, datetime) else None, crowd)
            )
    elif not storm:
        open_crowds.discard(crowd)
    tally = summary.crowds.get(crowd)
    if tally is None:
        tally = summary.crowds[crowd] = CrowdTally(crowd, original_author)
        if len(summary.crowds) > 2 * MAX_CROWDS:
            _shrink(summary)
            tally = summary.crowds.setdefault(crowd, tally)
    tally.posts += 1
    tally.sent += decision.sends
    tally.escalated += escalation is not None and not escalation.update
    if len(tally.people) < MAX_PEOPLE:
        tally.people.add(author.lower())
    if isinstance(at, datetime):
        tally.first = tally.first or at
        tally.last = at


def _shrink(summary: ReplaySummary) -> None:
    """Keep the `MAX_CROWDS` largest crowds (the rest stay counted in the totals)."""
    keep = sorted(summary.crowds.values(), key=lambda t: -t.posts)[:MAX_CROWDS]
    summary.crowds_dropped += len(summary.crowds) - len(keep)
    summary.crowds = {t.crowd: t for t in keep}


def replay_file(
    stream: str | Path,
    *,
    policy: str | Path | Policy,
    store: str = "memory://",
    against: str | Path | Policy | None = None,
    sort: bool = False,
    audit: Any = None,
    on_decision: Callable[[int, dict[str, Any], Decision], None] | None = None,
) -> ReplaySummary:
    """
    Replay a stream file through a policy; return the sums.

    Args:
        stream: a JSON Lines file of events.
        policy: a policy file, ``replyguard:NAME``, or a `Policy`.
        store: the store URL for the replay's memory (default: a fresh in-memory one;
            a ``sqlite:///`` or ``redis://`` store keeps what the replay recorded).
        against: the policy to compare with (its own in-memory store); the summary's
            `diff` lists the decisions that change.
        sort: sort the events by time first (two passes over the file) instead of
            refusing a stream that goes back in time; `out_of_order` says how many
            lines were late.
        audit: a decision log for the replayed decisions (``Guard(audit=...)``).
        on_decision: called after each review with ``(line, event, decision)``.

    Raises:
        InvalidInput: the stream cannot be read, a line is bad, or (without `sort`)
            the events go back in time; the file and line are named.
    """
    clock: list[datetime] = [datetime.fromtimestamp(0).astimezone()]
    loaded = _policy(policy)
    extra: dict[str, Any] = {"audit": audit} if audit is not None else {}
    guard = Guard(loaded, store=store, clock=lambda: clock[0], **extra)
    old = (
        Guard(_policy(against), store="memory://", clock=lambda: clock[0])
        if against is not None
        else None
    )
    late = 0
    events: Iterator[tuple[int, dict[str, Any]]]
    if sort:
        late, events = read_stream_sorted(stream)
    else:
        events = read_stream(stream)
    try:
        summary = replay(
            events, guard, clock=clock, against=old, on_decision=on_decision
        )
    finally:
        guard.close()
        if old is not None:
            old.close()
    summary.out_of_order = late
    return summary


def _policy(policy: str | Path | Policy) -> Policy:
    if isinstance(policy, Policy):
        return policy
    text = str(policy)
    if text.startswith("replyguard:"):
        return Policy.packaged(text.removeprefix("replyguard:"))
    return Policy.from_file(text)
