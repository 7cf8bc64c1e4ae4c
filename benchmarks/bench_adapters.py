"""
What does turning a platform payload into a thread cost?

Prints µs per call, for each shipped fixture payload (tests/data/payloads/): the adapter
on parsed JSON, on JSON text, `from_payload` (which first tells the platform by the
payload's shape), and a whole bot step (convert + `Guard.review`) beside the review
alone, so the adapter's share of a bot's hot path shows.

Run: ``python benchmarks/bench_adapters.py [--quick]``. Figures are medians of repeated
runs on this machine; compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _stats import per_call_us, print_table  # benchmarks/_stats.py

from replyguard import Guard
from replyguard.adapters import threads_from_payload

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "payloads"
REPLY = "We are here to help, listen, and learn from our customers!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    n, repeats = (50, 3) if args.quick else (500, 7)
    guard = Guard.default()
    rows = []
    for platform in ("x", "bluesky", "mastodon"):
        for path in sorted((FIXTURES / platform).glob("*.json")):
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
            try:
                threads = threads_from_payload(
                    data, platform=platform, brand_handles=["@acme"]
                )
            except Exception as exc:  # noqa: BLE001 - a fixture made to fail: skip it
                print(f"skip {platform}/{path.name}: {exc}", file=sys.stderr)
                continue
            if not threads:
                continue
            brand = ["@acme"]

            def adapt(
                d: object = data, p: str = platform, b: list[str] = brand
            ) -> object:
                return threads_from_payload(d, platform=p, brand_handles=b)

            def parse(t: str = text, p: str = platform, b: list[str] = brand) -> object:
                return threads_from_payload(t, platform=p, brand_handles=b)

            def detect(d: object = data, b: list[str] = brand) -> object:
                return threads_from_payload(d, brand_handles=b)

            first = threads[0]

            def review(t: object = first) -> object:
                return guard.review(REPLY, t, record=False)

            def step(
                d: object = data, p: str = platform, b: list[str] = brand
            ) -> object:
                thread = threads_from_payload(d, platform=p, brand_handles=b)[0]
                return guard.review(REPLY, thread, record=False)

            posts = sum(len(t.posts) for t in threads)
            rows.append(
                [
                    f"{platform}/{path.stem}",
                    str(len(threads)),
                    str(posts),
                    f"{per_call_us(adapt, n, repeats):.1f}",
                    f"{per_call_us(parse, n, repeats):.1f}",
                    f"{per_call_us(detect, n, repeats):.1f}",
                    f"{per_call_us(review, n, repeats):.1f}",
                    f"{per_call_us(step, n, repeats):.1f}",
                ]
            )
    print_table(
        "Adapters, µs per call (page = every thread of the payload)",
        [
            "payload",
            "threads",
            "posts",
            "page",
            "from text",
            "auto-detect",
            "review 1st",
            "convert+review",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
