"""
A reply bot that sends what replyguard allows and routes escalations to a queue file.

It replays a recorded stream (default: the 2013 @BofA_Help retweet storm, then a
busy hour of ordinary customers) as if the events were arriving now: every
proposed reply is reviewed first; allowed and rewritten replies go out through
`post_reply` (here: printed; in a real bot, the platform's API), and everything a
person must look at lands in one JSONL queue file, one line per escalation or
update, which the care team reads with ``replyguard queue list FILE``.

    python examples/escalation_queue_bot.py [QUEUE_FILE] [STREAM.jsonl ...]
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path

from replyguard import Decision, Guard
from replyguard.sinks import QueueFileSink, format_queue, read_queue

EXAMPLES = resources.files("replyguard") / "_data" / "examples"
DEFAULT_STREAMS = [
    EXAMPLES / "bofa_2013" / "stream.jsonl",
    EXAMPLES / "busy_hour" / "stream.jsonl",
]


def post_reply(text: str, in_reply_to: str) -> None:
    """Send a reply (a real bot calls the platform here)."""
    print(f"  SENT to {in_reply_to}: {text[:70]}")


class EventClock:
    """The guard's clock follows the stream: windows are measured in event time."""

    def __init__(self) -> None:
        self.now = datetime.fromisoformat("2013-07-08T00:00:00+00:00")

    def __call__(self) -> datetime:
        return self.now


def run(queue: Path, streams: list[Path]) -> dict[str, int]:
    """Review every event of `streams`; return what happened, by action."""
    clock = EventClock()
    counts = {"allow": 0, "rewrite": 0, "escalate": 0, "suppress": 0, "updates": 0}
    # one store and one queue for the whole bot; the queue is fsync'd per line
    guard = Guard.default(
        store="memory://", clock=clock, sinks=[QueueFileSink(queue, fsync=False)]
    )
    try:
        for stream in streams:
            for line in stream.read_text(encoding="utf-8").splitlines():
                event = json.loads(line)
                clock.now = datetime.fromisoformat(event["at"])
                decision: Decision = guard.review(event["reply"], event["thread"])
                counts[decision.action.value] += 1
                if decision.text is not None:
                    post_reply(decision.text, decision.target_id or "?")
                elif decision.escalation is not None and decision.escalation.update:
                    counts["updates"] += 1
    finally:
        guard.close()  # flushes and closes the queue
    return counts


def main(argv: list[str]) -> int:
    """Run the bot over the streams; print the queue a person would read."""
    queue = Path(argv[0]) if argv else Path("escalations.jsonl")
    streams = [Path(a) for a in argv[1:]] or [Path(str(s)) for s in DEFAULT_STREAMS]
    queue.unlink(missing_ok=True)
    counts = run(queue, streams)
    print(
        f"\nsent {counts['allow'] + counts['rewrite']} "
        f"(rewritten {counts['rewrite']}), escalated {counts['escalate']}, "
        f"suppressed {counts['suppress']} ({counts['updates']} of them updated an "
        "open escalation)"
    )
    items = read_queue(queue).items
    print(f"\n{queue}: {len(items)} escalation(s) for people\n")
    print(format_queue(items))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
