# (house style, STYLE.md 9: tests assert `expected == actual`)
"""The chain analyzer (via `analyze`): who the target speaks to, and how far it spread."""

from __future__ import annotations

from typing import Any

import pytest

from replyguard import Reply, Signals, Thread
from replyguard.analysis import Brand, analyze

BRAND = Brand.build(
    handles=["@BofA_Help", "@BankofAmerica"], names=["Bank of America", "BofA"]
)


def _post(
    post_id: str, author: str, text: str, kind: str = "original", **extra: Any
) -> dict:
    return {"id": post_id, "author": author, "text": text, "kind": kind, **extra}


def _signals(
    *posts: dict[str, Any],
    reply: str | None = None,
    brand: Brand = BRAND,
    **extra: Any,
) -> Signals:
    thread = Thread.model_validate({"posts": list(posts), **extra})
    return analyze(
        thread, Reply(text=reply) if reply is not None else None, brand=brand
    )


def _cues(signals: Signals) -> list[str]:
    return [
        e.cue for e in signals.chain.evidence if e.signal == "chain.addressed_to_brand"
    ]


CHALK = _post("1", "@chalk", "Chalk art outside @BankofAmerica: Theft. Fraud.")


# --- addressed to the brand ---------------------------------------------------------


def test_plain_retweet_is_not_addressed() -> None:
    signals = _signals(
        CHALK,
        _post(
            "2",
            "@fan",
            "RT @chalk: Chalk art outside @BankofAmerica: Theft. Fraud.",
            "retweet",
            retweet_of="1",
        ),
    )

    assert signals.chain.addressed_to_brand is False
    assert "retweet" == signals.chain.target_kind
    assert [] == _cues(signals)


def test_retweet_of_a_brand_post_is_not_addressed() -> None:
    signals = _signals(
        _post("1", "@BofA_Help", "We are here to help"),
        _post(
            "2", "@fan", "RT @BofA_Help: We are here to help", "retweet", retweet_of="1"
        ),
    )

    assert signals.chain.addressed_to_brand is False
    assert signals.chain.is_brand_original is True


def test_quote_whose_only_brand_mention_is_in_the_quoted_post_is_not_addressed() -> (
    None
):
    signals = _signals(CHALK, _post("2", "@fan", "this is art", "quote", quote_of="1"))

    assert signals.chain.addressed_to_brand is False
    assert "@chalk" == signals.chain.original_author


def test_direct_mention_is_addressed_with_its_span() -> None:
    text = "my card was declined twice, @BofA_Help can you check?"
    signals = _signals(_post("1", "@fan", text))

    assert signals.chain.addressed_to_brand is True
    [evidence] = [e for e in signals.chain.evidence if e.cue == "mention"]
    assert "1" == evidence.post_id
    assert "@BofA_Help" == text[evidence.start : evidence.end]
    assert "@BofA_Help" == evidence.text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("hey @bofa_help, help", id="lowercase"),
        pytest.param("hey @BOFA_HELP help", id="uppercase"),
        pytest.param("hey @BofA_Help.", id="trailing-period"),
        pytest.param("(@BankofAmerica) why", id="in-parentheses"),
        pytest.param("@BofA_Help's app is down", id="possessive"),
    ],
)
def test_mention_matches_handles_case_insensitively(text: str) -> None:
    assert _signals(_post("1", "@fan", text)).chain.addressed_to_brand is True


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ask @BofA_Helpers about it", id="longer-handle"),
        pytest.param("mail help@BofA_Help.example today", id="email-address"),
        pytest.param("my card was declined twice", id="no-mention"),
    ],
)
def test_text_that_is_not_a_brand_mention_is_not_addressed(text: str) -> None:
    brandless = Brand.build(handles=["@BofA_Help"])

    signals = _signals(_post("1", "@fan", text), brand=brandless)

    assert signals.chain.addressed_to_brand is False


def test_reply_to_a_brand_post_is_addressed() -> None:
    signals = _signals(
        _post("1", "@BofA_Help", "We are here to help, listen, and learn"),
        _post(
            "2",
            "@fan",
            "nobody. had. any. account. related. inquiries.",
            "reply",
            in_reply_to="1",
        ),
    )

    assert signals.chain.addressed_to_brand is True
    assert ["reply_to_brand"] == _cues(signals)
    assert signals.chain.brand_in_chain is True
    assert signals.chain.is_brand_original is True


def test_quote_of_a_brand_post_is_addressed() -> None:
    signals = _signals(
        _post("1", "@BofA_Help", "We are here to help"),
        _post("2", "@fan", "sure you are", "quote", quote_of="1"),
    )

    assert signals.chain.addressed_to_brand is True
    assert ["quote_of_brand"] == _cues(signals)


def test_reply_keeping_an_inherited_brand_handle_is_addressed_as_a_prefix_mention() -> (
    None
):
    """A poster who keeps the brand in a reply's handles speaks to it (scenario d-066)."""
    signals = _signals(
        CHALK,
        _post(
            "2",
            "@fan",
            "@chalk @BankofAmerica this is brilliant",
            "reply",
            in_reply_to="1",
        ),
    )

    assert signals.chain.addressed_to_brand is True
    cues = [
        e.cue for e in signals.chain.evidence if e.signal == "chain.addressed_to_brand"
    ]
    assert ["reply_prefix_mention"] == cues


def test_reply_with_leading_brand_handle_the_parent_did_not_have_is_addressed() -> None:
    text = "@chalk @BankofAmerica this is brilliant"
    signals = _signals(
        _post("1", "@chalk", "Chalk art outside the bank"),
        _post("2", "@fan", text, "reply", in_reply_to="1"),
    )

    assert signals.chain.addressed_to_brand is True
    [evidence] = [e for e in signals.chain.evidence if e.cue == "mention"]
    assert "@BankofAmerica" == text[evidence.start : evidence.end]


def test_inherited_handle_compares_case_insensitively() -> None:
    signals = _signals(
        _post("1", "@chalk", "Chalk art outside @bankofamerica"),
        _post("2", "@fan", "@Chalk @BankOfAmerica wow", "reply", in_reply_to="1"),
    )

    cues = [
        e.cue for e in signals.chain.evidence if e.signal == "chain.addressed_to_brand"
    ]
    assert ["reply_prefix_mention"] == cues


def test_brand_handle_repeated_in_own_words_after_inherited_prefix_is_addressed() -> (
    None
):
    signals = _signals(
        CHALK,
        _post(
            "2",
            "@fan",
            "@chalk @BankofAmerica hey @BankofAmerica explain this",
            "reply",
            in_reply_to="1",
        ),
    )

    assert signals.chain.addressed_to_brand is True


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("I am done with Bank of America", "Bank of America", id="exact"),
        pytest.param("done with bank of america", "bank of america", id="lowercase"),
        pytest.param("done with BANK OF AMERICA!", "BANK OF AMERICA", id="uppercase"),
        pytest.param(
            "done with Bank  of\nAmerica", "Bank  of\nAmerica", id="varied-spacing"
        ),
        pytest.param("bofa lost my deposit", "bofa", id="alias"),
    ],
)
def test_brand_name_in_own_words_is_addressed(text: str, found: str) -> None:
    signals = _signals(_post("1", "@fan", text))

    assert signals.chain.addressed_to_brand is True
    [evidence] = [e for e in signals.chain.evidence if e.cue == "brand_name"]
    assert found == text[evidence.start : evidence.end]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Bankofamerica is a word", id="no-spaces"),
        pytest.param("the bofab bakery", id="inside-a-word"),
    ],
)
def test_brand_name_inside_other_words_is_not_addressed(text: str) -> None:
    signals = _signals(
        _post("1", "@fan", text), brand=Brand.build(names=["Bank of America", "BofA"])
    )

    assert signals.chain.addressed_to_brand is False


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("RT @chalk: Chalk art outside @BankofAmerica", id="rt-prefix"),
        pytest.param("rt @chalk: done with Bank of America", id="rt-prefix-name"),
        pytest.param("so true RT @chalk: wow @BofA_Help", id="comment-then-rt"),
    ],
)
def test_manual_retweet_text_is_not_addressed(text: str) -> None:
    signals = _signals(_post("1", "@fan", text))

    assert signals.chain.addressed_to_brand is False


def test_own_words_before_a_manual_retweet_are_addressed() -> None:
    signals = _signals(_post("1", "@fan", "@BofA_Help explain RT @chalk: wow"))

    assert signals.chain.addressed_to_brand is True


def test_thread_brand_handles_override_the_brand() -> None:
    other = _post("1", "@fan", "hey @OtherBrand help me")
    brand_only = _post("1", "@fan", "hey @BofA_Help help me")

    assert (
        _signals(other, brand_handles=["@OtherBrand"]).chain.addressed_to_brand is True
    )
    assert (
        _signals(brand_only, brand_handles=["@OtherBrand"]).chain.addressed_to_brand
        is False
    )
    assert _signals(brand_only).chain.addressed_to_brand is True


def test_brand_handles_without_at_sign_match() -> None:
    signals = _signals(
        _post("1", "@fan", "hey @OtherBrand"), brand_handles=["otherbrand"]
    )

    assert signals.chain.addressed_to_brand is True


def test_mastodon_style_mention_matches_the_local_handle() -> None:
    signals = _signals(
        _post("1", "@fan@social.example", "hey @PixelForge@games.example broken patch"),
        brand=Brand.build(handles=["@PixelForge"]),
    )

    assert signals.chain.addressed_to_brand is True


def test_missing_target_is_not_addressed() -> None:
    signals = _signals(_post("1", "@fan", "@BofA_Help hi", missing=True))

    assert signals.chain.addressed_to_brand is False


# --- the brand itself ---------------------------------------------------------------


def test_target_is_brand() -> None:
    signals = _signals(
        _post("1", "@fan", "@BofA_Help hello"),
        _post(
            "2", "@BofA_Help", "@fan hi! @BofA_Help is here", "reply", in_reply_to="1"
        ),
    )

    assert signals.chain.target_is_brand is True
    assert signals.chain.addressed_to_brand is False
    assert 1 == signals.chain.brand_posts


def test_target_by_someone_else_is_not_brand() -> None:
    signals = _signals(_post("1", "@fan", "@BofA_Help hello"))

    assert signals.chain.target_is_brand is False
    assert 0 == signals.chain.brand_posts
    assert signals.chain.brand_in_chain is False


# --- structure ----------------------------------------------------------------------


def test_depth_and_original_author_of_a_reply_chain() -> None:
    signals = _signals(
        CHALK,
        _post("2", "@b", "@chalk yes", "reply", in_reply_to="1"),
        _post("3", "@c", "@b @BofA_Help why", "reply", in_reply_to="2"),
    )

    assert 2 == signals.chain.depth
    assert "reply" == signals.chain.target_kind
    assert "@chalk" == signals.chain.original_author


# --- amplification ------------------------------------------------------------------


def test_amplification_from_metrics() -> None:
    signals = _signals(
        {**CHALK, "metrics": {"retweets": 400, "quotes": 12, "likes": 9000}},
        _post("2", "@fan", "RT @chalk: Chalk art", "retweet", retweet_of="1"),
    )

    assert 412 == signals.chain.amplification
    [evidence] = [
        e for e in signals.chain.evidence if e.signal == "chain.amplification"
    ]
    assert "1" == evidence.post_id


def test_amplification_from_counted_retweets_and_quotes() -> None:
    posts = [CHALK]
    posts += [
        _post(str(i), f"@fan{i}", "RT @chalk: Chalk art", "retweet", retweet_of="1")
        for i in range(2, 6)
    ]
    posts += [_post("6", "@q", "look at this", "quote", quote_of="1")]
    posts += [_post("7", "@late", "RT @chalk: Chalk art", "retweet", retweet_of="1")]

    signals = _signals(*posts)

    assert 6 == signals.chain.amplification


def test_amplification_takes_the_larger_of_metrics_and_counts() -> None:
    posts = [{**CHALK, "metrics": {"retweets": 2}}]
    posts += [
        _post(str(i), f"@fan{i}", "RT @chalk: x", "retweet", retweet_of="1")
        for i in range(2, 6)
    ]

    assert 4 == _signals(*posts).chain.amplification


def test_amplification_of_a_lone_post_is_zero() -> None:
    assert 0 == _signals(_post("1", "@fan", "@BofA_Help hi")).chain.amplification


# --- near duplicates ----------------------------------------------------------------


def test_near_duplicates_counts_posts_saying_the_same_thing() -> None:
    signals = _signals(
        _post("1", "@a", "Theft. Illegal Foreclosures. Fraud. @BofA_Help"),
        _post("2", "@b", "Theft. Illegal foreclosures. Fraud! @BofA_Help"),
        _post("3", "@c", "I just want to know my balance please"),
        _post("4", "@d", "Theft. Illegal Foreclosures. Fraud. @BofA_Help"),
    )

    assert 2 == signals.chain.near_duplicates
    found = sorted(e.post_id for e in signals.chain.evidence if e.cue == "same_text")
    assert ["1", "2"] == found


def test_near_duplicates_ignore_the_brand_and_short_texts() -> None:
    brand_echo = _signals(
        _post("1", "@BofA_Help", "We are here to help, listen, and learn"),
        _post(
            "2",
            "@fan",
            "We are here to help, listen, and learn",
            "reply",
            in_reply_to="1",
        ),
    )
    short = _signals(_post("1", "@a", "lol ok"), _post("2", "@b", "lol ok"))

    assert 0 == brand_echo.chain.near_duplicates
    assert 0 == short.chain.near_duplicates


# --- the reply, read against the thread ---------------------------------------------

CANNED = "We are here to help, listen, and learn from our customers"


def test_reply_repeating_a_brand_post_with_another_leading_handle() -> None:
    signals = _signals(
        _post("1", "@x", "hello @BofA_Help"),
        _post("2", "@BofA_Help", f"@x {CANNED}", "reply", in_reply_to="1"),
        _post("3", "@y", "@BofA_Help lol", "reply", in_reply_to="2"),
        reply=f"@y {CANNED}",
    )

    assert 1.0 == signals.reply.repeats_brand_post
    assert ["2"] == [
        e.post_id
        for e in signals.reply.evidence
        if e.signal == "reply.repeats_brand_post"
    ]
    assert ("@y",) == signals.reply.mentions


def test_reply_not_repeating_anything() -> None:
    signals = _signals(
        _post("1", "@x", "hello @BofA_Help"),
        _post("2", "@BofA_Help", f"@x {CANNED}", "reply", in_reply_to="1"),
        _post("3", "@y", "@BofA_Help lol", "reply", in_reply_to="2"),
        reply="@y Your card replacement ships tomorrow morning.",
    )

    assert signals.reply.repeats_brand_post < 0.5
    assert () == signals.reply.evidence


def test_reply_with_no_brand_post_in_thread_repeats_nothing() -> None:
    signals = _signals(_post("1", "@x", "hello @BofA_Help"), reply=f"@x {CANNED}")

    assert 0.0 == signals.reply.repeats_brand_post
    assert len(f"@x {CANNED}") == signals.reply.length


def test_no_reply_gives_empty_reply_signals() -> None:
    signals = _signals(_post("1", "@x", "hello @BofA_Help"))

    assert 0 == signals.reply.length
    assert () == signals.reply.mentions


def test_analyze_names_its_analyzers() -> None:
    signals = _signals(_post("1", "@x", "hello @BofA_Help"))

    assert (
        "chain.v1",
        "sarcasm.v1",
        "tone.v1",
        "intent.v1",
        "reply.v1",
        "language.v1",
    ) == signals.analyzers
