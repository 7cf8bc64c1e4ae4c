"""
One self-contained HTML page of a decision log: what the guard did, and when.

`build_report` reads decision-log records (the dicts the decision log writes, one per
review; checkpoints are skipped) in **one pass with bounded memory**: it keeps
counters per time bucket, per rule and per crowd (the largest crowds only), the first
escalations, and a few records chosen as example threads; never the log itself.
`render_html` turns the result into one HTML file with inline CSS and an inline SVG
chart (no scripts, fonts or other files: it opens from disk and prints), and
`write_report` does both. ``replyguard report LOG...`` runs it from the command line;
`iter_records` reads JSONL logs for it.

Everything that came from users (post texts, handles, summaries) is HTML-escaped.
"""

from __future__ import annotations

import functools
import heapq
import importlib.resources
import itertools
import json
import math
import sys
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from replyguard.errors import InvalidArgument, InvalidInput

__all__ = [
    "CrowdRow",
    "EscalationRow",
    "Example",
    "ExamplePost",
    "Marker",
    "PolicyRow",
    "ReportData",
    "RuleRow",
    "Segment",
    "TimelineBucket",
    "build_report",
    "highlight",
    "iter_records",
    "render_html",
    "write_report",
]

ACTIONS: tuple[str, ...] = ("allow", "rewrite", "escalate", "suppress")
MAX_BARS = 240
"""The timeline has at most this many bars; longer spans get wider buckets."""
MAX_CROWDS = 50
"""Rows of the crowd table."""
MAX_ESCALATIONS = 200
"""Escalations listed (updates are folded into theirs); later ones are only counted."""
MAX_RULES = 30
"""Rows of the rule table; the rest are summed into one row."""
MAX_MARKERS = 50
"""Storm-breaker openings kept (later ones are counted)."""

_BUCKET_MINUTES: tuple[int, ...] = (1, 5, 15, 30, 60, 180, 360, 720, 1440, 10080)
"""Bucket widths; each divides the next, so counts merge exactly when widening."""
_LIVE_BUCKETS = 4096
_CROWD_CAPACITY = 200
_PEOPLE_SKETCH = 128
_ALL_PEOPLE_SKETCH = 1024
_RULE_CAPACITY = 1000
_STORM_MEMORY = 4096
_MAX_EXAMPLE_POSTS = 20
_HASH_SPACE = float(2**64)

Kind = Literal["sent", "rewritten", "held"]


# ---------------------------------------------------------------------------
# What the report holds


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """A policy that took decisions in the log, and how many."""

    name: str
    version: str
    hash: str
    decisions: int


@dataclass(frozen=True, slots=True)
class TimelineBucket:
    """The decisions of one bar of the timeline: `minutes` wide from `start`."""

    start: datetime
    minutes: int
    sent: int = 0
    rewritten: int = 0
    held: int = 0

    @property
    def total(self) -> int:
        """Return every decision in the bucket."""
        return self.sent + self.rewritten + self.held


@dataclass(frozen=True, slots=True)
class Marker:
    """A moment marked on the timeline: a storm breaker opening for a crowd."""

    at: datetime
    crowd: str
    label: str


@dataclass(frozen=True, slots=True)
class RuleRow:
    """How often a rule fired, in what share of the reviews, with what action."""

    rule: str
    times: int
    share: float
    action: str


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """One escalation with its updates folded in."""

    escalation_id: str
    opened_at: datetime | None
    last_at: datetime | None
    route: str
    priority: str
    sla: str | None
    due: datetime | None
    occurrences: int
    updates: int
    summary: str | None
    """The summary of the packet that opened it (None: erased or not recorded)."""
    erased: bool
    crowd: str | None
    crowd_author: str | None
    opened_in_log: bool
    """False when the log holds only updates of it (it was opened before the log)."""


@dataclass(frozen=True, slots=True)
class CrowdRow:
    """
    Everyone posting around one original post.

    Counts are exact unless `approximate` (the log had more crowds than are
    tracked; `posts` may then over-count by at most `error`). `people` is exact up to
    128 different people and an estimate beyond.
    """

    crowd: str
    author: str | None
    posts: int
    people: int
    answered: int
    held: int
    escalated: int
    first_at: datetime | None
    last_at: datetime | None
    peak_at: datetime | None
    """The start of the minute in which the crowd grew fastest."""
    error: int = 0

    @property
    def approximate(self) -> bool:
        """Return whether the counts may be off (the crowd was tracked late)."""
        return self.error > 0


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a post's text; `title` is set when evidence covers it."""

    text: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ExamplePost:
    """A post of an example thread, split into highlighted segments."""

    id: str
    author: str
    kind: str
    created_at: str | None
    segments: tuple[Segment, ...]
    target: bool


@dataclass(frozen=True, slots=True)
class Example:
    """A thread shown in full: the posts, the proposed reply and what happened."""

    why: str
    decision_id: str
    at: datetime | None
    action: str
    would_have: str | None
    erased: bool
    posts: tuple[ExamplePost, ...] = ()
    hidden_posts: int = 0
    proposed: tuple[Segment, ...] = ()
    sent: str | None = None
    reasons: tuple[tuple[str, str, str], ...] = ()
    """``(rule, action, message)`` for every matched rule."""
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class ReportData:
    """
    Everything the report shows, computed in one pass over a decision log.

    Build it with `build_report`; render it with `render_html`.
    """

    title: str
    decisions: int
    actions: Mapping[str, int]
    first_at: datetime | None
    last_at: datetime | None
    policies: tuple[PolicyRow, ...] = ()
    people: int = 0
    erased: int = 0
    shadow: int = 0
    would_have: Mapping[str, int] = field(default_factory=dict)
    paused: int = 0
    with_errors: int = 0
    skipped: int = 0
    """Records that are not decisions (checkpoints) or could not be read."""
    packets_new: int = 0
    packets_updates: int = 0
    routes: Mapping[str, int] = field(default_factory=dict)
    """New escalations per route."""
    escalations: tuple[EscalationRow, ...] = ()
    escalations_untabled: int = 0
    """Escalation packets beyond the listed escalations (counted, not listed)."""
    bucket_minutes: int = 1
    timeline: tuple[TimelineBucket, ...] = ()
    storm_openings: tuple[Marker, ...] = ()
    storm_openings_total: int = 0
    crowds: tuple[CrowdRow, ...] = ()
    crowds_seen: int = 0
    """Crowds tracked at some point (all of them unless there were very many)."""
    rules: tuple[RuleRow, ...] = ()
    rules_other: int = 0
    """Firings of rules not listed in `rules`."""
    examples: tuple[Example, ...] = ()

    @property
    def sent(self) -> int:
        """Return the replies sent as proposed."""
        return self.actions.get("allow", 0)

    @property
    def rewritten(self) -> int:
        """Return the replies sent after a rewrite."""
        return self.actions.get("rewrite", 0)

    @property
    def held(self) -> int:
        """Return the replies held back (escalated or suppressed)."""
        return self.actions.get("escalate", 0) + self.actions.get("suppress", 0)

    @property
    def sentence(self) -> str:
        """Return the report in one plain sentence."""
        return _sentence(self)


# ---------------------------------------------------------------------------
# Reading records


def iter_records(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """
    Yield the records of JSONL decision logs, file after file, line after line.

    Blank lines are skipped. A line that is not a JSON object (a log cut off while
    it was written ends in half a line) is skipped with a warning on stderr.

    Raises:
        InvalidInput: a file cannot be opened.
    """
    for path in paths:
        file = Path(path)
        try:
            handle = file.open(encoding="utf-8", errors="replace")
        except OSError as exc:
            msg = f"{file}: cannot read: {exc.strerror or exc}"
            raise InvalidInput(msg) from None
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    sys.stderr.write(
                        f"replyguard: warning: {file}:{number}: skipped a line that is "
                        f"not JSON ({exc.msg}; truncated?)\n"
                    )
                    continue
                if not isinstance(record, dict):
                    sys.stderr.write(
                        f"replyguard: warning: {file}:{number}: skipped a line that is "
                        "not a record\n"
                    )
                    continue
                yield record


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return default


def _float(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else 0.0
    return 0.0


def _content(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the record's content, or None when it is erased or absent."""
    content = record.get("content")
    if not isinstance(content, dict) or content.get("erased"):
        return None
    return content


def _erased(record: Mapping[str, Any]) -> bool:
    content = record.get("content")
    return isinstance(content, dict) and bool(content.get("erased"))


def _posts(content: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if content is None:
        return []
    thread = content.get("thread")
    if not isinstance(thread, dict):
        return []
    posts = thread.get("posts")
    return [p for p in posts if isinstance(p, dict)] if isinstance(posts, list) else []


def _author_of(record: Mapping[str, Any], post_id: str) -> str | None:
    for post in _posts(_content(record)):
        if str(post.get("id")) == post_id:
            return _str(post.get("author"))
    return None


# ---------------------------------------------------------------------------
# Bounded counters


class _Distinct:
    """
    Count distinct keys in bounded memory (a k-minimum-values sketch).

    Exact up to `k` keys; beyond that an estimate within a few percent.
    """

    __slots__ = ("_heap", "_k", "_kept")

    def __init__(self, k: int) -> None:
        self._k = k
        self._kept: set[int] = set()
        self._heap: list[int] = []  # negated: the largest kept hash on top

    def add(self, key: str) -> None:
        value = hash(key) & 0xFFFFFFFFFFFFFFFF
        if value in self._kept:
            return
        if len(self._kept) < self._k:
            self._kept.add(value)
            heapq.heappush(self._heap, -value)
        elif value < -self._heap[0]:
            self._kept.discard(-heapq.heapreplace(self._heap, -value))
            self._kept.add(value)

    def count(self) -> int:
        if len(self._kept) < self._k:
            return len(self._kept)
        largest = -self._heap[0] + 1
        return max(self._k, round((self._k - 1) * _HASH_SPACE / largest))


class _Crowd:
    __slots__ = (
        "answered",
        "author",
        "crowd",
        "error",
        "escalated",
        "first",
        "first_at",
        "held",
        "last_at",
        "minute",
        "minute_count",
        "peak",
        "peak_count",
        "people",
        "posts",
    )

    def __init__(self, crowd: str, error: int) -> None:
        self.crowd = crowd
        self.error = error
        self.posts = error
        self.people = _Distinct(_PEOPLE_SKETCH)
        self.answered = self.held = self.escalated = 0
        self.author: str | None = None
        self.first: Mapping[str, Any] | None = None
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.minute: int | None = None
        self.minute_count = 0
        self.peak: int | None = None
        self.peak_count = 0


class _Crowds:
    """The largest crowds (space-saving: a newcomer replaces the smallest)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._table: dict[str, _Crowd] = {}
        self._heap: list[tuple[int, int, str]] = []  # (posts, tie, crowd), lazily stale
        self._tie = 0
        self.seen = 0

    def hit(self, crowd: str) -> _Crowd:
        stats = self._table.get(crowd)
        if stats is None:
            error = 0
            if len(self._table) >= self._capacity:
                error = self._evict()
            stats = self._table[crowd] = _Crowd(crowd, error)
            self.seen += 1
        stats.posts += 1
        self._tie += 1
        heapq.heappush(self._heap, (stats.posts, self._tie, crowd))
        if len(self._heap) > 8 * self._capacity:
            self._heap = [
                (s.posts, i, name) for i, (name, s) in enumerate(self._table.items())
            ]
            heapq.heapify(self._heap)
        return stats

    def _evict(self) -> int:
        while True:
            posts, _, crowd = heapq.heappop(self._heap)
            stats = self._table.get(crowd)
            if stats is not None and stats.posts == posts:
                del self._table[crowd]
                return posts

    def largest(self, limit: int) -> list[_Crowd]:
        return sorted(
            self._table.values(), key=lambda s: (-s.posts, s.first_at or _EPOCH)
        )[:limit]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Timeline:
    """Counts per time bucket; the buckets widen when there would be too many."""

    def __init__(self) -> None:
        self.level = 0
        self.buckets: dict[int, list[int]] = {}

    @property
    def seconds(self) -> int:
        return _BUCKET_MINUTES[self.level] * 60

    def add(self, at: datetime, kind: int) -> None:
        key = int(at.timestamp()) // self.seconds
        counts = self.buckets.get(key)
        if counts is None:
            if len(self.buckets) >= _LIVE_BUCKETS and self.level + 1 < len(
                _BUCKET_MINUTES
            ):
                self._widen(self.level + 1)
                self.add(at, kind)
                return
            counts = self.buckets[key] = [0, 0, 0]
        counts[kind] += 1

    def _widen(self, level: int) -> None:
        factor = _BUCKET_MINUTES[level] // _BUCKET_MINUTES[self.level]
        merged: dict[int, list[int]] = {}
        for key, counts in self.buckets.items():
            into = merged.setdefault(key // factor, [0, 0, 0])
            for i in range(3):
                into[i] += counts[i]
        self.buckets = merged
        self.level = level

    def finish(self) -> tuple[int, tuple[TimelineBucket, ...]]:
        if not self.buckets:
            return _BUCKET_MINUTES[self.level], ()
        while self.level + 1 < len(_BUCKET_MINUTES):
            span = max(self.buckets) - min(self.buckets) + 1
            if span <= MAX_BARS:
                break
            self._widen(self.level + 1)
        width = self.seconds
        first, last = min(self.buckets), max(self.buckets)
        if last - first + 1 > MAX_BARS:  # beyond the widest bucket: keep the end
            first = last - MAX_BARS + 1
        minutes = _BUCKET_MINUTES[self.level]
        bars = []
        for key in range(first, last + 1):
            sent, rewritten, held = self.buckets.get(key, (0, 0, 0))
            start = datetime.fromtimestamp(key * width, tz=UTC)
            bars.append(TimelineBucket(start, minutes, sent, rewritten, held))
        return minutes, tuple(bars)


# ---------------------------------------------------------------------------
# One pass


@dataclass(slots=True)
class _Escalation:
    escalation_id: str
    opened_at: datetime | None
    last_at: datetime | None
    route: str
    priority: str
    sla: str | None
    due: datetime | None
    occurrences: int
    updates: int
    summary: str | None
    erased: bool
    crowd: str | None
    opened_in_log: bool


class _Builder:
    def __init__(self, examples: int) -> None:
        self.examples = examples
        self.decisions = 0
        self.actions: Counter[str] = Counter()
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.policies: dict[tuple[str, str, str], int] = {}
        self.people = _Distinct(_ALL_PEOPLE_SKETCH)
        self.erased = self.shadow = self.paused = self.with_errors = self.skipped = 0
        self.would_have: Counter[str] = Counter()
        self.packets_new = self.packets_updates = self.untabled = 0
        self.routes: Counter[str] = Counter()
        self.escalations: dict[str, _Escalation] = {}
        self.timeline = _Timeline()
        self.storm_state: OrderedDict[str, bool] = OrderedDict()
        self.openings: list[Marker] = []
        self.openings_total = 0
        self.crowds = _Crowds(_CROWD_CAPACITY)
        self.rules: Counter[str] = Counter()
        self.rule_actions: dict[str, Counter[str]] = {}
        self.rules_other = 0
        # example candidates: raw records, kept by reference (a bounded few)
        self.escalated: list[Mapping[str, Any]] = []
        self.escalated_routes: set[str] = set()
        self.rewrite: Mapping[str, Any] | None = None
        self.answered: Mapping[str, Any] | None = None
        self.heated: Mapping[str, Any] | None = None
        self.heat = 0.0

    def add(self, record: Mapping[str, Any]) -> None:
        kind = record.get("kind", "decision")
        action = record.get("action")
        if kind != "decision" or action not in ACTIONS:
            self.skipped += 1
            return
        self.decisions += 1
        self.actions[action] += 1
        at = _time(record.get("at"))
        if at is not None:
            self.first_at = at if self.first_at is None else min(self.first_at, at)
            self.last_at = at if self.last_at is None else max(self.last_at, at)
            column = 0 if action == "allow" else 1 if action == "rewrite" else 2
            self.timeline.add(at, column)
        self._policy(record.get("policy"))
        author_key = _str(record.get("author_key"))
        if author_key:
            self.people.add(author_key)
        erased = _erased(record)
        self.erased += erased
        would_have = _str(record.get("would_have"))
        if would_have:
            self.shadow += 1
            self.would_have[would_have] += 1
        self.paused += bool(record.get("paused"))
        self.with_errors += bool(record.get("errors"))
        self._rules(record)
        self._escalation(record, at)
        crowd = record.get("crowd")
        if isinstance(crowd, (str, int)) and not isinstance(crowd, bool):
            self._crowd(record, str(crowd), action, at, author_key)
        self._candidates(record, action)

    def _policy(self, policy: object) -> None:
        if not isinstance(policy, dict):
            return
        key = (
            str(policy.get("name", "")),
            str(policy.get("version", "")),
            str(policy.get("hash", "")),
        )
        if key in self.policies or len(self.policies) < 20:
            self.policies[key] = self.policies.get(key, 0) + 1

    def _rules(self, record: Mapping[str, Any]) -> None:
        actions: dict[str, str] = {}
        reasons = record.get("reasons")
        for reason in reasons if isinstance(reasons, list) else ():
            if isinstance(reason, dict) and isinstance(reason.get("rule"), str):
                actions.setdefault(reason["rule"], str(reason.get("action", "")))
        rules = record.get("rules")
        names = (
            [r for r in rules if isinstance(r, str)] if isinstance(rules, list) else []
        )
        for rule in dict.fromkeys(names or list(actions)):
            if rule not in self.rules and len(self.rules) >= _RULE_CAPACITY:
                self.rules_other += 1
                continue
            self.rules[rule] += 1
            action = actions.get(rule)
            if action:
                self.rule_actions.setdefault(rule, Counter())[action] += 1

    def _escalation(self, record: Mapping[str, Any], at: datetime | None) -> None:
        packet = record.get("escalation")
        if not isinstance(packet, dict):
            return
        update = bool(packet.get("update"))
        route = str(packet.get("route") or "?")
        if update:
            self.packets_updates += 1
        else:
            self.packets_new += 1
            self.routes[route] += 1
        ident = str(packet.get("escalation_id") or record.get("decision_id") or "")
        row = self.escalations.get(ident)
        content = _content(record)
        occurrences = max(_int(packet.get("occurrences"), 1), 1)
        if row is None:
            if len(self.escalations) >= MAX_ESCALATIONS:
                self.untabled += 1
                return
            crowd = record.get("crowd")
            self.escalations[ident] = _Escalation(
                escalation_id=ident,
                opened_at=at,
                last_at=at,
                route=route,
                priority=str(packet.get("priority") or ""),
                sla=_str(packet.get("sla")),
                due=_time(packet.get("due")),
                occurrences=occurrences,
                updates=int(update),
                summary=None if content is None else _str(content.get("summary")),
                erased=content is None and _erased(record),
                crowd=None if crowd is None else str(crowd),
                opened_in_log=not update,
            )
            return
        row.updates += update
        row.occurrences = max(row.occurrences, occurrences)
        if at is not None:
            row.last_at = at if row.last_at is None else max(row.last_at, at)
        if not update:  # a new packet reusing an id: take its details
            row.opened_in_log = True
        if row.summary is None and content is not None:
            row.summary = _str(content.get("summary"))
            row.erased = False

    def _crowd(
        self,
        record: Mapping[str, Any],
        crowd: str,
        action: str,
        at: datetime | None,
        author_key: str | None,
    ) -> None:
        stats = self.crowds.hit(crowd)
        if author_key:
            stats.people.add(author_key)
        if action in ("allow", "rewrite"):
            stats.answered += 1
        else:
            stats.held += 1
        if isinstance(record.get("escalation"), dict):
            stats.escalated += 1
        if stats.first is None:
            stats.first = record
        if stats.author is None:
            stats.author = _author_of(record, crowd)
        if at is not None:
            if stats.first_at is None or at < stats.first_at:
                stats.first_at = at
            if stats.last_at is None or at > stats.last_at:
                stats.last_at = at
            minute = int(at.timestamp()) // 60
            if minute == stats.minute:
                stats.minute_count += 1
            else:
                stats.minute, stats.minute_count = minute, 1
            if stats.minute_count > stats.peak_count:
                stats.peak, stats.peak_count = minute, stats.minute_count
            self._storm(record, crowd, at, stats.author)

    def _storm(
        self, record: Mapping[str, Any], crowd: str, at: datetime, author: str | None
    ) -> None:
        state = bool(record.get("storm_open"))
        was = self.storm_state.pop(crowd, False)
        self.storm_state[crowd] = state
        if len(self.storm_state) > _STORM_MEMORY:
            self.storm_state.popitem(last=False)
        if state and not was:
            self.openings_total += 1
            if len(self.openings) < MAX_MARKERS:
                label = (
                    f"storm breaker opens: {author}"
                    if author
                    else "storm breaker opens"
                )
                self.openings.append(Marker(at, crowd, label))

    def _candidates(self, record: Mapping[str, Any], action: str) -> None:
        content = _content(record)
        if content is None or self.examples == 0:
            return
        packet = record.get("escalation")
        if (
            isinstance(packet, dict)
            and not packet.get("update")
            and len(self.escalated) < self.examples
            and _spans(content)
        ):
            route = str(packet.get("route") or "")
            if route not in self.escalated_routes or len(self.escalated) < max(
                1, self.examples // 2
            ):
                self.escalated_routes.add(route)
                self.escalated.append(record)
        if action == "rewrite" and self.rewrite is None:
            self.rewrite = record
        if action == "allow" and self.answered is None and not record.get("would_have"):
            self.answered = record
        scores = record.get("scores")
        if isinstance(scores, dict):
            heat = max(
                _float(scores.get("sarcasm")),
                _float(scores.get("tone.mockery")),
                _float(scores.get("tone.hostility")),
            )
            if heat > self.heat and heat >= 0.5:
                self.heat, self.heated = heat, record

    # -- the result ---------------------------------------------------------------

    def finish(self, title: str | None) -> ReportData:
        minutes, timeline = self.timeline.finish()
        crowds = self.crowds.largest(MAX_CROWDS)
        authors = {c.crowd: c.author for c in crowds}
        rules = [
            RuleRow(
                rule=rule,
                times=times,
                share=times / self.decisions if self.decisions else 0.0,
                action=_top(self.rule_actions.get(rule)),
            )
            for rule, times in sorted(
                self.rules.items(), key=lambda kv: (-kv[1], kv[0])
            )
        ]
        other = self.rules_other + sum(r.times for r in rules[MAX_RULES:])
        escalations = tuple(
            EscalationRow(
                escalation_id=e.escalation_id,
                opened_at=e.opened_at,
                last_at=e.last_at,
                route=e.route,
                priority=e.priority,
                sla=e.sla,
                due=e.due,
                occurrences=e.occurrences,
                updates=e.updates,
                summary=e.summary,
                erased=e.erased,
                crowd=e.crowd,
                crowd_author=authors.get(e.crowd) if e.crowd else None,
                opened_in_log=e.opened_in_log,
            )
            for e in self.escalations.values()
        )
        return ReportData(
            title=title or _default_title(self.first_at),
            decisions=self.decisions,
            actions={action: self.actions.get(action, 0) for action in ACTIONS},
            first_at=self.first_at,
            last_at=self.last_at,
            policies=tuple(
                PolicyRow(name, version, digest, count)
                for (name, version, digest), count in sorted(
                    self.policies.items(), key=lambda kv: -kv[1]
                )
            ),
            people=self.people.count(),
            erased=self.erased,
            shadow=self.shadow,
            would_have=dict(self.would_have),
            paused=self.paused,
            with_errors=self.with_errors,
            skipped=self.skipped,
            packets_new=self.packets_new,
            packets_updates=self.packets_updates,
            routes=dict(sorted(self.routes.items(), key=lambda kv: (-kv[1], kv[0]))),
            escalations=escalations,
            escalations_untabled=self.untabled,
            bucket_minutes=minutes,
            timeline=timeline,
            storm_openings=tuple(self.openings),
            storm_openings_total=self.openings_total,
            crowds=tuple(_crowd_row(c) for c in crowds),
            crowds_seen=self.crowds.seen,
            rules=tuple(rules[:MAX_RULES]),
            rules_other=other,
            examples=self._examples(crowds),
        )

    def _examples(self, crowds: Sequence[_Crowd]) -> tuple[Example, ...]:
        chosen: list[tuple[str, Mapping[str, Any]]] = []
        largest = crowds[0] if crowds else None
        if largest is not None and largest.first is not None and largest.posts > 1:
            who = f" around {largest.author}'s post" if largest.author else ""
            chosen.append(
                (
                    f"the first post of the largest crowd ({largest.posts} posts{who})",
                    largest.first,
                )
            )
        # escalations on distinct routes first, then the rest
        routes: set[str] = set()
        later: list[Mapping[str, Any]] = []
        for record in self.escalated:
            route = str(record["escalation"].get("route") or "")
            if route in routes:
                later.append(record)
            else:
                routes.add(route)
                chosen.append(
                    (f"a new escalation to {route}, with its evidence", record)
                )
        if self.rewrite is not None:
            chosen.append(("a reply the guard rewrote", self.rewrite))
        if self.heated is not None:
            chosen.append(
                (f"the most heated post (score {self.heat:.2f})", self.heated)
            )
        if self.answered is not None:
            chosen.append(("a reply the guard let through", self.answered))
        chosen.extend(("another escalation", record) for record in later)
        seen: set[int] = set()
        examples: list[Example] = []
        for why, record in chosen:
            if len(examples) >= self.examples:
                break
            if id(record) in seen:
                continue
            seen.add(id(record))
            examples.append(_example(why, record))
        return tuple(examples)


def _top(counter: Counter[str] | None) -> str:
    if not counter:
        return ""
    return counter.most_common(1)[0][0]


def _crowd_row(stats: _Crowd) -> CrowdRow:
    return CrowdRow(
        crowd=stats.crowd,
        author=stats.author,
        posts=stats.posts,
        people=stats.people.count(),
        answered=stats.answered,
        held=stats.held,
        escalated=stats.escalated,
        first_at=stats.first_at,
        last_at=stats.last_at,
        peak_at=None
        if stats.peak is None
        else datetime.fromtimestamp(stats.peak * 60, tz=UTC),
        error=stats.error,
    )


def _default_title(first_at: datetime | None) -> str:
    if first_at is None:
        return "replyguard report"
    return f"replyguard report, {first_at:%Y-%m-%d}"


def build_report(
    records: Iterable[Mapping[str, Any]],
    *,
    title: str | None = None,
    examples: int = 6,
) -> ReportData:
    """
    Summarise decision-log records in one pass, in bounded memory.

    Args:
        records: decision-log records (dicts), in any order (a log is in time order);
            records of another kind than ``decision`` (checkpoints) are skipped.
        title: the page title; defaults to one with the first decision's date.
        examples: how many example threads to show in full.

    Raises:
        InvalidArgument: `examples` is negative or not a number.
    """
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 0:  # type: ignore[redundant-expr]  # callers may pass anything
        raise InvalidArgument("examples must be a whole number, 0 or more")
    builder = _Builder(examples)
    for record in records:
        if isinstance(record, Mapping):
            builder.add(record)
        else:
            builder.skipped += 1  # type: ignore[unreachable]  # a log line may be any JSON
    return builder.finish(title)


# ---------------------------------------------------------------------------
# Example threads and evidence


def _spans(content: Mapping[str, Any]) -> bool:
    evidence = content.get("evidence")
    return isinstance(evidence, list) and any(
        isinstance(e, dict) and isinstance(e.get("start"), int) for e in evidence
    )


def highlight(text: str, evidence: Iterable[Mapping[str, Any]]) -> tuple[Segment, ...]:
    """
    Split `text` into segments; those covered by evidence carry a title.

    Offsets are character offsets into `text`. Overlapping spans are split at every
    boundary, so no marks nest: a segment covered by two spans names both. A span
    whose offsets do not fit the text is moved to where its quoted text is (if it
    is there) or dropped.
    """
    spans: list[tuple[int, int, str]] = []
    for item in evidence:
        start, end = item.get("start"), item.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        quoted = _str(item.get("text"))
        if not (0 <= start < end <= len(text)) or (
            quoted and text[start:end] != quoted
        ):
            if not quoted or (found := text.find(quoted)) < 0:
                continue
            start, end = found, found + len(quoted)
        label = f"{item.get('signal', '?')}: {item.get('cue', '?')}"
        spans.append((start, end, label))
    if not spans:
        return (Segment(text),) if text else ()
    cuts = sorted({0, len(text)} | {s for s, _, _ in spans} | {e for _, e, _ in spans})
    segments: list[Segment] = []
    for left, right in itertools.pairwise(cuts):
        labels = list(
            dict.fromkeys(label for s, e, label in spans if s <= left and right <= e)
        )
        piece = text[left:right]
        title = "; ".join(labels) or None
        if segments and segments[-1].title == title:
            piece = segments.pop().text + piece
        segments.append(Segment(piece, title))
    return tuple(segments)


def _example(why: str, record: Mapping[str, Any]) -> Example:
    at = _time(record.get("at"))
    action = str(record.get("action"))
    would_have = _str(record.get("would_have"))
    decision_id = str(record.get("decision_id") or "")
    content = _content(record)
    if content is None:
        return Example(why, decision_id, at, action, would_have, erased=True)
    thread = content.get("thread")
    thread = thread if isinstance(thread, dict) else {}
    posts = _posts(content)
    target = str(thread.get("target") or record.get("target_id") or "")
    if posts and target not in {str(p.get("id")) for p in posts}:
        target = str(posts[-1].get("id"))  # the thread format's default
    evidence = content.get("evidence")
    items = (
        [e for e in evidence if isinstance(e, dict)]
        if isinstance(evidence, list)
        else []
    )
    by_post: dict[str, list[Mapping[str, Any]]] = {}
    on_reply: list[Mapping[str, Any]] = []
    for item in items:
        post_id = item.get("post_id")
        if post_id is None:
            on_reply.append(item)
        else:
            by_post.setdefault(str(post_id), []).append(item)
    hidden = max(0, len(posts) - _MAX_EXAMPLE_POSTS)
    if hidden:  # keep the first post (the original) and the latest ones
        posts = posts[:1] + posts[-(_MAX_EXAMPLE_POSTS - 1) :]
    shown = tuple(
        ExamplePost(
            id=str(post.get("id")),
            author=str(post.get("author") or "?"),
            kind=str(post.get("kind") or ""),
            created_at=_str(post.get("created_at")),
            segments=highlight(
                str(post.get("text") or ""), by_post.get(str(post.get("id")), ())
            ),
            target=str(post.get("id")) == target,
        )
        for post in posts
    )
    messages = content.get("messages")
    messages = messages if isinstance(messages, dict) else {}
    reasons = record.get("reasons")
    rows: list[tuple[str, str, str]] = []
    for reason in reasons if isinstance(reasons, list) else ():
        if isinstance(reason, dict):
            rule = str(reason.get("rule", ""))
            rows.append(
                (rule, str(reason.get("action", "")), str(messages.get(rule, "")))
            )
    if not rows:
        rules = record.get("rules")
        rows.extend(
            (str(rule), "", str(messages.get(str(rule), "")))
            for rule in (rules if isinstance(rules, list) else ())
        )
    proposed = str(content.get("proposed") or "")
    return Example(
        why=why,
        decision_id=decision_id,
        at=at,
        action=action,
        would_have=would_have,
        erased=False,
        posts=shown,
        hidden_posts=hidden,
        proposed=highlight(proposed, on_reply),
        sent=_str(content.get("text")),
        reasons=tuple(rows),
        summary=_str(content.get("summary")),
    )


# ---------------------------------------------------------------------------
# Words


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _sentence(data: ReportData) -> str:
    if data.decisions == 0:
        return "The log holds no decisions."
    parts = [
        f"Of {_plural(data.decisions, 'post')}, {data.sent} {_were(data.sent)} answered"
    ]
    if data.rewritten:
        parts.append(
            f"{data.rewritten} {_were(data.rewritten)} answered after a rewrite"
        )
    parts.append(f"{data.held} {_were(data.held)} held")
    text = "; ".join(parts)
    if data.packets_new:
        routes = ", ".join(data.routes)
        text += f"; {_plural(data.packets_new, 'escalation')} reached people ({routes})"
        if data.packets_updates:
            text += f", updated {_plural(data.packets_updates, 'time')} as crowds grew"
    elif data.packets_updates:
        text += f"; {_plural(data.packets_updates, 'update')} went to open escalations"
    text += "."
    if data.shadow:
        held = sum(
            n for a, n in data.would_have.items() if a in ("escalate", "suppress")
        )
        text += (
            f" {_plural(data.shadow, 'review')} ran in shadow mode: the reply went "
            f"out, and the policy would have held {held}."
        )
    return text


def _when(moment: datetime | None, *, date: bool = True) -> str:
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M}" if date else f"{moment:%H:%M}"


def _span(data: ReportData) -> str:
    if data.first_at is None or data.last_at is None:
        return "no times recorded"
    first, last = data.first_at.astimezone(UTC), data.last_at.astimezone(UTC)
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M} to {last:%H:%M} UTC"
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        return _plural(minutes // 1440, "day")
    if minutes % 60 == 0:
        return _plural(minutes // 60, "hour")
    return _plural(minutes, "minute")


# ---------------------------------------------------------------------------
# The chart


_COLOURS = {"sent": "#2f7d4f", "rewritten": "#d49a00", "held": "#b83a2e"}
_LABELS = {
    "sent": "sent",
    "rewritten": "rewritten",
    "held": "held (escalated or suppressed)",
}


def _nice_ceiling(value: int) -> tuple[int, int]:
    """Return a round top for the y axis at or above `value`, and the tick step."""
    if value <= 5:
        return max(value, 1), 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    return step * math.ceil(value / step), step


def _tick_label(moment: datetime, step: int, previous: datetime | None) -> str:
    if step >= 1440:
        return f"{moment:%b %d}"
    if previous is None or previous.date() != moment.date():
        return f"{moment:%b %d} {moment:%H:%M}"
    return f"{moment:%H:%M}"


_TICK_MINUTES: tuple[int, ...] = (
    *(1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080),
    *(10080 * 2**n for n in range(1, 12)),
)


def _tick_minutes(span: int, bucket: int) -> int:
    """Return the minutes between two labelled ticks: round, at most 8 over `span`."""
    for step in _TICK_MINUTES:
        if step % bucket == 0 and span / step <= 8:
            return step
    return _TICK_MINUTES[-1]


def _svg(data: ReportData) -> str:
    from markupsafe import escape  # noqa: PLC0415 - jinja2's own; only when rendering

    bars = data.timeline
    width, left, right, top = 960, 56, 16, 40
    plot_h = 220
    crowd_rows = [c for c in data.crowds if c.people >= 3 and c.first_at][:3]
    bottom = 48 + 26 * len(crowd_rows)
    height = top + plot_h + bottom
    plot_w = width - left - right
    count = max(len(bars), 1)
    slot = plot_w / count
    peak = max((b.total for b in bars), default=0)
    ymax, ystep = _nice_ceiling(peak)
    unit = _duration(data.bucket_minutes)
    held_total = data.held
    label = (
        f"Timeline of {_plural(data.decisions, 'decision')}, {_span(data)}, "
        f"one bar per {unit}: {data.sent} sent, {data.rewritten} rewritten, "
        f"{held_total} held; the storm breaker opened "
        f"{_plural(data.storm_openings_total, 'time')}."
    )
    out: list[str] = [
        (
            f'<svg class="timeline" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>{escape(label)}</title>",
    ]
    base = top + plot_h

    def y(value: float) -> float:
        return base - value / ymax * plot_h

    # grid and y axis
    out.append('<g class="axis y-axis">')
    tick = 0
    while tick <= ymax:
        ty = y(tick)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'class="grid"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}</text>'
        )
        tick += ystep
    out.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">posts per {escape(unit)}</text>'
        "</g>"
    )
    # bars
    out.append('<g class="bars">')
    bar_w = max(slot * 0.8, 1.0)
    for index, bucket in enumerate(bars):
        if not bucket.total:
            continue
        x = left + index * slot + (slot - bar_w) / 2
        when = f"{_when(bucket.start)} UTC, {unit}"
        stacked = 0
        for kind, value in (
            ("sent", bucket.sent),
            ("rewritten", bucket.rewritten),
            ("held", bucket.held),
        ):
            if not value:
                continue
            y1, y0 = y(stacked + value), y(stacked)
            out.append(
                f'<rect class="bar bar-{kind}" x="{x:.2f}" y="{y1:.2f}" '
                f'width="{bar_w:.2f}" height="{y0 - y1:.2f}" fill="{_COLOURS[kind]}" '
                f'data-count="{value}" data-kind="{kind}">'
                f"<title>{escape(when)}: {value} {kind}</title></rect>"
            )
            stacked += value
    out.append("</g>")
    # x axis
    out.append(
        f'<g class="axis x-axis"><line x1="{left}" x2="{width - right}" '
        f'y1="{base}" y2="{base}" class="baseline"/>'
    )
    step = _tick_minutes(count * data.bucket_minutes, data.bucket_minutes)
    previous: datetime | None = None
    for index, bucket in enumerate(bars):
        moment = bucket.start
        if (int(moment.timestamp()) // 60) % step:
            continue
        tx = left + index * slot
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{base}" y2="{base + 4}"/>'
            f'<text x="{tx:.1f}" y="{base + 16}" text-anchor="middle">'
            f"{escape(_tick_label(moment, step, previous))}</text>"
        )
        previous = moment
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{base + 34}" text-anchor="middle">'
        f"time (UTC), one bar per {escape(unit)}</text></g>"
    )

    def x_of(moment: datetime) -> float:
        if not bars:
            return left
        start = bars[0].start
        seconds = data.bucket_minutes * 60
        offset = (moment - start).total_seconds() / seconds
        return left + min(max(offset, 0.0), count) * slot

    # crowds: a band from first to last post, a dot where the crowd grew fastest
    for row, crowd in enumerate(crowd_rows):
        cy = base + 62 + 26 * row
        x0 = x_of(crowd.first_at) if crowd.first_at else left
        x1 = max(x_of(crowd.last_at) if crowd.last_at else x0, x0 + 2)
        who = crowd.author or f"post {crowd.crowd}"
        text = f"crowd around {who}: {_plural(crowd.posts, 'post')}"
        out.append(
            f'<g class="crowd-marker" data-crowd="{escape(crowd.crowd)}">'
            f"<title>{escape(text)}, {_when(crowd.first_at)} to "
            f"{_when(crowd.last_at)} UTC</title>"
            f'<rect x="{x0:.1f}" y="{cy - 5}" width="{x1 - x0:.1f}" height="6" '
            f'class="crowd-band"/>'
        )
        if crowd.peak_at is not None:
            out.append(
                f'<circle cx="{x_of(crowd.peak_at + timedelta(seconds=30)):.1f}" '
                f'cy="{cy - 2}" r="4" class="crowd-peak"/>'
            )
        room = 6.5 * len(text) + 8
        if x1 + room <= width - right:
            anchor, tx, ty = "start", x1 + 6, cy + 2
        elif x0 - room >= left:
            anchor, tx, ty = "end", x0 - 6, cy + 2
        else:  # the band spans the chart: write above it
            anchor, tx, ty = "start", min(x0, width - right - room), cy - 9
        out.append(
            f'<text x="{tx:.1f}" y="{ty}" text-anchor="{anchor}">'
            f"{escape(text)}</text></g>"
        )
    # storm-breaker openings: a dashed line with a label
    for number, marker in enumerate(data.storm_openings[:10]):
        mx = x_of(marker.at)
        ly = top - 6 - 12 * (number % 2)
        anchor = "end" if mx > width * 0.7 else "start"
        out.append(
            f'<g class="storm-marker"><title>{escape(marker.label)}, '
            f"{_when(marker.at)} UTC</title>"
            f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top - 2}" y2="{base}" '
            f'class="storm-line"/>'
            f'<text x="{mx + (3 if anchor == "start" else -3):.1f}" y="{ly}" '
            f'text-anchor="{anchor}">{escape(marker.label)}</text></g>'
        )
    # legend
    out.append('<g class="legend">')
    lx = left
    for kind in ("sent", "rewritten", "held"):
        out.append(
            f'<rect x="{lx}" y="6" width="12" height="12" fill="{_COLOURS[kind]}"/>'
            f'<text x="{lx + 17}" y="16">{escape(_LABELS[kind])}</text>'
        )
        lx += 30 + 7 * len(_LABELS[kind])
    out.append("</g></svg>")
    return "".join(out)


# ---------------------------------------------------------------------------
# The page


@functools.cache
def _template() -> Any:
    import jinja2  # noqa: PLC0415 - `import replyguard` stays free of jinja2

    source = (
        importlib.resources.files("replyguard") / "_data" / "report.html.jinja"
    ).read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["plural"] = _plural
    env.filters["percent"] = lambda share: f"{share * 100:.0f}%"
    return env.from_string(source)


def render_html(data: ReportData) -> str:
    """Return the report as one self-contained HTML page (inline CSS and SVG)."""
    from markupsafe import Markup  # noqa: PLC0415 - only when rendering

    from replyguard import __version__  # noqa: PLC0415

    top_rule = max((r.times for r in data.rules), default=0)
    html: str = _template().render(
        data=data,
        span=_span(data),
        chart=Markup(_svg(data)) if data.timeline else None,  # noqa: S704 - built from escaped parts
        unit=_duration(data.bucket_minutes),
        top_rule=top_rule,
        version=__version__,
        generated=datetime.now(UTC),
    )
    return html


def write_report(
    records: Iterable[Mapping[str, Any]],
    path: str | Path,
    *,
    title: str | None = None,
    examples: int = 6,
) -> Path:
    """
    Build the report of `records` and write it to `path` as HTML; return the path.

    Missing parent folders are created; the file is only written once every record
    has been read.
    """
    data = build_report(records, title=title, examples=examples)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(data), encoding="utf-8")
    return target
