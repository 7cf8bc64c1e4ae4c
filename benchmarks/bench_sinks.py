"""
Time the escalation sinks: the queue file and the webhook.

Run from the repository root (replyguard must be importable):

    python benchmarks/bench_sinks.py                # full run, about 10 s
    python benchmarks/bench_sinks.py --quick        # CI smoke run, a few seconds
    python benchmarks/bench_sinks.py --dir PATH     # put the queue files in PATH

Measured, with a typical escalation packet (a 3-post thread snapshot, 3 reasons):

1. the packet's serialization alone (``model_dump(mode="json")`` + ``json.dumps``);
2. `QueueFileSink.deliver` with ``fsync`` off and on (the fsync figure is the disk's:
   a tmpfs answers at once, a laptop SSD in ~0.1-5 ms; the filesystem is printed);
3. `WebhookSink.deliver` against a loopback ``ThreadingHTTPServer``: what a review
   pays (the enqueue), while the background thread drains the queue;
4. webhook end to end: N deliveries, then ``flush()``; escalations per second for
   the ``json`` and ``slack`` bodies (one HTTP/1.0 connection per POST).

Every figure is printed, never asserted: the script exits 0 whatever it measures.
Per-call times come from ``time.perf_counter_ns`` around single calls, after a
warm-up; p50 is the median and p95 the nearest-rank 95th percentile.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _stats import fmt, p50, p95, print_table  # benchmarks/_stats.py

import replyguard
from replyguard.models import Action, Escalation, Reason, Thread
from replyguard.sinks import QueueFileSink, WebhookSink

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sizes:
    serialize: int
    queue: int
    queue_fsync: int
    enqueue: int
    throughput: int
    warmup: int


FULL = Sizes(
    serialize=5_000,
    queue=5_000,
    queue_fsync=1_000,
    enqueue=5_000,
    throughput=2_000,
    warmup=100,
)
QUICK = Sizes(
    serialize=500, queue=500, queue_fsync=100, enqueue=500, throughput=200, warmup=20
)


# -- a typical packet -------------------------------------------------------------------


def escalation(number: int) -> Escalation:
    """Return a typical escalation: a 3-post thread snapshot, 3 reasons."""
    thread = Thread.model_validate(
        {
            "brand_handles": ["@AcmeBank"],
            "posts": [
                {
                    "id": f"{number}-1",
                    "author": "@chalk_walker",
                    "text": "Chalk art outside @AcmeBank today: they foreclosed on "
                    "my street and call it community banking",
                    "kind": "original",
                    "created_at": "2026-03-02T08:40:00Z",
                },
                {
                    "id": f"{number}-2",
                    "author": "@fan_of_chalk",
                    "text": "RT @chalk_walker: Chalk art outside @AcmeBank today",
                    "kind": "retweet",
                    "retweet_of": f"{number}-1",
                },
                {
                    "id": f"{number}-3",
                    "author": "@dana",
                    "text": "@AcmeBank is this how you treat people? #boycott",
                    "kind": "quote",
                    "quote_of": f"{number}-1",
                },
            ],
        }
    )
    reasons = tuple(
        Reason(rule=rule, action=Action.ESCALATE, message=message, route="pr")
        for rule, message in (
            (
                "crowd-goes-to-a-person",
                "the original was retweeted or quoted 188 times",
            ),
            ("mockery-goes-to-a-person", "the post mocks the brand or is sarcastic"),
            ("activism-to-pr", "protests and boycotts are PR's to answer"),
        )
    )
    return Escalation(
        route="pr",
        priority="high",
        summary="@dana quotes a protest against the brand (188 retweets and quotes "
        "from 40 people in the last 30 minutes); a template answer would read as "
        "mockery. PR should answer, or nobody.",
        proposed_reply="@dana We are here to help! Please DM us your account details.",
        rules=tuple(reason.rule for reason in reasons),
        target_id=f"{number}-3",
        crowd=f"{number}-1",
        crowd_size=40,
        escalation_id=f"{number:032x}",
        decision_id=f"{number:032x}",
        occurrences=1,
        at=T0,
        sla="1h",
        due=T0 + timedelta(hours=1),
        policy="default",
        author="@dana",
        reasons=reasons,
        thread=thread,
    )


# -- a loopback server ------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def loopback() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- measurements -----------------------------------------------------------------------


def timed_calls(
    call: Callable[[Escalation], object], packets: Sequence[Escalation], warmup: int
) -> list[int]:
    for packet in packets[:warmup]:
        call(packet)
    times = []
    for packet in packets[warmup:]:
        start = time.perf_counter_ns()
        call(packet)
        times.append(time.perf_counter_ns() - start)
    return times


def row(name: str, times: Sequence[int], note: str = "") -> list[str]:
    return [name, f"{len(times)}", fmt(p50(times)), fmt(p95(times)), note]


def filesystem(path: Path) -> str:
    """Return the type of the filesystem `path` is on (Linux), or `unknown`."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if (
            len(parts) >= 3
            and resolved.startswith(parts[1])
            and len(parts[1]) > len(best)
        ):
            best, kind = parts[1], parts[2]
    return kind


def bench_delivery(sizes: Sizes, directory: Path, packets: list[Escalation]) -> None:
    rows = []

    def serialize(packet: Escalation) -> bytes:
        return json.dumps(packet.model_dump(mode="json")).encode()

    times = timed_calls(
        serialize, packets[: sizes.warmup + sizes.serialize], sizes.warmup
    )
    size = len(serialize(packets[0]))
    rows.append(row("serialize packet (reference)", times, f"{size} bytes of JSON"))

    for fsync, count in ((False, sizes.queue), (True, sizes.queue_fsync)):
        path = directory / f"queue-fsync-{fsync}.jsonl"
        with QueueFileSink(path, fsync=fsync) as sink:
            times = timed_calls(
                sink.deliver, packets[: sizes.warmup + count], sizes.warmup
            )
        lines = path.read_bytes().count(b"\n")
        rows.append(
            row(
                f"QueueFileSink.deliver fsync={'on' if fsync else 'off'}",
                times,
                f"{lines} lines, {path.stat().st_size / lines:.0f} B/line",
            )
        )

    with loopback() as url:
        webhook = WebhookSink(url, max_queue=len(packets) + 1, retries=0)
        count = sizes.warmup + sizes.enqueue
        times = timed_calls(webhook.deliver, packets[:count], sizes.warmup)
        done = webhook.flush(120)
        webhook.close()
        rows.append(
            row(
                "WebhookSink.deliver (enqueue)",
                times,
                f"thread draining meanwhile; {webhook.sent}/{count} sent"
                + ("" if done else ", flush timed out"),
            )
        )
    print_table(
        f"Per deliver() call, in {directory} ({filesystem(directory)})",
        ["call", "n", "p50", "p95", "notes"],
        rows,
    )


def bench_throughput(sizes: Sizes, packets: list[Escalation]) -> None:
    rows = []
    with loopback() as url:
        for body in ("json", "slack"):
            sink = WebhookSink(
                url, format=body, max_queue=len(packets) + 1, retries=0, timeout=10
            )
            sink.deliver(packets[0])  # start the thread, warm the connection path
            sink.flush(30)
            count = sizes.throughput
            start = time.perf_counter_ns()
            for packet in packets[1 : count + 1]:
                sink.deliver(packet)
            enqueued = time.perf_counter_ns() - start
            done = sink.flush(300)
            elapsed = time.perf_counter_ns() - start
            sink.close()
            size = len(sink.body(packets[0]))
            rows.append(
                [
                    body,
                    f"{count}",
                    f"{count / (elapsed / 1e9):,.0f}/s",
                    fmt(elapsed / count),
                    fmt(enqueued),
                    f"{sink.sent - 1}/{count} sent, {sink.dead_lettered} dead, "
                    f"{size} B body" + ("" if done else ", flush timed out"),
                ]
            )
    print_table(
        "Webhook end to end (deliver N, then flush; loopback ThreadingHTTPServer)",
        ["format", "n", "throughput", "per escalation", "all enqueued in", "notes"],
        rows,
    )


def header(args: argparse.Namespace) -> None:
    print(
        f"replyguard {replyguard.__version__} | Python {platform.python_version()} "
        f"({platform.python_implementation()}) | {platform.machine()} "
        f"{platform.system()} | {os.cpu_count()} CPUs | "
        f"mode: {'quick' if args.quick else 'full'}"
    )
    print(
        "timer: perf_counter_ns, resolution "
        f"{time.get_clock_info('perf_counter').resolution} s; gc on"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer iterations (CI smoke run)"
    )
    parser.add_argument(
        "--dir",
        type=Path,
        help="where to write the queue files (default: a temporary directory)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    header(args)
    largest = max(
        sizes.serialize, sizes.queue, sizes.queue_fsync, sizes.enqueue, sizes.throughput
    )
    packets = [escalation(number) for number in range(largest + sizes.warmup + 1)]
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="bench-sinks-", dir=args.dir) as tmp:
        bench_delivery(sizes, Path(tmp), packets)
    bench_throughput(sizes, packets)
    print(
        f"\ntotal {time.perf_counter() - started:.1f} s. Figures are printed, "
        "never asserted."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
