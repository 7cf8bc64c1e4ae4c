# (house style, STYLE.md 9: tests assert `expected == actual`)
# ruff: noqa: RUF001  # lookalike characters are what these tests feed
"""The reader: lexicon hits at original offsets, text shape, words and the cache."""

from __future__ import annotations

import functools

import pytest

from replyguard.analysis.reader import Hit, Reader, Reading


@pytest.fixture(scope="module")
def reader() -> Reader:
    """Return a reader of the packaged lexicons without a cache (fresh readings)."""
    return Reader(cache_size=0)


def _found(reading: Reading, lexicon: str) -> list[tuple[str, str, int, int]]:
    return [(h.cue, h.text, h.start, h.end) for h in reading.get(lexicon)]


def _assert_offsets_index_the_original(reading: Reading) -> None:
    for hit in reading.hits:
        assert hit.text == reading.text[hit.start : hit.end], hit


# --- offsets into the original text ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lexicon", "expected"),
    [
        pytest.param(
            "this is fr\u0430ud",
            "crisis",
            [("fraud", "fr\u0430ud", 8, 13)],
            id="cyrillic-a",
        ),
        pytest.param(
            "total ｆｒａｕｄ here",
            "crisis",
            [("fraud", "ｆｒａｕｄ", 6, 11)],
            id="fullwidth",
        ),
        pytest.param(
            "pure 𝐟𝐫𝐚𝐮𝐝!", "crisis", [("fraud", "𝐟𝐫𝐚𝐮𝐝", 5, 10)], id="math-bold"
        ),
        pytest.param(
            "what a sc4m", "complaint", [("scam", "sc4m", 7, 11)], id="leet-digit"
        ),
        pytest.param(
            "you sc@mmer", "hostility", [("scammer", "sc@mmer", 4, 11)], id="leet-at"
        ),
        pytest.param(
            "you 1d10ts", "hostility", [("idiots", "1d10ts", 4, 10)], id="leet-digits"
        ),
        pytest.param(
            "you are s t u p i d",
            "hostility",
            [("stupid", "s t u p i d", 8, 19)],
            id="spaced-letters",
        ),
        pytest.param(
            "it is F.R.A.U.D", "crisis", [("fraud", "F.R.A.U.D", 6, 15)], id="dotted"
        ),
        pytest.param(
            "pure fr\u200baud",
            "crisis",
            [("fraud", "fr\u200baud", 5, 11)],
            id="zero-width-space",
        ),
        pytest.param(
            "pure f\u00adr\u2060aud",
            "crisis",
            [("fraud", "f\u00adr\u2060aud", 5, 12)],
            id="soft-hyphen-and-word-joiner",
        ),
        pytest.param(
            "the ﬁre alarm went off",
            "crisis",
            [("fire alarm", "ﬁre alarm", 4, 13)],
            id="ligature-grows",
        ),
        pytest.param(
            "RT @occupy: Illegal Foreclosures.",
            "activism",
            [("foreclosures", "Foreclosures", 20, 32)],
            id="rt-prefix",
        ),
        pytest.param(
            "@Acme @bo_b this is fraud",
            "crisis",
            [("fraud", "fraud", 20, 25)],
            id="leading-handles",
        ),
        pytest.param(
            "RT @x: @Acme ｓｃａｍ and fr\u0430ud",
            "crisis",
            [("scam", "ｓｃａｍ", 13, 17), ("fraud", "fr\u0430ud", 22, 27)],
            id="rt-handles-fullwidth-homoglyph",
        ),
        pytest.param(
            "😂😂 sooooo slow",
            "complaint",
            [("slow", "slow", 10, 14)],
            id="astral-emoji",
        ),
        pytest.param(
            "I can\u2019t wait for Monday",
            "sarcasm_markers",
            [("can't wait", "can\u2019t wait", 2, 12)],
            id="curly-apostrophe",
        ),
        pytest.param(
            "#BoycottAcme, fr\u0430ud",
            "activism",
            [("#boycottacme", "#BoycottAcme", 0, 12)],
            id="hashtag-prefix",
        ),
    ],
)
def test_hits_carry_original_offsets(
    reader: Reader, text: str, lexicon: str, expected: list[tuple[str, str, int, int]]
) -> None:
    reading = reader.read(text)

    assert expected == _found(reading, lexicon)
    _assert_offsets_index_the_original(reading)


def test_handles_and_rt_prefix_are_not_read_as_words(reader: Reader) -> None:
    # `@ScamBank` is a handle, `RT` a prefix: neither is a cue of the text
    prefix = "RT @ScamBank: @Fraud_Watch "
    reading = reader.read(prefix + "look at this photo")

    assert [] == [h for h in reading.hits if h.start < len(prefix)]
    assert not reading.words & {"rt", "scambank", "fraud_watch", "fraud", "watch"}


def test_hits_are_in_text_order_and_score_is_a_noisy_or(reader: Reader) -> None:
    reading = reader.read("scam, fraud and another scam")

    crisis = reading.get("crisis")
    assert [0, 6, 24] == [h.start for h in crisis]
    assert all(isinstance(h, Hit) for h in crisis)
    weights = {h.cue: h.weight for h in crisis}
    # distinct cues only: scam and fraud, not scam twice
    assert ["fraud", "scam"] == sorted(weights)
    expected = 1 - (1 - weights["scam"]) * (1 - weights["fraud"])
    assert pytest.approx(expected) == reading.score("crisis")
    assert 0.0 == reading.score("grief")


# --- the longest match wins within a lexicon ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("grandpa passed away", ["passed away"], id="passed-away"),
        pytest.param("she passed away", ["she passed away"], id="she-passed-away"),
        pytest.param("my dad passed away", ["my dad passed away"], id="my-dad"),
        pytest.param("the dog passed the ball", ["passed"], id="plain-passed"),
    ],
)
def test_longest_match_hides_the_shorter_ones(
    reader: Reader, text: str, expected: list[str]
) -> None:
    assert expected == [h.cue for h in reader.read(text).get("grief")]


def test_other_lexicons_keep_their_own_overlapping_hits(reader: Reader) -> None:
    reading = reader.read("I lost my dad")

    assert ["lost my dad"] == [h.cue for h in reading.get("grief")]
    assert ["lost my"] == [h.cue for h in reading.get("bad_situation")]


# --- shape ------------------------------------------------------------------------------


def test_exclamations_questions_and_punctuation_runs(reader: Reader) -> None:
    text = "Really??? Wow!!! ok. fine... sure!"
    reading = reader.read(text)

    assert 4 == reading.exclamations
    assert 3 == reading.questions
    assert ["???", "!!!", "..."] == [text[s:e] for s, e in reading.punct_runs]


def test_no_punctuation_runs_in_plain_text(reader: Reader) -> None:
    reading = reader.read("One question? One answer!")

    assert (1, 1, ()) == (reading.exclamations, reading.questions, reading.punct_runs)


def test_capital_words(reader: Reader) -> None:
    text = "@ACME the WORST service, SO slow, #FAIL, UK and OK"
    reading = reader.read(text)

    # four letters or more, or an intensifier; never handles or hashtags
    assert ["WORST", "SO"] == [text[s:e] for s, e in reading.caps_words]
    assert reading.all_caps is False


def test_all_caps_text_is_one_signal_not_many_words(reader: Reader) -> None:
    reading = reader.read("THIS IS THE WORST SERVICE I HAVE EVER HAD")

    assert reading.all_caps is True
    assert () == reading.caps_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('the "unlimited" plan', ['"unlimited"'], id="straight-quotes"),
        pytest.param(
            "your \u201crestored within 24 hours\u201d promise",
            ["\u201crestored within 24 hours\u201d"],
            id="curly-quotes",
        ),
        pytest.param(
            'she said "this is a quote of more than four words" today',
            [],
            id="long-quote-is-not-scare",
        ),
        pytest.param('an empty "" pair', [], id="empty-quotes"),
    ],
)
def test_scare_quotes(reader: Reader, text: str, expected: list[str]) -> None:
    reading = reader.read(text)

    assert expected == [text[s:e] for s, e in reading.quotes]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Nobody. Had. Any. Account. Related. Inquiries.",
            ["Nobody. Had. Any. Account. Related. Inquiries"],
            id="bofa-2013",
        ),
        pytest.param(
            "@BofA_Help Nobody. Had. Any. Account.",
            ["Nobody. Had. Any. Account"],
            id="after-a-handle",
        ),
        pytest.param("No. Just. No.", [], id="three-words-are-not-enough"),
        pytest.param("I waited. Then I left. Nobody came.", [], id="real-sentences"),
    ],
)
def test_one_word_sentences(reader: Reader, text: str, expected: list[str]) -> None:
    reading = reader.read(text)

    assert expected == [text[s:e] for s, e in reading.clapping]
    assert bool(expected) == reading.one_word_sentences


def test_elongations_are_spans_of_the_original(reader: Reader) -> None:
    text = "sooooo slow"

    assert ["ooooo"] == [text[s:e] for s, e in reader.read(text).elongations]


def test_elongations_after_a_handle_are_spans_of_the_original(reader: Reader) -> None:
    text = "@Acme sooooo slow"

    assert ["ooooo"] == [text[s:e] for s, e in reader.read(text).elongations]


# --- content words ----------------------------------------------------------------------


def test_words_are_lowercase_stemmed_and_without_stop_words(reader: Reader) -> None:
    reading = reader.read("@Acme Thanks! The CHARGES were charged to my card again")

    assert frozenset({"charg", "card"}) == reading.words


def test_words_ignore_short_tokens_and_numbers(reader: Reader) -> None:
    assert frozenset({"flight"}) == reader.read("my flight AA 100 is at 9").words


def test_stems_match_the_singular(reader: Reader) -> None:
    assert reader.read("charges").words == reader.read("charge").words


# --- cache --------------------------------------------------------------------------


def test_the_cache_returns_the_same_reading_for_the_same_text() -> None:
    cached = Reader(cache_size=8)

    first = cached.read("my order never arrived")

    assert first is cached.read("my order never arrived")
    assert first is not cached.read("my order never arrived!")


def test_the_cache_is_bounded() -> None:
    cached = Reader(cache_size=2)
    first = cached.read("one")

    cached.read("two")
    cached.read("three")

    assert first is not cached.read("one")


def test_no_cache_gives_fresh_but_equal_readings(reader: Reader) -> None:
    first = reader.read("my order never arrived")
    second = reader.read("my order never arrived")

    assert first is not second
    assert first.hits == second.hits
    assert dict(first.scores) == dict(second.scores)
    assert first.words == second.words


def test_the_empty_text_reads_as_nothing(reader: Reader) -> None:
    reading = reader.read("")

    assert ((), 0, frozenset()) == (reading.hits, reading.tokens, reading.words)


def test_texts_that_differ_only_in_their_leading_handles_are_read_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reader = Reader()
    calls: list[str] = []
    read_text = reader._read_text

    def counting(text: str) -> object:
        calls.append(text)
        return read_text(text)

    reader._read_body = functools.lru_cache(maxsize=16)(counting)  # type: ignore[method-assign]
    body = "thanks for the fee, truly the best 🙄"
    first = reader.read("@ann " + body)
    second = reader.read("@bartholomew_long_handle " + body)

    assert [body] == calls
    for reading, handle in ((first, "@ann "), (second, "@bartholomew_long_handle ")):
        assert reading.text.startswith(handle)
        assert [h.text for h in reading.hits] == [
            reading.text[h.start : h.end] for h in reading.hits
        ]
        assert "🙄" in [reading.text[h.start : h.end] for h in reading.get("eye_roll")]
