"""
Decision-log records for the report tests, made by running the real guard.

`decision_record` turns a `Decision` (and the thread it was reviewed in) into the
record dict the decision log writes (only the fields `replyguard.report` reads, plus
a few more so the shape is recognisable). `stream_records` replays an example stream
through ``Guard.default`` with a memory store and a clock that follows the events.

When ``replyguard.audit`` lands, swap `decision_record` for its record builder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from replyguard.guard import Guard
from replyguard.models import Decision, Evidence, Thread, normalize_handle
from replyguard.testing.shadow import read_stream

ROOT = Path(__file__).resolve().parents[2]
BOFA_2013 = ROOT / "examples" / "bofa_2013" / "stream.jsonl"
BUSY_HOUR = ROOT / "examples" / "busy_hour" / "stream.jsonl"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _evidence(decision: Decision) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    found: list[dict[str, Any]] = []
    groups: list[tuple[Evidence, ...]] = [r.evidence for r in decision.reasons]
    signals = decision.signals
    groups += [
        signals.chain.evidence,
        signals.sarcasm.evidence,
        signals.tone.evidence,
        signals.intent.evidence,
        signals.reply.evidence,
    ]
    for group in groups:
        for item in group:
            if item.start is None or item.end is None:
                continue
            key = (item.signal, item.cue, item.post_id, item.start, item.end)
            if key in seen:
                continue
            seen.add(key)
            found.append(
                {
                    "signal": item.signal,
                    "cue": item.cue,
                    "post_id": item.post_id,
                    "start": item.start,
                    "end": item.end,
                    "text": item.text,
                }
            )
    return found


def decision_record(
    decision: Decision,
    thread: Thread,
    *,
    seq: int = 0,
    prev: str | None = None,
    chain: str = "test",
) -> dict[str, Any]:
    """Return the decision-log record of `decision` (reviewed in `thread`)."""
    target = thread.target_post
    signals = decision.signals
    escalation = decision.escalation
    content: dict[str, Any] = {
        "author": target.author,
        "text": decision.text,
        "proposed": decision.proposed,
        "messages": {reason.rule: reason.message for reason in decision.reasons},
        "summary": escalation.summary if escalation is not None else None,
        "thread": thread.model_dump(mode="json", exclude_none=True),
        "evidence": _evidence(decision),
    }
    content_hash = hashlib.sha256(
        json.dumps(content, sort_keys=True).encode()
    ).hexdigest()
    record: dict[str, Any] = {
        "v": 1,
        "kind": "decision",
        "chain": chain,
        "seq": seq,
        "prev": prev,
        "logged_at": _iso(decision.at),
        "decision_id": decision.decision_id,
        "at": _iso(decision.at),
        "recorded": True,
        "action": str(decision.action),
        "would_have": None if decision.would_have is None else str(decision.would_have),
        "rules": list(decision.rules),
        "reasons": [
            {
                "rule": r.rule,
                "action": str(r.action),
                "route": r.route,
                "priority": r.priority,
            }
            for r in decision.reasons
        ],
        "escalation": None
        if escalation is None
        else {
            "escalation_id": escalation.escalation_id,
            "route": escalation.route,
            "priority": escalation.priority,
            "update": escalation.update,
            "occurrences": escalation.occurrences,
            "sla": escalation.sla,
            "due": _iso(escalation.due),
        },
        "policy": decision.policy.model_dump(),
        "platform": thread.platform,
        "target_id": target.id,
        "target_kind": target.kind,
        "crowd": thread.crowd,
        "author_key": hashlib.sha256(
            normalize_handle(target.author).encode()
        ).hexdigest()[:16],
        "storm_open": signals.state.storm_open,
        "paused": signals.state.paused,
        "scores": {
            "sarcasm": signals.sarcasm.score,
            "tone.hostility": signals.tone.hostility,
            "tone.mockery": signals.tone.mockery,
            "chain.amplification": signals.chain.amplification,
        },
        "latency_us": {
            "analyze": 0,
            "state": 0,
            "evaluate": 0,
            "output": 0,
            "total": 0,
        },
        "errors": [error.model_dump() for error in decision.errors],
        "content_hash": content_hash,
        "content": content,
    }
    record["hash"] = hashlib.sha256(
        json.dumps(record, sort_keys=True, default=str).encode()
    ).hexdigest()
    return record


def stream_decisions(path: Path) -> Iterator[tuple[Decision, Thread]]:
    """Review every event of an example stream; yield each decision and its thread."""
    now: list[datetime] = []
    guard = Guard.default(store="memory://", clock=lambda: now[-1])
    for _line, event in read_stream(path):
        now.append(event["at"])
        thread = Thread.model_validate(event["thread"])
        yield guard.review(event["reply"], thread), thread


def stream_records(path: Path) -> list[dict[str, Any]]:
    """Return the decision-log records of an example stream, chained by hash."""
    records: list[dict[str, Any]] = []
    prev: str | None = None
    for seq, (decision, thread) in enumerate(stream_decisions(path)):
        record = decision_record(decision, thread, seq=seq, prev=prev)
        prev = record["hash"]
        records.append(record)
    return records


def write_log(records: list[dict[str, Any]], path: Path) -> Path:
    """Write records as a JSONL decision log."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path
