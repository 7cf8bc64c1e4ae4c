"""
Time what rewrites and escalations add to a review.

Run from the repository root (replyguard must be importable):

    python benchmarks/bench_rewrite.py           # full run, about half a minute
    python benchmarks/bench_rewrite.py --quick   # CI smoke run, a few seconds

Printed, never asserted. Per-call times come from ``time.perf_counter_ns`` around
single calls after a warm-up; p50 is the median, p95 the nearest-rank 95th percentile.

- the output checks every reply that would go out passes (links, media, platform
  length): their cost on an allowed reply, per platform;
- a review whose rule rewrites the reply (render + the rewrite's scan: a second
  analysis and a second evaluation of every rule) against one that allows it;
- a review that escalates: the packet (summary, snapshot, SLA) and delivery to a
  queue file (fsync off and on).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _stats import p50, p95  # benchmarks/_stats.py

import replyguard
from replyguard import Guard, Reply
from replyguard._inputs import thread_from
from replyguard._output import check_output
from replyguard.sinks import QueueFileSink

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def timed(call: Callable[[], Any], runs: int, warmup: int) -> list[float]:
    """Return the nanoseconds of `runs` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - start)
    return times


def row(name: str, times: list[float]) -> str:
    return f"  {name:<58} p50 {p50(times) / 1000:8.1f} µs   p95 {p95(times) / 1000:8.1f} µs"


def thread(platform_name: str = "x", text: str = "") -> dict[str, Any]:
    return {
        "platform": platform_name,
        "brand_handles": ["@Acme"],
        "posts": [
            {
                "id": "1",
                "author": "@ann_lee",
                "kind": "original",
                "text": text
                or "@Acme my parcel was due on Friday and the tracking page has not moved",
            }
        ],
    }


ALLOWED = (
    "@ann_lee Sorry about the wait. Parcels sent on Friday reach the depot on Monday; "
    "tracking updates at noon: https://acme.com/track"
)
LONG = "Thanks for your patience while we look into this for you. " * 8


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    runs, warmup = (200, 20) if args.quick else (3000, 200)
    print(
        f"replyguard {replyguard.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}; {runs} runs per figure"
    )

    guard = Guard.default(clock=lambda: AT)
    policy, brand, analyzer, _ = guard._state
    print("\noutput checks on a reply that goes out (links, media, length):")
    for name in ("x", "bluesky", "mastodon"):
        model = thread_from(thread(name))
        reply = Reply(text=ALLOWED)
        times = timed(
            lambda m=model, r=reply: check_output(
                policy, analyzer, brand, r, m, r.text, AT
            ),
            runs,
            warmup,
        )
        print(row(f"{name}: 130-char reply with a link", times))
    model = thread_from(thread("x"))
    long_reply = Reply(text=LONG * 2)
    print(
        row(
            "x: 900-char reply, cut to fit",
            timed(
                lambda: check_output(
                    policy, analyzer, brand, long_reply, model, long_reply.text, AT
                ),
                max(runs // 10, 20),
                5,
            ),
        )
    )

    print("\nwhole reviews, default policy (no store):")
    complaint = thread(
        text="@Acme my card was charged twice and nobody answers the phone, awful"
    )
    reviews = {
        "allowed (output checks only)": (
            "Sorry about that, a refund of the double charge is on its way.",
            thread(),
        ),
        "rewritten: cheer dropped (render + scan)": (
            "So sorry!! We'll sort it out today! 🎉",
            complaint,
        ),
        "rewritten: public ask -> DM invitation": (
            "Sorry about that. Reply with your account number and we'll check.",
            thread(),
        ),
        "escalated: packet with summary and snapshot": (
            "Sorry to hear that. We'll refund you in full today.",
            complaint,
        ),
    }
    for name, (text, data) in reviews.items():
        decision = guard.review(text, data, record=False)
        times = timed(
            lambda t=text, d=data: guard.review(t, d, record=False), runs, warmup
        )
        print(row(f"{name} [{decision.action.value}]", times))

    print("\nescalations delivered to a queue file (memory store, one crowd each):")
    with tempfile.TemporaryDirectory() as folder:
        for fsync in (False, True):
            queue = Path(folder) / f"q-{fsync}.jsonl"
            sinks = [QueueFileSink(queue, fsync=fsync)]
            with_sink = Guard.default(clock=lambda: AT, sinks=sinks)
            text, data = reviews["escalated: packet with summary and snapshot"]
            count = max(runs // (10 if fsync else 1), 20)
            times = timed(lambda g=with_sink, t=text, d=data: g.review(t, d), count, 5)
            with_sink.close()
            print(row(f"review + queue line, fsync {'on' if fsync else 'off'}", times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
