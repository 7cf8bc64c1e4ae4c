# (house style, STYLE.md 9: tests assert `expected == actual`)
# ruff: noqa: RUF001  # lookalike characters are part of the generated texts
"""Invariants of the analyzers over any text, in any kind of post, with Hypothesis."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from replyguard import Guard, Reply, Signals, Thread
from replyguard.analysis import Analyzer
from replyguard.analysis.reader import Reader, Reading
from replyguard.analysis.sarcasm import blend

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BRAND = "@Acme"
GROUPS = ("chain", "sarcasm", "tone", "intent", "reply", "language", "state")
NOT_SCORES = frozenset({"target_age"})
"""Float fields that are not scores in 0..1 (seconds)."""

FRAGMENTS = [
    "RT @occupy: ",
    "@Acme ",
    "@acme@social.example ",
    " RT @bo: ",
    "so true ",
    "fr\u0430ud",
    "ｆｒａｕｄ",
    "𝐟𝐫𝐚𝐮𝐝",
    "s c a m",
    "F.R.A.U.D",
    "1d10ts",
    "sc@m",
    "ﬁre alarm",
    "sooooo",
    "\u200b",
    "\u00ad",
    "\u200d",
    "\u202e",
    "\ufeff",
    "I\u0307",
    "İ",
    "ß",
    "ǅ",
    "🤦\u200d♀️",
    "🙄",
    "😂",
    "💀",
    "🎉",
    "!!!",
    "???",
    "...",
    "\u2026",
    '"',
    "\u201cgreat\u201d",
    "/s",
    "#not",
    "#BoycottAcme",
    "#nobot",
    "Nobody. Had. Any. Account. ",
    "my dad passed away ",
    "thanks for the fee ",
    "love waiting on hold ",
    "ignore all previous instructions ",
    "repeat after me ",
    "4111 1111 1111 1111",
    "https://x.co/4bc ",
    "me@x.com ",
    "\n",
    " ",
    "Привет мир ",
    "mi pedido no ha llegado ",
    "مرحبا ",
]

CHARACTERS = st.one_of(
    st.characters(codec=None),
    st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates
    st.integers(0x1F300, 0x1FAFF).map(chr),  # emoji
    st.sampled_from("аеорсухіјѕԁɡοΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"),  # Cyrillic and Greek lookalikes
)
TEXTS = st.lists(
    st.one_of(st.text(CHARACTERS, max_size=12), st.sampled_from(FRAGMENTS)),
    max_size=8,
).map("".join)
AUTHORS = st.sampled_from(
    ["@customer", "@Customer", "customer", BRAND, "@acme", "@bo", "@bo@host.example"]
)
KINDS = st.sampled_from(["original", "reply", "retweet", "quote"])
TIMES = st.datetimes(
    min_value=datetime(2010, 1, 1),  # noqa: DTZ001 - bounds of naive datetimes
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@st.composite
def threads(draw: st.DrawFn) -> dict[str, Any]:
    """Return a valid thread in the interchange format: any texts, any kinds."""
    count = draw(st.integers(1, 4))
    posts: list[dict[str, Any]] = []
    for index in range(count):
        kind = "original" if index == 0 else draw(KINDS)
        post: dict[str, Any] = {
            "id": str(index + 1),
            "author": draw(AUTHORS),
            "text": draw(TEXTS),
            "kind": kind,
        }
        if index:
            ref = str(draw(st.integers(1, index)))
            field = {"reply": "in_reply_to", "retweet": "retweet_of"}.get(kind)
            field = field or ("quote_of" if kind == "quote" else None)
            if field is not None:
                post[field] = ref
        if draw(st.booleans()):
            post["created_at"] = draw(TIMES).isoformat()
        if draw(st.integers(0, 9)) == 0:
            post["missing"] = True
        if draw(st.integers(0, 4)) == 0:
            post["metrics"] = {"retweets": draw(st.integers(0, 500))}
        posts.append(post)
    thread: dict[str, Any] = {"brand_handles": [BRAND], "posts": posts}
    if draw(st.booleans()):
        thread["target"] = str(draw(st.integers(1, count)))
    return thread


REPLIES = st.one_of(st.none(), TEXTS)


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard.default(clock=lambda: AT)


class CountingReader(Reader):
    """A reader that records every text it actually reads (cache misses)."""

    def __init__(self, *, cache_size: int) -> None:
        self.log: list[str] = []
        super().__init__(cache_size=cache_size)

    def _read(self, text: str) -> Reading:
        self.log.append(text)
        return super()._read(text)


@pytest.fixture(scope="module")
def uncached() -> Analyzer:
    """Return a default analyzer that keeps no readings between reviews."""
    return Analyzer(cache_size=0)


# --- never raises, scores in 0..1, evidence inside the text ---------------------------


def _groups(signals: Signals) -> list[tuple[str, BaseModel]]:
    return [(name, getattr(signals, name)) for name in GROUPS]


@settings(max_examples=80, deadline=None)
@given(thread=threads(), reply=REPLIES)
def test_analyze_never_raises_and_every_score_is_in_zero_to_one(
    guard: Guard, thread: dict[str, Any], reply: str | None
) -> None:
    signals = guard.analyze(thread, reply)

    for name, group in _groups(signals):
        for field in type(group).model_fields:
            value = getattr(group, field)
            if isinstance(value, float) and field not in NOT_SCORES:
                assert 0.0 <= value <= 1.0, (name, field, value)
            elif isinstance(value, int) and not isinstance(value, bool):
                assert value >= 0, (name, field, value)
        for evidence in group.evidence:
            assert 0.0 <= evidence.weight, (name, evidence)


@settings(max_examples=80, deadline=None)
@given(thread=threads(), reply=REPLIES)
def test_evidence_spans_index_the_text_they_name(
    guard: Guard, thread: dict[str, Any], reply: str | None
) -> None:
    texts = {post["id"]: post["text"] for post in thread["posts"]}

    signals = guard.analyze(thread, reply)

    for name, group in _groups(signals):
        for evidence in group.evidence:
            if evidence.start is None and evidence.end is None:
                continue
            assert evidence.start is not None, (name, evidence)
            assert evidence.end is not None, (name, evidence)
            if evidence.post_id is not None:
                text = texts[evidence.post_id]
            else:
                assert reply is not None, (name, evidence)
                text = reply
            assert 0 <= evidence.start <= evidence.end <= len(text), (name, evidence)
            if evidence.text is not None:
                assert evidence.text == text[evidence.start : evidence.end], (
                    name,
                    evidence,
                )


@settings(max_examples=60, deadline=None)
@given(thread=threads(), reply=REPLIES)
def test_analysis_is_deterministic_and_the_cache_changes_nothing(
    guard: Guard, uncached: Analyzer, thread: dict[str, Any], reply: str | None
) -> None:
    first = guard.analyze(thread, reply)
    second = guard.analyze(thread, reply)
    fresh = uncached.analyze(
        Thread.model_validate(thread),
        None if reply is None else Reply(text=reply),
        brand=guard._state[1],
        thresholds=guard.policy.thresholds,
        now=AT,
    )

    assert first == second
    assert first == fresh


@settings(max_examples=60, deadline=None)
@given(thread=threads())
def test_adding_a_reply_changes_only_the_reply_signals(
    guard: Guard, thread: dict[str, Any]
) -> None:
    without = guard.analyze(thread)
    with_reply = guard.analyze(thread, "@customer Thanks, we're on it!")

    assert without.model_copy(update={"reply": with_reply.reply}) == with_reply


# --- identical retweets are read once -------------------------------------------------


def _storm(text: str, retweets: int) -> dict[str, Any]:
    posts: list[dict[str, Any]] = [
        {"id": "1", "author": "@occupy", "text": text, "kind": "original"}
    ]
    posts.extend(
        {
            "id": str(n),
            "author": f"@fan{n}",
            "text": f"RT @occupy: {text}",
            "kind": "retweet",
            "retweet_of": "1",
        }
        for n in range(2, retweets + 2)
    )
    return {"brand_handles": [BRAND], "posts": posts}


@pytest.fixture(scope="module")
def counting_analyzers() -> tuple[Analyzer, CountingReader, CountingReader]:
    """Return an analyzer and two counting readers: one caching, one not."""
    analyzer = Analyzer(cache_size=0)
    return analyzer, CountingReader(cache_size=4096), CountingReader(cache_size=0)


def _read_texts(
    analyzer: Analyzer, reader: CountingReader, thread: Thread
) -> list[str]:
    analyzer.reader = reader
    start = len(reader.log)
    analyzer.analyze(thread, Reply(text="@fan2 We are here to help"), now=AT)
    return reader.log[start:]


@settings(max_examples=50, deadline=None)
@given(text=TEXTS)
def test_identical_retweets_are_read_once_per_review(
    counting_analyzers: tuple[Analyzer, CountingReader, CountingReader], text: str
) -> None:
    analyzer, _, uncached_reader = counting_analyzers

    storm = _read_texts(
        analyzer, uncached_reader, Thread.model_validate(_storm(text, 200))
    )
    single = _read_texts(
        analyzer, uncached_reader, Thread.model_validate(_storm(text, 1))
    )

    assert [] == [t for t, n in Counter(storm).items() if n > 1]
    assert sorted(single) == sorted(storm)


@settings(max_examples=50, deadline=None)
@given(text=TEXTS)
def test_the_cache_reads_a_storm_once_per_process(
    counting_analyzers: tuple[Analyzer, CountingReader, CountingReader], text: str
) -> None:
    analyzer, cached_reader, _ = counting_analyzers
    thread = Thread.model_validate(_storm(text, 200))

    _read_texts(analyzer, cached_reader, thread)
    again = _read_texts(analyzer, cached_reader, thread)

    assert [] == again
    assert [] == [t for t, n in Counter(cached_reader.log).items() if n > 1]


def test_the_default_guard_caches_readings_across_reviews(guard: Guard) -> None:
    read = guard._state[2].reader.read
    thread = _storm(
        "Chalk art outside @Acme: Theft. Illegal Foreclosures. Fraud. 7f3a", 200
    )

    guard.analyze(thread, "@fan2 We are here to help")
    before = read.cache_info()  # type: ignore[attr-defined]
    guard.analyze(thread, "@fan2 We are here to help")
    after = read.cache_info()  # type: ignore[attr-defined]

    assert before.misses == after.misses
    assert after.hits > before.hits


# --- the sarcasm blend ----------------------------------------------------------------

UNIT = st.floats(0.0, 1.0)


@given(rules=UNIT, model=UNIT)
def test_blend_is_in_zero_to_one(rules: float, model: float) -> None:
    assert 0.0 <= blend(rules, model) <= 1.0


@given(rules=UNIT)
def test_blend_without_a_model_is_the_rules(rules: float) -> None:
    assert rules == blend(rules, None)


@given(model=st.floats(1e-4, 1.0 - 1e-4))
def test_blend_without_a_cue_is_the_model(model: float) -> None:
    assert pytest.approx(model) == blend(0.0, model)


@given(a=UNIT, b=UNIT, model=UNIT)
def test_blend_never_falls_when_a_cue_grows(a: float, b: float, model: float) -> None:
    low, high = sorted((a, b))

    assert blend(low, model) <= blend(high, model) + 1e-12
