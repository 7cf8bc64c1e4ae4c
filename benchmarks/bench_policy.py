"""
Time replyguard's policy loading, rule evaluation, full reviews and import cost.

Run from the repository root (replyguard must be importable):

    python benchmarks/bench_policy.py           # full run, under a minute
    python benchmarks/bench_policy.py --quick   # CI smoke run, a few seconds

Every figure is printed, never asserted: the script exits 0 whatever it measures.
Per-call times come from ``time.perf_counter_ns`` around single calls, after a
warm-up; p50 is the median and p95 the nearest-rank 95th percentile.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from _stats import fmt, p50, p95  # benchmarks/_stats.py

import replyguard

AIM_MATCH_100 = "aim: < 30 µs p50 for 100 rules"
AIM_MATCH_100_NS = 30_000

# -- the generated policy -----------------------------------------------------------

THRESHOLDS = {
    "sarcasm": 0.6,
    "mockery": 0.5,
    "hostility": 0.6,
    "grief": 0.5,
    "crisis": 0.5,
    "legal": 0.5,
    "activism": 0.6,
    "repeat": 0.85,
    "cheer": 0.5,
    "negative": 0.5,
    "echo": 0.8,
    "generic": 0.7,
    "pii": 0.3,
}
ROUTES = {"social-care": "normal", "pr": "high", "legal": "high", "crisis": "urgent"}
TONES = ("hostility", "mockery", "grief", "crisis", "activism", "legal")
KINDS = ("original", "reply", "quote", "retweet")
PHRASES = (
    ("refund", "chargeback", "money back"),
    ("lawsuit", "attorney", "sue you", "class action"),
    ("password", "pin", "social security", "account number"),
    ("boycott", "protest", "strike"),
    ("outage", "down again", "not working", "can't log in"),
    ("rip", "passed away", "funeral", "condolences"),
    ("fire", "injured", "ambulance", "emergency"),
    ("scam", "fraud", "stolen", "phishing"),
)
PATTERNS = (
    r"\b(ssn|social security|routing number)\b",
    r"\b(dm|direct message) us\b",
    r"https?://\S+",
    r"\b\d{4}[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b",
    r"\b(lol|lmao|sure thing|great job)\b",
    r"!{2,}",
    r"\b(sorry|apolog\w+)\b",
    r"#\w+",
)


SHAPES = 20
"""How many rule shapes `_rule_shape` cycles through; round ``i // SHAPES`` varies them."""


def _rule_shape(i: int) -> tuple[str, str, str]:
    """Return (id stem, condition, action) for the i-th generated rule."""
    r = i // SHAPES  # the round: shifts words, patterns and numbers between repeats
    tone = TONES[(i + r) % len(TONES)]
    kind = KINDS[(i + r) % len(KINDS)]
    phrases = PHRASES[(i + r) % len(PHRASES)]
    pattern = PATTERNS[(i + r) % len(PATTERNS)]
    less = f" - {r / 20:.2f}" if r else ""  # loosen a threshold a little each round
    words = "[" + ", ".join(f'"{p}"' for p in phrases) + "]"
    shapes: list[tuple[str, str, str]] = [
        (
            f"{tone}-to-a-person",
            f"signals.tone.{tone} >= policy.thresholds.{tone}",
            "escalate",
        ),
        (
            "canned-twice",
            f"signals.reply.repeats_brand_post >= policy.thresholds.repeat{less}",
            "suppress",
        ),
        (
            f"{kind}-unaddressed",
            f'thread.target.kind == "{kind}" and not signals.chain.addressed_to_brand',
            "suppress",
        ),
        ("reply-words", f"contains_any(reply.text, {words})", "escalate"),
        ("reply-pattern", f"matches(reply.text, {json.dumps(pattern)})", "rewrite"),
        (
            "cheer-into-complaint",
            (
                "signals.reply.cheer >= policy.thresholds.cheer"
                " and (signals.intent.complaint >= policy.thresholds.negative"
                f" or signals.tone.{tone} >= policy.thresholds.negative)"
            ),
            "rewrite",
        ),
        (
            "target-words-hostile",
            (
                f"contains_any(thread.target.text, {words})"
                f" and signals.tone.hostility >= {0.2 + r / 10:.1f}"
            ),
            "escalate",
        ),
        (
            "crowd",
            (
                f"signals.chain.amplification >= {50 * (1 + r)}"
                " and not signals.chain.is_brand_original"
            ),
            "escalate",
        ),
        (
            "sarcastic-target",
            (
                "signals.sarcasm.score >= policy.thresholds.sarcasm"
                f' and thread.target.kind != "{kind}"'
            ),
            "escalate",
        ),
        (
            "private-data",
            (
                f"signals.reply.asks_for_private_data >= {0.5 + r / 20:.2f}"
                " or signals.reply.pii >= policy.thresholds.pii"
            ),
            "suppress",
        ),
        (
            "big-account",
            (
                f"thread.target.author_followers >= {10_000 * (1 + 2 * r)}"
                ' and thread.target.kind in ["original", "quote"]'
            ),
            "escalate",
        ),
        (
            "viral-target",
            f"thread.target.metrics.retweets >= {25 * (1 + r)}",
            "escalate",
        ),
        (
            "long-reply-deep-thread",
            f"len(reply.text) > {60 + 40 * r} and signals.chain.depth >= 2",
            "rewrite",
        ),
        (
            "too-many-mentions",
            f'starts_with(reply.text, "@") and signals.reply.mentions | length > {r % 3}',
            "rewrite",
        ),
        (
            "echoes-target",
            (
                "similarity(reply.text, thread.target.text)"
                f" >= policy.thresholds.echo{less}"
            ),
            "suppress",
        ),
        (
            "target-pattern",
            (
                f"matches(thread.target.text, {json.dumps(pattern)})"
                " and signals.chain.addressed_to_brand"
            ),
            "escalate",
        ),
        (
            f"generic-into-{tone}",
            (
                "signals.reply.generic >= policy.thresholds.generic"
                f" and signals.tone.{tone} >= policy.thresholds.{tone}"
            ),
            "suppress",
        ),
        (
            "already-answered",
            f"state.sent_to_author >= {1 + r} or state.sent_same_text >= 1",
            "suppress",
        ),
        (
            "praise-ok",
            (
                f"signals.intent.praise >= {0.6 + r / 20:.2f} and signals.tone.hostility < 0.2"
                " and signals.reply.cheer < policy.thresholds.cheer"
            ),
            "allow",
        ),
        (
            "brand-in-chain-quote",
            (
                'signals.chain.brand_in_chain and thread.target.kind == "quote"'
                f" and signals.tone.{tone} >= 0.4"
            ),
            "escalate",
        ),
    ]
    return shapes[i % len(shapes)]


def generated_policy_yaml(n_rules: int) -> str:
    """Return the YAML of a policy of `n_rules` varied, realistic rules."""
    lines = [
        "replyguard: 1",
        f"name: generated-{n_rules}",
        'version: "bench"',
        "on_error: escalate",
        "brand:",
        '  handles: ["@AcmeBank", "@AcmeBank_Help"]',
        '  names: ["Acme Bank"]',
        '  aliases: ["Acme"]',
        "thresholds:",
        *(f"  {name}: {value}" for name, value in THRESHOLDS.items()),
        "routes:",
        *(f"  {name}: {priority}" for name, priority in ROUTES.items()),
        "rules:",
    ]
    route_cycle = ("social-care", "pr", "legal", "crisis")
    for i in range(n_rules):
        stem, condition, action = _rule_shape(i)
        lines += [
            f"  - id: {stem}-{i:03d}",
            f"    description: Generated rule {i} ({stem}).",
            f"    when: {json.dumps(condition)}",
            f"    action: {action}",
        ]
        if action == "escalate":
            lines.append(f"    route: {route_cycle[i % len(route_cycle)]}")
        if action == "rewrite":
            template = (
                "{{ reply.text | strip_exclamations | drop_emoji }}"
                if i % 2
                else "{{ reply.text | remove_phrase('!') | trim }}"
            )
            lines.append(f"    template: {json.dumps(template)}")
        if i % 3 == 0:
            lines.append(
                "    message: "
                + json.dumps(f"rule {i} matched on post {{{{ thread.target.id }}}}")
            )
        if i % 7 == 0:
            lines.append(f"    tags: [bench, {stem}]")
    return "\n".join(lines) + "\n"


# -- threads and replies ----------------------------------------------------------

BRAND = ["@AcmeBank", "@AcmeBank_Help"]

THREADS: dict[str, dict[str, Any]] = {
    "1 post": {
        "platform": "x",
        "brand_handles": BRAND,
        "posts": [
            {
                "id": "100",
                "author": "@dana_k",
                "text": "@AcmeBank_Help my card got blocked again while travelling, "
                "third time this month. Is this a scam or are you just down again?",
                "kind": "original",
                "created_at": "2024-05-02T09:14:00Z",
                "metrics": {"retweets": 3, "likes": 11, "replies": 1, "quotes": 0},
                "author_followers": 812,
            }
        ],
    },
    "2 posts": {
        "platform": "x",
        "brand_handles": BRAND,
        "posts": [
            {
                "id": "200",
                "author": "@citywatch",
                "text": "Long queues outside every @AcmeBank branch downtown this "
                "morning, ATMs not working. Anyone know what's going on?",
                "kind": "original",
                "created_at": "2024-05-02T08:01:00Z",
                "metrics": {"retweets": 140, "likes": 320, "replies": 45, "quotes": 12},
                "author_followers": 52_000,
            },
            {
                "id": "201",
                "author": "@sam_r",
                "text": "Same at the Elm St one, @AcmeBank please sort this out, "
                "I need cash for rent today",
                "kind": "reply",
                "in_reply_to": "200",
                "created_at": "2024-05-02T08:09:00Z",
                "author_followers": 240,
            },
        ],
    },
    "3 posts": {
        "platform": "x",
        "brand_handles": BRAND,
        "posts": [
            {
                "id": "300",
                "author": "@leo_m",
                "text": "@AcmeBank_Help I was charged twice for the same transfer. "
                "I want a refund, not another form.",
                "kind": "original",
                "created_at": "2024-05-02T10:00:00Z",
                "author_followers": 1_300,
            },
            {
                "id": "301",
                "author": "@AcmeBank_Help",
                "text": "@leo_m We're sorry to hear that! Please DM us so we can "
                "look into your account.",
                "kind": "reply",
                "in_reply_to": "300",
                "created_at": "2024-05-02T10:04:00Z",
            },
            {
                "id": "302",
                "author": "@leo_m",
                "text": "@AcmeBank_Help I DMed you yesterday. Nobody answered. "
                "This is the third time.",
                "kind": "reply",
                "in_reply_to": "301",
                "created_at": "2024-05-02T10:20:00Z",
            },
        ],
    },
}

REPLIES = {
    "1 post": "@dana_k Sorry about that! Please DM us and we'll get your card "
    "working again 😊",
    "2 posts": "@sam_r We're aware of an ATM issue downtown and are working on it. "
    "Thanks for your patience!",
    "3 posts": "@leo_m We're sorry to hear that! Please DM us so we can look into "
    "your account.",
}

# -- a known defect -----------------------------------------------------------------
#
# Compiled conditions run with ``__builtins__ = {}``, and `matches(...)` (and `~`)
# compile to code calling ``str(...)``, which `runtime_globals()` does not provide: in
# replyguard 0.1.0 every rule using `matches` raises NameError at evaluation. The
# benchmark detects this and, only in its own process, adds ``str`` to the compiled
# code's globals, so the figures show what a fixed build would cost. The unpatched
# cost (every review fails over to `on_error`) is printed as well.

# -- measuring ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """Iteration counts and time budgets; `--quick` uses the small ones."""

    load_n: int
    load_budget_s: float
    match_n: int
    match_budget_s: float
    review_n: int
    review_budget_s: float
    warmup: int
    procs: int


FULL = Sizes(
    load_n=200,
    load_budget_s=5.0,
    match_n=20_000,
    match_budget_s=1.5,
    review_n=3_000,
    review_budget_s=1.5,
    warmup=200,
    procs=10,
)
QUICK = Sizes(
    load_n=20,
    load_budget_s=0.4,
    match_n=2_000,
    match_budget_s=0.2,
    review_n=300,
    review_budget_s=0.25,
    warmup=20,
    procs=3,
)


def sample(
    fn: Callable[[], object], n: int, *, warmup: int, budget_s: float, min_n: int = 10
) -> list[int]:
    """Return per-call times (ns) of `fn`: up to `n` calls, stopping after `budget_s`."""
    for _ in range(warmup):
        fn()
    gc.collect()
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * 1e9)
    times: list[int] = []
    append = times.append
    while len(times) < n:
        start = clock()
        fn()
        end = clock()
        append(end - start)
        if end > deadline and len(times) >= min_n:
            break
    return times


@dataclass
class Row:
    name: str
    n: int
    p50: float
    p95: float
    note: str = ""


class Table:
    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[Row] = []

    def add(self, name: str, times: Sequence[float], note: str = "") -> Row:
        row = Row(name, len(times), p50(times), p95(times), note)
        self.rows.append(row)
        return row

    def print(self) -> None:
        headers = ("benchmark", "n", "p50", "p95", "")
        cells = [(r.name, str(r.n), fmt(r.p50), fmt(r.p95), r.note) for r in self.rows]
        widths = [
            max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)
        ]
        rule = "  ".join("-" * w for w in widths[:4])
        print(f"\n{self.title}")
        print(rule)
        print(
            f"{headers[0]:<{widths[0]}}  {headers[1]:>{widths[1]}}  "
            f"{headers[2]:>{widths[2]}}  {headers[3]:>{widths[3]}}"
        )
        print(rule)
        for c in cells:
            line = (
                f"{c[0]:<{widths[0]}}  {c[1]:>{widths[1]}}  "
                f"{c[2]:>{widths[2]}}  {c[3]:>{widths[3]}}"
            )
            print(f"{line}  {c[4]}".rstrip())
        print(rule)


# -- the benchmarks -----------------------------------------------------------------


def bench_load(sizes: Sizes, policy_cls: Any, yaml_100: str) -> Table:
    table = Table(
        "1. load + compile a policy (YAML -> compiled Python + jinja2 templates)"
    )
    default = policy_cls.packaged("default")
    times = sample(
        lambda: policy_cls.packaged("default"),
        sizes.load_n,
        warmup=max(3, sizes.warmup // 20),
        budget_s=sizes.load_budget_s,
    )
    table.add(
        f'Policy.packaged("default")  ({len(default.rules)} rules)',
        times,
        "reads the file each call",
    )
    generated = policy_cls.from_string(yaml_100)
    times = sample(
        lambda: policy_cls.from_string(yaml_100),
        sizes.load_n,
        warmup=max(3, sizes.warmup // 20),
        budget_s=sizes.load_budget_s,
    )
    table.add(
        f"Policy.from_string(generated)  ({len(generated.rules)} rules)",
        times,
        f"{len(yaml_100.splitlines())} YAML lines",
    )
    return table


def busy_signals(signals: Any) -> Any:
    """Return `signals` with moderate tone/intent scores, so fewer `and`s short-cut."""
    return signals.model_copy(
        update={
            "tone": signals.tone.model_copy(
                update={
                    "hostility": 0.35,
                    "mockery": 0.3,
                    "grief": 0.1,
                    "crisis": 0.2,
                    "activism": 0.1,
                    "legal": 0.15,
                }
            ),
            "intent": signals.intent.model_copy(
                update={"complaint": 0.8, "praise": 0.05}
            ),
            "reply": signals.reply.model_copy(update={"cheer": 0.6, "generic": 0.4}),
            "sarcasm": signals.sarcasm.model_copy(update={"score": 0.3}),
        }
    )


def bench_match(
    sizes: Sizes,
    guard_cls: Any,
    policy_cls: Any,
    reply_cls: Any,
    thread_cls: Any,
    yaml_10: str,
    yaml_100: str,
) -> Table:
    table = Table(
        "2. rule evaluation only: policy.match(thread, reply, signals), "
        "inputs precomputed ('3 posts' thread)"
    )
    thread = thread_cls.model_validate(THREADS["3 posts"])
    reply = reply_cls(text=REPLIES["3 posts"])
    policies = [
        ("default", policy_cls.packaged("default")),
        ("generated-10", policy_cls.from_string(yaml_10)),
        ("generated-100", policy_cls.from_string(yaml_100)),
    ]
    for label, policy in policies:
        analyzed = guard_cls(policy).analyze(thread, reply)
        for kind, signals in (("analyzed", analyzed), ("busy", busy_signals(analyzed))):
            matched = len(policy.match(thread, reply, signals))
            match = policy.match
            times = sample(
                lambda m=match, s=signals: m(thread, reply, s),
                sizes.match_n,
                warmup=sizes.warmup * 5,
                budget_s=sizes.match_budget_s,
            )
            note = f"{matched}/{len(policy.rules)} matched"
            if len(policy.rules) >= 100:
                verdict = "met" if p50(times) < AIM_MATCH_100_NS else "NOT met"
                note += f"   {AIM_MATCH_100} ({verdict})"
            table.add(
                f"{label} ({len(policy.rules)} rules), {kind} signals", times, note
            )
    return table


def bench_review(
    sizes: Sizes,
    guard_cls: Any,
    policy_cls: Any,
    reply_cls: Any,
    thread_cls: Any,
    yaml_100: str,
) -> Table:
    table = Table("3. full guard.review(reply, thread): analyze + match + decide")
    guards = [
        ("default", guard_cls.default()),
        ("generated-100", guard_cls(policy_cls.from_string(yaml_100))),
    ]
    for label, guard in guards:
        for shape, data in THREADS.items():
            text = REPLIES[shape]
            thread = thread_cls.model_validate(data)
            reply = reply_cls(text=text)
            action = guard.review(reply, thread).action.value
            for form, args in (("models", (reply, thread)), ("dicts", (text, data))):
                review = guard.review
                times = sample(
                    lambda r=review, a=args: r(*a),
                    sizes.review_n,
                    warmup=sizes.warmup,
                    budget_s=sizes.review_budget_s,
                )
                table.add(f"{label}: {shape}, {form}", times, f"-> {action}")
    return table


_CHILD = """
import json, time
t0 = time.perf_counter_ns()
import replyguard
t1 = time.perf_counter_ns()
from replyguard import Guard
t2 = time.perf_counter_ns()
guard = Guard.default()
t3 = time.perf_counter_ns()
guard.review("@a Thanks for reaching out!", {"brand_handles": ["@Acme"], "posts": [
    {"id": "1", "author": "@a", "text": "@Acme my card is blocked", "kind": "original"}]})
t4 = time.perf_counter_ns()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3]))
"""

_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s*(\S+)\s*$")


def _wall(args: list[str]) -> int:
    start = time.perf_counter_ns()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter_ns() - start


def bench_import(sizes: Sizes) -> Table:
    table = Table(f"4. import cost, in fresh interpreters ({sys.executable} -I)")
    python = [sys.executable, "-I"]
    bare: list[int] = []
    loaded: list[int] = []
    _wall([*python, "-c", "import replyguard"])  # warm the OS file cache
    for _ in range(sizes.procs):  # interleaved, so drift hits both alike
        bare.append(_wall([*python, "-c", "pass"]))
        loaded.append(_wall([*python, "-c", "import replyguard"]))
    diff = [b - a for a, b in zip(sorted(bare), sorted(loaded), strict=True)]
    table.add('wall: python -c "import replyguard"', loaded)
    table.add('wall: python -c "pass"', bare)
    table.add("wall: import replyguard (difference)", diff, "sorted runs paired")

    cumulative: list[int] = []
    for _ in range(sizes.procs):
        done = subprocess.run(
            [*python, "-X", "importtime", "-c", "import replyguard"],
            check=True,
            capture_output=True,
            text=True,
        )
        for line in done.stderr.splitlines():
            found = _IMPORTTIME.match(line)
            if found and found.group(3) == "replyguard":
                cumulative.append(int(found.group(2)) * 1_000)
    if cumulative:
        table.add("-X importtime: replyguard, cumulative", cumulative, "self-reported")

    steps: list[list[int]] = [[], [], [], []]
    for _ in range(sizes.procs):
        done = subprocess.run(
            [*python, "-c", _CHILD], check=True, capture_output=True, text=True
        )
        for step, value in zip(steps, json.loads(done.stdout), strict=True):
            step.append(value)
    table.add("in-process: import replyguard", steps[0])
    table.add(
        "in-process: from replyguard import Guard (first use)",
        steps[1],
        "lazy: loads guard, policy, jinja2",
    )
    table.add("in-process: first Guard.default()", steps[2])
    table.add("in-process: first guard.review(...)", steps[3], "cold, dict input")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer iterations (CI smoke run, under 10 s)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()

    from replyguard import Guard, Policy, Reply, Thread  # noqa: PLC0415 - timed apart

    overhead = sample(lambda: None, 10_000, warmup=1_000, budget_s=0.2)
    print(
        f"replyguard {replyguard.__version__} | Python {platform.python_version()} "
        f"({platform.python_implementation()}) | {platform.machine()} "
        f"{platform.system()} | mode: {'quick' if args.quick else 'full'}"
    )
    print(
        f"timer: perf_counter_ns, resolution {time.get_clock_info('perf_counter').resolution}"
        f" s; empty-call overhead p50 {fmt(p50(overhead))} (not subtracted)"
    )

    yaml_10 = generated_policy_yaml(10)
    yaml_100 = generated_policy_yaml(100)
    bench_load(sizes, Policy, yaml_100).print()
    bench_match(sizes, Guard, Policy, Reply, Thread, yaml_10, yaml_100).print()
    bench_review(sizes, Guard, Policy, Reply, Thread, yaml_100).print()
    bench_import(sizes).print()
    print(
        f"\ntotal {time.perf_counter() - started:.1f} s. Figures are printed, "
        "never asserted."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
