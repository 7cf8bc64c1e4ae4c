"""
A reply's length the way each platform counts it, and cutting a reply to fit.

- ``x``: the twitter-text v3 weighted length (280): every URL counts 23, code points
  in the v3 config's light ranges (Latin, Greek, Cyrillic, Hebrew, Arabic, ..., and
  a few general punctuation marks) weigh 1, everything else (CJK, most symbols, the
  ellipsis ``…``) weighs 2, and an emoji sequence of the twitter-text emoji list
  weighs 2 whatever its length. Counted by ``twitter-text-parser``'s own URL and
  emoji regexes, without its slow per-position emoji scan: `reply_length` equals
  ``parse_tweet(text).weightedLength`` exactly (a property test holds it to that).
- ``bluesky``: 300 graphemes (user-perceived characters) and at most 3,000 bytes of
  UTF-8; `reply_length` is the graphemes, `fits` checks both.
- ``mastodon``: 500 code points, where a URL with ``http://`` or ``https://`` counts
  23 and a remote mention ``@user@domain`` counts as ``@user``, as Mastodon's
  ``StatusLengthValidator`` does. Mastodon's server counts graphemes of that text,
  its web composer code points: counting code points is the stricter of the two.
- ``other``: code points, no limit unless one is given.

`truncate_to_platform` cuts a reply at a word boundary (whitespace) and adds an
ellipsis, never inside a handle, a hashtag or a URL: every token is kept whole or
dropped whole.

>>> reply_length("日本語 https://example.com/a/very/long/path", "x")
30
>>> truncate_to_platform("Thanks for waiting, we are on it now", "x", limit=22)
'Thanks for waiting…'
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import islice
from types import MappingProxyType
from typing import Any, Final, Literal

import regex  # type: ignore[import-untyped, unused-ignore]

from replyguard.errors import InvalidArgument

__all__ = [
    "LIMITS",
    "URL_LENGTH",
    "Platform",
    "fits",
    "limit_for",
    "reply_length",
    "truncate_to_platform",
]

Platform = Literal["x", "bluesky", "mastodon", "other"]
"""The platforms whose counting rules this module knows."""

LIMITS: Final[Mapping[str, int | None]] = MappingProxyType(
    {"x": 280, "bluesky": 300, "mastodon": 500, "other": None}
)
"""The length limit of a post on each platform, in that platform's units (None: none)."""

URL_LENGTH: Final = 23
"""What X and Mastodon count for any URL, whatever its length."""

_BLUESKY_MAX_BYTES: Final = 3000
"""Bluesky's cap on a post's text in bytes of UTF-8, on top of its 300 graphemes."""

# -- checking arguments ----------------------------------------------------------------


def _check_text(text: object, name: str = "text") -> str:
    if not isinstance(text, str):
        raise InvalidArgument(f"{name} must be a str, not {type(text).__name__}")
    return text


def _check_platform(platform: object) -> str:
    if not isinstance(platform, str) or platform not in LIMITS:
        known = ", ".join(repr(p) for p in LIMITS)
        raise InvalidArgument(f"unknown platform {platform!r}: expected one of {known}")
    return platform


def limit_for(platform: str, limit: int | None = None) -> int | None:
    """
    Return `limit` if given, else the platform's own limit (`LIMITS`).

    ``other`` has no limit of its own (None).

    Raises:
        InvalidArgument: `platform` is unknown, or `limit` is not an int of at least 1.
    """
    known = _check_platform(platform)
    if limit is None:
        return LIMITS[known]
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidArgument(
            f"limit must be an int or None, not {type(limit).__name__}"
        )
    if limit < 1:
        raise InvalidArgument(f"limit must be at least 1, not {limit}")
    return limit


# -- X: twitter-text v3 -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TwitterText:
    """The parts of twitter-text-parser the counting uses, typed."""

    parse_length: Callable[[str], int]
    urls: Callable[[str, bool], list[tuple[int, str]]]
    emoji_at: Callable[[str, int], int]
    """Length of the emoji entity starting at a position, 0 if none."""
    emoji_may_start: re.Pattern[str]
    """Matches at every position where the emoji regex could match (a superset)."""
    heavy: re.Pattern[str] | None
    """One code point of weight 2; None when the config is not the v3 one assumed."""
    longest_emoji: int
    """The most code points an emoji entity spans."""


def _class(code_points: set[int] | list[tuple[int, int]]) -> str:
    pairs = (
        [(c, c) for c in sorted(code_points)]
        if isinstance(code_points, set)
        else code_points
    )
    return "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        for lo, hi in pairs
    )


@cache
def _twitter_text() -> _TwitterText:
    """Import twitter-text-parser (~0.2 s: it compiles its emoji regex) on first use."""
    with warnings.catch_warnings():
        # its emoji module imports pkg_resources, deprecated by recent setuptools
        warnings.simplefilter("ignore")
        import twitter_text  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415
        from twitter_text.config import config  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415
        from twitter_text.regexp import emoji as emoji_module  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    options: dict[str, Any] = config["defaults"]
    parse: Callable[[str], Any] = twitter_text.parse_tweet
    extract: Callable[[str, bool], list[dict[str, Any]]] = (
        twitter_text.extract_urls_with_indices
    )
    emoji_regex: re.Pattern[str] = emoji_module.emoji

    def parse_length(text: str) -> int:
        return int(parse(text).weightedLength)

    def urls(text: str, without_protocol: bool) -> list[tuple[int, str]]:  # noqa: FBT001
        return [
            (int(e["indices"][0]), str(e["url"]))
            for e in extract(text, without_protocol)
        ]

    def emoji_at(text: str, position: int) -> int:
        found = emoji_regex.match(text, position)
        return 0 if found is None else found.end() - position

    # The emoji regex is `multi-code-point sequences | [single code points]`, built
    # from `emoji_list` and `single_codepoint_emoji_ranges`. A match therefore starts
    # with a single emoji, with the first code point of a sequence, or (sequences
    # starting with ASCII: the keycaps "1\ufe0f\u20e3") with an ASCII code point
    # followed by the sequence's second one.
    singles: list[tuple[int, int]] = list(emoji_module.single_codepoint_emoji_ranges)
    firsts: set[int] = set()
    ascii_firsts: set[int] = set()
    ascii_seconds: set[int] = set()
    longest = 1
    for entry in emoji_module.emoji_list:
        points = [int(p, 16) for p in str(entry.codepoint).split()]
        longest = max(longest, len(points))
        if len(points) < 2:
            continue
        if points[0] < 0x80:
            ascii_firsts.add(points[0])
            ascii_seconds.add(points[1])
        else:
            firsts.add(points[0])
    may_start = re.compile(
        f"[{_class(singles)}{_class(firsts)}]|[{_class(ascii_firsts)}](?=[{_class(ascii_seconds)}])"
    )

    light = [
        (int(r["start"]), int(r["end"]))
        for r in options["ranges"]
        if int(r["weight"]) == options["scale"]
    ]
    assumed = (
        options["scale"] == 100
        and options["default_weight"] == 200
        and options["transformed_url_length"] == URL_LENGTH
        and options["emoji_parsing_enabled"] is True
        and all(int(r["weight"]) == 100 for r in options["ranges"])
    )
    heavy = re.compile(f"[^{_class(light)}]") if assumed else None
    return _TwitterText(parse_length, urls, emoji_at, may_start, heavy, longest)


def _x_normalize(text: str) -> str:
    """Return the text parse_tweet counts: NFC, every line ending made a newline."""
    normal = unicodedata.normalize("NFC", text)
    if "\r" in normal:
        normal = normal.replace("\r\n", "\n").replace("\r", "\n")
    return normal


def _x_plain(heavy: re.Pattern[str], part: str) -> int:
    if part.isascii():
        return len(part)
    return len(part) + len(heavy.findall(part))


_LONG_DOTTED = re.compile(r"[^\s.]*(?:\.+[^\s.]+){16,}\.*")
"""A run of more than 16 dotted labels: twitter-text's URL pattern backtracks on it
(a 2 KB run takes seconds). No real domain looks like that."""


def _defused(text: str, bound: Callable[[str], int]) -> tuple[str, int]:
    """
    Return `text` with each long dotted run replaced by a space, and what they count.

    A run counts `bound(run)`, an upper bound of what the platform would count for
    it: a reply made of such runs may be cut or held when it would just fit, never
    sent over the limit.
    """
    extra = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal extra
        extra += bound(match.group()) - 1  # the space left in its place counts 1
        return " "

    return _LONG_DOTTED.sub(swap, text), extra


def _x_run_bound(run: str) -> int:
    # every code point weighs at most 2; every URL in it holds a "." and counts 23
    return 2 * len(run) + URL_LENGTH * run.count(".")


def _x_weight(text: str) -> int:
    """
    Return ``parse_tweet(text).weightedLength``, computed faster but the same way.

    `text` is already normalized (`_x_normalize`). parse_tweet walks the text: a URL
    entity starting here counts 23 and is skipped, else an emoji entity counts 2 and
    is skipped, else the code point counts its weight. The URL entities come from
    twitter-text's own extractor (it returns none when there is no ``.``); the emoji
    entities are the same as its ``finditer``, but the emoji regex is only tried where
    a match can start (`emoji_may_start`), not at every position.
    """
    if text.count(".") > 16 and _LONG_DOTTED.search(text):
        defused, extra = _defused(text, _x_run_bound)
        return _x_weight(defused) + extra
    tt = _twitter_text()
    heavy = tt.heavy
    if heavy is None:  # an unexpected config: no shortcut is proven
        return tt.parse_length(text)
    urls: dict[int, int] = {}
    if "." in text:
        for start, url in tt.urls(text, True):  # noqa: FBT003
            urls[start] = len(url)  # later entities win, as in parse_tweet's dict
    emojis: dict[int, int] = {}
    position = 0
    search = tt.emoji_may_start.search
    while (found := search(text, position)) is not None:
        start = found.start()
        length = tt.emoji_at(text, start)
        if length:
            emojis[start] = length
            position = start + length
        else:
            position = start + 1
    if not urls and not emojis:
        return _x_plain(heavy, text)
    weight = 0
    index = 0
    for start in sorted(urls.keys() | emojis.keys()):
        if start < index:  # inside an entity already counted
            continue
        weight += _x_plain(heavy, text[index:start])
        if start in urls:
            weight += URL_LENGTH
            index = start + urls[start]
        else:
            weight += 2
            index = start + emojis[start]
    return weight + _x_plain(heavy, text[index:])


_INNER_DOT = re.compile(r"(?<=\S)\.(?=\S)")


def _x_fits(text: str, limit: int) -> bool:
    normal = _x_normalize(text)
    # Safe: a unit weighs at most 2 per code point, except a URL (23), and every URL
    # entity holds a "." of its own.
    if 2 * len(normal) + URL_LENGTH * normal.count(".") <= limit:
        return True
    # Safe and tighter (most replies with a link or a full stop): the code points'
    # own weights, plus 23 per "." between two non-spaces (a URL holds one of its
    # own: its domain's), plus 1 per © or ® (weight 1 alone, 2 as an emoji).
    heavy = _twitter_text().heavy
    if heavy is not None and (
        _x_plain(heavy, normal)
        + URL_LENGTH * len(_INNER_DOT.findall(normal))
        + normal.count("\u00a9")
        + normal.count("\u00ae")
        <= limit
    ):
        return True
    # Safe: a space is never part of a URL or an emoji entity, and weighs 1.
    if normal.count(" ") > limit:
        return False
    # Safe: without a "." there is no URL, and every other unit weighs at least 1 for
    # at most `longest_emoji` code points.
    if "." not in normal and len(normal) > limit * _twitter_text().longest_emoji:
        return False
    return _x_weight(normal) <= limit


# -- Bluesky: graphemes and bytes ----------------------------------------------------------

_GRAPHEME = regex.compile(r"\X")
_PREPEND = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}")


def _graphemes(text: str) -> int:
    if text.isascii() and "\r" not in text:  # "\r\n" is the only ASCII cluster of 2
        return len(text)
    return sum(1 for _ in _GRAPHEME.finditer(text))


def _graphemes_at_most(text: str, limit: int) -> bool:
    if len(text) <= limit:  # never more graphemes than code points
        return True
    if text.isascii() and "\r" not in text:
        return False
    return all(
        count <= limit for count, _ in enumerate(_GRAPHEME.finditer(text), start=1)
    )


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


# -- Mastodon ---------------------------------------------------------------------------

# Account::MENTION_RE: (?<![=/[:word:]])@((USERNAME_RE)(?:@[[:word:]]+([.-]+[[:word:]]+)*)?)
_MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@((?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?)"
)


def _mastodon_length(text: str) -> int:
    """
    Count as Mastodon's ``StatusLengthValidator#countable_text`` does, in code points.

    URLs (with a protocol, twitter-text's grammar) and mentions are extracted,
    overlapping entities dropped (the earlier one wins), then every URL counts 23 and
    every mention ``@user@domain`` counts as ``@user``. Blank text counts 0.
    """
    if not text.strip():
        return 0
    if text.count(".") > 16 and _LONG_DOTTED.search(text):
        defused, extra = _defused(text, lambda run: max(len(run), URL_LENGTH))
        return _mastodon_length(defused) + extra
    entities: list[tuple[int, int, int]] = []  # start, end, counted length
    if "://" in text:
        entities.extend(
            (start, start + len(url), URL_LENGTH)
            for start, url in _twitter_text().urls(text, False)  # noqa: FBT003
        )
    if "@" in text:
        entities.extend(
            (m.start(), m.end(), 1 + len(m.group(1).split("@", 1)[0]))
            for m in _MASTODON_MENTION.finditer(text)
        )
    length = len(text)
    end = -1
    for start, stop, counted in sorted(entities):
        if start < end:  # overlaps the entity kept before it
            continue
        length += counted - (stop - start)
        end = stop
    return length


# -- counting -------------------------------------------------------------------------


def reply_length(text: str, platform: str) -> int:
    """
    Return the length of `text` as `platform` counts it.

    ``x``: twitter-text v3 weighted length; ``bluesky``: graphemes; ``mastodon``: code
    points with URLs as 23 and remote mentions as their local part; ``other``: code
    points.

    >>> reply_length("日本語", "x"), reply_length("👨‍👩‍👧‍👦", "bluesky")
    (6, 1)

    Raises:
        InvalidArgument: `text` is not a str or `platform` is unknown.
    """
    value = _check_text(text)
    known = _check_platform(platform)
    if known == "x":
        return _x_weight(_x_normalize(value))
    if known == "bluesky":
        return _graphemes(value)
    if known == "mastodon":
        return _mastodon_length(value)
    return len(value)


def _fits(text: str, platform: str, limit: int | None) -> bool:
    if platform == "bluesky":
        if _utf8_bytes(text) > _BLUESKY_MAX_BYTES:
            return False
        return limit is None or _graphemes_at_most(text, limit)
    if limit is None:
        return True
    if platform == "x":
        return _x_fits(text, limit)
    if platform == "mastodon":
        if len(text) + URL_LENGTH * text.count("://") <= limit:  # safe: see below
            return True
        # a URL never counts more than 23 more than its code points, a mention less
        return _mastodon_length(text) <= limit
    return len(text) <= limit


def fits(text: str, platform: str, *, limit: int | None = None) -> bool:
    """
    Return whether `text` fits a post on `platform`.

    `limit` replaces the platform's own limit (`LIMITS`); on Bluesky the 3,000-byte
    cap holds either way. ``other`` without a `limit` always fits.

    >>> fits("a" * 280, "x"), fits("a" * 281, "x")
    (True, False)

    Raises:
        InvalidArgument: bad `text`, `platform` or `limit` (see `limit_for`).
    """
    value = _check_text(text)
    return _fits(value, platform, limit_for(platform, limit))


# -- truncating -----------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")
_DOMAIN_END = re.compile(r"(?<=[\w-])\.[a-z]{2,}(?:[/:?#]|$)", re.IGNORECASE)
r"""The end of a domain name (``bank.com``, ``bank.com/x``): linear, unlike ``(\w+\.)+``."""
_WORD_TAIL = ",;:.-\u2013\u2014\u2026"
"""Stripped from the end of the last word kept: commas, colons, dashes, dots."""
_URL_TAIL = ",;:.!?"
"""Stripped from the end of a URL token kept: none of them can end a link."""


def _url_like(token: str) -> bool:
    """Whether a token holds a URL: a ``://``, or a domain name (with a path or not)."""
    if "://" in token:
        return True
    if token.lstrip("([{<\"'").startswith(("@", "#")):  # a handle, remote or not
        return False
    return "." in token and _DOMAIN_END.search(token) is not None


def _candidates(text: str, most: int) -> list[tuple[int, str]]:
    """
    Return the possible cuts ``(end, separator)`` after each of the first `most` tokens.

    The last token kept loses its trailing punctuation; a token made only of it gives
    no cut. A URL kept last is separated from the ellipsis by a space, so that the link
    does not take it in. A cut after a Prepend code point would split a grapheme.
    """
    cuts: list[tuple[int, str]] = []
    for token in islice(_TOKEN.finditer(text), most):
        start, word = token.start(), token.group()
        is_url = _url_like(word)
        kept = word.rstrip(_URL_TAIL if is_url else _WORD_TAIL)
        if not kept:
            continue
        end = start + len(kept)
        if _PREPEND.match(text, end - 1):
            continue
        cuts.append((end, " " if is_url else ""))
    return cuts


def truncate_to_platform(
    text: str, platform: str, *, limit: int | None = None, ellipsis: str = "…"
) -> str | None:
    """
    Return `text` cut at a word boundary, plus `ellipsis`, to fit `platform`.

    Text that fits comes back unchanged. Otherwise the result is the longest prefix
    ending at a word (whitespace) boundary, with trailing ``,;:.-`` stripped, then
    `ellipsis` (counted the platform's way: ``…`` weighs 2 on X), that fits. Handles,
    hashtags and URLs are kept whole or dropped whole; after a URL the ellipsis goes
    after a space. None when no cut fits (the first word alone is too long): the
    caller should then hold the reply.

    >>> truncate_to_platform("Sorry, see https://bank.example.com/help/cards now", "x", limit=37)
    'Sorry, see https://bank.example.com/help/cards …'

    Raises:
        InvalidArgument: bad `text`, `platform`, `limit` or `ellipsis`.
    """
    value = _check_text(text)
    tail = _check_text(ellipsis, "ellipsis")
    most = limit_for(platform, limit)
    if _fits(value, platform, most):
        return value
    assert most is not None  # noqa: S101 - only `other` has no limit, and then it fits
    # after a URL, a space keeps the ellipsis out of the link
    tail_after_url = tail if not tail or tail[0].isspace() else " " + tail
    # Every platform counts at least 1 per token kept: more than `most` cannot fit.
    cuts = _candidates(value, most + 1)

    def candidate(i: int) -> str:
        end, separator = cuts[i]
        return value[:end] + (tail_after_url if separator else tail)

    # The count grows with the cut (tokens add up: no entity spans whitespace).
    good, bad = -1, len(cuts)
    while bad - good > 1:
        middle = (good + bad) // 2
        if _fits(candidate(middle), platform, most):
            good = middle
        else:
            bad = middle
    return None if good < 0 else candidate(good)
