"""
Shadow mode in practice: replay recorded traffic through two policies and compare.

A stream is JSON Lines, one event a line: ``{"at": ISO time, "thread": {...thread
format...}, "reply": "..."}``. `diff_stream` reviews every event with both policies,
each guard with its own memory store and a clock that follows the events (so limits,
crowds and the storm breaker behave as they did), and reports every decision that
would change, grouped by the rules that made the difference. ``replyguard diff``
prints it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replyguard.errors import InvalidInput
from replyguard.guard import Guard
from replyguard.models import Decision
from replyguard.policy.compiled import Policy

__all__ = ["Change", "StreamDiff", "diff_stream", "read_stream"]


def read_stream(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """
    Yield ``(line number, event)`` from a stream file, checking each line.

    Raises:
        InvalidInput: a line is not JSON or not an event (named by file:line), or the
            events go back in time.
    """
    file = Path(path)
    last: datetime | None = None
    try:
        handle = file.open(encoding="utf-8")
    except OSError as exc:
        msg = f"{file}: cannot read: {exc.strerror or exc}"
        raise InvalidInput(msg) from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                msg = f"{file}:{number}:{exc.colno}: invalid JSON: {exc.msg}"
                raise InvalidInput(msg) from None
            if (
                not isinstance(event, dict)
                or "thread" not in event
                or "reply" not in event
            ):
                msg = f"{file}:{number}: an event needs `thread` and `reply` (and `at`)"
                raise InvalidInput(msg)
            at = event.get("at")
            if at is not None:
                try:
                    moment = datetime.fromisoformat(str(at))
                except ValueError:
                    msg = f"{file}:{number}: `at`: `{at}` is not an ISO 8601 time"
                    raise InvalidInput(msg) from None
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                if last is not None and moment < last:
                    msg = (
                        f"{file}:{number}: `at` {at} is before the line above; "
                        "a stream is in time order"
                    )
                    raise InvalidInput(msg)
                event["at"] = moment
                last = moment
            yield number, event


@dataclass(frozen=True)
class Change:
    """One event whose decision differs between the two policies."""

    line: int
    target: str
    author: str
    old: Decision
    new: Decision

    @property
    def added(self) -> tuple[str, ...]:
        """Return the rules the new policy fired that the old one did not."""
        return tuple(r for r in self.new.rules if r not in self.old.rules)

    @property
    def removed(self) -> tuple[str, ...]:
        """Return the rules the old policy fired that the new one does not."""
        return tuple(r for r in self.old.rules if r not in self.new.rules)


@dataclass
class StreamDiff:
    """What changes between two policies over a stream."""

    events: int = 0
    changes: list[Change] = field(default_factory=list)
    old_actions: Counter[str] = field(default_factory=Counter)
    new_actions: Counter[str] = field(default_factory=Counter)

    def by_rule(self) -> list[tuple[str, int]]:
        """Return ``(+rule or -rule, events)``, most events first."""
        counts: Counter[str] = Counter()
        for change in self.changes:
            counts.update(f"+{rule}" for rule in change.added)
            counts.update(f"-{rule}" for rule in change.removed)
            if not change.added and not change.removed:
                counts["(same rules: a text, route or state difference)"] += 1
        return counts.most_common()

    def transitions(self) -> list[tuple[str, int]]:
        """Return ``("allow -> escalate", events)``, most events first."""
        counts = Counter(
            f"{c.old.action.value} -> {c.new.action.value}" for c in self.changes
        )
        return counts.most_common()


def _differs(old: Decision, new: Decision) -> bool:
    return (
        old.action != new.action
        or old.rules != new.rules
        or old.text != new.text
        or (old.escalation.route if old.escalation else None)
        != (new.escalation.route if new.escalation else None)
    )


def diff_stream(
    old: Policy, new: Policy, events: Iterable[tuple[int, dict[str, Any]]]
) -> StreamDiff:
    """Review every event with both policies; return the decisions that change."""
    now = [datetime(2026, 1, 5, 12, 0, tzinfo=UTC)]
    guards = [
        Guard(policy, store="memory://", clock=lambda: now[0]) for policy in (old, new)
    ]
    report = StreamDiff()
    try:
        for number, event in events:
            if isinstance(event.get("at"), datetime):
                now[0] = event["at"]
            try:
                before, after = (
                    g.review(event["reply"], event["thread"]) for g in guards
                )
            except InvalidInput as exc:
                problems = tuple(f"line {number}: {p}" for p in exc.problems)
                raise InvalidInput(problems[0], problems=problems) from None
            report.events += 1
            report.old_actions[before.action.value] += 1
            report.new_actions[after.action.value] += 1
            if _differs(before, after):
                thread = event["thread"]
                posts = thread.get("posts", []) if isinstance(thread, dict) else []
                target = str(
                    thread.get("target") or (posts[-1]["id"] if posts else "?")
                )
                author = next(
                    (str(p.get("author")) for p in posts if str(p.get("id")) == target),
                    "?",
                )
                report.changes.append(Change(number, target, author, before, after))
    finally:
        for guard in guards:
            guard.close()
    return report
