# (house style, STYLE.md 9: tests assert `expected == actual`)
# the ellipsis and lookalike characters are the point here
"""Counting a reply the way each platform does, and cutting it to fit."""

from __future__ import annotations

import re

import pytest
from twitter_text import parse_tweet

from replyguard.errors import InvalidArgument
from replyguard.platforms import (
    LIMITS,
    URL_LENGTH,
    fits,
    limit_for,
    reply_length,
    truncate_to_platform,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points
THUMB_TONE = "\U0001f44d\U0001f3fd"  # thumbs up, medium skin tone
FLAGS = "\U0001f1ef\U0001f1f5\U0001f1eb\U0001f1f7"  # JP FR: 4 code points, 2 flags
E_ACUTE = "e\u0301"  # decomposed: 2 code points, 1 grapheme
LONG_URL = "https://example.com/" + "a" * 100


def test_limits_and_url_length() -> None:
    assert {"x": 280, "bluesky": 300, "mastodon": 500, "other": None} == dict(LIMITS)
    assert 23 == URL_LENGTH


# -- X -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("Hello, world", 12),
        ("t.co/x", 23),  # short URL: counts 23, more than its 6 code points
        (LONG_URL, 23),
        ("see bank.com/x now", 4 + 23 + 4),
        ("日本語", 6),
        (THUMB_TONE, 2),
        (FAMILY, 2),
        ("1\ufe0f\u20e3", 2),  # keycap
        ("\u2026", 2),  # the ellipsis is outside v3's weight-1 ranges
        ("\u2014\u201c\u201d", 3),  # dashes and quotes are inside them
        ("caf" + E_ACUTE, 4),  # NFC first
        ("a\r\nb", 3),  # a line ending is one newline
        ("a" * 280, 280),
        ("日本語 https://example.com/a/very/long/path", 30),
        ("\u2764\ufe0f\u200d\U0001f525", 5),  # newer than twitter-text's emoji list
    ],
)
def test_x_length(text: str, expected: int) -> None:
    assert expected == reply_length(text, "x")
    assert parse_tweet(text).weightedLength == reply_length(text, "x")


def test_x_fits_280_not_281() -> None:
    assert fits("a" * 280, "x")
    assert not fits("a" * 281, "x")
    assert fits("日" * 140, "x")
    assert not fits("日" * 141, "x")


def test_x_urls_in_fits() -> None:
    text = "a" * 257 + " " + LONG_URL  # 257 + 1 + 23 = 281
    assert not fits(text, "x")
    assert fits(text[1:], "x")


# -- Bluesky -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        (FAMILY, 1),
        (FLAGS, 2),
        (E_ACUTE * 3, 3),
        (THUMB_TONE, 1),
        ("a\r\nb", 3),
        ("日本語", 3),
    ],
)
def test_bluesky_counts_graphemes(text: str, expected: int) -> None:
    assert expected == reply_length(text, "bluesky")


def test_bluesky_fits_300_graphemes() -> None:
    assert fits("a" * 300, "bluesky")
    assert not fits("a" * 301, "bluesky")
    assert fits(E_ACUTE * 300, "bluesky")  # 600 code points, 300 graphemes
    assert not fits(E_ACUTE * 301, "bluesky")


def test_bluesky_caps_bytes_at_3000() -> None:
    assert fits("日" * 1000, "bluesky", limit=1000)  # 3000 bytes
    assert not fits("日" * 1001, "bluesky", limit=2000)  # 3003 bytes
    assert not fits(FAMILY * 121, "bluesky")  # 121 graphemes, 3025 bytes
    assert fits(FAMILY * 120, "bluesky")  # 3000 bytes


# -- Mastodon ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   ", 0),  # blank counts nothing
        (LONG_URL, 23),
        ("https://t.co/x", 23),  # shorter than 23: still 23
        ("read " + LONG_URL + " now", 5 + 23 + 4),
        ("@alice@mastodon.social", 6),
        ("@alice", 6),
        ("hi @alice@mastodon.social!", 3 + 6 + 1),
        ("https://mastodon.social/@alice@example.org", 23),  # the mention is in the URL
        ("bank.com/x", 10),  # no protocol: not a URL to Mastodon
        ("http://localhost/abc", 20),  # no TLD: not a URL
        (FAMILY, 7),  # code points
    ],
)
def test_mastodon_length(text: str, expected: int) -> None:
    assert expected == reply_length(text, "mastodon")


def test_mastodon_fits_500() -> None:
    assert fits("a" * 500, "mastodon")
    assert not fits("a" * 501, "mastodon")
    assert fits("a" * 476 + " " + LONG_URL, "mastodon")  # 476 + 1 + 23
    assert not fits("a" * 477 + " " + LONG_URL, "mastodon")
    assert not fits("a" * 477 + " https://t.co/x", "mastodon")  # the URL counts 23


# -- other -------------------------------------------------------------------------------


def test_other_counts_code_points_without_limit() -> None:
    assert 7 == reply_length(FAMILY, "other")
    assert fits("a" * 100_000, "other")
    assert not fits("abcd", "other", limit=3)
    assert fits("abc", "other", limit=3)


# -- limits and bad input ----------------------------------------------------------------


def test_limit_for() -> None:
    assert 280 == limit_for("x")
    assert None is limit_for("other")
    assert 10 == limit_for("x", 10)
    assert 10 == limit_for("other", 10)


def test_explicit_limit_replaces_the_platform_one() -> None:
    assert not fits("a" * 11, "x", limit=10)
    assert fits("a" * 10, "x", limit=10)


@pytest.mark.parametrize("platform", ["twitter", "X", "", None, 3])
def test_unknown_platform(platform: object) -> None:
    with pytest.raises(InvalidArgument, match="unknown platform"):
        limit_for(platform)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="unknown platform"):
        reply_length("hi", platform)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="unknown platform"):
        fits("hi", platform, limit=10)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="unknown platform"):
        truncate_to_platform("hi", platform)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "10"])
def test_bad_limit(limit: object) -> None:
    with pytest.raises(InvalidArgument, match="limit"):
        fits("hi", "x", limit=limit)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="limit"):
        truncate_to_platform("hi", "x", limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [None, b"hi", 3, ["hi"]])
def test_text_must_be_a_str(text: object) -> None:
    with pytest.raises(InvalidArgument, match="text must be a str"):
        reply_length(text, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="text must be a str"):
        fits(text, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="text must be a str"):
        truncate_to_platform(text, "x")  # type: ignore[arg-type]


def test_ellipsis_must_be_a_str() -> None:
    with pytest.raises(InvalidArgument, match="ellipsis must be a str"):
        truncate_to_platform("a b c", "x", limit=2, ellipsis=None)  # type: ignore[arg-type]


def test_invalid_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        reply_length(None, "x")  # type: ignore[arg-type]


# -- truncating --------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["x", "bluesky", "mastodon", "other"])
def test_text_that_fits_comes_back_unchanged(platform: str) -> None:
    text = "Thanks @dana_k! See https://bank.example.com/help #support "
    assert text == truncate_to_platform(text, platform)
    assert text == truncate_to_platform(text, platform, limit=100)


@pytest.mark.parametrize(
    ("text", "platform", "limit", "expected"),
    [
        ("Thanks for waiting, we are on it now", "x", 22, "Thanks for waiting…"),
        (
            "Thanks for waiting, we are on it now",
            "other",
            23,
            "Thanks for waiting, we…",
        ),
        ("word " * 100, "x", 20, "word word word…"),  # … weighs 2 on X
        ("word " * 100, "bluesky", 20, "word word word word…"),
        ("Thanks, team; we are here", "other", 15, "Thanks, team…"),  # ";" stripped
        ("Hi - there we go", "other", 9, "Hi…"),  # a lone dash gives no cut
        ("-- hello world", "other", 10, "-- hello…"),
        # handles, hashtags and URLs are kept whole or dropped whole
        ("Hi @alice_longhandle thanks a lot", "x", 12, "Hi…"),
        (
            "Hi @alice@mastodon.social thanks a lot",
            "mastodon",
            11,
            "Hi @alice@mastodon.social…",
        ),
        ("Loving it #BestDayEverAtTheBeach yes", "other", 20, "Loving it…"),
        (
            "Sorry, see https://bank.example.com/help/cards now",
            "x",
            37,
            "Sorry, see https://bank.example.com/help/cards …",
        ),
        ("Sorry, see https://bank.example.com/help/cards now", "x", 36, "Sorry, see…"),
        ("Go to bank.com/help, then log in", "other", 21, "Go to bank.com/help …"),
        # custom ellipses
        ("one two three four", "other", 10, "one two"),
    ],
)
def test_truncate(text: str, platform: str, limit: int, expected: str) -> None:
    ellipsis = "" if expected == "one two" else "…"
    assert expected == truncate_to_platform(
        text, platform, limit=limit, ellipsis=ellipsis
    )


def test_truncate_custom_ellipsis_is_counted() -> None:
    assert "one two [...]" == truncate_to_platform(
        "one two three four", "other", limit=14, ellipsis=" [...]"
    )
    assert "one [...]" == truncate_to_platform(
        "one two three four", "other", limit=12, ellipsis=" [...]"
    )


@pytest.mark.parametrize(
    ("text", "platform", "limit"),
    [
        ("Supercalifragilistic rest", "other", 10),
        ("https://bank.example.com/help is here", "x", 20),  # the URL alone is 23
        ("@alice_longhandle hello", "x", 10),
        ("a b c", "other", 1),  # "a…" is 2
    ],
)
def test_truncate_none_when_the_first_word_cannot_fit(
    text: str, platform: str, limit: int
) -> None:
    assert None is truncate_to_platform(text, platform, limit=limit)


def test_truncate_keeps_emoji_sequences_whole() -> None:
    text = " ".join([FAMILY] * 400)

    result = truncate_to_platform(text, "x")

    # 93 families of 2, 92 spaces, and the ellipsis (2): 280
    assert " ".join([FAMILY] * 93) + "…" == result
    assert 280 == parse_tweet(result).weightedLength


def test_truncate_respects_bluesky_bytes() -> None:
    text = " ".join([FAMILY] * 200)  # 400 graphemes, 5199 bytes

    result = truncate_to_platform(text, "bluesky", limit=1000)

    assert " ".join([FAMILY] * 115) + "…" == result  # 2992 bytes; 116 would be 3018
    assert fits(result, "bluesky", limit=1000)
    assert result == truncate_to_platform(text, "bluesky")  # 230 graphemes: bytes bind


def test_truncate_never_splits_a_prepend_cluster() -> None:
    # U+0600 (Arabic number sign) joins the space after it into one grapheme
    text = "ab\u0600 cd ef"
    assert None is truncate_to_platform(text, "other", limit=5)
    assert "ab\u0600 cd…" == truncate_to_platform(text, "other", limit=8)


def test_truncate_is_the_longest_cut() -> None:
    text = "We are so sorry about the delay today, please send us a DM. " * 10
    for platform in ("x", "bluesky", "mastodon"):
        result = truncate_to_platform(text, platform)
        assert result is not None
        core = result.removesuffix("…")
        following = re.compile(r"\S*\s+\S+").match(text, len(core))
        assert following is not None
        longer = text[: following.end()].rstrip(",.") + "…"
        assert fits(result, platform)
        assert not fits(longer, platform)


def test_truncate_a_long_text_is_fast() -> None:
    import time  # noqa: PLC0415

    text = "Please check bank.com/x for updates, 日本語 too 😊 " * 2500  # ~120 KB
    start = time.perf_counter()
    for platform in ("x", "bluesky", "mastodon"):
        result = truncate_to_platform(text, platform)
        assert result is not None
        assert fits(result, platform)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("platform", ["x", "mastodon"])
def test_a_long_dotted_run_is_counted_at_once_and_never_under(platform: str) -> None:
    # twitter-text's URL pattern backtracks on "x.x.x.x...": seconds for 2 KB.
    # Such runs are counted by an upper bound instead, without the pattern.
    run = "x." * 20_000
    text = f"hello {run} there"

    assert not fits(text, platform)
    assert reply_length(text, platform) >= len(text)
    assert "hello…" == truncate_to_platform(text, platform)
    # a short dotted run is still counted exactly (a domain counts 23 on X)
    assert 23 == reply_length("a.b.c.example.com", "x")
