"""
What does counting a reply the platform's way cost?

Prints µs per call of `fits` and `reply_length` for three typical replies (a
120-character English one, a 270-character one with a URL, a Japanese one) on every
platform, ``twitter_text.parse_tweet`` on the same texts for comparison, and
`truncate_to_platform` on a 2,000-character text.

Run: ``python benchmarks/bench_platforms.py [--quick]``. Figures are medians of
repeated runs on this machine; compare them with each other, not across machines.
"""

from __future__ import annotations

import argparse

from _stats import per_call_us
from twitter_text import parse_tweet

from replyguard.platforms import fits, reply_length, truncate_to_platform

PLATFORMS = ("x", "bluesky", "mastodon", "other")
ENGLISH = (
    "Hi @dana_k, sorry about that! Please DM us your card's last four digits "
    "and we'll get it working again today 😊"
)
WITH_URL = (
    "Hi @ellery_cho, so sorry about the double charge on order 77120. We've "
    "flagged it to our payments team and you should see the refund within 3-5 "
    "business days. You can follow it at https://help.dashly.example.com/refunds/"
    "status?order=77120 or reply here and we'll chase it."
)
JAPANESE = (
    "ご不便をおかけして申し訳ございません。詳細を確認いたしますので、"
    "ご注文番号をDMでお知らせください。担当者よりご連絡いたします。"
)
LONG = ("We are sorry about the delay, the team is on it: see bank.com/status. " * 30)[
    :2000
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    n, repeats = (200, 3) if args.quick else (2_000, 7)

    texts = {"english 120": ENGLISH, "with URL 270": WITH_URL, "japanese": JAPANESE}
    print(
        f"{'text':<14} {'platform':<9} {'length':>6} {'fits µs':>9} {'length µs':>10}"
    )
    for name, text in texts.items():
        for platform in PLATFORMS:
            length = reply_length(text, platform)
            fit = per_call_us(lambda t=text, p=platform: fits(t, p), n, repeats)
            count = per_call_us(
                lambda t=text, p=platform: reply_length(t, p), n, repeats
            )
            print(f"{name:<14} {platform:<9} {length:>6} {fit:>9.1f} {count:>10.1f}")
        parse = per_call_us(lambda t=text: parse_tweet(t), max(n // 10, 20), repeats)
        print(f"{name:<14} {'parse_tweet':<9} {'':>6} {'':>9} {parse:>10.1f}")
    print()
    print(f"truncate_to_platform on {len(LONG)} characters:")
    for platform in ("x", "bluesky", "mastodon"):
        cut = truncate_to_platform(LONG, platform)
        took = per_call_us(
            lambda p=platform: truncate_to_platform(LONG, p), max(n // 10, 20), repeats
        )
        kept = 0 if cut is None else len(cut)
        print(f"  {platform:<9} {took:>9.1f} µs  (kept {kept} characters)")


if __name__ == "__main__":
    main()
