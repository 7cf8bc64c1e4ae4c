# ruff: noqa: RUF001, RUF002  # lookalike characters are this module's subject
"""
Hypothesis strategies for threads, replies and the texts that trouble reply bots.

Build the inputs of property tests of a policy (see `replyguard.testing.properties`
and ``docs/testing-your-bot.md``)::

    from hypothesis import given
    from replyguard.testing.strategies import threads

    @given(threads(kinds=("retweet",)))
    def test_never_answers_a_retweet(thread): ...

The API follows Hypothesis's own style guide: strategy functions are plural nouns,
every option is keyword-only, and arguments are checked *lazily*: a bad argument
raises `hypothesis.errors.InvalidArgument` when the strategy is first used (drawn
from, or validated by ``@given``), not when it is defined, exactly as Hypothesis's
strategies do. A strategy defined at module level with a bad argument therefore
fails the tests that use it, with a message naming the argument.

Every generated thread is valid: references name *earlier* posts, a retweet's text
is ``RT @author: <text of the original>``, and ids are unique. Shrinking goes
towards short threads of plain, first-choice phrases.

Importing this module imports Hypothesis; ``replyguard.testing`` does not import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from replyguard.models import POST_KINDS, Metrics, Post, Reply, Thread

__all__ = [
    "DEFAULT_BRAND_HANDLES",
    "EVASION_KINDS",
    "PLATFORMS",
    "POST_KINDS",
    "crisis_posts",
    "evasions",
    "grief_posts",
    "hostile_posts",
    "posts",
    "replies",
    "retweet_storms",
    "sarcastic_posts",
    "service_requests",
    "threads",
]

_T = TypeVar("_T")

DEFAULT_BRAND_HANDLES: tuple[str, ...] = ("@Acme", "@AcmeHelp")
"""The brand accounts of generated threads unless you pass `brand_handles`."""

EVASION_KINDS: tuple[str, ...] = (
    "leetspeak",
    "homoglyphs",
    "zero_width",
    "spacing",
    "elongation",
)
"""The rewrites `evasions` knows, in the order it prefers them while shrinking."""

PLATFORMS: tuple[str, ...] = ("x", "bluesky", "mastodon", "other")
"""The values of `Thread.platform`."""

_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""The time of a generated thread's first post (three hours before the fixed clock
of `replyguard.testing.properties`)."""

# --- phrase banks -------------------------------------------------------------------
# Short lists of realistic fragments. The first entry of each list is the plainest:
# Hypothesis shrinks towards it.

_NAMES = (
    "ann",
    "bo",
    "chidi",
    "dana",
    "eli",
    "fatima",
    "gus",
    "hana",
    "ivan",
    "jo",
    "kemal",
    "lena",
    "mo",
    "nia",
    "omar",
    "priya",
)
_CHATTER = (
    "just landed",
    "new phone who dis",
    "anyone else watching the game tonight",
    "coffee first, then the world",
    "this weather though",
    "finally got tickets for the show",
    "thinking about switching providers",
    "saw the new ad on tv",
)
_ABOUT_BRAND = (
    "I love the new app update",
    "the new store downtown looks great",
    "is the sale still on this weekend",
    "shoutout to the staff at the airport desk",
    "can't believe this is real",
    "the new logo is something",
    "who approved this campaign",
    "this ad is everywhere",
)
_SERVICE_OPENERS = ("", "hi, ", "hey ", "hello, ", "quick question: ", "help! ")
_SERVICE_BODIES = (
    "my order hasn't arrived",
    "I was charged twice for my subscription",
    "I can't log in to my account",
    "where is my refund",
    "I returned the blender three weeks ago and still no refund",
    "my card keeps getting declined",
    "the app is not working since the update",
    "my flight was cancelled and I need a new booking",
    "how do I change my plan",
    "my internet is down again",
    "my package says delivered but it isn't here",
)
_SERVICE_ENDINGS = (
    "",
    ", can you help?",
    ". please help",
    ". any update?",
    ", what should I do?",
    " - order #48213",
)
_SARCASM_OPENERS = (
    "oh great",
    "wow, thanks",
    "love how",
    "gotta love it when",
    "nothing says customer service like",
    "so glad I",
    "bravo",
)
_SARCASM_BODIES = (
    "my flight got delayed for the third time",
    "I spent two hours on hold",
    "the app crashed right at checkout",
    "you charged me a hidden fee",
    "my package never arrived",
    "the internet is down again",
    "a canned reply is all I get",
)
_SARCASM_ENDINGS = (
    "",
    " 🙄",
    " /s",
    ". thanks for nothing",
    ". truly the best",
    " #not",
    ". 10/10 would get burned again",
)
_GRIEF_OPENERS = ("", "I'm writing because ", "please, ", "this is so hard, ")
_GRIEF_BODIES = (
    "my mom passed away last week",
    "my husband died in March",
    "we lost my dad to cancer",
    "our son passed away suddenly",
    "I'm handling the estate of my late father",
    "my dog died this morning",
    "I need to close my wife's account since she passed",
)
_GRIEF_ENDINGS = (
    "",
    " and I don't know what to do with his account",
    ". the funeral is on friday",
    " and you keep sending her bills",
    " 💔",
)
_HOSTILE_OPENERS = ("", "hey ", "honestly ", "listen ")
_HOSTILE_BODIES = (
    "you are scumbags",
    "fuck you",
    "go to hell",
    "you bastards stole my money",
    "rot in hell",
    "you absolute dumbass",
    "piece of shit company",
    "you scumbag thieves",
    "kill yourself",
)
_HOSTILE_ENDINGS = ("", "!", "!!!", " 🖕", " 😡", ". never again")
_CRISIS_OPENERS = ("", "URGENT: ", "please help, ", "help ")
_CRISIS_BODIES = (
    "my charger is sparking and the room is full of smoke",
    "the heater caught fire in my kitchen",
    "there is a gas leak in the building",
    "someone is following me from your store",
    "my son had an allergic reaction to your snack and we're in the emergency room",
    "the passenger next to me is unconscious",
    "my phone exploded in my hand",
    "someone stole my card and is draining my account right now",
)
_CRISIS_ENDINGS = ("", ", what do I do", ". I called 911", " - please hurry")
_BRAND_REPLIES = (
    "We're here to help! DM us.",
    "Sorry to hear that. Please send us a DM with your order number.",
    "Thanks for reaching out! We're looking into it.",
    "We hear you. Our team will follow up shortly.",
    "Thanks for the kind words!",
    "Hi there, could you tell us a bit more?",
    "We're sorry for the trouble. Please DM us so we can help.",
)
_QUOTE_COMMENTS = (
    "this",
    "lol",
    "can't make this up",
    "same thing happened to me",
    "so true",
    "wow",
    "👀",
    "😂😂",
)
_LINKS = (
    "https://example.com/help",
    "https://example.com/status",
    "https://example.com/returns",
)

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"}
_HOMOGLYPHS = {
    "a": "а",  # Cyrillic
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "x": "х",
    "A": "А",
    "E": "Е",
    "O": "О",
    "P": "Р",
    "C": "С",
    "X": "Х",
}
_GREEK_O = "ο"
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
_WORD = re.compile(r"[^\W\d_]{2,}")
_SKIPPED_TOKEN = re.compile(r"\S*(?:@|#|://|www\.)\S*")
"""Handles, hashtags, addresses and URLs: `evasions` leaves their tokens alone."""


# --- argument validation ---------------------------------------------------------------


def _lazy(
    build: Callable[[], st.SearchStrategy[_T]], name: str, **arguments: object
) -> st.SearchStrategy[_T]:
    # `deferred` calls `build` the first time the strategy is used, so that a bad
    # argument raises there (Hypothesis's convention), not at definition. Until then
    # the strategy's repr is ``deferred(<name>(<arguments>))``.
    build.__name__ = build.__qualname__ = (
        f"{name}({', '.join(f'{key}={value!r}' for key, value in arguments.items())})"
    )
    return st.deferred(build)


def _check_int(name: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(
            f"{name}={value!r} must be an integer, not {type(value).__name__}"
        )
    if value < low:
        raise InvalidArgument(f"{name}={value!r} must be at least {low}")
    return value


def _check_bounds(
    min_name: str, min_value: object, max_name: str, max_value: object, *, low: int
) -> tuple[int, int]:
    low_value = _check_int(min_name, min_value, low=low)
    high_value = _check_int(max_name, max_value, low=low)
    if low_value > high_value:
        raise InvalidArgument(
            f"{min_name}={low_value!r} must not be greater than "
            f"{max_name}={high_value!r}"
        )
    return low_value, high_value


def _check_choices(name: str, value: object, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgument(
            f"{name}={value!r} must be a sequence of strings such as "
            f"{tuple(allowed)!r}, not {type(value).__name__}"
        )
    chosen = tuple(value)
    if not chosen:
        raise InvalidArgument(f"{name}={value!r} must name at least one of {allowed}")
    unknown = [item for item in chosen if item not in allowed]
    if unknown:
        raise InvalidArgument(
            f"{name}={value!r}: unknown {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(map(repr, allowed))}"
        )
    return tuple(dict.fromkeys(chosen))


def _check_handles(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidArgument(
            f"{name}={value!r} must be a sequence of handles such as ('@Acme',)"
        )
    handles = tuple(value)
    if not handles:
        raise InvalidArgument(f"{name}={value!r} must hold at least one handle")
    for handle in handles:
        if not isinstance(handle, str) or not handle.startswith("@") or len(handle) < 2:
            raise InvalidArgument(
                f"{name}: {handle!r} is not a handle (a string like '@Acme')"
            )
    return handles


def _check_bool(name: str, value: object, *, optional: bool = False) -> bool | None:
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        expected = "True, False or None" if optional else "True or False"
        raise InvalidArgument(f"{name}={value!r} must be {expected}")
    return value


def _check_texts(
    name: str, value: object, default: Callable[[], st.SearchStrategy[str]]
) -> st.SearchStrategy[str]:
    if value is None:
        return default()
    if isinstance(value, st.SearchStrategy):
        return value
    raise InvalidArgument(
        f"{name}={value!r} must be a strategy of strings (such as "
        "st.sampled_from([...])) or None"
    )


def _authors_strategy(value: object) -> st.SearchStrategy[str]:
    if value is None:
        return st.builds(
            lambda name, number: f"@{name}{number}",
            st.sampled_from(_NAMES),
            st.integers(0, 999),
        )
    if isinstance(value, st.SearchStrategy):
        return value
    handles = _check_handles("authors", value)
    return st.sampled_from(handles)


# --- texts ---------------------------------------------------------------------------


def _templated(
    openers: Sequence[str], bodies: Sequence[str], endings: Sequence[str]
) -> st.SearchStrategy[str]:
    def join(opener: str, body: str, ending: str) -> str:
        text = f"{opener}{body}{ending}"
        return text[:1].upper() + text[1:] if opener == "" else text

    return st.builds(
        join,
        st.sampled_from(openers),
        st.sampled_from(bodies),
        st.sampled_from(endings),
    )


def service_requests() -> st.SearchStrategy[str]:
    """
    Return a strategy of customer-service requests: orders, bills, logins, refunds.

    Example::

        >>> service_requests().example()  # doctest: +SKIP
        "hi, my order hasn't arrived, can you help?"
    """
    return _templated(_SERVICE_OPENERS, _SERVICE_BODIES, _SERVICE_ENDINGS)


def sarcastic_posts() -> st.SearchStrategy[str]:
    """
    Return a strategy of sarcastic complaints: praise of a bad situation, /s, 🙄.

    Example::

        >>> sarcastic_posts().example()  # doctest: +SKIP
        'oh great my flight got delayed for the third time 🙄'
    """
    return st.builds(
        lambda opener, body, ending: f"{opener} {body}{ending}",
        st.sampled_from(_SARCASM_OPENERS),
        st.sampled_from(_SARCASM_BODIES),
        st.sampled_from(_SARCASM_ENDINGS),
    )


def grief_posts() -> st.SearchStrategy[str]:
    """
    Return a strategy of posts by someone grieving: a death, a loss, an estate.

    Example::

        >>> grief_posts().example()  # doctest: +SKIP
        'My mom passed away last week. the funeral is on friday'
    """
    return _templated(_GRIEF_OPENERS, _GRIEF_BODIES, _GRIEF_ENDINGS)


def hostile_posts() -> st.SearchStrategy[str]:
    """
    Return a strategy of abusive posts: insults and profanity aimed at people.

    Every text carries a strong insult, so that a post addressed to the brand is held
    by the default policy (the property `docs/testing-your-bot.md` checks).

    Example::

        >>> hostile_posts().example()  # doctest: +SKIP
        'honestly you are scumbags!!!'
    """
    return _templated(_HOSTILE_OPENERS, _HOSTILE_BODIES, _HOSTILE_ENDINGS)


def crisis_posts() -> st.SearchStrategy[str]:
    """
    Return a strategy of emergencies: fire, injury, danger, fraud in progress.

    Example::

        >>> crisis_posts().example()  # doctest: +SKIP
        'URGENT: there is a gas leak in the building. I called 911'
    """
    return _templated(_CRISIS_OPENERS, _CRISIS_BODIES, _CRISIS_ENDINGS)


def _any_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_CHATTER),
        st.sampled_from(_ABOUT_BRAND),
        service_requests(),
        sarcastic_posts(),
        grief_posts(),
        hostile_posts(),
        crisis_posts(),
    )


# --- evasions ------------------------------------------------------------------------


def _applicable(kind: str, word: str) -> bool:
    if kind == "leetspeak":
        return any(char.lower() in _LEET for char in word)
    if kind == "homoglyphs":
        return any(char in _HOMOGLYPHS for char in word)
    return len(word) >= 2  # zero_width, spacing, elongation


def _evade_word(draw: st.DrawFn, kind: str, word: str) -> str:
    if kind in ("leetspeak", "homoglyphs"):
        spots = [
            index
            for index, char in enumerate(word)
            if (char.lower() in _LEET if kind == "leetspeak" else char in _HOMOGLYPHS)
        ]
        chosen = draw(
            st.sets(st.sampled_from(spots), min_size=1).map(sorted)
            if len(spots) > 1
            else st.just(spots)
        )
        chars = list(word)
        for index in chosen:
            if kind == "leetspeak":
                chars[index] = _LEET[chars[index].lower()]
            elif chars[index] == "o" and draw(st.booleans()):
                chars[index] = _GREEK_O
            else:
                chars[index] = _HOMOGLYPHS[chars[index]]
        return "".join(chars)
    if kind == "zero_width":
        gaps = draw(st.sets(st.integers(1, len(word) - 1), min_size=1).map(sorted))
        out = []
        for index, char in enumerate(word):
            if index in gaps:
                out.append(draw(st.sampled_from(_ZERO_WIDTH)))
            out.append(char)
        return "".join(out)
    if kind == "spacing":
        return " ".join(word)
    # elongation: one letter written three to six times
    index = draw(st.integers(0, len(word) - 1))
    times = draw(st.integers(3, 6))
    return word[:index] + word[index] * times + word[index + 1 :]


def _words(text: str) -> list[tuple[int, int]]:
    skipped = [match.span() for match in _SKIPPED_TOKEN.finditer(text)]
    return [
        match.span()
        for match in _WORD.finditer(text)
        if not any(start <= match.start() < end for start, end in skipped)
    ]


@st.composite
def _evaded(
    draw: st.DrawFn, texts: st.SearchStrategy[str], kinds: tuple[str, ...]
) -> str:
    text = draw(texts)
    spans = [
        span
        for span in _words(text)
        if any(_applicable(k, text[slice(*span)]) for k in kinds)
    ]
    if not spans:
        return text
    chosen = draw(st.sets(st.sampled_from(range(len(spans))), min_size=1))
    out = text
    for index in sorted(chosen, reverse=True):  # right to left keeps offsets valid
        start, end = spans[index]
        word = text[start:end]
        kind = draw(st.sampled_from([k for k in kinds if _applicable(k, word)]))
        out = out[:start] + _evade_word(draw, kind, word) + out[end:]
    return out


def evasions(
    texts: st.SearchStrategy[str] | str,
    *,
    kinds: Sequence[str] = EVASION_KINDS,
) -> st.SearchStrategy[str]:
    """
    Return a strategy of `texts` rewritten the way people dodge word lists.

    One or more words (runs of two letters or more, outside handles, hashtags and
    URLs) are rewritten, each with one of `kinds`:

    - ``leetspeak``: a->4, e->3, i->1, o->0, s->5 (``h4t3``);
    - ``homoglyphs``: Latin a e o p c x become the Cyrillic а е о р с х (and their
      capitals), o sometimes the Greek ο;
    - ``zero_width``: U+200B, U+200C, U+200D or U+2060 inside the word;
    - ``spacing``: the letters spaced out (``h a t e``);
    - ``elongation``: one letter written three to six times (``haaate``).

    The result differs from the text whenever some word allows one of `kinds`; a
    text with no such word comes back unchanged.

    Args:
        texts: a strategy of texts, or one text.
        kinds: the rewrites to use (a non-empty subset of `EVASION_KINDS`).

    Raises:
        hypothesis.errors.InvalidArgument: on first use, for an unknown kind or a
            `texts` that is neither a string nor a strategy.

    Example::

        >>> evasions("you scumbags", kinds=("leetspeak",)).example()  # doctest: +SKIP
        'you 5cumb4gs'
    """

    def build() -> st.SearchStrategy[str]:
        chosen = _check_choices("kinds", kinds, EVASION_KINDS)
        if isinstance(texts, str):
            base: st.SearchStrategy[str] = st.just(texts)
        elif isinstance(texts, st.SearchStrategy):
            base = texts
        else:
            raise InvalidArgument(
                f"texts={texts!r} must be a string or a strategy of strings"
            )
        return _evaded(base, chosen)

    return _lazy(build, "evasions", texts=texts, kinds=kinds)


# --- posts and threads -------------------------------------------------------------


def _mention(
    draw: st.DrawFn, text: str, handles: tuple[str, ...], *, mode: bool | None
) -> str:
    if mode is False or (mode is None and not draw(st.booleans())):
        return text
    handle = draw(st.sampled_from(handles))
    return f"{handle} {text}"


def _retweet_text(original: Post) -> str:
    return f"RT {original.author}: {original.text}"


@st.composite
def _post(
    draw: st.DrawFn,
    *,
    post_id: str,
    kind: str,
    author: str,
    parent: Post | None,
    brand: bool,
    texts: st.SearchStrategy[str],
    handles: tuple[str, ...],
    mentions: bool | None,
    created_at: datetime | None,
) -> Post:
    values: dict[str, object] = {
        "id": post_id,
        "author": author,
        "kind": kind,
        "created_at": created_at,
    }
    if kind == "retweet":
        if parent is None:  # pragma: no cover - callers always pass one
            raise ValueError("a retweet needs a parent")
        values["retweet_of"] = parent.id
        values["text"] = _retweet_text(parent)
        return Post.model_validate(values)
    if brand:
        text = draw(st.sampled_from(_BRAND_REPLIES))
    elif kind == "quote":
        text = _mention(
            draw,
            draw(st.sampled_from(_QUOTE_COMMENTS) | texts),
            handles,
            mode=mentions,
        )
    else:
        text = _mention(draw, draw(texts), handles, mode=mentions)
    values["text"] = text
    if kind == "reply" and parent is not None:
        values["in_reply_to"] = parent.id
    if kind == "quote" and parent is not None:
        values["quote_of"] = parent.id
    return Post.model_validate(values)


def posts(
    *,
    kinds: Sequence[str] = POST_KINDS,
    authors: Sequence[str] | st.SearchStrategy[str] | None = None,
    brand_handles: Sequence[str] = ("@Acme",),
    texts: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Post]:
    """
    Return a strategy of single posts, standing alone.

    A reply, retweet or quote refers to post ``"0"`` (by ``@orig``): put that post
    first when you assemble a thread, or use `threads`, which builds whole threads.
    Texts mention one of `brand_handles` about half the time.

    Args:
        kinds: the kinds to draw from (a non-empty subset of `POST_KINDS`).
        authors: handles to draw authors from, or a strategy of handles; None
            (default): made-up handles like ``@ann12``.
        brand_handles: the brand's accounts, which texts mention.
        texts: a strategy of texts; None (default): a mix of chatter, service
            requests, sarcasm, grief, hostility and crises.

    Raises:
        hypothesis.errors.InvalidArgument: on first use, for an unknown kind, an
            empty `brand_handles`, or a handle without ``@``.

    Example::

        >>> posts(kinds=("reply",)).example()  # doctest: +SKIP
        Post(id='7', author='@dana41', text='@Acme where is my refund', kind='reply',
        in_reply_to='0', ...)
    """

    def build() -> st.SearchStrategy[Post]:
        chosen = _check_choices("kinds", kinds, POST_KINDS)
        handles = _check_handles("brand_handles", brand_handles)
        text_strategy = _check_texts("texts", texts, _any_texts)
        author_strategy = _authors_strategy(authors)

        @st.composite
        def one(draw: st.DrawFn) -> Post:
            kind = draw(st.sampled_from(chosen))
            parent_text = _mention(draw, draw(text_strategy), handles, mode=None)
            parent = Post(id="0", author="@orig", text=parent_text, kind="original")
            return draw(
                _post(
                    post_id=str(draw(st.integers(1, 10**6))),
                    kind=kind,
                    author=draw(author_strategy),
                    parent=parent if kind != "original" else None,
                    brand=False,
                    texts=text_strategy,
                    handles=handles,
                    mentions=None,
                    created_at=None,
                )
            )

        return one()

    return _lazy(
        build,
        "posts",
        kinds=kinds,
        authors=authors,
        brand_handles=brand_handles,
        texts=texts,
    )


@st.composite
def _threads(
    draw: st.DrawFn,
    *,
    kinds: tuple[str, ...],
    min_posts: int,
    max_posts: int,
    max_depth: int,
    crowds: bool,
    platforms: st.SearchStrategy[str],
    handles: tuple[str, ...],
    texts: st.SearchStrategy[str],
    authors: st.SearchStrategy[str],
    mentions: bool | None,
    target: str,
) -> Thread:
    count = draw(st.integers(min_posts, max_posts))
    built: list[Post] = []
    depths: dict[str, int] = {}
    used_authors: set[str] = set()
    when = _START
    for index in range(count):
        kind = "original" if index == 0 else draw(st.sampled_from(kinds))
        parent: Post | None = None
        if kind != "original":
            if crowds:
                parent = built[0]
            else:
                candidates = [
                    post
                    for post in built
                    if depths[post.id] < max_depth
                    and (kind != "retweet" or post.kind != "retweet")
                ]
                if not candidates:  # every earlier post is at max depth: quote root
                    candidates = [built[0]]
                parent = draw(st.sampled_from(candidates[::-1]))
        brand = (
            kind in ("original", "reply")
            and index > 0
            and not crowds
            and draw(st.integers(0, 5)) == 0
        )
        if brand:
            author = draw(st.sampled_from(handles))
        elif crowds:
            base = draw(authors)
            author = base if base not in used_authors else f"{base}_{index}"
            used_authors.add(author)
        else:
            author = draw(authors)
        when += timedelta(minutes=draw(st.integers(0, 15)))
        post = draw(
            _post(
                post_id=str(index + 1),
                kind=kind,
                author=author,
                parent=parent,
                brand=brand,
                texts=texts,
                handles=handles,
                mentions=mentions,
                created_at=when,
            )
        )
        depths[post.id] = 0 if parent is None else depths[parent.id] + 1
        built.append(post)
    target_id = None
    if target == "any" and len(built) > 1:
        target_id = draw(st.sampled_from([post.id for post in reversed(built)]))
    return Thread(
        platform=draw(platforms),
        brand_handles=handles,
        posts=tuple(built),
        target=target_id,
    )


def threads(
    *,
    kinds: Sequence[str] = POST_KINDS,
    min_posts: int = 1,
    max_posts: int = 12,
    max_depth: int = 4,
    crowds: bool = False,
    platform: str | None = None,
    brand_handles: Sequence[str] = DEFAULT_BRAND_HANDLES,
    texts: st.SearchStrategy[str] | None = None,
    authors: Sequence[str] | st.SearchStrategy[str] | None = None,
    mentions: bool | None = None,
    target: Literal["last", "any"] = "last",
) -> st.SearchStrategy[Thread]:
    """
    Return a strategy of valid threads: chronological posts with a target.

    The first post is always an original (every chain starts at one); each later
    post has one of `kinds` and refers to an earlier post: a retweet carries a post
    that is not itself a retweet, with the text ``RT @author: <its text>``. Now and
    then a brand account replies in the thread. Posts are a few minutes apart,
    starting at 2026-01-05 09:00 UTC.

    Args:
        kinds: the kinds of the posts after the first (a non-empty subset of
            `POST_KINDS`). Without ``"original"``, threads have two posts or more,
            so that the last one (the default target) has one of `kinds`.
        min_posts: the fewest posts in a thread (at least 1).
        max_posts: the most posts in a thread (at least `min_posts`).
        max_depth: the longest chain of references from a post up to the first one
            (at least 1: everything answers the first post).
        crowds: every later post replies to, retweets or quotes the first post
            (``"original"`` in `kinds` is ignored), each by a different author, and
            the brand stays out: a crowd around one root.
        platform: one of `PLATFORMS`; None (default): any of them.
        brand_handles: the brand's accounts (the thread's `brand_handles`), which
            texts mention and brand posts come from.
        texts: a strategy of the posts' own texts (see `posts`); None: a mix.
        authors: handles to draw authors from, or a strategy of handles; None:
            made-up handles like ``@ann12``.
        mentions: whether posts other than retweets and the brand's mention a brand
            handle: True always, False never, None (default) either.
        target: ``"last"`` (default): the target is the last post (the thread's
            ``target`` is left out); ``"any"``: any post of the thread.

    Raises:
        hypothesis.errors.InvalidArgument: on first use, for a bad bound, an unknown
            kind or platform, or a bad handle.

    Example::

        >>> threads(kinds=("retweet",), max_posts=3).example()  # doctest: +SKIP
        Thread(platform='x', brand_handles=('@Acme', '@AcmeHelp'), posts=(
          Post(id='1', author='@ann3', text='@Acme where is my refund', kind='original'),
          Post(id='2', author='@bo7', text='RT @ann3: @Acme where is my refund',
               kind='retweet', retweet_of='1')), target=None)
    """

    def build() -> st.SearchStrategy[Thread]:
        chosen = _check_choices("kinds", kinds, POST_KINDS)
        low, high = _check_bounds("min_posts", min_posts, "max_posts", max_posts, low=1)
        if "original" not in chosen:
            if high < 2:
                raise InvalidArgument(
                    f"max_posts={high!r} leaves no room for a post of kinds="
                    f"{chosen!r} after the first post (always an original); "
                    "use max_posts >= 2"
                )
            low = max(low, 2)
        depth = _check_int("max_depth", max_depth, low=1)
        crowd = _check_bool("crowds", crowds)
        if crowd:
            chosen = tuple(kind for kind in chosen if kind != "original")
            if not chosen:
                raise InvalidArgument(
                    "crowds=True needs a kind that answers the first post: add "
                    "'reply', 'retweet' or 'quote' to kinds"
                )
        if platform is None:
            platforms: st.SearchStrategy[str] = st.sampled_from(PLATFORMS)
        elif platform in PLATFORMS:
            platforms = st.just(platform)
        else:
            raise InvalidArgument(
                f"platform={platform!r} must be None or one of {PLATFORMS!r}"
            )
        if target not in ("last", "any"):
            raise InvalidArgument(f"target={target!r} must be 'last' or 'any'")
        return _threads(
            kinds=chosen,
            min_posts=low,
            max_posts=high,
            max_depth=depth,
            crowds=bool(crowd),
            platforms=platforms,
            handles=_check_handles("brand_handles", brand_handles),
            texts=_check_texts("texts", texts, _any_texts),
            authors=_authors_strategy(authors),
            mentions=_check_bool("mentions", mentions, optional=True),
            target=target,
        )

    return _lazy(
        build,
        "threads",
        kinds=kinds,
        min_posts=min_posts,
        max_posts=max_posts,
        max_depth=max_depth,
        crowds=crowds,
        platform=platform,
        brand_handles=brand_handles,
        texts=texts,
        authors=authors,
        mentions=mentions,
        target=target,
    )


_MOCKERY = (
    "imagine arguing with a bot about a refund",
    "their reply to a complaint was a canned response lol",
    "is this a bot? same reply to everyone",
    "the social media team is asleep again",
)


@st.composite
def _storms(
    draw: st.DrawFn,
    *,
    min_size: int,
    max_size: int,
    mocking: bool | None,
    handles: tuple[str, ...],
) -> Thread:
    size = draw(st.integers(min_size, max_size))
    mocks = draw(st.booleans()) if mocking is None else mocking
    if mocks:
        body = draw(sarcastic_posts() | st.sampled_from(_MOCKERY))
    else:
        body = draw(st.sampled_from(_ABOUT_BRAND) | service_requests())
    author = "@" + draw(st.sampled_from(_NAMES)) + "_original"
    others = draw(st.integers(0, size // 3))
    kinds = draw(
        st.permutations(
            ["retweet"] * (size - others)
            + [draw(st.sampled_from(("quote", "reply"))) for _ in range(others)]
        )
    )
    retweets = kinds.count("retweet")
    original = Post(
        id="1",
        author=author,
        text=f"{draw(st.sampled_from(handles))} {body}",
        kind="original",
        created_at=_START,
        metrics=Metrics(
            retweets=draw(st.integers(retweets, retweets * 200)),
            likes=draw(st.integers(0, 10_000)),
            quotes=size - retweets,
        ),
    )
    built = [original]
    when = _START
    for index, kind in enumerate(kinds, start=2):
        when += timedelta(seconds=draw(st.integers(5, 120)))
        who = f"@{draw(st.sampled_from(_NAMES))}{index}"
        if kind == "retweet":
            post = Post(
                id=str(index),
                author=who,
                text=_retweet_text(original),
                kind="retweet",
                retweet_of="1",
                created_at=when,
            )
        elif kind == "quote":
            post = Post(
                id=str(index),
                author=who,
                text=draw(st.sampled_from(_QUOTE_COMMENTS)),
                kind="quote",
                quote_of="1",
                created_at=when,
            )
        else:
            post = Post(
                id=str(index),
                author=who,
                text=f"{author} {draw(st.sampled_from(_QUOTE_COMMENTS))}",
                kind="reply",
                in_reply_to="1",
                created_at=when,
            )
        built.append(post)
    target = draw(st.sampled_from([post.id for post in reversed(built[1:])]))
    return Thread(brand_handles=handles, posts=tuple(built), target=target)


def retweet_storms(
    *,
    min_size: int = 5,
    max_size: int = 50,
    mocking: bool | None = None,
    brand_handles: Sequence[str] = DEFAULT_BRAND_HANDLES,
) -> st.SearchStrategy[Thread]:
    """
    Return a strategy of retweet storms: one post about the brand, spreading.

    Post ``"1"`` is an original that mentions the brand; after it come `min_size` to
    `max_size` posts by different people, at least two thirds of them retweets, the
    rest quotes and replies of the original. The target is one of those (never the
    original). The original's metrics count at least the retweets in the thread.

    Args:
        min_size: the fewest retweets, quotes and replies (at least 1).
        max_size: the most (at least `min_size`).
        mocking: True: the original mocks the brand (sarcasm, "arguing with a bot");
            False: it does not (praise, news, a request); None (default): either.
        brand_handles: the brand's accounts; the original mentions one of them.

    Raises:
        hypothesis.errors.InvalidArgument: on first use, for a bad bound or handle.

    Example::

        >>> retweet_storms(max_size=8, mocking=True).example()  # doctest: +SKIP
        Thread(..., posts=(Post(id='1', author='@bo_original',
        text='@Acme oh great my flight got delayed for the third time /s', ...),
        Post(id='2', text='RT @bo_original: @Acme oh great ...', kind='retweet', ...),
        ...), target='5')
    """

    def build() -> st.SearchStrategy[Thread]:
        low, high = _check_bounds("min_size", min_size, "max_size", max_size, low=1)
        return _storms(
            min_size=low,
            max_size=high,
            mocking=_check_bool("mocking", mocking, optional=True),
            handles=_check_handles("brand_handles", brand_handles),
        )

    return _lazy(
        build,
        "retweet_storms",
        min_size=min_size,
        max_size=max_size,
        mocking=mocking,
        brand_handles=brand_handles,
    )


def replies(
    *,
    texts: st.SearchStrategy[str] | None = None,
    with_links: bool = False,
) -> st.SearchStrategy[Reply]:
    """
    Return a strategy of replies a brand's bot might propose.

    Args:
        texts: a strategy of reply texts; None (default): stock customer-care
            replies ("We're here to help! DM us.", "Thanks for reaching out! ...").
        with_links: every reply carries a link (in `links` and at the end of its
            text); False (default): none does.

    Raises:
        hypothesis.errors.InvalidArgument: on first use, for a `texts` that is not a
            strategy or a `with_links` that is not a bool.

    Example::

        >>> replies(with_links=True).example()  # doctest: +SKIP
        Reply(text="We're here to help! DM us. https://example.com/help",
              links=('https://example.com/help',), media=(), author=None)
    """

    def build() -> st.SearchStrategy[Reply]:
        text_strategy = _check_texts(
            "texts", texts, lambda: st.sampled_from(_BRAND_REPLIES)
        )
        links = _check_bool("with_links", with_links)
        if not links:
            return st.builds(Reply, text=text_strategy)
        return st.builds(
            lambda text, link: Reply(text=f"{text} {link}", links=(link,)),
            text_strategy,
            st.sampled_from(_LINKS),
        )

    return _lazy(build, "replies", texts=texts, with_links=with_links)
