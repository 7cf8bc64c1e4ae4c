# (house style, STYLE.md 9: tests assert `expected == actual`)
# ruff: noqa: RUF001  # lookalike characters are what these tests feed
"""Evasion-defeating normalization (`replyguard.analysis.normalize`) and its offset map."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from replyguard.analysis import normalize as module
from replyguard.analysis.normalize import STEPS, Normalized, normalize
from replyguard.errors import InvalidArgument

VOCABULARY = frozenset({"scam", "fraud", "nobody", "usa", "shit", "abuse", "kill"})

DECOY_VOCABULARY = VOCABULARY | {
    "bia",  # B14
    "ahandle",  # @handle
    "meax",  # me@x.com
    "mhaio",  # MH370 has a 7 and a 0, but it is a code
    "abc",  # https://x.co/4bc
    "wowi",  # wow!
    "io",  # 10/10
    "aati",  # 4471
    "sao",  # $40
}
"""The vocabulary plus what the negative cases would decode to, were they decoded."""


def _normalized(text: str, vocabulary: frozenset[str] = VOCABULARY) -> Normalized:
    return normalize(text, vocabulary=vocabulary)


# --- each step ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "changes"),
    [
        pytest.param("\ud800abc", "\ufffdabc", ("invalid",), id="lone-high-surrogate"),
        pytest.param("x\udc00", "x\ufffd", ("invalid",), id="lone-low-surrogate"),
        pytest.param("ｆｒａｕｄ alert", "fraud alert", ("nfkc",), id="fullwidth"),
        pytest.param("𝐟𝐫𝐚𝐮𝐝", "fraud", ("nfkc",), id="math-bold"),
        pytest.param("ﬁne", "fine", ("nfkc",), id="ligature"),
        pytest.param("x² and ¼", "x2 and 1⁄4", ("nfkc",), id="superscript-fraction"),
        pytest.param("no\u00a0way", "no way", ("nfkc",), id="no-break-space"),
        pytest.param("fr\u200baud", "fraud", ("invisible",), id="zero-width-space"),
        pytest.param(
            "fr\u200caud", "fraud", ("invisible",), id="zero-width-non-joiner"
        ),
        pytest.param("f\u00adraud", "fraud", ("invisible",), id="soft-hyphen"),
        pytest.param("\u202efraud\u202c", "fraud", ("invisible",), id="bidi-override"),
        pytest.param("\u2066fr\u2069aud", "fraud", ("invisible",), id="bidi-isolate"),
        pytest.param("fr\u2060a\u2063ud", "fraud", ("invisible",), id="word-joiner"),
        pytest.param("\ufefffraud", "fraud", ("invisible",), id="byte-order-mark"),
        pytest.param("fr\u200daud", "fraud", ("invisible",), id="joiner-in-word"),
        pytest.param(
            "fr\u200b\u200daud", "fraud", ("invisible",), id="joiner-after-removal"
        ),
        pytest.param("frаud", "fraud", ("confusable",), id="cyrillic-a"),
        pytest.param("ѕсаm", "scam", ("confusable",), id="cyrillic-with-latin-m"),
        pytest.param("ѕса", "sca", ("confusable",), id="all-lookalikes"),
        pytest.param("РayРal", "PayPal", ("confusable",), id="cyrillic-capitals"),
        pytest.param("ΑΡΡLΕ", "APPLE", ("confusable",), id="greek-capitals"),
        pytest.param("ІΙ", "II", ("confusable",), id="capital-i-not-l"),
        pytest.param("sc4m", "scam", ("leet",), id="leet-digit"),
        pytest.param("fr@ud.", "fraud.", ("leet",), id="leet-at"),
        pytest.param("$cam", "scam", ("leet",), id="leet-dollar"),
        pytest.param("5c4m", "scam", ("leet",), id="leet-digits"),
        pytest.param("sh!t", "shit", ("leet",), id="leet-bang"),
        pytest.param("k1|| it", "kill it", ("leet",), id="leet-pipes"),
        pytest.param("Sc4m!!", "Scam!!", ("leet",), id="leet-keeps-case"),
        pytest.param("FR@UD", "FRAUD", ("leet",), id="leet-upper"),
        pytest.param("s c a m", "scam", ("spaced",), id="spaced"),
        pytest.param("F.R.A.U.D", "FRAUD", ("spaced",), id="dotted"),
        pytest.param("s.c.a.m.", "scam.", ("spaced",), id="dotted-trailing"),
        pytest.param("n-o-b-o-d-y", "nobody", ("spaced",), id="dashed"),
        pytest.param("u s a", "usa", ("spaced",), id="three-in-vocabulary"),
        pytest.param("a s c a m", "a scam", ("spaced",), id="article-stays"),
        pytest.param("a b u s e", "abuse", ("spaced",), id="whole-word-first"),
        pytest.param("w x y z", "wxyz", ("spaced",), id="four-letters"),
        pytest.param("sooooo", "soo", ("elongation",), id="elongated"),
        pytest.param("goooood", "good", ("elongation",), id="elongated-to-word"),
        pytest.param("pleeeease", "pleease", ("elongation",), id="kept-two"),
        pytest.param("NOOOO!!!!", "NOO!!!!", ("elongation",), id="upper-and-bangs"),
        pytest.param(
            "ｓｏｏｏｏ", "soo", ("nfkc", "elongation"), id="fullwidth-elongated"
        ),
        pytest.param("ｓ ｃ ａ ｍ", "scam", ("nfkc", "spaced"), id="fullwidth-spaced"),
        pytest.param(
            "s\u200bc\u200ba\u200bm", "scam", ("invisible",), id="invisible-split"
        ),
        pytest.param("ѕ с а m", "scam", ("confusable", "spaced"), id="spaced-cyrillic"),
        pytest.param(
            "ｓ\u200b с4m  sooo",
            "s c4m  soo",
            ("nfkc", "invisible", "confusable", "elongation"),
            id="leet-split-by-space",
        ),
    ],
)
def test_steps(text: str, expected: str, changes: tuple[str, ...]) -> None:
    result = _normalized(text)
    assert (expected, changes) == (result.text, result.changes)
    assert result.changed
    assert text == result.original


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("$40 refund", id="money"),
        pytest.param("flight B14 from gate SL1184", id="flight-numbers"),
        pytest.param("card ending 4471", id="digits"),
        pytest.param("@handle thanks", id="handle"),
        pytest.param("@buse hi", id="handle-that-decodes"),
        pytest.param("write to me@x.com", id="email"),
        pytest.param("fr@ud.com", id="email-like"),
        pytest.param("see https://x.co/4bc now", id="url"),
        pytest.param("10/10 would wait again", id="rating"),
        pytest.param("wow!", id="bang"),
        pytest.param("sc4m_x", id="glued-to-underscore"),
        pytest.param("B2B sc2m", id="other-digits"),
        pytest.param("привет", id="russian"),
        pytest.param("καλημέρα", id="greek"),
        pytest.param("Я купил сахар", id="all-lookalike-word-in-russian"),
        pytest.param("🤦\u200d♀️ 👨\u200d👩\u200d👧", id="emoji-joiners"),
        pytest.param("a\u200d😀", id="joiner-next-to-emoji"),
        pytest.param("I am a", id="multi-letter-words"),
        pytest.param("X Y Z", id="three-letters"),
        pytest.param("www.sc4m.io and a.b.c.d.com", id="url-with-www"),
        pytest.param("@sooo_happy @b4d", id="handles"),
        pytest.param("MH370 Q4 A320 COVID19", id="codes"),
        pytest.param("s c-a m", id="mixed-separators"),
        pytest.param("e.g. U.S. i.e.", id="abbreviations"),
        pytest.param("!!!! ??? ... 1111", id="punctuation-and-digit-runs"),
        pytest.param("SO much better, thanks!", id="case-kept"),
        pytest.param("e\u0301 café", id="combining-mark"),
    ],
)
def test_left_alone(text: str) -> None:
    result = _normalized(text, DECOY_VOCABULARY)
    assert Normalized(text, text) == result
    assert not result.changed
    assert (0, len(text)) == result.span(0, len(text))


def test_leet_needs_the_vocabulary() -> None:
    assert "sc4m fr@ud" == normalize("sc4m fr@ud").text
    assert "scam fr@ud" == normalize("sc4m fr@ud", vocabulary=frozenset({"scam"})).text


def test_three_spaced_letters_need_the_vocabulary() -> None:
    assert "u s a" == normalize("u s a").text
    assert "usa" == normalize("u s a", vocabulary=frozenset({"usa"})).text
    assert "A B C" == _normalized("A B C").text


def test_changes_follow_the_step_order() -> None:
    text = "\ud800 ｆｒａｕｄ fr\u200baud frаud sc4m s c a m sooo"
    result = _normalized(text)
    assert STEPS == result.changes
    assert "\ufffd fraud fraud fraud scam scam soo" == result.text


# --- offsets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        pytest.param("ｆｒａｕｄ alert", "fraud", "ｆｒａｕｄ", id="fullwidth"),
        pytest.param("an 𝐟𝐫𝐚𝐮𝐝 bank", "fraud", "𝐟𝐫𝐚𝐮𝐝", id="math-bold"),
        pytest.param("it is a s c a m!", "scam", "s c a m", id="spaced"),
        pytest.param("F.R.A.U.D!", "FRAUD", "F.R.A.U.D", id="dotted"),
        pytest.param("pure fr\u200baud", "fraud", "fr\u200baud", id="invisible-inside"),
        pytest.param("so sooooo bad", "soo", "sooooo", id="elongated"),
        pytest.param("a goooood one", "good", "goooood", id="elongated-word"),
        pytest.param("x ﬁne", "fine", "ﬁne", id="ligature"),
        pytest.param("x ﬁne", "f", "ﬁ", id="half-a-ligature"),
        pytest.param("frаud!", "fraud", "frаud", id="confusable"),
        pytest.param("total sc4m", "scam", "sc4m", id="leet"),
        pytest.param(
            "ｓ ｃ\u200b ａ ｍ ｍ ｍ ok",
            "scam",  # an elongated vocabulary word is cut to one letter
            "ｓ ｃ\u200b ａ ｍ ｍ ｍ",
            id="all-at-once",
        ),
    ],
)
def test_span_maps_back(text: str, word: str, expected: str) -> None:
    result = _normalized(text)
    start = result.text.index(word)
    source = result.span(start, start + len(word))
    assert expected == text[slice(*source)]


def test_removed_invisible_at_the_edge_is_not_covered() -> None:
    result = normalize("\u200bfraud\u200b")
    assert ((1, 6), (1, 1), (6, 6)) == (
        result.span(0, 5),
        result.span(0, 0),
        result.span(5, 5),
    )


def test_everything_removed() -> None:
    result = normalize("\u200b\u200c\ufeff")
    assert ("", (0, 0)) == (result.text, result.span(0, 0))


def test_expansion_then_elongation() -> None:
    # "ﬀ" (one character) expands to "ff"; with the next "f" it is an elongated run.
    result = normalize("ﬀf!")
    assert ("ff!", ((0, 2),)) == (result.text, result.elongations)
    assert [(0, 1), (0, 2), (2, 3)] == [result.span(i, i + 1) for i in range(3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("sooooo much", ((1, 6),), id="one"),
        pytest.param("NOOOO waaaay!!!!", ((1, 5), (7, 11)), id="two-not-bangs"),
        pytest.param("s\u200booooo", ((2, 7),), id="after-an-invisible"),
        pytest.param("ｏｏｏｏ", ((0, 4),), id="fullwidth"),
        pytest.param("o o o o", ((0, 7),), id="spaced-then-elongated"),
        pytest.param("1111 ???? ....", (), id="no-letters"),
    ],
)
def test_elongations(text: str, expected: tuple[tuple[int, int], ...]) -> None:
    assert expected == normalize(text).elongations


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(-1, 2, id="negative"),
        pytest.param(3, 2, id="reversed"),
        pytest.param(0, 9, id="past-the-end"),
    ],
)
def test_span_outside_the_text(start: int, end: int) -> None:
    for text in ("plain", "ｆｒａｕｄ"):
        with pytest.raises(InvalidArgument, match="not inside the normalized text"):
            normalize(text).span(start, end)


def test_unchanged_text_is_an_ordinary_instance() -> None:
    result = normalize("plain text")
    assert Normalized("plain text", "plain text") == result
    assert "Normalized(original='a', text='a', changes=(), elongations=())" == repr(
        normalize("a")
    )
    assert hash(Normalized("a", "a")) == hash(normalize("a"))


def test_every_lookalike_is_seen_by_the_fast_path() -> None:
    table = module._confusables()
    assert table.script
    for char in table.script:
        assert module._SCRIPT_CHAR.match(char), char
        assert module._SUSPECT.match(char), char
        assert len(table.latin[ord(char)]) == 1, char
        assert table.latin[ord(char)].isascii(), char


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("😀🎉👍🏽🤦\u200d♀️ " * 15_000, id="emoji"),
        pytest.param("a" * 100_000, id="one-letter"),
        pytest.param("sc4m " * 20_000, id="leet"),
        pytest.param("s c a m " * 12_500, id="spaced"),
        pytest.param("ｆｒａｕｄ " * 16_000, id="fullwidth"),
        pytest.param(
            "Hi мир κόσμε 𝐛𝐨𝐥𝐝 frаud s\u200bo sooo 🤦\u200d♀️ " * 2_000, id="mixed"
        ),
        pytest.param("\ud800" * 100_000, id="surrogates"),
        pytest.param("a@" * 50_000 + "b.c", id="address-marks"),
        pytest.param("fr@ud," * 20_000, id="one-long-token"),
        pytest.param("@sooo," * 20_000, id="one-long-protected-token"),
    ],
)
def test_large_inputs(text: str) -> None:
    result = _normalized(text)
    assert result.span(0, len(result.text))[1] <= len(text)


# --- properties -----------------------------------------------------------------------

EVASION_CHARS = [
    *"abcmosSIl ",
    *"0134579@$!|._-/:",
    "\u200b",
    "\u200d",
    "\u00ad",
    "\u202e",
    "\ufeff",
    "ｆ",
    "ａ",
    "𝐟",
    "ﬁ",
    "ﬀ",
    "¼",
    "\u00a0",
    "а",
    "ѕ",
    "с",
    "о",
    "Р",
    "и",
    "α",
    "ο",
    "ς",
    "😀",
    "♀",
    "\ufe0f",
    "\ud800",
    "é",
    "\u0301",
]

any_text = st.text(st.characters(exclude_categories=[]), max_size=60)
evasive_text = st.text(
    st.one_of(st.sampled_from(EVASION_CHARS), st.characters(exclude_categories=[])),
    max_size=40,
)
ascii_text = st.text(
    st.sampled_from([*"aAbsScmoOdeIilw ", *"0134579@$!|._-/:"]), max_size=40
)
texts = st.one_of(any_text, evasive_text, ascii_text)
vocabularies = st.frozensets(
    st.sampled_from(["scam", "fraud", "sca", "abc", "sos", "soo", "ass", "boss", "as"]),
)


@given(text=texts, vocabulary=vocabularies)
def test_never_raises_and_spans_stay_inside(
    text: str, vocabulary: frozenset[str]
) -> None:
    result = normalize(text, vocabulary=vocabulary)
    length = len(result.text)
    size = len(text)
    positions = [result.span(i, i)[0] for i in range(length + 1)]
    assert positions == sorted(positions)
    assert all(0 <= p <= size for p in positions)
    step = 1 + length // 40  # NFKC may expand a character 18 times
    for start in range(0, length + 1, step):
        for end in range(start, length + 1, step):
            low, high = result.span(start, end)
            assert 0 <= low <= high <= size
    chars = [result.span(i, i + 1) for i in range(length)]
    assert all(low < high for low, high in chars)  # every character has a source
    assert [low for low, _ in chars] == sorted(low for low, _ in chars)
    assert [high for _, high in chars] == sorted(high for _, high in chars)
    assert list(result.changes) == [s for s in STEPS if s in result.changes]
    for low, high in result.elongations:
        assert 0 <= low < high <= size


@given(text=texts, vocabulary=vocabularies)
def test_fast_path_agrees_with_the_slow_path(
    text: str, vocabulary: frozenset[str]
) -> None:
    assert module._normalize(text, vocabulary) == normalize(text, vocabulary=vocabulary)


words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=8)


@given(
    text=st.lists(words.filter(lambda w: not module._RUN3.search(w)), max_size=12).map(
        " ".join
    ),
    vocabulary=vocabularies,
)
def test_plain_lowercase_text_is_the_identity(
    text: str, vocabulary: frozenset[str]
) -> None:
    result = normalize(text, vocabulary=vocabulary)
    assert Normalized(text, text) == result
    assert [(i, j) for i in range(len(text)) for j in range(i, len(text))] == [
        result.span(i, j) for i in range(len(text)) for j in range(i, len(text))
    ]


@given(text=texts)
def test_idempotent_without_vocabulary(text: str) -> None:
    # Documented in the module: holds without a vocabulary and once no Cyrillic or
    # Greek letter is left (a lookalike kept in a Cyrillic text may be joined to Latin
    # letters by "spaced" and converted by a second pass).
    first = normalize(text)
    assume(module._SCRIPT_CHAR.search(first.text) is None)
    second = normalize(first.text)
    assert (first.text, ()) == (second.text, second.changes)


def test_not_idempotent_with_a_vocabulary() -> None:
    # The documented exception: elongation makes a leet vocabulary word.
    first = _normalized("k1lll")
    assert ("k1ll", "kill") == (first.text, _normalized(first.text).text)


@given(
    text=st.text(
        st.sampled_from([*"abcdefg", "\u200b", "\u00ad", "\u2060"]), max_size=30
    )
)
def test_deleted_characters_keep_the_others_in_place(text: str) -> None:
    result = normalize(text)
    assume(set(result.changes) <= {"invisible"})
    assert text.replace("\u200b", "").replace("\u00ad", "").replace("\u2060", "") == (
        result.text
    )
    assert list(result.text) == [
        text[slice(*result.span(i, i + 1))] for i in range(len(result.text))
    ]


@given(
    text=st.text(
        st.sampled_from([*"abcdefg", "ｆ", "ａ", "ﬁ", "ﬃ", "¼", "𝐝"]), max_size=30
    )
)
def test_expanded_characters_map_to_their_source(text: str) -> None:
    result = normalize(text)
    assume(set(result.changes) <= {"nfkc"})
    for i, char in enumerate(result.text):
        source = text[slice(*result.span(i, i + 1))]
        assert len(source) == 1
        assert char in unicodedata.normalize("NFKC", source)


@given(text=st.text(st.sampled_from("aaAAbb .-_0!\x00"), max_size=40))
def test_letter_triples_found_by_integer_arithmetic(text: str) -> None:
    raw = text.encode("ascii")
    expected = re.search(r"([A-Za-z])\1\1", text) is not None
    assert expected == module._has_letter_triple(raw, raw.translate(module._CLASSES))


def test_letter_triples_in_a_long_text() -> None:
    text = "ab" * 1000
    raw = text.encode("ascii")
    assert not module._has_letter_triple(raw, raw.translate(module._CLASSES))
    raw = (text + "bb").encode("ascii")
    assert module._has_letter_triple(raw, raw.translate(module._CLASSES))


@st.composite
def edit_lists(draw: st.DrawFn, length: int) -> list[tuple[int, int, str]]:
    edits: list[tuple[int, int, str]] = []
    pos = 0
    while pos < length and draw(st.booleans()):
        start = draw(st.integers(pos, length - 1))
        end = draw(st.integers(start + 1, min(length, start + 4)))
        edits.append((start, end, draw(st.sampled_from(["", "x", "xy", "xyz"]))))
        pos = end
    return edits


@given(data=st.data(), length=st.integers(0, 30), rounds=st.integers(1, 4))
def test_offset_map_matches_a_per_character_model(
    data: st.DataObject, length: int, rounds: int
) -> None:
    # The model: each character's (start, end) in the original, as a plain list.
    model = [(i, i + 1) for i in range(length)]
    offsets = None
    for _ in range(rounds):
        edits = data.draw(edit_lists(len(model)))
        if not edits:
            continue
        offsets = (
            module._OffsetMap.from_edits(edits, len(model))
            if offsets is None
            else offsets.compose(edits, len(model))
        )
        rebuilt: list[tuple[int, int]] = []
        pos = 0
        for start, end, new in edits:
            rebuilt += model[pos:start]
            rebuilt += [(model[start][0], model[end - 1][1])] * len(new)
            pos = end
        model = rebuilt + model[pos:]
    if offsets is None:
        return
    assert model == [offsets.source(i, i + 1) for i in range(len(model))]
    for start in range(len(model)):
        for end in range(start + 1, len(model) + 1):
            assert (model[start][0], model[end - 1][1]) == offsets.source(start, end)
