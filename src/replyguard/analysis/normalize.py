# ruff: noqa: RUF002  # lookalike characters are this module's subject
"""
Text normalization that undoes lexicon evasion, with every offset mapped back.

The analyzers look for lexicon terms ("fraud", "scam", "nobody cares"). People who do
not want a word to be found write it so that it still reads the same to a person but
no longer matches a lexicon: ``ｆｒａｕｄ`` or ``𝐟𝐫𝐚𝐮𝐝``, ``fr<U+200B>aud`` with a
zero-width space, ``frаud`` with a Cyrillic ``а``, ``fr@ud``, ``s c a m``,
``F.R.A.U.D``. The same forms also occur without intent (fullwidth input methods,
pasted text, "sooooo"). `normalize` undoes them, in this order:

1. ``invalid``: a lone surrogate becomes U+FFFD, so that no string ever raises.
2. ``nfkc``: NFKC, one non-ASCII character at a time (fullwidth and mathematical
   letters, ligatures such as ``ﬁ``, superscripts, no-break spaces).
3. ``invisible``: zero-width characters, bidi controls and soft hyphens are removed. A
   zero-width joiner is removed only between two letters: elsewhere it builds emoji
   (🤦‍♀️).
4. ``confusable``: Cyrillic and Greek letters that look Latin become Latin, inside a
   word that has a Latin letter, or whose letters are all lookalikes while the text
   has no other letter of their script. A Russian or Greek word stays as it is.
5. ``leet``: ``0 1 3 4 5 7 @ $ ! |`` inside a word of letters become letters, but only
   when the decoded word is in the caller's *vocabulary*, and never in codes:
   ``B14``, ``$40``, ``SL1184``, ``@handle``, ``me@x.com`` and ``wow!`` are not words
   anyone hides.
6. ``spaced``: single letters separated by one space, dot or dash are joined (four
   letters or more, or three when the joined word is in the vocabulary).
7. ``elongation``: a run of three or more identical letters becomes two (``sooooo`` ->
   ``soo``), or one when that makes a vocabulary word the two-letter form is not
   (``fuuuck`` -> ``fuck``); its span is recorded, because elongation is itself a
   signal. Runs of punctuation and digits stay (other analyzers read ``!!!``).

Steps 5 to 7 leave URLs, e-mail addresses and handles alone (``www.x.co``,
``@sooo_happy``).

Case is kept, so that analyzers can still read shouting. Evidence found in the
normalized text is reported against the original through `Normalized.span`.

Plain text, ASCII or with emoji, is the common case. It costs a few precompiled
searches that find nothing to do, and its offset map is the identity.

Idempotence: ``normalize(normalize(x).text).text == normalize(x).text`` holds when
*vocabulary* is empty and the normalized text has no Cyrillic or Greek letter left.
Otherwise a second pass can find more: with a vocabulary, ``elongation`` may shorten a
word into the leet form of a vocabulary word (``k1lll`` -> ``k1ll``, which a second
pass decodes to ``kill``); and a lookalike kept because the text is written in its
script may be joined to Latin letters by ``spaced`` (``с a t s`` in a Russian text)
and converted by a second pass.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field

from replyguard.errors import InvalidArgument

__all__ = ["STEPS", "Normalized", "normalize"]

STEPS: tuple[str, ...] = (
    "invalid",
    "nfkc",
    "invisible",
    "confusable",
    "leet",
    "spaced",
    "elongation",
)
"""The names of the steps, in the order they run (the values of `Normalized.changes`)."""

# --- patterns, compiled once ----------------------------------------------------------

_LETTER = r"[^\W\d_]"
_LETTERS = re.compile(rf"{_LETTER}*")
_IS_LETTER = re.compile(_LETTER)
_WORD_CHAR = re.compile(r"\w")

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_INVISIBLES = (
    r"[\u00ad\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    r"\ufeff]"
)
_INVISIBLE = re.compile(f"{_INVISIBLES}{_INVISIBLES}*")  # faster than "+" here
_JOINER_IN_WORD = re.compile(rf"\u200d(?<={_LETTER}\u200d)\u200d*(?={_LETTER})")
_SCRIPT_BLOCKS = (
    r"\u0370-\u03ff\u0400-\u052f\u1c80-\u1c8f\u1d00-\u1dbf\u1f00-\u1fff"
    r"\u2de0-\u2dff\ua640-\ua69f"
)
"""The Greek and Cyrillic blocks: every lookalike of the confusable table is in them."""
_SCRIPT_CHAR = re.compile(rf"[{_SCRIPT_BLOCKS}]")
_SUSPECT = re.compile(
    r"[\ud800-\udfff\u00ad\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064"
    rf"\u2066-\u2069\ufeff{_SCRIPT_BLOCKS}]"
)
"""A character that step 1, 3 or 4 may change (the zero-width joiner is checked apart)."""

_RUN3 = re.compile(r"(?s)(.)\1\1+")
"""Three or more identical characters (step 7 keeps those that are letters)."""

_SPACED = re.compile(rf"(?<!\w){_LETTER}([ .\-]){_LETTER}(?:\1{_LETTER})+(?!\w)")
_SPACED_HINTS = (
    re.compile(rf" {_LETTER} {_LETTER}(?!\w)"),
    re.compile(rf"\.{_LETTER}\.{_LETTER}(?!\w)"),
    re.compile(rf"-{_LETTER}-{_LETTER}(?!\w)"),
)
"""Every match of `_SPACED` holds a match of one of these (its last two letters).

Each starts with a literal, which the regex engine searches for fast.
"""
_ASCII_SPACED_HINTS = (
    re.compile(r" [A-Za-z] [A-Za-z](?![A-Za-z0-9_])"),
    re.compile(r"\.[A-Za-z]\.[A-Za-z](?![A-Za-z0-9_])"),
    re.compile(r"-[A-Za-z]-[A-Za-z](?![A-Za-z0-9_])"),
)
"""`_SPACED_HINTS` for ASCII text, where they are the same and faster."""

_CLASSES = (
    bytes(
        ord(
            "a"
            if chr(code).isalpha()
            else "0"
            if chr(code).isalnum() or chr(code) == "_"
            else chr(code)
            if chr(code) in " .-"
            else "#"
        )
        for code in range(128)
    )
    + b"#" * 128
)
"""A byte table for ASCII text: letters become ``a``, digits and ``_`` become ``0``."""
_CLASS_SPACED_HINTS = (
    re.compile(rb" a a(?![a0])"),
    re.compile(rb"\.a\.a(?![a0])"),
    re.compile(rb"-a-a(?![a0])"),
)
"""`_ASCII_SPACED_HINTS` over the classes of the text (a four-byte literal is fast)."""

_LEET_HINT = re.compile(
    r"[013457@$!|](?:"
    r"(?<=[A-Za-z][013457@$|])"  # a letter, then a leet character
    r"|(?<=[A-Za-z]!)!*[A-Za-z0-9@$|]"  # a letter, then a "!" that does not end the word
    r"|(?<=[013457$!|])[A-Za-z]"  # a leet character, then a letter
    r"|(?<=[0-9@$!|]@)[A-Za-z]"  # an "@" inside a word, then a letter
    r")"
)
"""Found in every word that the leet step may decode (and in some more).

A decodable word has a letter next to a leet character that is neither its trailing
"!" nor its leading "@". The pattern starts with a leet character, which is rare.
"""
_LEET_CHARS = re.compile(r"[A-Za-z0-9@$!|]*")
_LEET_TABLE = str.maketrans("013457@$!|", "oieastasil")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_CODE = re.compile(r"[A-Za-z]+[0-9]{2,}|[A-Z]+[0-9]+")
"""A flight, gate or product code (``B14``, ``MH370``, ``Q4``): not leet."""
_PROTECTED_MARK = re.compile(
    r"[:@](?:"
    r"(?<=:)//"  # a URL
    r"|(?<=[^\s@]@)[^\s@.]+\.\w"  # an e-mail address
    r"|(?<![\w@/]@)(?<=@)\w"  # a handle
    r")"
)
_WWW = re.compile(r"(?<!\S)[wW]{3}\.")
"""The marks of a URL, an e-mail address or a handle: their whole token is left alone.

Two patterns, each starting with rare characters, search faster than one.
"""
_NON_SPACE = re.compile(r"\S*")

# --- the offset map -------------------------------------------------------------------

_Segment = tuple[int, int, int, int, bool]
"""A stretch of the text: ``(start, end)`` in it, ``(start, end)`` in the original, 1:1.

In a 1:1 segment, character ``start + k`` comes from original character
``ostart + k``. Every character of another segment comes from all of
``[ostart, oend)``: one original character that NFKC expanded, or an elongated run
that became one letter.
"""

_Edit = tuple[int, int, str]
"""Replace ``text[start:end]`` by a string (an empty one deletes)."""


class _OffsetMap:
    """Where each character of a normalized text came from, as sorted segments."""

    __slots__ = ("segments", "starts")

    def __init__(self, segments: list[_Segment]) -> None:
        self.segments = tuple(segments)
        self.starts = [segment[0] for segment in segments]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _OffsetMap):
            return NotImplemented
        return self.segments == other.segments

    def __hash__(self) -> int:
        return hash(self.segments)

    def __repr__(self) -> str:
        return f"_OffsetMap({list(self.segments)!r})"

    @classmethod
    def from_edits(cls, edits: list[_Edit], length: int) -> _OffsetMap:
        """
        Return the map of a text after *edits*, when the text was the original.

        Args:
            edits: sorted, disjoint edits of the text.
            length: the length of the text before the edits.
        """
        out: list[_Segment] = []
        shift = 0
        pos = 0
        for start, end, new in edits:
            if pos < start:
                _push(out, (pos + shift, start + shift, pos, start, True))
            if new:
                at = start + shift
                unit = len(new) == 1 and end - start == 1
                _push(out, (at, at + len(new), start, end, unit))
            shift += len(new) - end + start
            pos = end
        if pos < length:
            _push(out, (pos + shift, length + shift, pos, length, True))
        return cls(out)

    def source(self, start: int, end: int) -> tuple[int, int]:
        """Return the original span of ``text[start:end]``, ``start < end``."""
        segments = self.segments
        first = segments[bisect_right(self.starts, start) - 1]
        last = segments[bisect_right(self.starts, end - 1) - 1]
        low = first[2] + start - first[0] if first[4] else first[2]
        high = last[2] + end - last[0] if last[4] else last[3]
        return low, high

    def position(self, index: int, length: int) -> int:
        """Return the original position of the empty span at *index* of the text."""
        if index < length:
            return self.source(index, index + 1)[0]
        return self.source(length - 1, length)[1] if length else 0

    def compose(self, edits: list[_Edit], length: int) -> _OffsetMap:
        """
        Return the map of the text after *edits*, applied to this map's text.

        Args:
            edits: sorted, disjoint edits of the text.
            length: the length of the text before the edits.
        """
        segments = self.segments
        out: list[_Segment] = []
        shift = 0
        pos = 0
        k = 0
        for start, end, new in [*edits, (length, length, "")]:
            while pos < start:
                while segments[k][1] <= pos:
                    k += 1
                seg_start, seg_end, orig_start, orig_end, unit = segments[k]
                stop = min(seg_end, start)
                if unit:
                    orig_end = orig_start + stop - seg_start
                    orig_start += pos - seg_start
                _push(out, (pos + shift, stop + shift, orig_start, orig_end, unit))
                pos = stop
            if new:
                low, high = self.source(start, end)
                at = start + shift
                unit = len(new) == 1 and high - low == 1
                _push(out, (at, at + len(new), low, high, unit))
            shift += len(new) - end + start
            pos = end
        return _OffsetMap(out)


def _push(out: list[_Segment], segment: _Segment) -> None:
    """Append a segment, merged into the previous one when both are 1:1 and adjacent."""
    if out and segment[4]:
        last = out[-1]
        if last[4] and last[1] == segment[0] and last[3] == segment[2]:
            out[-1] = (last[0], segment[1], last[2], segment[3], True)
            return
    out.append(segment)


# --- the result -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Normalized:
    """
    A text after `normalize`, and the way back to the original.

    Attributes:
        original: the text as it was given.
        text: the normalized text; case is kept ("SO much" stays upper).
        changes: the names of the steps that changed something, in the order they ran
            (see `STEPS`).
        elongations: the spans, in `original`, of the runs of three or more identical
            letters ("sooooo"), in order.
    """

    original: str
    text: str
    changes: tuple[str, ...] = ()
    elongations: tuple[tuple[int, int], ...] = ()
    _map: _OffsetMap | None = field(default=None, repr=False)
    """The offset map, or ``None`` when `text` is `original` (the identity)."""

    @property
    def changed(self) -> bool:
        """Return whether any step changed the text."""
        return bool(self.changes)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """
        Map a ``[start, end)`` span of `text` to the span of `original` it came from.

        The result is the smallest span of `original` that covers the source of every
        character of the span, so characters removed from inside it (a zero-width
        space, the spaces of ``s c a m``) are covered too. An empty span maps to an
        empty span at the matching position.

        Args:
            start: the first character of the span in `text`.
            end: one past its last character; ``0 <= start <= end <= len(text)``.

        Raises:
            InvalidArgument: the span is not inside `text`.
        """
        length = len(self.text)
        if not 0 <= start <= end <= length:
            raise InvalidArgument(
                f"span `[{start}, {end})` is not inside the normalized text "
                f"of length {length}"
            )
        offsets = self._map
        if offsets is None:
            return start, end
        if start == end:
            at = offsets.position(start, length)
            return at, at
        return offsets.source(start, end)


_new = object.__new__
_slots = Normalized.__dict__
_set_original = _slots["original"].__set__
_set_text = _slots["text"].__set__
_set_changes = _slots["changes"].__set__
_set_elongations = _slots["elongations"].__set__
_set_map = _slots["_map"].__set__
del _slots


def _unchanged(text: str) -> Normalized:
    """
    Return ``Normalized(text, text)``, built without the dataclass ``__init__``.

    The frozen ``__init__`` costs twice as much, on the path that every plain text
    takes; a test checks that both give equal results.
    """
    result: Normalized = _new(Normalized)
    _set_original(result, text)
    _set_text(result, text)
    _set_changes(result, ())
    _set_elongations(result, ())
    _set_map(result, None)
    return result


# --- normalize ------------------------------------------------------------------------


def normalize(text: str, *, vocabulary: frozenset[str] = frozenset()) -> Normalized:
    """
    Undo lexicon evasion in a text: lookalikes, invisibles, leet, spacing, elongation.

    Never raises, whatever the string holds (lone surrogates included).

    Args:
        text: the text to normalize.
        vocabulary: the lowercase words the caller looks for. Leet is decoded, and
            three spaced letters are joined, only when that spells one of them.

    Returns:
        The normalized text, the steps that changed it, the elongated runs, and the
        map back to *text*.
    """
    if text.isascii():
        if _quiet_ascii(text, vocabulary):
            return _unchanged(text)
    elif (
        _SUSPECT.search(text) is None
        and unicodedata.is_normalized("NFKC", text)
        and ("\u200d" not in text or _JOINER_IN_WORD.search(text) is None)
        and _quiet(text, vocabulary)
    ):
        return _unchanged(text)
    return _normalize(text, vocabulary)


def _quiet(text: str, vocabulary: frozenset[str]) -> bool:
    """Return whether steps 5 to 7 surely leave a text alone (the fast path)."""
    run = _RUN3.search(text)
    while run is not None:
        if _IS_LETTER.match(run.group(1)):
            return False
        run = _RUN3.search(text, run.end())
    for hint in _SPACED_HINTS:
        if hint.search(text) is not None:
            return False
    return not vocabulary or _LEET_HINT.search(text) is None


def _quiet_ascii(text: str, vocabulary: frozenset[str]) -> bool:
    """Return whether steps 5 to 7 surely leave an ASCII text alone (`_quiet`, faster)."""
    raw = text.encode("ascii")
    classes = raw.translate(_CLASSES)
    for hint in _CLASS_SPACED_HINTS:
        if hint.search(classes) is not None:
            return False
    if _has_letter_triple(raw, classes):
        return False
    return not vocabulary or _LEET_HINT.search(text) is None


def _has_letter_triple(raw: bytes, classes: bytes) -> bool:
    """
    Return whether ASCII bytes hold three identical letters in a row.

    The bytes are read as one big integer, so that every byte is compared with the next
    two in a few integer operations, where a regex pays for each position. A byte of
    ``diff`` is zero where a letter equals the next two bytes; subtracting 1 from every
    byte borrows (and sets the byte's top bit) at the lowest such zero byte, and only
    there, since no byte of ``diff`` exceeds 0x7F.
    """
    length = len(raw)
    ones, letters, tops = (
        _byte_masks(length) if length <= 1024 else _byte_masks.__wrapped__(length)
    )
    value = int.from_bytes(raw)
    pairs = value ^ (value >> 8)  # zero byte: equal to the next one
    not_letter = int.from_bytes(classes) ^ letters  # zero byte: a letter
    diff = pairs | (pairs >> 8) | not_letter
    return (diff - ones) & tops != 0


@functools.lru_cache(maxsize=1025)
def _byte_masks(length: int) -> tuple[int, int, int]:
    """Return *length* bytes of 0x01, of ``a`` and of 0x80, as integers."""
    ones = int.from_bytes(b"\x01" * length)
    return ones, ones * ord("a"), ones << 7


def _normalize(original: str, vocabulary: frozenset[str]) -> Normalized:
    """Run every step that may change the text (the slow path)."""
    text = original
    changes: list[str] = []
    offsets: _OffsetMap | None = None

    def apply(step: str, edits: list[_Edit]) -> None:
        nonlocal text, offsets
        if not edits:
            return
        if any(len(new) != end - start for start, end, new in edits):
            offsets = (
                _OffsetMap.from_edits(edits, len(text))
                if offsets is None
                else offsets.compose(edits, len(text))
            )
        text = _splice(text, edits)
        if not changes or changes[-1] != step:
            changes.append(step)

    if not text.isascii():
        if _SURROGATE.search(text) is not None:
            text = _SURROGATE.sub("\ufffd", text)
            changes.append("invalid")
        if not unicodedata.is_normalized("NFKC", text):
            apply("nfkc", _nfkc_edits(text))
        apply("invisible", _deletions(_INVISIBLE, text))
        if "\u200d" in text:
            apply("invisible", _deletions(_JOINER_IN_WORD, text))
        if _SCRIPT_CHAR.search(text) is not None:
            apply("confusable", _confusable_edits(text))
    if vocabulary and _LEET_HINT.search(text) is not None:
        apply("leet", _leet_edits(text, vocabulary))
    hints = _ASCII_SPACED_HINTS if text.isascii() else _SPACED_HINTS
    if any(hint.search(text) is not None for hint in hints):
        apply("spaced", _spaced_edits(text, vocabulary))
    elongations: list[tuple[int, int]] = []
    edits: list[_Edit] = []
    protected = _Protected(text)
    for run in _RUN3.finditer(text):
        char = run.group(1)
        if _IS_LETTER.match(char) and run.start() not in protected:
            start, end = run.span()
            elongations.append(
                offsets.source(start, end) if offsets is not None else (start, end)
            )
            # the letter kept maps to the whole run (evidence spans cover it)
            one = _one_letter_word(text, start, end, vocabulary)
            edits.append((start if one else start + 1, end, char))
    apply("elongation", edits)
    return Normalized(original, text, tuple(changes), tuple(elongations), offsets)


_WORD_AROUND = re.compile(r"[^\W\d_]+")


def _one_letter_word(
    text: str, start: int, end: int, vocabulary: frozenset[str]
) -> bool:
    """
    Return whether the elongated run at ``[start, end)`` stands for one letter.

    ``fuuuck`` -> ``fuck``, ``yooou`` -> ``you``: the word with the run made one letter
    is in the vocabulary, and with two it is not (``sooo`` -> ``soo`` stays: ``so`` is
    no word the analyzers look for; the vocabulary holds no word under three letters,
    so ``gggo to hell`` is still missed).
    """
    if not vocabulary:
        return False
    left = start
    while left > 0 and _WORD_AROUND.match(text, left - 1, left):
        left -= 1
    right = end
    while right < len(text) and _WORD_AROUND.match(text, right, right + 1):
        right += 1
    head, tail, char = text[left:start], text[end:right], text[start]
    squeeze = _RUN3.sub(lambda m: m.group(1) * 2, tail)
    one = (head + char + squeeze).lower()
    two = (head + char * 2 + squeeze).lower()
    return one in vocabulary and two not in vocabulary


def _splice(text: str, edits: list[_Edit]) -> str:
    """Return the text with sorted, disjoint edits applied."""
    pieces: list[str] = []
    pos = 0
    for start, end, new in edits:
        pieces.append(text[pos:start])
        pieces.append(new)
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _extent(chars: re.Pattern[str], text: str, reverse: str, index: int) -> slice:
    """Return the longest run of *chars* around ``text[index]``; *reverse* is reversed."""
    before = chars.match(reverse, len(text) - index)
    after = chars.match(text, index)
    if before is None or after is None:  # pragma: no cover - the patterns match empty
        return slice(index, index)
    return slice(index - before.end() + len(text) - index, after.end())


# --- steps 2 and 3 --------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _nfkc(char: str) -> str:
    """Return the NFKC form of one character."""
    return unicodedata.normalize("NFKC", char)


def _nfkc_edits(text: str) -> list[_Edit]:
    """Return NFKC, applied one non-ASCII character at a time, as edits."""
    edits: list[_Edit] = []
    for run in _NON_ASCII_RUN.finditer(text):
        chars = run.group()
        if unicodedata.is_normalized("NFKC", chars):
            continue
        for index, char in enumerate(chars, run.start()):
            new = _nfkc(char)
            if new != char:
                edits.append((index, index + 1, new))
    return edits


def _deletions(pattern: re.Pattern[str], text: str) -> list[_Edit]:
    """Return the deletion of every match of a pattern."""
    return [(*match.span(), "") for match in pattern.finditer(text)]


# --- step 4: confusables --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Confusables:
    """The lookalike table, read once from ``confusable-homoglyphs``."""

    latin: dict[int, str]
    """A Cyrillic or Greek lookalike (code point) -> the ASCII letter it passes for."""
    script: dict[str, str]
    """A lookalike -> its script, ``CYRILLIC`` or ``GREEK``."""
    hits: re.Pattern[str]
    """A lookalike and the letters after it."""
    genuine: dict[str, re.Pattern[str]]
    """A script -> a letter of it that passes for no Latin letter."""


@functools.cache
def _confusables() -> _Confusables:
    """
    Build the lookalike table, on the first text that has a Greek or Cyrillic letter.

    The data is Unicode's confusables (UTS #39) as shipped by ``confusable-homoglyphs``;
    its per-call API is slow, so it is read once into dicts. A character is a lookalike
    when it is a Cyrillic or Greek letter, NFKC leaves it alone (step 2 ran before),
    and it looks like one ASCII letter.
    """
    # Imported here: it reads 900 KB of JSON, which plain text never needs.
    from confusable_homoglyphs import (  # type: ignore[import-untyped]  # noqa: PLC0415  # no type hints
        categories,
        confusables,
    )

    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    scripts = ("CYRILLIC", "GREEK")
    latin: dict[int, str] = {}
    script: dict[str, str] = {}
    for char, homoglyphs in data.items():
        if len(char) != 1 or not _SCRIPT_CHAR.match(char) or not char.isalpha():
            continue
        if _nfkc(char) != char:
            continue
        alias = categories.alias(char)
        letters = [
            h["c"]
            for h in homoglyphs
            if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalpha()
        ]
        if alias not in scripts or not letters:
            continue
        # UTS #39 maps capital I to its prototype "l"; a capital lookalike is an "I".
        latin[ord(char)] = "I" if letters[0] == "l" and char.isupper() else letters[0]
        script[char] = alias
    ranges = categories.categories_data["code_points_ranges"]
    aliases = categories.categories_data["iso_15924_aliases"]
    genuine = {
        alias: re.compile(
            "[{}]".format(
                re.escape(
                    "".join(
                        chr(code)
                        for start, end, index, _ in ranges
                        if aliases[index] == alias
                        for code in range(start, end + 1)
                        if chr(code).isalpha() and chr(code) not in script
                    )
                )
            )
        )
        for alias in scripts
    }
    hits = re.compile(f"[{re.escape(''.join(sorted(script)))}]{_LETTER}*")
    return _Confusables(latin, script, hits, genuine)


def _is_latin(char: str) -> bool:
    """Return whether a letter is Latin (ASCII, or named LATIN by Unicode)."""
    return char.isascii() or unicodedata.name(char, "").startswith("LATIN")


def _confusable_edits(text: str) -> list[_Edit]:
    """Return the lookalike letters of each word that passes for Latin, made Latin."""
    table = _confusables()
    edits: list[_Edit] = []
    reverse = text[::-1]
    written_in: dict[str, bool] = {}
    end = 0
    for hit in table.hits.finditer(text):
        if hit.start() < end:
            continue
        word = _extent(_LETTERS, text, reverse, hit.start())
        end = word.stop
        letters = text[word]
        others = [c for c in letters if c not in table.script]
        if not any(_is_latin(c) for c in others):
            if others:
                continue  # a letter of another script: a word of that script
            if any(
                written_in.setdefault(s, table.genuine[s].search(text) is not None)
                for s in {table.script[c] for c in letters}
            ):
                continue  # the text is written in that script: its words stay
        edits.append((word.start, word.stop, letters.translate(table.latin)))
    return edits


# --- step 5: leet ---------------------------------------------------------------------


def _leet_edits(text: str, vocabulary: frozenset[str]) -> list[_Edit]:
    """Return each leet word that decodes to a vocabulary word, decoded."""
    edits: list[_Edit] = []
    reverse = text[::-1]
    protected = _Protected(text)
    end = 0
    for hint in _LEET_HINT.finditer(text):
        if hint.start() < end:
            continue
        run = _extent(_LEET_CHARS, text, reverse, hint.start())
        start, end = run.start, run.stop
        if (start and _WORD_CHAR.match(text, start - 1)) or _WORD_CHAR.match(text, end):
            continue  # glued to another word character ("_", "é")
        word = text[run].rstrip("!")
        if word[0] == "@" or _CODE.fullmatch(word):
            continue  # a handle, or a code
        decoded = word.translate(_LEET_TABLE)
        if not decoded.isalpha() or decoded.lower() not in vocabulary:
            continue  # a digit that is no letter ("B2B"), or not a word we look for
        letters = "".join(_ASCII_LETTER.findall(word))
        if not letters or start in protected:
            continue
        new = decoded.upper() if letters.isupper() else decoded
        edits.append((start, start + len(word), new))
    return edits


class _Protected:
    """The URLs, e-mail addresses and handles of a text, found on first use."""

    __slots__ = ("_bounds", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._bounds: list[int] | None = None

    def __contains__(self, index: int) -> bool:
        if self._bounds is None:
            self._bounds = _protected_bounds(self._text)
        return bisect_right(self._bounds, index) % 2 == 1


def _protected_bounds(text: str) -> list[int]:
    """Return the tokens that hold a URL, an e-mail address or a handle, as bounds."""
    marks = [mark.start() for mark in _PROTECTED_MARK.finditer(text)]
    if "ww." in text or "WW." in text:
        marks = sorted(marks + [mark.start() for mark in _WWW.finditer(text)])
    bounds: list[int] = []
    reverse = text[::-1]
    for mark in marks:
        if bounds and mark < bounds[-1]:
            continue
        token = _extent(_NON_SPACE, text, reverse, mark)
        bounds += (token.start, token.stop)
    return bounds


# --- step 6: spaced letters -----------------------------------------------------------


def _spaced_edits(text: str, vocabulary: frozenset[str]) -> list[_Edit]:
    """
    Return the deletion of the separators of spaced-out words.

    A leading ``a`` or ``I`` separated by a space is read as a word of its own when the
    letters after it make a word without it (``a s c a m`` is "a scam").
    """
    edits: list[_Edit] = []
    protected = _Protected(text)
    for match in _SPACED.finditer(text):
        start, end = match.span()
        separator = match.group(1)
        if separator != " " and (
            (text.startswith(separator, end) and _WORD_CHAR.match(text, end + 1))
            or start in protected
        ):
            continue  # part of a longer name ("a.b.c.d.com"), or of a URL
        letters = text[start:end:2]
        if letters.lower() in vocabulary:
            pass
        elif (
            letters[0] in "aAiI"
            and separator == " "
            and _joinable(letters[1:], vocabulary)
        ):
            start += 2
        elif not _joinable(letters, vocabulary):
            continue
        edits.extend((at, at + 1, "") for at in range(start + 1, end, 2))
    return edits


def _joinable(letters: str, vocabulary: frozenset[str]) -> bool:
    """Return whether spaced letters are joined: four or more, or a vocabulary word."""
    return len(letters) >= 4 or (len(letters) == 3 and letters.lower() in vocabulary)
