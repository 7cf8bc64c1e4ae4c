"""
Decision-log records for the report tests, made by running the real guard and log.

`stream_records` replays an example stream through ``Guard.default`` with a memory
store, a clock that follows the events and a real `JsonlAuditLog` (masking, chain and
all), and reads the records back with `read_log`: the report is tested on what the
decision log really writes.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from replyguard.audit import JsonlAuditLog, read_log
from replyguard.guard import Guard
from replyguard.models import Decision, Thread
from replyguard.testing.shadow import read_stream

ROOT = Path(__file__).resolve().parents[2]
BOFA_2013 = ROOT / "examples" / "bofa_2013" / "stream.jsonl"
BUSY_HOUR = ROOT / "examples" / "busy_hour" / "stream.jsonl"


def stream_decisions(
    path: Path, *, audit: JsonlAuditLog | None = None
) -> Iterator[tuple[Decision, Thread]]:
    """Review every event of an example stream; yield each decision and its thread."""
    now: list[datetime] = []
    extra: dict[str, Any] = {"audit": audit} if audit is not None else {}
    guard = Guard.default(store="memory://", clock=lambda: now[-1], **extra)
    try:
        for _line, event in read_stream(path):
            now.append(event["at"])
            thread = Thread.model_validate(event["thread"])
            yield guard.review(event["reply"], thread), thread
    finally:
        guard.close()


def stream_records(path: Path) -> list[dict[str, Any]]:
    """Return the decision-log records of an example stream, as the log wrote them."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "decisions.jsonl"
        for _ in stream_decisions(path, audit=JsonlAuditLog(log, fsync="never")):
            pass
        return list(read_log(log))


def write_log(records: list[dict[str, Any]], path: Path) -> Path:
    """Write records as a JSONL decision log."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path
