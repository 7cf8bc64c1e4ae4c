"""Text helpers shared by the analyzers: handles, retweet prefixes, own words."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["HANDLE", "content_text", "leading_handles", "own_words", "strip_handles"]

HANDLE = re.compile(
    r"(?<![\w@/])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9.\-]+[A-Za-z0-9])?)"
)
"""A mention: X ``@name``, Bluesky ``@name.bsky.social``, Mastodon ``@name@host``."""

_RT_PREFIX = re.compile(r"^\s*RT\s+@[\w.\-@]+\s*:\s*", re.IGNORECASE)
_RT_INSIDE = re.compile(r"(?:^|\s)RT\s+@[\w.\-@]+\s*:", re.IGNORECASE)
_LEADING = re.compile(r"^(?:\s*@[\w.\-@]+)+")
_SPACES = re.compile(r"\s+")


def leading_handles(text: str) -> tuple[list[str], int]:
    """Return the handles a post starts with, and where its own text begins."""
    match = _LEADING.match(text)
    if match is None:
        return [], 0
    handles = [m.group(1) for m in HANDLE.finditer(match.group(0))]
    return handles, match.end()


def own_words(text: str) -> tuple[int, int]:
    """
    Return the (start, end) span of what the poster wrote themself.

    A manual retweet (``RT @x: ...``) carries someone else's words: what stands after
    ``RT @x:`` is not the poster's own.
    """
    if _RT_PREFIX.match(text):
        return 0, 0
    inside = _RT_INSIDE.search(text)
    if inside is not None:
        return 0, inside.start()
    return 0, len(text)


def content_text(text: str) -> str:
    """Return the text without a retweet prefix, in lowercase with spaces folded."""
    text = _RT_PREFIX.sub("", text)
    return _SPACES.sub(" ", text).strip().casefold()


def strip_handles(text: str) -> str:
    """Return the text without mentions and with spaces folded, lowercase."""
    return _SPACES.sub(" ", HANDLE.sub(" ", text)).strip().casefold()


def handle_key(handle: str) -> str:
    """Return a handle in comparable form: lowercase, no leading ``@``."""
    return handle.strip().lstrip("@").lower()


def handle_matches(handle: str, brand: Iterable[str]) -> bool:
    """Return whether a handle is one of the brand's (``@x@host`` matches ``@x``)."""
    key = handle_key(handle)
    local = key.split("@", 1)[0]
    return any(b in (key, local) for b in brand)
