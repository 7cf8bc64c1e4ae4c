"""Any single edit, removal or swap of decision-log records is detected and located."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from replyguard import Guard, Policy
from replyguard.audit import JsonlAuditLog, verify_log
from replyguard.testing.strategies import replies, threads

POLICY = Policy.packaged("default")

reviews = st.lists(
    st.tuples(replies(), threads(max_posts=4), st.booleans()), min_size=2, max_size=6
)

# (field, new value) edits: envelope fields, chain fields and content
EDITS: list[tuple[str, Any]] = [
    ("action", "allow-ish"),
    ("target_id", "999999"),
    ("seq", 10_000),
    ("prev", "sha256:" + "0" * 64),
    ("hash", "sha256:" + "1" * 64),
    ("chain", "someone-else"),
    ("logged_at", "1999-01-01T00:00:00Z"),
    ("recorded", None),
    ("scores", {}),
    ("content.proposed", "a different reply"),
    ("content.author", "@mallory"),
    ("content.thread", {"posts": []}),
]


def _write_log(folder: Path, items: list[tuple[Any, Any, bool]]) -> tuple[Path, Any]:
    path = folder / "decisions.jsonl"
    log = JsonlAuditLog(path, fsync="never")
    guard = Guard(POLICY, audit=log)
    for reply, thread, record in items:
        guard.review(reply, thread, record=record)
    guard.close()
    return path, {log.chain: log.head}


def _rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), "utf-8")


def _located(problems: list[str], path: Path, line: int) -> bool:
    return any(problem.startswith(f"{path}:{line}: ") for problem in problems)


@given(items=reviews, data=st.data())
def test_a_single_edit_is_detected_at_its_line(items, data):
    with tempfile.TemporaryDirectory() as folder:
        path, anchors = _write_log(Path(folder), items)
        lines = path.read_text("utf-8").splitlines()
        index = data.draw(st.integers(0, len(lines) - 1), label="index")
        field, value = data.draw(st.sampled_from(EDITS), label="edit")
        record = json.loads(lines[index])
        if field.startswith("content."):
            record["content"][field.removeprefix("content.")] = value
        else:
            record[field] = value
        lines[index] = json.dumps(record, ensure_ascii=False)
        _rewrite(path, lines)

        report = verify_log(path, expect_heads=anchors)

        assert not report.ok
        assert _located(report.problems, path, index + 1), report.problems


@given(items=reviews, data=st.data())
def test_a_single_removal_is_detected_and_located(items, data):
    with tempfile.TemporaryDirectory() as folder:
        path, anchors = _write_log(Path(folder), items)
        lines = path.read_text("utf-8").splitlines()
        index = data.draw(st.integers(0, len(lines) - 1), label="index")
        del lines[index]
        _rewrite(path, lines)

        report = verify_log(path, expect_heads=anchors)

        assert not report.ok
        if index < len(lines):
            # the record that now sits where the removed one was names the gap
            assert _located(report.problems, path, index + 1), report.problems
        else:
            # the end of a chain: only the anchored head tells
            (chain,) = anchors
            assert any(
                p.startswith(f"chain {chain}: the anchored head")
                for p in report.problems
            )
        # without the anchor, only a removal from the end goes unseen
        assert verify_log(path).ok is (index == len(lines))


@given(items=reviews, data=st.data())
def test_a_swap_of_two_records_is_detected_at_the_first(items, data):
    with tempfile.TemporaryDirectory() as folder:
        path, anchors = _write_log(Path(folder), items)
        lines = path.read_text("utf-8").splitlines()
        first = data.draw(st.integers(0, len(lines) - 2), label="first")
        second = data.draw(st.integers(first + 1, len(lines) - 1), label="second")
        lines[first], lines[second] = lines[second], lines[first]
        _rewrite(path, lines)

        report = verify_log(path, expect_heads=anchors)

        assert not report.ok
        assert _located(report.problems, path, first + 1), report.problems
