"""
Time the decision log: what one review pays for its record.

Run from the repository root (replyguard must be importable):

    python benchmarks/bench_audit.py            # full run, about 20 s
    python benchmarks/bench_audit.py --quick    # CI smoke run
    python benchmarks/bench_audit.py --dir PATH # put the logs in PATH (default: a temp dir)

Measured, on a 3-post thread with a card number and an email address in it:

1. the record alone: `decision_record` + the default masking processor;
2. one `write` of that record: `JsonlAuditLog` with ``fsync`` never, interval and
   always, and `SqliteAuditLog` (the fsync figures are the disk's; the filesystem
   is printed);
3. whole reviews without a log and with each log: the difference is the log's cost
   per review.

Every figure is printed, never asserted: the script exits 0 whatever it measures.
Per-call times come from ``time.perf_counter_ns`` around single calls, after a
warm-up; p50 is the median and p95 the nearest-rank 95th percentile.
"""

from __future__ import annotations

import argparse
import gc
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _stats import fmt, p50, p95, print_table  # benchmarks/_stats.py

import replyguard
from replyguard import Guard, Policy, Thread
from replyguard.audit import (
    AuditLog,
    JsonlAuditLog,
    SqliteAuditLog,
    _mask_pii_text,
    decision_record,
    masker,
)

THREAD = Thread.model_validate(
    {
        "brand_handles": ["@acme"],
        "posts": [
            {
                "id": "1",
                "author": "@chalk",
                "text": "@acme charged my card 4111 1111 1111 1111 twice. Fraud!",
                "kind": "original",
            },
            {
                "id": "2",
                "author": "@bob",
                "text": "@chalk same here, mail me at bob@example.com",
                "kind": "reply",
                "in_reply_to": "1",
            },
            {
                "id": "3",
                "author": "@ann",
                "text": "@acme where is my refund?? third time asking",
                "kind": "reply",
                "in_reply_to": "1",
            },
        ],
    }
)
REPLY = "Sorry @ann, we are looking into your refund right now."


def timed(fn: Callable[[], object], n: int) -> list[float]:
    fn()
    times = []
    gc.disable()
    try:
        for _ in range(n):
            start = time.perf_counter_ns()
            fn()
            times.append(float(time.perf_counter_ns() - start))
    finally:
        gc.enable()
    return times


def filesystem(path: Path) -> str:
    try:
        with Path("/proc/mounts").open() as mounts:
            best = ("", "?")
            target = str(path.resolve())
            for line in mounts:
                parts = line.split()
                if target.startswith(parts[1]) and len(parts[1]) >= len(best[0]):
                    best = (parts[1], parts[2])
            return best[1]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    n_record = 300 if args.quick else 3000
    n_write = 200 if args.quick else 2000
    n_always = 50 if args.quick else 300
    n_review = 200 if args.quick else 2000

    folder = tempfile.TemporaryDirectory(dir=args.dir)
    base = Path(folder.name)
    print(
        f"replyguard {replyguard.__version__}, Python {platform.python_version()}, "
        f"logs in {base} ({filesystem(base)})"
    )
    policy = Policy.packaged("default")
    plain = Guard(policy)
    decision = plain.review(REPLY, THREAD)
    mask = masker()

    rows = []
    build = timed(lambda: decision_record(decision, THREAD), n_record)
    rows.append(["record", fmt(p50(build)), fmt(p95(build))])

    def cold() -> None:
        _mask_pii_text.cache_clear()  # texts never seen before: every one is scanned
        mask(decision_record(decision, THREAD))

    build = timed(cold, n_record)
    rows.append(["record + masking, new texts", fmt(p50(build)), fmt(p95(build))])
    build = timed(lambda: mask(decision_record(decision, THREAD)), n_record)
    rows.append(["record + masking, texts seen", fmt(p50(build)), fmt(p95(build))])

    def writer(log: AuditLog) -> Callable[[], None]:
        record = mask(decision_record(decision, THREAD))
        return lambda: log.write(record)

    logs: list[tuple[str, AuditLog, int]] = [
        (
            "jsonl, fsync never",
            JsonlAuditLog(base / "never.jsonl", fsync="never"),
            n_write,
        ),
        (
            "jsonl, fsync interval",
            JsonlAuditLog(base / "interval.jsonl", fsync="interval"),
            n_write,
        ),
        (
            "jsonl, fsync always",
            JsonlAuditLog(base / "always.jsonl", fsync="always"),
            n_always,
        ),
        ("sqlite (WAL, NORMAL)", SqliteAuditLog(base / "log.db"), n_write),
    ]
    for name, log, n in logs:
        times = timed(writer(log), n)
        rows.append([f"write: {name}", fmt(p50(times)), fmt(p95(times))])
        log.close()
    print_table("one record", ["", "p50", "p95"], rows)

    rows = []
    baseline = timed(lambda: plain.review(REPLY, THREAD), n_review)
    rows.append(["no log", fmt(p50(baseline)), fmt(p95(baseline)), "-"])
    specs: list[tuple[str, Callable[[], AuditLog], int]] = [
        (
            "jsonl, fsync never",
            lambda: JsonlAuditLog(base / "r1.jsonl", fsync="never"),
            n_review,
        ),
        ("jsonl, fsync interval", lambda: JsonlAuditLog(base / "r2.jsonl"), n_review),
        (
            "jsonl, fsync always",
            lambda: JsonlAuditLog(base / "r3.jsonl", fsync="always"),
            n_always,
        ),
        ("sqlite", lambda: SqliteAuditLog(base / "r.db"), n_review),
    ]
    for name, make, n in specs:
        guard = Guard(policy, audit=make())
        times = timed(lambda guard=guard: guard.review(REPLY, THREAD), n)
        guard.close()
        rows.append(
            [
                name,
                fmt(p50(times)),
                fmt(p95(times)),
                fmt(p50(times) - p50(baseline)),
            ]
        )
    print_table("one review", ["", "p50", "p95", "log cost (p50)"], rows)
    size = (base / "r1.jsonl").stat().st_size / n_review
    print(f"\nbytes per record (JSONL): {size:.0f}")
    folder.cleanup()


if __name__ == "__main__":
    main()
