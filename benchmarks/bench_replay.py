"""
How fast does a recorded stream replay, in how much memory, and what does the log cost?

Writes a synthetic stream (a brand's days: people on their own asking for help, replies
in conversations, and every so often a storm of retweets and mocking quotes around one
post), then:

1. replays it through the default policy with the memory store and with a SQLite file,
   on one core, and prints events per second;
2. replays 100,000 events (10,000 with --quick) with the memory store and prints the
   process's peak memory after 10%, 25%, 50% and 100% of them: it must level off (the
   stream is read a line at a time, tallies are bounded, the store forgets by time);
3. prints the decision log's cost per review (JSONL with fsync never / interval /
   always, SQLite) against a review without a log.

Run: ``python benchmarks/bench_replay.py [--quick]``. Figures are medians on this
machine; compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _stats import print_table  # benchmarks/_stats.py

from replyguard import Guard
from replyguard.replay import replay, replay_file
from replyguard.testing.shadow import read_stream

START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
QUESTIONS = (
    "@AcmeBank my card was declined at the shop, can you check?",
    "@AcmeBank how do I change my address in the app?",
    "@AcmeBank is the app down? it keeps logging me out",
    "@AcmeBank when does the branch on King St open on Saturday?",
    "@AcmeBank I was charged twice for one payment this morning",
)
STORM = "They closed the only branch in our town without telling anyone @AcmeBank. Shameful."
MOCKS = (
    "lol @AcmeBank is 'here to help' 🙄",
    "Great job @AcmeBank, truly customer obsessed 👏👏",
    "@AcmeBank another canned reply incoming in 3, 2, 1...",
)
CANNED = "Thanks for reaching out! We're here to help. Please send us a DM."


def synthetic_events(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Yield `count` stream events, in time order, a few seconds apart."""
    rng = random.Random(seed)
    at = START
    storm_root: str | None = None
    storm_left = 0
    for n in range(count):
        at += timedelta(seconds=rng.uniform(0.5, 6.0))
        if storm_left == 0 and rng.random() < 0.002:  # a storm starts
            storm_root, storm_left = f"s{n}", rng.randint(100, 600)
        if storm_left and storm_root is not None:
            storm_left -= 1
            root = {
                "id": storm_root,
                "author": "@angry_local",
                "text": STORM,
                "kind": "original",
            }
            if rng.random() < 0.8:
                post = {
                    "id": f"p{n}",
                    "author": f"@fan{n}",
                    "kind": "retweet",
                    "retweet_of": storm_root,
                    "text": f"RT @angry_local: {STORM}",
                }
            else:
                post = {
                    "id": f"p{n}",
                    "author": f"@wit{n}",
                    "kind": "quote",
                    "quote_of": storm_root,
                    "text": rng.choice(MOCKS),
                }
            thread = {"brand_handles": ["@AcmeBank"], "posts": [root, post]}
            reply = CANNED
        elif rng.random() < 0.3:  # a reply in a conversation with the brand
            thread = {
                "brand_handles": ["@AcmeBank"],
                "posts": [
                    {
                        "id": f"q{n}",
                        "author": f"@cust{n % 5000}",
                        "kind": "original",
                        "text": rng.choice(QUESTIONS),
                    },
                    {
                        "id": f"b{n}",
                        "author": "@AcmeBank",
                        "kind": "reply",
                        "in_reply_to": f"q{n}",
                        "text": "Sorry to hear that! Which branch was it?",
                    },
                    {
                        "id": f"p{n}",
                        "author": f"@cust{n % 5000}",
                        "kind": "reply",
                        "in_reply_to": f"b{n}",
                        "text": "@AcmeBank the one on King St",
                    },
                ],
            }
            reply = (
                "Thanks, we've passed it to the branch team and they'll call you today."
            )
        else:  # someone on their own
            thread = {
                "brand_handles": ["@AcmeBank"],
                "posts": [
                    {
                        "id": f"p{n}",
                        "author": f"@cust{n % 5000}",
                        "kind": "original",
                        "text": rng.choice(QUESTIONS),
                    }
                ],
            }
            reply = rng.choice(
                (
                    CANNED,
                    "Sorry about that! Could you tell us which app version you use?",
                )
            )
        yield {"at": at.isoformat(), "thread": thread, "reply": reply}


def write_stream(path: Path, count: int) -> Path:
    """Write a synthetic stream of `count` events to `path`."""
    with path.open("w", encoding="utf-8") as out:
        for event in synthetic_events(count):
            out.write(json.dumps(event) + "\n")
    return path


def peak_mb() -> float:
    """Return this process's peak resident memory so far, in MB (Linux: KB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(stream: Path, store: str) -> tuple[int, float]:
    """Replay `stream` with `store`; return (events, events per second)."""
    summary = replay_file(stream, policy="replyguard:default", store=store)
    return summary.events, summary.per_second


def memory_curve(stream: Path, total: int) -> list[list[str]]:
    """Replay `stream`, noting the peak memory at 10%, 25%, 50% and 100% of it."""
    marks = {int(total * f): f for f in (0.1, 0.25, 0.5, 1.0)}
    rows: list[list[str]] = []
    now = [START]
    guard = Guard.default(store="memory://", clock=lambda: now[0])
    started = time.perf_counter()

    def note(line: int, _event: dict[str, Any], _decision: Any) -> None:
        if line in marks:
            rows.append(
                [
                    f"{line:,}",
                    f"{marks[line]:.0%}",
                    f"{peak_mb():.0f} MB",
                    f"{time.perf_counter() - started:.1f} s",
                ]
            )

    replay(read_stream(stream), guard, clock=now, on_decision=note)
    guard.close()
    return rows


def log_cost(n: int, folder: Path) -> list[list[str]]:
    """Return µs per review without a log and with each kind of log."""
    events = list(synthetic_events(n, seed=11))
    rows = []
    setups: list[tuple[str, Any]] = [("no log", None)]
    try:
        from replyguard.audit import JsonlAuditLog, SqliteAuditLog  # noqa: PLC0415
    except ImportError:  # the decision log is not there yet
        JsonlAuditLog = SqliteAuditLog = None  # noqa: N806
    if JsonlAuditLog is not None and SqliteAuditLog is not None:
        setups += [
            (
                "JSONL, fsync never",
                lambda: JsonlAuditLog(folder / "never.jsonl", fsync="never"),
            ),
            (
                "JSONL, fsync interval (1 s)",
                lambda: JsonlAuditLog(folder / "interval.jsonl", fsync="interval"),
            ),
            (
                "JSONL, fsync always",
                lambda: JsonlAuditLog(folder / "always.jsonl", fsync="always"),
            ),
            ("SQLite", lambda: SqliteAuditLog(folder / "log.db")),
        ]
    base = None
    for name, make in setups:
        now = [START]
        extra = {"audit": make()} if make is not None else {}
        guard = Guard.default(store="memory://", clock=lambda n=now: n[0], **extra)
        for event in events[:50]:  # warm up
            guard.review(event["reply"], event["thread"], record=False)
        started = time.perf_counter()
        for event in events:
            now[0] = datetime.fromisoformat(event["at"])
            guard.review(event["reply"], event["thread"])
        per = (time.perf_counter() - started) / len(events) * 1e6
        guard.close()
        base = base if base is not None else per
        rows.append([name, f"{per:.0f} µs", f"{per - base:+.0f} µs"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller streams")
    args = parser.parse_args()
    small, large, logged = (
        (2_000, 10_000, 300) if args.quick else (10_000, 100_000, 2_000)
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stream = write_stream(folder / "small.jsonl", small)
        rows = []
        for name, store in (
            ("memory://", "memory://"),
            ("sqlite (a file)", f"sqlite:///{folder / 'replay.db'}"),
        ):
            events, rate = throughput(stream, store)
            rows.append([name, f"{events:,}", f"{rate:,.0f}"])
        print_table(
            "Replay throughput, default policy, one core",
            ["store", "events", "events/s"],
            rows,
        )

        big = write_stream(folder / "large.jsonl", large)
        size = big.stat().st_size / 1e6
        print(
            f"\n{size:.1f} MB stream of {large:,} events; peak memory before: {peak_mb():.0f} MB"
        )
        print_table(
            f"Replaying {large:,} events with the memory store",
            ["events", "of stream", "peak memory", "elapsed"],
            memory_curve(big, large),
        )
        print_table(
            "The decision log's cost per review",
            ["log", "review", "added"],
            log_cost(logged, folder),
        )


if __name__ == "__main__":
    main()
