"""
What does reading a thread cost? The analyzer against spaCy's own tokenizer.

Prints, for typical threads (1-3 posts and a reply, from the shipped 2013 example and
built-in samples):

- spaCy's tokenizer reading the same texts once (the yardstick of the issue: a review
  should cost at most 4x that), a full ``guard.review`` with the readings cache off
  (every text read afresh) and on (a storm of one text), and the ratio;
- how the cost grows with the number of posts (distinct texts: linear) and with a
  thread of 10,000 retweets of one post (identical texts are read once);
- bad input: empty text, 100 KB of emoji, lone surrogates, mixed scripts, with the
  time each took (the bound).

Run: ``python benchmarks/bench_analyzer.py [--quick]``. Figures are medians of
repeated runs on this machine; compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replyguard import Guard
from replyguard._inputs import reply_from, thread_from
from replyguard.analysis import Analyzer
from replyguard.guard import analyzer_for

TYPICAL: list[tuple[str, list[tuple[str, str, str]], str]] = [
    (
        "sarcastic complaint (1 post)",
        [
            (
                "@priya_transit",
                "original",
                (
                    "Thank you SO much @SkyLoft_Air for the surprise 7 hour delay 🙃 "
                    "always wanted to memorize every single floor tile at gate B14 #blessed"
                ),
            )
        ],
        "We love to hear it, @priya_transit! Thanks for flying SkyLoft ✈️💙",
    ),
    (
        "service request (1 post)",
        [
            (
                "@rowan_beckett_",
                "original",
                (
                    "@Dashly order D-58213 was missing both drinks, can I get a refund for "
                    "those? the app won't let me select individual items"
                ),
            )
        ],
        (
            "Hi @rowan_beckett_, sorry your drinks were missing! Send us a DM with your "
            "order number and we'll sort it out 💚"
        ),
    ),
    (
        "reply under a complaint (3 posts)",
        [
            (
                "@courier_truths",
                "original",
                (
                    "Dashly pays drivers $2 base for a 9 mile trip and hides the tip until "
                    "after you accept. this company is a scam top to bottom @Dashly"
                ),
            ),
            (
                "@fenwick_aria",
                "reply",
                "@courier_truths @Dashly disgusting. deleting the app tonight",
            ),
            (
                "@ellery_cho",
                "reply",
                (
                    "@courier_truths @Dashly separate issue but I got charged twice for "
                    "order 77120 tonight. can someone look at it?"
                ),
            ),
        ],
        (
            "Hi @ellery_cho, sorry about the double charge! Please DM us your order number "
            "and we'll take a look 💚"
        ),
    ),
    (
        "grief (1 post)",
        [
            (
                "@rosario_delamar",
                "original",
                (
                    "@SkyLoftHelp I need to get to Manila tomorrow, my dad passed away this "
                    "morning. do you have bereavement fares? I can't think straight right now"
                ),
            )
        ],
        (
            "Hi @rosario_delamar, thanks for reaching out! For fare info please visit "
            "skyloft.com/fares ✈️"
        ),
    ),
]
BRANDS = ["@SkyLoft_Air", "@SkyLoftHelp", "@Dashly"]


def _thread(posts: list[tuple[str, str, str]]) -> dict[str, Any]:
    built = []
    for index, (author, kind, text) in enumerate(posts, start=1):
        post: dict[str, Any] = {
            "id": str(index),
            "author": author,
            "kind": kind,
            "text": text,
        }
        if kind == "reply":
            post["in_reply_to"] = "1"
        built.append(post)
    return {"brand_handles": BRANDS, "posts": built}


def median_us(fn: Callable[[], object], *, repeat: int, number: int) -> float:
    """Return the median time of one call, in microseconds."""
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs) * 1e6


def typical(*, quick: bool) -> None:
    """Print review cost against the tokenizer for the typical threads."""
    repeat, number = (3, 50) if quick else (7, 300)
    cold_guard = Guard.default()
    policy = cold_guard.policy
    cold = Analyzer(
        lexicons=policy.lexicons, pipeline=policy.nlp_pipeline, cache_size=0
    )
    # swap the cached analyzer of the cold guard for one without a readings cache
    cold_guard._state = (*cold_guard._state[:2], cold, cold_guard._state[3])
    warm_guard = Guard.default()
    nlp = analyzer_for(policy).reader.nlp
    print("## A review against spaCy's tokenizer reading the same texts once\n")
    print(
        f"{'thread':36} {'chars':>5} {'tokenizer':>10} {'review':>9} {'ratio':>6} "
        f"{'cached':>8}"
    )
    ratios = []
    for name, posts, reply_text in TYPICAL:
        thread = thread_from(_thread(posts))
        reply = reply_from(reply_text)
        texts = [p.text for p in thread.posts] + [reply.text]
        tokenize = median_us(
            lambda texts=texts: [nlp.make_doc(t) for t in texts],
            repeat=repeat,
            number=number,
        )
        review = median_us(
            lambda t=thread, r=reply: cold_guard.review(r, t),
            repeat=repeat,
            number=number,
        )
        cached = median_us(
            lambda t=thread, r=reply: warm_guard.review(r, t),
            repeat=repeat,
            number=number,
        )
        ratios.append(review / tokenize)
        chars = sum(len(t) for t in texts)
        print(
            f"{name:36} {chars:5d} {tokenize:8.1f}us {review:7.1f}us {review / tokenize:5.1f}x "
            f"{cached:6.1f}us"
        )
    print(
        f"\nmedian ratio review/tokenizer: {statistics.median(ratios):.1f}x (aim: <= 4x)\n"
    )


def unique_texts(*, quick: bool) -> None:
    """
    Print review cost against the tokenizer on texts neither has seen before.

    spaCy's tokenizer caches every chunk it has tokenized, and the guard keeps the
    readings of texts it has read, so repeating one thread measures both warm. A bot
    mostly reads new posts: both are warmed on one set of real tweets, then each of
    a second set is tokenized once and each of a third reviewed once.
    """
    texts = _tweets()
    if len(texts) < 300:
        print("## Unique texts: no tweet file found (pass --tweets), skipped\n")
        return
    size = 100 if quick else 400
    warm, tokenized, reviewed = (
        texts[:size],
        texts[size : 2 * size],
        texts[2 * size : 3 * size],
    )
    guard = Guard.default()
    nlp = analyzer_for(guard.policy).reader.nlp

    def thread(text: str) -> dict[str, Any]:
        post = {
            "id": "1",
            "author": "@someone",
            "kind": "original",
            "text": f"@Acme {text}",
        }
        return {"brand_handles": ["@Acme"], "posts": [post]}

    for text in warm:
        nlp.make_doc(f"@Acme {text}")
        nlp.make_doc(REPLY)
        guard.review(REPLY, thread(text))
    token_times, review_times = [], []
    for text in tokenized:
        start = time.perf_counter()
        nlp.make_doc(f"@Acme {text}")
        nlp.make_doc(REPLY)
        token_times.append(time.perf_counter() - start)
    for text in reviewed:
        data = thread(text)
        start = time.perf_counter()
        guard.review(REPLY, data)
        review_times.append(time.perf_counter() - start)
    tokenize = statistics.median(token_times) * 1e6
    review = statistics.median(review_times) * 1e6
    chars = statistics.median(len(t) for t in reviewed)
    print("## Texts never seen before (real tweets, median of each set)\n")
    print(f"median post: {chars:.0f} chars, plus a {len(REPLY)}-char reply")
    print(f"tokenizer (post + reply, first time): {tokenize:8.1f} us")
    print(f"guard.review (first time):            {review:8.1f} us")
    print(f"ratio: {review / tokenize:.1f}x (aim: <= 4x)\n")


def _tweets() -> list[str]:
    import csv  # noqa: PLC0415

    path = ARGS_TWEETS[0]
    if path is None or not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row.get("tweet", "") for row in csv.DictReader(handle)]
    return list(dict.fromkeys(r for r in rows if r and len(r) > 40))


REPLY = "Hi! Sorry about that. Please DM us the details and we'll take a look."
ARGS_TWEETS: list[Path | None] = [None]


def scaling(*, quick: bool) -> None:
    """Print how the cost grows with posts, and a storm of identical retweets."""
    guard = Guard.default()
    policy = guard.policy
    cold = Analyzer(
        lexicons=policy.lexicons, pipeline=policy.nlp_pipeline, cache_size=0
    )
    guard._state = (*guard._state[:2], cold, guard._state[3])
    print("## Growth with the thread (readings cache off)\n")
    print(f"{'posts':>6} {'distinct texts':>15} {'review':>11} {'per post':>10}")
    sizes = (1, 3, 10, 100) if quick else (1, 3, 10, 100, 1000)
    for size in sizes:
        posts = [
            {
                "id": str(i),
                "author": f"@user{i}",
                "kind": "reply" if i else "original",
                "text": f"@SkyLoft_Air post number {i}: my bag {i} is still missing, help?",
                **({"in_reply_to": str(i - 1)} if i else {}),
            }
            for i in range(size)
        ]
        thread = thread_from({"brand_handles": BRANDS, "posts": posts})
        took = median_us(
            lambda t=thread: guard.review("Hi! Please DM us your bag tag.", t),
            repeat=3,
            number=3 if size >= 100 else 20,
        )
        print(f"{size:6d} {size:15d} {took / 1000:9.2f}ms {took / size:8.1f}us")
    storm = 1000 if quick else 10_000
    posts = [
        {
            "id": "0",
            "author": "@protester",
            "kind": "original",
            "text": "Arrested for chalk outside @BofA? Nobody. Had. Any. Account. Inquiries.",
        }
    ] + [
        {
            "id": str(i),
            "author": f"@fan{i}",
            "kind": "retweet",
            "retweet_of": "0",
            "text": "RT @protester: Arrested for chalk outside @BofA? Nobody. Had. Any. "
            "Account. Inquiries.",
        }
        for i in range(1, storm + 1)
    ]
    thread = thread_from({"brand_handles": ["@BofA_Help", "@BofA"], "posts": posts})
    took = median_us(
        lambda: guard.review("We are here to help!", thread), repeat=3, number=1
    )
    print(
        f"\n{storm} retweets of one post: {took / 1000:.1f} ms per review "
        "(identical texts are read once)\n"
    )


def bad_input() -> None:
    """Print the time each kind of bad input takes (the bound)."""
    guard = Guard.default()
    cases = {
        "empty text": "",
        "100 KB of emoji": "😂" * 25_000,
        "100 KB of one letter": "a" * 100_000,
        "lone surrogates": "bad \ud800 text \udfff here",
        "mixed scripts": "frаud ѕсаm 詐欺 احتيال fraud 𝐟𝐫𝐚𝐮𝐝 ｆｒａｕｄ",  # noqa: RUF001 - evasion on purpose
        "zero-width flood": "s\u200bc\u200ba\u200bm " * 2000,
    }
    print("## Bad input (one review each; no exception)\n")
    for name, text in cases.items():
        thread = {
            "posts": [{"id": "1", "author": "@x", "kind": "original", "text": text}]
        }
        start = time.perf_counter()
        decision = guard.review("Thanks!", thread)
        took = (time.perf_counter() - start) * 1000
        errors = ", ".join(e.type for e in decision.errors) or "none"
        print(
            f"{name:24} {took:8.1f} ms  action {decision.action.value:9} errors {errors}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI)")
    parser.add_argument(
        "--tweets",
        type=Path,
        default=Path(__file__).resolve().parents[2]
        / "shared"
        / "data"
        / "isarcasmeval"
        / "train.En.csv",
        help="a CSV with a `tweet` column: real texts for the never-seen run",
    )
    args = parser.parse_args(argv)
    ARGS_TWEETS[0] = args.tweets
    start = time.perf_counter()
    Guard.default()
    print(
        f"first guard (policy, spaCy, lexicons, model): {time.perf_counter() - start:.2f} s\n"
    )
    typical(quick=args.quick)
    unique_texts(quick=args.quick)
    scaling(quick=args.quick)
    bad_input()
    return 0


if __name__ == "__main__":
    sys.exit(main())
