"""Invariants of policy limits over random sequences of reviews, dry runs and forgets."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from replyguard import Action, Decision, Guard
from replyguard.policy import Policy

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = 3600.0
CROWDS = ("a", "b", "c")


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _policy(most: int) -> Policy:
    return Policy.from_string(
        "replyguard: 1\nname: prop\nbrand: {handles: ['@Acme']}\nlimits:\n"
        f"  - id: per-crowd\n    key: thread.crowd\n    max: {most}\n"
        "    per: 1h\n    action: suppress\n"
    )


def _crowd(root: str, post_id: str) -> dict[str, object]:
    return {
        "brand_handles": ["@Acme"],
        "posts": [
            {
                "id": root,
                "author": f"@root{root}",
                "kind": "original",
                "text": "@Acme lost my bag",
            },
            {
                "id": post_id,
                "author": f"@{post_id}",
                "kind": "reply",
                "in_reply_to": root,
                "text": "@Acme same here",
            },
        ],
        "target": post_id,
    }


Step = tuple[int, str, bool, bool]
"""Seconds to advance the clock, the crowd, record, forget the previous decision first."""

steps = st.lists(
    st.tuples(
        st.integers(0, 3000),
        st.sampled_from(CROWDS),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


def _run(
    guard: Guard, clock: Clock, sequence: list[Step], *, keep: list[bool] | None = None
) -> tuple[list[Decision | None], list[float]]:
    """Run `sequence` (only the steps `keep` marks); return the decisions and times."""
    decisions: list[Decision | None] = []
    times: list[float] = []
    seconds = 0.0
    for index, (advance, crowd, record, forget_previous) in enumerate(sequence):
        seconds += advance
        times.append(seconds)
        clock.now = START + timedelta(seconds=seconds)
        previous = decisions[index - 1] if index > 0 else None
        if forget_previous and previous is not None:
            went_out = previous.action is Action.ALLOW and sequence[index - 1][2]
            assert went_out == guard.forget(previous)
        if keep is not None and not keep[index]:
            decisions.append(None)  # a dry run left out (its forget is kept)
            continue
        decisions.append(
            guard.review(f"reply {index}", _crowd(crowd, f"p{index}"), record=record)
        )
    return decisions, times


def _check_sequence(store: str, most: int, sequence: list[Step]) -> None:
    clock = Clock()
    guard = Guard(_policy(most), store=store, clock=clock)
    decisions, times = _run(guard, clock, sequence)

    # what went out and stayed out: allowed, recorded, not forgotten afterwards
    out: dict[str, list[float]] = {crowd: [] for crowd in CROWDS}
    for index, ((_, crowd, record, _), decision) in enumerate(
        zip(sequence, decisions, strict=True)
    ):
        assert decision is not None
        forgotten = index + 1 < len(sequence) and sequence[index + 1][3]
        if decision.action is Action.ALLOW and record and not forgotten:
            out[crowd].append(times[index])
        else:
            assert decision.action in (Action.ALLOW, Action.SUPPRESS)
    for crowd, sent in out.items():
        for end in sent:
            inside = [t for t in sent if end - WINDOW < t <= end]
            assert len(inside) <= most, (crowd, sent)

    # dry runs change nothing: without them, every other step decides the same
    keep = [record for _, _, record, _ in sequence]
    twin_clock = Clock()
    twin = Guard(
        _policy(most), store=store.replace(".db", "-twin.db"), clock=twin_clock
    )
    again, _ = _run(twin, twin_clock, sequence, keep=keep)
    for kept, first, second in zip(keep, decisions, again, strict=True):
        if kept:
            assert first is not None
            assert second is not None
            assert first.action == second.action


@settings(max_examples=60, deadline=None)
@given(most=st.integers(1, 4), sequence=steps)
def test_a_limit_is_never_exceeded_and_dry_runs_change_nothing(
    most: int, sequence: list[Step]
) -> None:
    _check_sequence("memory://", most, sequence)


@settings(max_examples=15, deadline=None)
@given(most=st.integers(1, 4), sequence=steps)
def test_the_same_holds_on_sqlite(most: int, sequence: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        _check_sequence(f"sqlite:///{Path(directory) / 's.db'}", most, sequence)


@settings(max_examples=60, deadline=None)
@given(most=st.integers(1, 4), sequence=steps)
def test_each_decision_is_what_the_sliding_count_predicts(
    most: int, sequence: list[Step]
) -> None:
    clock = Clock()
    guard = Guard(_policy(most), store="memory://", clock=clock)
    decisions, times = _run(guard, clock, sequence)

    live: dict[str, list[tuple[int, float]]] = {crowd: [] for crowd in CROWDS}
    for index, ((_, crowd, record, forget_previous), decision) in enumerate(
        zip(sequence, decisions, strict=True)
    ):
        assert decision is not None
        now = times[index]
        if forget_previous and index > 0:
            for members in live.values():
                members[:] = [(i, t) for i, t in members if i != index - 1]
        count = sum(1 for _, t in live[crowd] if now - WINDOW < t <= now)
        expected = Action.ALLOW if count < most else Action.SUPPRESS
        assert expected == decision.action, (index, count, live[crowd])
        if expected is Action.ALLOW and record:
            live[crowd].append((index, now))
