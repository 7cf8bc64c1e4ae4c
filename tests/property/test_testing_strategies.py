# (house style, STYLE.md 9: tests assert `expected == actual`)
"""The shipped strategies: valid models, bounds kept, evasions the policy sees through."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from replyguard import Post, Reply, Thread
from replyguard.analysis.normalize import normalize
from replyguard.policy import Policy
from replyguard.testing.properties import assert_never
from replyguard.testing.strategies import (
    EVASION_KINDS,
    POST_KINDS,
    crisis_posts,
    evasions,
    grief_posts,
    hostile_posts,
    posts,
    replies,
    retweet_storms,
    sarcastic_posts,
    service_requests,
    threads,
)

FEW = settings(max_examples=40, deadline=None)

INSULTS = ("scumbags", "bastards", "dumbass", "parasites", "vermin", "motherfuckers")
SLURS = tuple(
    term
    for term in yaml.safe_load(
        files("replyguard").joinpath("_data/lexicons/slurs.yaml").read_text("utf-8")
    )["terms"]["strong"]
    if term.isalpha()
)
"""The one-word slurs of the shipped lexicon (read, not repeated here)."""

HOLDING_KINDS = ("homoglyphs", "zero_width")
"""The evasions the default policy sees through in any word of a hostile post.

Not in this list, and reported (see docs/testing-your-bot.md, "What the default
policy does not see through"): ``leetspeak`` of a short word of a phrase or at a
word's end (``g0 to hell``, ``dumb455``), ``spacing`` of a word of three letters or
less, or of two neighbouring words, and ``elongation`` of a word of two letters
(``gggo to hell``). Elongation of longer words (``fuuuck you``) was found by these
tests and fixed in `normalize`: see the elongation tests below.
"""


def _depth(thread: Thread, post: Post) -> int:
    depth = 0
    while post.parent_id is not None:
        post = thread.post(post.parent_id)
        depth += 1
    return depth


def _round_trips(model: Thread | Post | Reply) -> bool:
    return model == type(model).model_validate(model.model_dump(mode="json"))


# --- threads --------------------------------------------------------------------


@FEW
@given(threads())
def test_threads_are_valid_and_round_trip(thread):
    assert _round_trips(thread)
    assert "original" == thread.posts[0].kind
    for index, post in enumerate(thread.posts):
        earlier = {p.id for p in thread.posts[:index]}
        for ref in (post.in_reply_to, post.retweet_of, post.quote_of):
            assert ref is None or ref in earlier


@FEW
@given(threads())
def test_a_retweet_carries_its_original(thread):
    for post in thread.posts:
        if post.kind == "retweet":
            original = thread.post(post.retweet_of)
            assert "retweet" != original.kind
            assert f"RT {original.author}: {original.text}" == post.text


@FEW
@given(
    st.sampled_from([("retweet",), ("reply", "quote"), ("original",), POST_KINDS]),
    st.integers(1, 6),
    st.integers(0, 6),
    st.integers(1, 3),
    st.data(),
)
def test_threads_keep_their_kinds_and_bounds(kinds, low, extra, max_depth, data):
    low = max(low, 1 if "original" in kinds else 2)
    thread = data.draw(
        threads(kinds=kinds, min_posts=low, max_posts=low + extra, max_depth=max_depth)
    )

    assert low <= len(thread.posts) <= low + extra
    assert {post.kind for post in thread.posts[1:]} <= set(kinds)
    assert thread.target_post.kind in kinds
    assert all(_depth(thread, post) <= max_depth for post in thread.posts)


@FEW
@given(threads(crowds=True, min_posts=8, max_posts=20))
def test_crowds_are_many_authors_around_one_root(thread):
    root = thread.posts[0]

    assert len(thread.posts) == len({post.handle for post in thread.posts})
    assert all(post.parent_id == root.id for post in thread.posts[1:])
    assert root.id == thread.crowd


@FEW
@given(threads(target="any", platform="bluesky", brand_handles=("@Zed",)))
def test_threads_take_a_target_a_platform_and_handles(thread):
    assert "bluesky" == thread.platform
    assert ("@Zed",) == thread.brand_handles
    assert thread.target is None or thread.get(thread.target) is not None


@FEW
@given(threads(mentions=True, kinds=("original", "reply", "quote")))
def test_mentions_address_every_post_to_the_brand(thread):
    for post in thread.posts:
        if post.handle not in ("acme", "acmehelp"):
            assert post.text.startswith(("@Acme ", "@AcmeHelp "))


@FEW
@given(retweet_storms(min_size=6, max_size=30))
def test_retweet_storms_are_mostly_retweets_of_one_post(thread):
    storm = thread.posts[1:]
    retweets = [post for post in storm if post.kind == "retweet"]

    assert _round_trips(thread)
    assert 6 <= len(storm) <= 30
    assert 3 * len(retweets) >= 2 * len(storm)
    assert all(post.parent_id == "1" for post in storm)
    assert len(storm) == len({post.handle for post in storm})
    assert thread.target in {post.id for post in storm}
    assert thread.posts[0].metrics.retweets >= len(retweets)
    assert "@Acme" in thread.posts[0].text


def test_the_default_policy_never_answers_into_a_mocking_storm():
    assert_never(
        Policy.packaged("default"),
        "allow",
        over=retweet_storms(max_size=8, mocking=True),
        max_examples=40,
    )


# --- posts and replies -------------------------------------------------------------


@FEW
@given(posts(kinds=("reply", "quote"), authors=("@ann", "@bo")))
def test_posts_keep_their_kinds_and_authors(post):
    assert _round_trips(post)
    assert post.kind in ("reply", "quote")
    assert post.author in ("@ann", "@bo")
    assert "0" == post.parent_id


@FEW
@given(replies(with_links=True))
def test_replies_with_links_carry_them(reply):
    assert _round_trips(reply)
    assert 1 == len(reply.links)
    assert reply.text.endswith(reply.links[0])


@FEW
@given(replies(texts=st.just("ok")))
def test_replies_take_texts(reply):
    assert Reply(text="ok") == reply


@FEW
@given(
    st.one_of(
        sarcastic_posts(),
        grief_posts(),
        hostile_posts(),
        crisis_posts(),
        service_requests(),
    )
)
def test_text_strategies_give_plain_text(text):
    assert text.strip() == text
    assert len(text) >= 8


# --- evasions ------------------------------------------------------------------------


@FEW
@given(st.sampled_from(EVASION_KINDS), st.data())
def test_evasions_change_the_text(kind, data):
    text = data.draw(hostile_posts())

    evaded = data.draw(evasions(text, kinds=(kind,)))

    assert text != evaded


@FEW
@given(evasions(hostile_posts(), kinds=("homoglyphs", "zero_width")))
def test_normalize_undoes_homoglyphs_and_zero_width(text):
    evaders = re.compile("[\u200b\u200c\u200d\u2060\u0400-\u04ff\u0370-\u03ff]")

    assert evaders.search(text)
    assert None is evaders.search(normalize(text).text)


@FEW
@given(
    st.sampled_from(INSULTS + SLURS),
    st.sampled_from(("homoglyphs", "zero_width")),
    st.data(),
)
def test_normalize_maps_an_evaded_word_back(word, kind, data):
    evaded = data.draw(evasions(word, kinds=(kind,)))

    assert word == normalize(evaded).text


@FEW
@given(st.sampled_from(INSULTS + SLURS), st.data())
def test_normalize_maps_an_elongated_word_back_with_a_vocabulary(word, data):
    evaded = data.draw(evasions(word, kinds=("elongation",)))

    assert word == normalize(evaded, vocabulary=frozenset(INSULTS + SLURS)).text


@FEW
@given(st.sampled_from(INSULTS + SLURS), st.data())
def test_normalize_joins_a_spaced_word(word, data):
    evaded = data.draw(evasions(word, kinds=("spacing",)))

    assert " ".join(word) == evaded
    # three spaced letters are joined when they spell a word the analyzers look for
    assert word == normalize(evaded, vocabulary=frozenset(INSULTS + SLURS)).text


@FEW
@given(st.sampled_from(EVASION_KINDS), st.data())
def test_evasions_leave_handles_and_urls_alone(kind, data):
    text = "@Acme https://example.com/scam #scam you scumbags"

    evaded = data.draw(evasions(text, kinds=(kind,)))

    assert evaded.startswith("@Acme https://example.com/scam #scam ")


def _addressed(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Thread]:
    return threads(
        kinds=("original",), max_posts=1, texts=texts, mentions=True, platform="x"
    )


def test_the_default_policy_holds_hostile_posts():
    assert_never(
        Policy.packaged("default"),
        "allow",
        over=_addressed(hostile_posts()),
        max_examples=60,
    )


@pytest.mark.parametrize("kind", HOLDING_KINDS)
def test_the_default_policy_holds_hostile_posts_through_evasion(kind):
    assert_never(
        Policy.packaged("default"),
        "allow",
        over=_addressed(evasions(hostile_posts(), kinds=(kind,))),
        max_examples=100,
    )


@pytest.mark.parametrize("kind", HOLDING_KINDS)
def test_the_default_policy_holds_evaded_slurs_and_insults(kind):
    words = st.sampled_from(INSULTS + SLURS).map(lambda word: f"you {word}")

    assert_never(
        Policy.packaged("default"),
        "allow",
        over=_addressed(evasions(words, kinds=(kind,))),
        max_examples=100,
    )


def test_the_default_policy_holds_elongated_insults_and_slurs():
    words = st.sampled_from(INSULTS + SLURS).map(lambda word: f"you {word}")

    assert_never(
        Policy.packaged("default"),
        "allow",
        over=_addressed(evasions(words, kinds=("elongation",))),
        max_examples=100,
    )


def test_the_default_policy_holds_one_spaced_insult():
    words = st.sampled_from(INSULTS + SLURS).map(lambda word: f"you {' '.join(word)}")

    assert_never(
        Policy.packaged("default"), "allow", over=_addressed(words), max_examples=40
    )


# --- argument validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "match"),
    [
        (threads(min_posts=3, max_posts=2), "min_posts=3 must not be greater than"),
        (threads(min_posts=0), "min_posts=0 must be at least 1"),
        (threads(max_posts=2.5), "max_posts=2.5 must be an integer"),
        (threads(kinds=("retweet",), max_posts=1), "use max_posts >= 2"),
        (threads(kinds=("repost",)), "unknown 'repost'"),
        (threads(kinds="retweet"), "must be a sequence of strings"),
        (threads(kinds=()), "must name at least one"),
        (threads(max_depth=0), "max_depth=0 must be at least 1"),
        (threads(crowds=1), "crowds=1 must be True or False"),
        (threads(platform="myspace"), "platform='myspace' must be None or one of"),
        (threads(brand_handles=()), "must hold at least one handle"),
        (threads(brand_handles=("Acme",)), "'Acme' is not a handle"),
        (threads(texts=["hi"]), "must be a strategy of strings"),
        (threads(target="first"), "target='first' must be 'last' or 'any'"),
        (threads(mentions="yes"), "mentions='yes' must be True, False or None"),
        (threads(crowds=True, kinds=("original",)), "crowds=True needs a kind"),
        (posts(kinds=("tweet",)), "unknown 'tweet'"),
        (posts(authors=("ann",)), "'ann' is not a handle"),
        (retweet_storms(min_size=9, max_size=3), "min_size=9 must not be greater"),
        (retweet_storms(mocking="yes"), "mocking='yes' must be True, False or None"),
        (replies(with_links=None), "with_links=None must be True or False"),
        (evasions("x", kinds=("rot13",)), "unknown 'rot13'"),
        (evasions(42), "texts=42 must be a string or a strategy"),
    ],
)
def test_bad_arguments_raise_invalid_argument_on_first_use(strategy, match):
    # defining the strategy (at collection, above) raised nothing: validation is lazy
    with pytest.raises(InvalidArgument, match=re.escape(match)):
        strategy.validate()


def test_a_valid_strategy_validates():
    threads(kinds=("retweet",), max_posts=2).validate()
