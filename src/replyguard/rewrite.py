"""
The rewrite filters: small, pure text functions a policy's rewrite templates use.

Each is a jinja2 filter in a rule's ``template:`` (``{{ reply.text | dm_invite }}``)
and a plain function here, for bots and tests:

- `strip_exclamations`: ``!``, ``!!``, ``!?`` end a sentence with ``.`` instead;
- `drop_emoji`: remove emoji (with their skin tones, joiners and flags);
- `dm_invite`: replace every sentence that asks, in public, for private data
  (account or card numbers, passwords, dates of birth...) with one invitation to a
  direct message;
- `remove_phrase`: remove a phrase, ignoring case, and tidy the spaces left behind;
- `remove_handles`: remove ``@handles`` (a list), tidying the spaces;
- `first_name`: the first name in a display name or handle, or ``""`` when it does not
  look like one (never the raw handle);
- `truncate_to_platform`: cut at a word boundary to the platform's limit, never inside
  a handle, hashtag or URL (`replyguard.platforms`).

User text is data: a filter returns text, and jinja2 never renders its output again,
so ``{{ }}`` or markup in a handle or a post comes out literally.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import regex  # type: ignore[import-untyped, unused-ignore]
import yaml

from replyguard.errors import InvalidArgument
from replyguard.models import Post, normalize_handle
from replyguard.platforms import truncate_to_platform as _truncate

__all__ = [
    "DM_INVITATION",
    "dm_invite",
    "drop_emoji",
    "first_name",
    "remove_handles",
    "remove_phrase",
    "strip_exclamations",
    "truncate_to_platform",
]

DM_INVITATION = "Please send us a direct message so we can look into this privately."
"""What `dm_invite` puts in place of a public request for private data."""

_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?])")
_EMOJI = regex.compile(
    r"(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[\u20e3\ufe0f\u200d]"
    r"|[\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])+",
)
_KEYCAP = regex.compile(r"[0-9#*]\ufe0f?\u20e3")
_EXCLAIM = re.compile(r"[!¡]+\??|\?!+|‼|❗|❕")
_SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)|\n|$)", re.DOTALL)
"""A sentence ends at `.`, `!` or `?` before a space or the end (not inside a URL)."""
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,30}(?:@[\w.-]+\.\w+)?")
_NAME_WORD = regex.compile(r"^\p{L}[\p{L}'\u2019-]{0,19}$")
_HANDLE_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z])|[_.\-\d]+")


def _tidy(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text))
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise InvalidArgument(f"{name} takes a text, not `{type(value).__name__}`")


def strip_exclamations(text: object) -> str:
    """
    End exclamations with a full stop: ``"Great news!!"`` -> ``"Great news."``.

    >>> strip_exclamations("Sorry to hear that!! We're on it!")
    "Sorry to hear that. We're on it."
    """
    result = _EXCLAIM.sub(".", _text(text, "strip_exclamations"))
    return _tidy(re.sub(r"\.{2,}", ".", result))


def drop_emoji(text: object) -> str:
    """
    Remove emoji, skin tones, joiners, flags and keycaps; fold the spaces left behind.

    An emoji that ended a sentence leaves a full stop: ``"We love you 💜 Thanks"``
    becomes ``"We love you. Thanks"``.

    >>> drop_emoji("Thanks 🙏🏽 for waiting 🎉")
    'Thanks for waiting.'
    """
    value = _KEYCAP.sub("", _text(text, "drop_emoji"))

    def drop(match: regex.Match[str]) -> str:
        # an emoji that ended a sentence leaves a full stop behind
        before = value[: match.start()].rstrip()
        after = value[match.end() :].lstrip()
        ends_clause = not after or after[0].isupper()
        if before and before[-1].isalnum() and ends_clause:
            return ". " if after else "."
        return " "

    return _tidy(_EMOJI.sub(drop, value))


def remove_phrase(text: object, phrase: object) -> str:
    """
    Remove every occurrence of `phrase` (ignoring case) and tidy the spaces.

    A phrase that starts and ends with a word character is only removed as whole
    words ("pin" is not removed from "spinning").

    >>> remove_phrase("Happy Monday! Your refund is on its way.", "Happy Monday!")
    'Your refund is on its way.'
    """
    value = _text(text, "remove_phrase")
    needle = _text(phrase, "remove_phrase")
    if not needle.strip():
        return value
    pattern = re.escape(needle.strip())
    if re.match(r"\w", needle.strip()[0]):
        pattern = r"(?<!\w)" + pattern
    if re.match(r"\w", needle.strip()[-1]):
        pattern += r"(?!\w)"
    compiled = re.compile(pattern, re.IGNORECASE)
    # again until none is left: removing one can join two halves into another
    while True:
        removed = _tidy(compiled.sub("", value))
        if removed == value or not compiled.search(removed):
            return removed
        value = removed


def remove_handles(text: object, handles: object) -> str:
    """
    Remove the given handles (``@name``, case-insensitive, ``@`` optional) from `text`.

    `handles` is one handle or a list of them.

    >>> remove_handles("Thanks @Bad_Guy and @ann!", ["bad_guy"])
    'Thanks and @ann!'
    """
    value = _text(text, "remove_handles")
    if isinstance(handles, str):
        wanted = {normalize_handle(handles)}
    elif isinstance(handles, Iterable):
        wanted = {normalize_handle(_text(h, "remove_handles")) for h in handles}
    else:
        raise InvalidArgument("remove_handles takes a handle or a list of handles")
    wanted.discard("")
    if not wanted:
        return value

    def drop(match: re.Match[str]) -> str:
        return "" if normalize_handle(match.group(0)) in wanted else match.group(0)

    # a list of handles keeps reading as one: "@a and @b" -> "@b", "@a, @b" -> "@a"
    for handle in sorted(wanted, key=len, reverse=True):
        name = re.escape(handle)
        value = re.sub(
            rf"(?<![\w@])@{name}(?![\w@])\s*(?:,|&|\band\b)\s*(?=@)",
            "",
            value,
            flags=re.IGNORECASE,
        )
        value = re.sub(
            rf"(?<=[\w])\s*(?:,|&|\band\b)\s*@{name}(?![\w@])",
            "",
            value,
            flags=re.IGNORECASE,
        )
    return _tidy(_HANDLE.sub(drop, value))


def first_name(value: object) -> str:
    """
    Return the first name in a display name or handle, or ``""``.

    Takes a text or a `Post` (its author). ``""`` when what comes first does not look
    like a name (digits, symbols, more than 20 letters), so a template writes
    ``{{ ("Hi " ~ name ~ ", ") if name }}`` and never prints a raw handle.

    >>> first_name("Jane Doe"), first_name("@jane_doe"), first_name("@xX_420_Xx")
    ('Jane', 'Jane', '')
    """
    if isinstance(value, Post):
        value = value.author
    text = _text(value, "first_name").strip()
    if text.startswith("@"):
        local = text.lstrip("@").split("@", 1)[0]
        parts = [p for p in _HANDLE_SPLIT.split(local) if p]
        candidate = parts[0] if parts and len(parts[0]) >= 2 else ""
    else:
        candidate = text.split()[0] if text.split() else ""
        candidate = candidate.strip(",.;:!?\"'()")
    if not candidate or not _NAME_WORD.match(candidate):
        return ""
    return candidate[0].upper() + candidate[1:].lower()


@lru_cache(maxsize=1)
def _private_terms() -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """Return the shipped private-data and DM-route lexicons as two patterns."""
    root = resources.files("replyguard") / "_data" / "lexicons"
    patterns = []
    for name in ("private_data_ask", "dm_route"):
        data = yaml.safe_load((root / f"{name}.yaml").read_text(encoding="utf-8"))
        terms = [t for group in data["terms"].values() for t in group]
        alternatives = "|".join(
            regex.escape(t).replace(r"\ ", r"\s+")
            for t in sorted(terms, key=len, reverse=True)
        )
        patterns.append(
            regex.compile(rf"(?<![\w#@])(?:{alternatives})(?!\w)", regex.IGNORECASE)
        )
    return patterns[0], patterns[1]


def dm_invite(text: object, invitation: object = DM_INVITATION) -> str:
    """
    Replace every public request for private data with one invitation to a DM.

    A sentence that names private data (account or card numbers, passwords, PINs,
    dates of birth, addresses: the ``private_data_ask`` lexicon) and does not itself
    route to a private channel is dropped; `invitation` takes the place of the first
    one. Text without such a sentence comes back unchanged.

    >>> dm_invite("Sorry about that. Reply with your account number and we'll check.")
    'Sorry about that. Please send us a direct message so we can look into this privately.'
    """
    value = _text(text, "dm_invite")
    offer = _text(invitation, "dm_invite").strip() or DM_INVITATION
    private, routed = _private_terms()
    out: list[str] = []
    replaced = False
    for match in _SENTENCE.finditer(value):
        sentence = match.group(0)
        if private.search(sentence) and not routed.search(sentence):
            if not replaced:
                out.append(offer + (" " if sentence.endswith(" ") else ""))
                replaced = True
            continue
        out.append(sentence)
    if not replaced:
        return value
    return _tidy(" ".join(part.strip() for part in out if part.strip()))


def truncate_to_platform(
    text: object, platform: str = "x", limit: int | None = None
) -> str:
    """
    Cut `text` at a word boundary to fit `platform` (``…`` appended).

    Never inside a handle, hashtag or URL. Text that fits comes back unchanged; text
    that cannot be cut to fit (its first word alone is too long) comes back unchanged
    too, and the guard's length check then holds the reply.

    >>> truncate_to_platform("word " * 100, "x", limit=20)
    'word word word word…'
    """
    value = _text(text, "truncate_to_platform")
    cut = _truncate(value, platform, limit=limit)
    return value if cut is None else cut
