"""
Time the guard's memory (the state step) on memory, SQLite and Redis stores.

Run from the repository root (replyguard must be importable):

    python benchmarks/bench_state.py                  # full run, about a minute
    python benchmarks/bench_state.py --quick          # CI smoke run, under ~20 s
    python benchmarks/bench_state.py --redis URL      # use a running Redis server

Without ``--redis`` the script starts its own ``redis-server`` (no persistence) on a
free loopback port when one is on PATH, and stops it at the end; without one, it says
so and measures memory and SQLite only. SQLite files live in a temporary directory.

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
import random
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _stats import fmt, p50, p95, print_table  # benchmarks/_stats.py

import replyguard

AIM_MEMORY = "aim: memory < 20 µs added per review"
AIM_MEMORY_NS = 20_000
T0 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
BRAND = ["@AcmeBank", "@AcmeBank_Help"]

# -- typical threads, made distinct per review ----------------------------------------
#
# Every review gets its own post ids and authors, so that each one lands in a new
# crowd and a new author: the store's keys and windows grow with every review that is
# recorded. The reply cycles through CASES case numbers, so a text recurs only every
# CASES reviews (never five times within the hour the same-text rule looks at): every
# review takes the same path through the policy (no state rule fires) whatever the
# store, and after a warm-up every text's reading comes from the analyzer's cache.

CASES = 500

_VOCAB = [
    "branch",
    "statement",
    "overdraft",
    "mortgage",
    "savings",
    "transfer",
    "deposit",
    "cheque",
    "limit",
    "fee",
    "refund",
    "pin",
    "login",
    "app",
    "travel",
    "card",
    "loan",
    "balance",
    "payment",
    "interest",
    "rate",
    "account",
    "address",
    "phone",
    "email",
    "letter",
    "notice",
    "review",
    "team",
    "manager",
    "desk",
    "office",
    "queue",
    "form",
    "receipt",
]


def detail(case: int) -> str:
    """Return words that make case `case`'s reply its own (no near-duplicate)."""
    return " ".join(random.Random(case).sample(_VOCAB, 8))


def typical(shape: str, tag: str, case: int = 0) -> tuple[str, dict[str, Any]]:
    """
    Return (reply text, thread dict) of a typical thread.

    Post ids and authors come from `tag`; the reply's case number is `case`. The
    texts do not depend on `tag`, so the analyzer's cache of readings serves them
    after a first review: the state step is then a measurable part of a review.
    """
    if shape == "1 post":
        author = f"@dana_{tag}"
        posts = [
            {
                "id": f"{tag}0",
                "author": author,
                "text": "@AcmeBank_Help my card got blocked again while travelling, "
                "third time this month. Can you unblock it?",
                "kind": "original",
                "created_at": "2024-05-02T08:14:00Z",
                "metrics": {"retweets": 0, "likes": 2, "replies": 1, "quotes": 0},
                "author_followers": 812,
            }
        ]
        reply = f"Sorry about that. We've unblocked the card; notes: {detail(case)}."
    elif shape == "2 posts":
        author = f"@sam_{tag}"
        posts = [
            {
                "id": f"{tag}0",
                "author": f"@priya_{tag}",
                "text": "Is the @AcmeBank app down for anyone else? Can't log in.",
                "kind": "original",
                "created_at": "2024-05-02T08:01:00Z",
                "author_followers": 430,
            },
            {
                "id": f"{tag}1",
                "author": author,
                "text": "Same here @AcmeBank, the app just spins at the login screen",
                "kind": "reply",
                "in_reply_to": f"{tag}0",
                "created_at": "2024-05-02T08:09:00Z",
                "author_followers": 240,
            },
        ]
        reply = (
            "Thanks for telling us. Logins are back; if the app still spins, quote "
            f"{detail(case)} in the app's chat."
        )
    else:
        author = f"@leo_{tag}"
        posts = [
            {
                "id": f"{tag}0",
                "author": author,
                "text": "@AcmeBank_Help how do I change the address on my account?",
                "kind": "original",
                "created_at": "2024-05-02T10:00:00Z",
                "author_followers": 1_300,
            },
            {
                "id": f"{tag}1",
                "author": "@AcmeBank_Help",
                "text": "You can do it in the app under Profile > Address.",
                "kind": "reply",
                "in_reply_to": f"{tag}0",
                "created_at": "2024-05-02T10:04:00Z",
            },
            {
                "id": f"{tag}2",
                "author": author,
                "text": "@AcmeBank_Help I don't see Profile in the menu, I'm on the web",
                "kind": "reply",
                "in_reply_to": f"{tag}1",
                "created_at": "2024-05-02T10:20:00Z",
            },
        ]
        reply = (
            "On the web it is under Settings > Personal details. "
            f"Notes if you need us again: {detail(case)}."
        )
    return reply, {"platform": "x", "brand_handles": BRAND, "posts": posts}


SHAPES = ("1 post", "2 posts", "3 posts")

# -- the retweet storm ----------------------------------------------------------------

ORIGINAL_TEXT = (
    "Chalked it on the sidewalk outside the @AcmeBank branch on Market St: "
    '"Stolen homes. Illegal foreclosures. Fraud." Their sidewalk, our words. [photo]'
)
CANNED = (
    "We're here to help, to listen and to learn from our customers, and we're glad "
    "to assist with any account-related questions."
)
QUOTES = (
    "This is the photo everyone should see today.",
    "Good. Keep chalking.",
    "They took my parents' house in 2011. Still waiting for an apology.",
    "@AcmeBank care to comment?",
    "Not a single word from them, as usual.",
)
REPLIES = (
    "Solidarity from Oakland.",
    "@AcmeBank_Help are you going to send me the account-questions line too?",
    "lol the bot is answering everyone with the same sentence",
    "Where exactly is this? I want to add my own.",
    "@AcmeBank how about answering the actual accusation",
    "Shared. This needs to be seen.",
)


def storm_events(
    n: int, seed: int, tag: str
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """
    Return `n` (time, reply, thread) events: a protest post and its pile-on.

    Post 1 is the original (it tags the brand); each later post is a retweet (80 %),
    quote (8 %) or reply (12 %) of it by a different author, a few seconds after the
    previous one. The original's metrics grow as the storm does. The reply is what a
    naive bot would send: one canned macro behind each author's handle.
    """
    rng = random.Random(seed)
    original_id = f"{tag}-1"
    metrics = {"retweets": 0, "likes": 0, "replies": 0, "quotes": 0}
    at = T0
    events: list[tuple[datetime, str, dict[str, Any]]] = []
    for k in range(n):
        original = {
            "id": original_id,
            "author": "@chalk_walker",
            "text": ORIGINAL_TEXT,
            "kind": "original",
            "created_at": T0.isoformat().replace("+00:00", "Z"),
            "metrics": dict(metrics),
            "author_followers": 2_400,
        }
        if k == 0:
            posts, author = [original], "@chalk_walker"
        else:
            author = f"@{tag}_{k:05d}"
            stamp = at.isoformat().replace("+00:00", "Z")
            post: dict[str, Any] = {
                "id": f"{tag}-{k + 1}",
                "author": author,
                "created_at": stamp,
                "author_followers": rng.randint(3, 5_000),
            }
            roll = rng.random()
            if roll < 0.80:
                post |= {
                    "kind": "retweet",
                    "retweet_of": original_id,
                    "text": f"RT @chalk_walker: {ORIGINAL_TEXT}",
                }
                metrics["retweets"] += 1
            elif roll < 0.88:
                post |= {"kind": "quote", "quote_of": original_id}
                post["text"] = rng.choice(QUOTES)
                metrics["quotes"] += 1
            else:
                post |= {"kind": "reply", "in_reply_to": original_id}
                post["text"] = rng.choice(REPLIES)
                metrics["replies"] += 1
            metrics["likes"] += rng.randint(0, 3)
            posts = [original, post]
        thread = {
            "platform": "x",
            "brand_handles": BRAND,
            "posts": posts,
            "target": posts[-1]["id"],
        }
        events.append((at, f"{author} {CANNED}", thread))
        at += timedelta(seconds=rng.uniform(1.0, 5.0))
    return events


def storm_child(mode: str, n: int, store_url: str) -> dict[str, Any]:
    """Replay a storm in this (fresh) process; return its figures as a dict."""
    started = time.perf_counter_ns()
    from replyguard import Guard  # noqa: PLC0415 - timed apart

    now = [T0]
    guard = Guard.default(store=store_url, clock=lambda: now[0])
    # one review of an unrelated thread: lazy imports and first-call costs are paid
    reply, thread = typical("1 post", "warm")
    guard.review(reply, thread, record=False)
    ready = time.perf_counter_ns()
    tag = uuid.uuid4().hex[:6]
    events = storm_events(n, seed=2013, tag=tag)
    gc.collect()
    if mode == "traced":
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    actions: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    sent: list[str] = []
    times: list[int] = []
    clock = time.perf_counter_ns
    review = guard.review
    start = clock()
    for at, text, data in events:
        now[0] = at
        t = clock()
        decision = review(text, data)
        times.append(clock() - t)
        kind = data["posts"][-1]["kind"]
        actions[decision.action.value] += 1
        kinds[kind] += 1
        by_kind[f"{kind} -> {decision.action.value}"] += 1
        rules.update(reason.rule for reason in decision.reasons)
        if decision.sends:
            sent.append(f"{data['posts'][-1]['kind']} by {data['posts'][-1]['author']}")
    total = clock() - start
    result: dict[str, Any] = {
        "n": n,
        "total_ns": total,
        "times": times,
        "setup_ns": ready - started,
        "actions": dict(actions),
        "rules": rules.most_common(6),
        "kinds": dict(kinds),
        "by_kind": sorted(by_kind.items()),
        "sent": sent[:5],
        "sent_count": len(sent),
        "span_s": (events[-1][0] - events[0][0]).total_seconds(),
    }
    if mode == "traced":
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result |= {"peak": peak - base, "retained": current - base}
    result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


# -- measuring ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """Iteration counts; `--quick` uses the small ones (the storm stays 10,000 posts)."""

    reviews: int  # timed reviews per (store, record, thread shape)
    step_n: int  # timed calls of the state step alone
    warmup: int
    storm: int
    traced_storm: int


FULL = Sizes(reviews=1_500, step_n=5_000, warmup=50, storm=10_000, traced_storm=10_000)
QUICK = Sizes(reviews=150, step_n=600, warmup=10, storm=10_000, traced_storm=1_000)


def signed(ns: float) -> str:
    return ("+" if ns >= 0 else "") + fmt(ns)


def fmt_bytes(n: float) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


# -- a redis-server of our own ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(directory: Path) -> Iterator[str | None]:
    """Yield the URL of a fresh ``redis-server`` (None when there is none), then stop it."""
    executable = shutil.which("redis-server")
    if executable is None:
        yield None
        return
    port = _free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                print(f"redis-server on port {port} did not start; skipping Redis")
                yield None
                return
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def redis_version(url: str) -> str:
    try:
        import redis  # noqa: PLC0415 - optional

        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            return str(client.info("server").get("redis_version", "?"))
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - a header line, never fatal
        return f"unknown ({type(exc).__name__})"


# -- 1. the added cost of the state step -------------------------------------------------


@dataclass
class Config:
    label: str
    store: str
    record: bool
    guard: Any
    times: dict[str, list[int]]
    actions: Counter[str]


def bench_added_cost(
    sizes: Sizes,
    stores: dict[str, Any],
    guard_cls: Any,
    reply_cls: Any,
    thread_cls: Any,
) -> None:
    """Table 1: guard.review with no store vs each store, record=True and False."""
    now = [T0]

    def clock() -> datetime:
        return now[0]

    configs = [
        Config("no store", "none", record=True, guard=None, times={}, actions=Counter())
    ]
    configs += [
        Config(
            f"{name}, record={record}",
            name,
            record=record,
            guard=None,
            times={},
            actions=Counter(),
        )
        for name in stores
        for record in (True, False)
    ]
    for config in configs:
        store = None if config.store == "none" else stores[config.store]
        # record=True and record=False guards of one backend share its store: the
        # read-only reviews read the windows the recording ones keep growing
        config.guard = guard_cls.default(store=store, clock=clock)
        config.times = {shape: [] for shape in SHAPES}

    run = uuid.uuid4().hex[:6]
    clock_ns = time.perf_counter_ns
    rounds = sizes.warmup + sizes.reviews
    for case in range(min(CASES, rounds)):  # every text read once: the cache serves it
        for shape in SHAPES:
            text, data = typical(shape, f"{run}w", case)
            configs[0].guard.analyze(data, text)
    # a new random order of (guard, thread) every round: no guard always runs right
    # after another (after a Redis round trip the CPU's caches are colder)
    rng = random.Random(4)
    pairs = [(c, shape) for c in range(len(configs)) for shape in SHAPES]
    for i in range(rounds):
        now[0] = T0 + timedelta(seconds=2 * i)
        rng.shuffle(pairs)
        for c, shape in pairs:
            config = configs[c]
            text, data = typical(shape, f"{run}{c}{SHAPES.index(shape)}x{i}", i % CASES)
            reply = reply_cls(text=text)
            thread = thread_cls.model_validate(data)
            review = config.guard.review
            record = config.record
            start = clock_ns()
            decision = review(reply, thread, record=record)
            end = clock_ns()
            if i >= sizes.warmup:
                config.times[shape].append(end - start)
                config.actions[decision.action.value] += 1
        if i == sizes.warmup - 1:
            gc.collect()

    base = {shape: p50(configs[0].times[shape]) for shape in SHAPES}
    rows = []
    added: dict[str, list[float]] = {}
    for config in configs:
        for shape in SHAPES:
            times = config.times[shape]
            diff = p50(times) - base[shape]
            if config.store != "none":
                added.setdefault(config.label, []).append(diff)
            rows.append(
                [
                    config.label,
                    shape,
                    str(len(times)),
                    fmt(p50(times)),
                    fmt(p95(times)),
                    "-" if config.store == "none" else signed(diff),
                ]
            )
    print_table(
        "1. added cost of the state step: guard.review(reply, thread) with no store vs "
        "each store (models built beforehand; a new crowd and author per review)",
        ("guard", "thread", "n", "p50", "p95", "added (p50 - no store p50)"),
        rows,
    )
    print("\nsummary (mean over the three threads of the added p50; negative = noise):")
    no_store_mean = statistics.fmean(base.values())
    print(f"  {'no store':<24} review p50 {fmt(no_store_mean)} (mean of the 3 threads)")
    for label, diffs in added.items():
        mean = statistics.fmean(diffs)
        note = ""
        if label.startswith("memory, record=True"):
            verdict = "met" if mean < AIM_MEMORY_NS else "NOT met"
            note = f"   {AIM_MEMORY} ({verdict})"
        print(f"  {label:<24} {signed(mean)}{note}")
    actions = {c.label: dict(c.actions) for c in configs}
    print(f"  actions (every guard should show the same): {json.dumps(actions)}")


def bench_state_step(
    sizes: Sizes,
    stores: dict[str, Any],
    memory_cls: Any,
    reply_cls: Any,
    thread_cls: Any,
) -> None:
    """Table 2: the state step's store batches alone (read, record) on each store."""
    from replyguard.policy.compiled import StormSettings  # noqa: PLC0415
    from replyguard.policy.schema import StormSpec  # noqa: PLC0415
    from replyguard.state._protocol import run_ops  # noqa: PLC0415

    rows = []
    clock_ns = time.perf_counter_ns
    run = uuid.uuid4().hex[:6]
    storm = StormSettings.from_spec(StormSpec())
    for name, store in stores.items():
        memory = memory_cls(f"bench-step-{run}", storm)
        reads: list[int] = []
        records: list[int] = []
        for i in range(sizes.warmup + sizes.step_n):
            now = (T0 + timedelta(seconds=2 * i)).timestamp()
            text, data = typical(SHAPES[i % 3], f"{run}s{i}", i % CASES)
            reply = reply_cls(text=text)
            thread = thread_cls.model_validate(data)
            start = clock_ns()
            results = run_ops(
                store, memory.read_ops(thread, reply, now=now, inbound=True)
            )
            memory.state_from(results, memory.storm_reading(results))
            middle = clock_ns()
            run_ops(store, memory.record_ops(thread, reply, uuid.uuid4().hex, now=now))
            end = clock_ns()
            if i >= sizes.warmup:
                reads.append(middle - start)
                records.append(end - middle)
        both = [a + b for a, b in zip(reads, records, strict=True)]
        for label, times in (
            ("read", reads),
            ("record", records),
            ("read + record", both),
        ):
            rows.append(
                [name, label, str(len(times)), fmt(p50(times)), fmt(p95(times))]
            )
    print_table(
        "2. the state step's batches alone: the read before evaluation (pause flag, 3 "
        "sent counts, 2 inbound adds, 3 inbound counts, breaker flag) and the record "
        "after (3 adds + 1 flag); limits add one reserve each",
        ("store", "step", "n", "p50", "p95"),
        rows,
    )


# -- 3. the storm ---------------------------------------------------------------------


def run_child(mode: str, n: int) -> dict[str, Any] | str:
    done = subprocess.run(
        [sys.executable, __file__, "--storm-child", mode, "--storm-posts", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return (
            f"the {mode} replay failed (exit {done.returncode}): {done.stderr[-800:]}"
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_storm(sizes: Sizes) -> None:
    """Table 3: a retweet storm replayed end to end, in fresh interpreters."""
    print(
        f"\n3. retweet storm replayed end to end with store memory:// "
        f"({sizes.storm:,} posts; each in a fresh interpreter)"
    )
    timed = run_child("timed", sizes.storm)
    if isinstance(timed, str):
        print(f"   {timed}")
        return
    traced = run_child("traced", sizes.traced_storm)
    total = timed["total_ns"]
    times = timed["times"]
    hours = timed["span_s"] / 3600
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(timed["kinds"].items()))
    print(
        f"   stream: 1 protest original + {timed['n'] - 1:,} posts ({kinds}), each a "
        f"different author, {hours:.1f} h on the guard's clock (1-5 s apart)"
    )
    print(
        "   input: thread dicts + reply text (validation included), the naive bot's "
        "canned macro behind each author's handle"
    )
    rows = [
        ["replay, total", fmt(total)],
        ["reviews per second", f"{timed['n'] / (total / 1e9):,.0f}"],
        ["per review p50 / p95", f"{fmt(p50(times))} / {fmt(p95(times))}"],
        ["per review max", fmt(max(times))],
        [
            "first 1,000 / last 1,000 p50",
            f"{fmt(p50(times[:1000]))} / {fmt(p50(times[-1000:]))}",
        ],
        ["process start to first review done", fmt(timed["setup_ns"])],
        ["peak RSS of the timed process", fmt_bytes(timed["maxrss_kib"] * 1024)],
    ]
    if isinstance(traced, str):
        rows.append(["tracemalloc", traced])
    else:
        scope = "" if traced["n"] == timed["n"] else f" ({traced['n']:,}-post replay)"
        rows += [
            [f"tracemalloc peak during the replay{scope}", fmt_bytes(traced["peak"])],
            [f"tracemalloc retained after it{scope}", fmt_bytes(traced["retained"])],
            [
                f"replay time under tracemalloc{scope}",
                fmt(traced["total_ns"]) + " (not comparable)",
            ],
        ]
    print_table("", ("figure", "value"), rows)  # the title is printed above
    actions = timed["actions"]
    order = ("allow", "rewrite", "escalate", "suppress")
    counts = ", ".join(f"{a} {actions.get(a, 0):,}" for a in order)
    print(f"\n   decisions by action: {counts}")
    verdict = "yes" if timed["sent_count"] <= 1 else "NO"
    print(
        f"   automated answers sent into the crowd: {timed['sent_count']} "
        f"(the default policy should send at most one: {verdict})"
    )
    split = ", ".join(f"{key} {count:,}" for key, count in timed["by_kind"])
    print(f"   by target kind: {split}")
    for line in timed["sent"]:
        print(f"     sent: {line}")
    rules = ", ".join(f"{rule} {count:,}" for rule, count in timed["rules"])
    print(f"   rules matched most: {rules}")


# -- main -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer iterations (CI smoke run, < ~20 s)"
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="a running Redis to use (keys go under replyguard:default:* and "
        "bench-step-*, and expire within a day); default: start a redis-server",
    )
    parser.add_argument(
        "--storm-child", choices=("timed", "traced"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--storm-posts", type=int, default=10_000, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.storm_child:
        print(json.dumps(storm_child(args.storm_child, args.storm_posts, "memory://")))
        return 0
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()

    from replyguard import Guard, Reply, Thread  # noqa: PLC0415 - timed apart
    from replyguard.state import store_from_url  # noqa: PLC0415
    from replyguard.state._replies import ReplyMemory  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="bench-state-") as tmp:
        directory = Path(tmp)
        if args.redis:
            context: Any = _given(args.redis)
        else:
            context = redis_server(directory)
        with context as redis_url:
            header(args, redis_url)
            stores: dict[str, Any] = {
                "memory": store_from_url("memory://"),
                "sqlite": store_from_url(f"sqlite:///{directory / 'state.db'}"),
            }
            if redis_url is not None:
                try:
                    stores["redis"] = store_from_url(redis_url)
                except Exception as exc:  # noqa: BLE001 - reported, not fatal
                    print(f"redis store unavailable ({type(exc).__name__}: {exc})")
            try:
                bench_added_cost(sizes, stores, Guard, Reply, Thread)
                bench_state_step(sizes, stores, ReplyMemory, Reply, Thread)
            finally:
                for store in stores.values():
                    store.close()
    bench_storm(sizes)
    print(
        f"\ntotal {time.perf_counter() - started:.1f} s. Figures are printed, "
        "never asserted."
    )
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def header(args: argparse.Namespace, redis_url: str | None) -> None:
    overhead: list[int] = []
    for _ in range(10_000):
        start = time.perf_counter_ns()
        overhead.append(time.perf_counter_ns() - start)
    print(
        f"replyguard {replyguard.__version__} | Python {platform.python_version()} "
        f"({platform.python_implementation()}) | {platform.machine()} "
        f"{platform.system()} | {os.cpu_count()} CPUs | "
        f"mode: {'quick' if args.quick else 'full'}"
    )
    print(
        f"timer: perf_counter_ns, resolution {time.get_clock_info('perf_counter').resolution}"
        f" s; empty timed-call overhead p50 {fmt(p50(overhead))} (not subtracted)"
    )
    print(f"sqlite: SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL, temp dir")
    if redis_url is None:
        print(
            "redis: redis-server not found on PATH (apt-get install -y redis-server); "
            "measuring memory and SQLite only"
        )
        return
    try:
        import redis  # noqa: PLC0415 - optional

        client = f"redis-py {redis.__version__}"
    except ImportError:
        client = "redis-py missing (pip install 'replyguard[redis]')"
    origin = (
        "given with --redis" if args.redis else "started by this script, no persistence"
    )
    print(
        f"redis: server {redis_version(redis_url)} at {redis_url} ({origin}); {client}"
    )


if __name__ == "__main__":
    sys.exit(main())
