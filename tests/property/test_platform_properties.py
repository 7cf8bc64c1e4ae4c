# (house style, STYLE.md 9: tests assert `expected == actual`)
# the ellipsis and lookalike characters are part of the texts
"""Counting and truncation hold for any text, on every platform, with Hypothesis."""

from __future__ import annotations

import re

import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from replyguard.platforms import fits, reply_length, truncate_to_platform

PLATFORMS = ("x", "bluesky", "mastodon", "other")
FRAGMENTS = [
    "hello",
    "Thanks",
    "we're",
    "sorry,",
    "today.",
    "ok;",
    "-",
    "—",
    "…",
    "日本語",
    "申し訳ございません。",
    "한국어",
    "\U0001f60a",
    "\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\u2764\ufe0f\u200d\U0001f525",
    "\U0001f1ef\U0001f1f5",
    "1\ufe0f\u20e3",
    "#\u20e3",
    "©",
    "™",
    "e\u0301",
    "\u0600",
    "bank.com/x",
    "bank.com",
    "https://example.com/a/b?c=d",
    "http://t.co/abc",
    "https://mastodon.social/@alice",
    "www.example.co.uk",
    "@alice",
    "@alice@mastodon.social",
    "@bob_99",
    "#support",
    "#日本",
    "(see",
    "it)",
    "42",
    "3.14",
    "\r\n",
    "\n",
    "\t",
]
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", ""])
WORD_TAIL = ",;:.-\u2013\u2014\u2026"
URL_TAIL = ",;:.!?"


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=40)
    )
    text = ""
    for part in parts:
        text += part + draw(SEPARATORS)
    if draw(st.booleans()) and text:  # very long: the same text many times over
        text = " ".join([text] * draw(st.integers(2, 60)))
    return text


def _graphemes_end_at(text: str, position: int) -> bool:
    return position == 0 or any(
        m.end() == position for m in regex.finditer(r"\X", text[: position + 64])
    )


@settings(deadline=None)
@given(texts())
def test_x_length_equals_parse_tweet(text: str) -> None:
    assert parse_tweet(text).weightedLength == reply_length(text, "x")


@settings(deadline=None)
@given(texts(), st.integers(-30, 30))
def test_x_fits_equals_parse_tweet(text: str, delta: int) -> None:
    weight = parse_tweet(text).weightedLength
    limit = max(1, weight + delta)

    assert (weight <= limit) == fits(text, "x", limit=limit)


@settings(deadline=None)
@given(st.text(max_size=300))
def test_x_length_equals_parse_tweet_on_any_text(text: str) -> None:
    assert parse_tweet(text).weightedLength == reply_length(text, "x")


@settings(deadline=None)
@given(
    texts(),
    st.sampled_from(PLATFORMS),
    st.none() | st.integers(1, 400),
    st.sampled_from(["…", "...", "", " [more]"]),
)
def test_truncate(text: str, platform: str, limit: int | None, ellipsis: str) -> None:
    result = truncate_to_platform(text, platform, limit=limit, ellipsis=ellipsis)

    if fits(text, platform, limit=limit):
        assert text == result
        return
    if result is None:
        return
    assert fits(result, platform, limit=limit)
    assert result.endswith(ellipsis)
    core = result.removesuffix(ellipsis) if ellipsis else result
    if ellipsis and not ellipsis[0].isspace() and core.endswith(" "):
        core = core[:-1]  # the space between a URL and the ellipsis
    # a prefix, cut after a token, minus trailing punctuation
    assert text.startswith(core)
    assert core.strip()
    rest = text[len(core) :]
    assert re.match(f"[{re.escape(WORD_TAIL + URL_TAIL)}]*(\\s|$)", rest), rest
    # every token but the last is a whole token of the input; the last one lost
    # only its trailing punctuation, and a URL nothing a link could end with
    kept, given_ = core.split(), text.split()
    assert kept[:-1] == given_[: len(kept) - 1]
    last, whole = kept[-1], given_[len(kept) - 1]
    assert whole.startswith(last)
    lost = whole[len(last) :]
    assert set(lost) <= set(URL_TAIL if "://" in whole else WORD_TAIL + URL_TAIL)
    handle = re.match(r"@\w+(?:@\w+(?:[.-]+\w+)*)?", whole)
    if handle:  # a handle keeps all its characters
        assert last.startswith(handle.group())
    assert _graphemes_end_at(text, len(core))


@settings(deadline=None)
@given(texts(), st.sampled_from(PLATFORMS))
def test_fits_agrees_with_reply_length(text: str, platform: str) -> None:
    length = reply_length(text, platform)
    small = len(text.encode("utf-8", "surrogatepass")) <= 3000

    assert length >= 0
    if length >= 1:
        assert (platform != "bluesky" or small) == fits(text, platform, limit=length)
    if length >= 2:
        assert not fits(text, platform, limit=length - 1)
