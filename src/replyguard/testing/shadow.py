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
from typing import IO, Any

from replyguard.errors import InvalidInput
from replyguard.guard import Guard
from replyguard.models import Decision
from replyguard.policy.compiled import Policy

__all__ = [
    "Change",
    "StreamDiff",
    "change_of",
    "diff_stream",
    "differs",
    "parse_event",
    "read_stream",
    "read_stream_sorted",
]


def read_stream(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """
    Yield ``(line number, event)`` from a stream file, checking each line.

    Reads one line at a time: a stream of any length is read in constant memory.

    Raises:
        InvalidInput: a line is not JSON or not an event (named by file:line), or the
            events go back in time.
    """
    file = Path(path)
    last: datetime | None = None
    with _open(file) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            event = parse_event(line, f"{file}:{number}")
            moment = event.get("at")
            if isinstance(moment, datetime):
                if last is not None and moment < last:
                    msg = (
                        f"{file}:{number}: `at` {event['at'].isoformat()} is before the line "
                        "above; a stream is in time order (replay --sort sorts it)"
                    )
                    raise InvalidInput(msg)
                last = moment
            yield number, event


def read_stream_sorted(
    path: str | Path,
) -> tuple[int, Iterator[tuple[int, dict[str, Any]]]]:
    """
    Return how many lines are out of order, and the events sorted by `at`.

    Two passes over the file: the first keeps only each line's time and offset (a few
    dozen bytes an event), the second reads the lines in time order. Events without
    `at` keep their place relative to the line before them. Lines are checked as in
    `read_stream`.
    """
    file = Path(path)
    index: list[tuple[datetime, int, int]] = []
    late = 0
    newest: datetime | None = None
    earliest = datetime.min.replace(tzinfo=UTC)
    with _open(file, binary=True) as handle:
        offset = 0
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                event = parse_event(raw.decode("utf-8", "replace"), f"{file}:{number}")
                moment = event.get("at")
                if not isinstance(moment, datetime):
                    moment = newest or earliest
                if newest is not None and moment < newest:
                    late += 1
                newest = moment if newest is None else max(newest, moment)
                index.append((moment, number, offset))
            offset += len(raw)
    index.sort()

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        with _open(file, binary=True) as handle:
            for _, number, start in index:
                handle.seek(start)
                line = handle.readline().decode("utf-8", "replace")
                yield number, parse_event(line, f"{file}:{number}")

    return late, events()


def parse_event(line: str, where: str) -> dict[str, Any]:
    """
    Return one stream line as an event, its `at` an aware datetime.

    Raises:
        InvalidInput: not JSON, not an event, or `at` not an ISO time (named by `where`).
    """
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        msg = f"{where}:{exc.colno}: invalid JSON: {exc.msg}"
        raise InvalidInput(msg) from None
    if not isinstance(event, dict) or "thread" not in event or "reply" not in event:
        msg = f"{where}: an event needs `thread` and `reply` (and `at`)"
        raise InvalidInput(msg)
    at = event.get("at")
    if at is not None:
        try:
            moment = datetime.fromisoformat(str(at))
        except ValueError:
            msg = f"{where}: `at`: `{at}` is not an ISO 8601 time"
            raise InvalidInput(msg) from None
        event["at"] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return event


def _open(file: Path, *, binary: bool = False) -> IO[Any]:
    try:
        return file.open("rb") if binary else file.open(encoding="utf-8")
    except OSError as exc:
        msg = f"{file}: cannot read: {exc.strerror or exc}"
        raise InvalidInput(msg) from None


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
    """
    What changes between two policies over a stream.

    Every change is counted (`changed`, `by_rule`, `transitions`); the first `keep`
    are kept whole in `changes`, so a long stream is compared in bounded memory.
    """

    events: int = 0
    changes: list[Change] = field(default_factory=list)
    old_actions: Counter[str] = field(default_factory=Counter)
    new_actions: Counter[str] = field(default_factory=Counter)
    changed: int = 0
    keep: int = 10_000
    _rules: Counter[str] = field(default_factory=Counter)
    _transitions: Counter[str] = field(default_factory=Counter)

    def add(self, change: Change) -> None:
        """Count a change, and keep it while fewer than `keep` are kept."""
        self.changed += 1
        self._rules.update(f"+{rule}" for rule in change.added)
        self._rules.update(f"-{rule}" for rule in change.removed)
        if not change.added and not change.removed:
            self._rules["(same rules: a text, route or state difference)"] += 1
        self._transitions[
            f"{change.old.action.value} -> {change.new.action.value}"
        ] += 1
        if len(self.changes) < self.keep:
            self.changes.append(change)

    def by_rule(self) -> list[tuple[str, int]]:
        """Return ``(+rule or -rule, events)``, most events first."""
        return self._rules.most_common()

    def transitions(self) -> list[tuple[str, int]]:
        """Return ``("allow -> escalate", events)``, most events first."""
        return self._transitions.most_common()


def change_of(
    number: int, event: dict[str, Any], old: Decision, new: Decision
) -> Change:
    """Return the `Change` of one event reviewed by two policies."""
    thread = event["thread"]
    posts = thread.get("posts", []) if isinstance(thread, dict) else []
    target = str(thread.get("target") or (posts[-1]["id"] if posts else "?"))
    author = next(
        (str(p.get("author")) for p in posts if str(p.get("id")) == target), "?"
    )
    return Change(number, target, author, old, new)


def differs(old: Decision, new: Decision) -> bool:
    """Return whether two decisions differ in action, rules, text or route."""
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
            if differs(before, after):
                report.add(change_of(number, event, before, after))
    finally:
        for guard in guards:
            guard.close()
    return report
