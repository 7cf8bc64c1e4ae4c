"""Properties of rewrites: within the platform's limit, phrases gone, user text inert."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from replyguard import Guard, Reply, Thread
from replyguard.models import Signals
from replyguard.platforms import fits
from replyguard.policy import Policy
from replyguard.rewrite import remove_handles, remove_phrase

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)
PIECES = st.one_of(
    WORDS,
    st.sampled_from(
        [
            "@ann",
            "@bob_smith",
            "#help",
            "https://example.com/orders/123",
            "acme.com/help",
            "日本語",
            "👍🏽",
            "👨\u200d👩\u200d👧",
            "🇫🇷",
            "!!",
            "é",
            "—",
        ]
    ),
)
TEXTS = st.lists(PIECES, min_size=1, max_size=400).map(" ".join)

# a rewrite that doubles the reply: rewrites over the limit are common
DOUBLING = Policy.from_string(
    """\
replyguard: 1
name: doubling
rules:
  - id: double
    when: "'true'"
    action: rewrite
    template: "{{ reply.text }} {{ reply.text }}"
""",
    file="doubling.yaml",
)
GUARDS = {
    "plain": Guard(Policy.from_string("replyguard: 1\nname: plain\n")),
    "doubling": Guard(DOUBLING),
}


def _thread(platform: str) -> dict[str, object]:
    return {
        "platform": platform,
        "brand_handles": ["@Acme"],
        "posts": [
            {
                "id": "1",
                "author": "@ann",
                "text": "@Acme where is my order?",
                "kind": "original",
            }
        ],
    }


@settings(max_examples=150)
@given(
    text=TEXTS,
    platform=st.sampled_from(["x", "bluesky", "mastodon"]),
    which=st.sampled_from(sorted(GUARDS)),
)
def test_no_reply_that_goes_out_exceeds_the_platform_limit(
    text: str, platform: str, which: str
) -> None:
    decision = GUARDS[which].review(text, _thread(platform))

    if decision.text is not None:
        assert fits(decision.text, platform)


@given(text=TEXTS, phrase=st.lists(WORDS, min_size=1, max_size=3).map(" ".join))
def test_a_removed_phrase_is_never_left_in_the_text(text: str, phrase: str) -> None:
    # plant the phrase, in other cases too, and next to itself
    planted = f"{phrase.upper()} {text} {phrase}{phrase} {phrase} {phrase}"

    result = remove_phrase(planted, phrase)

    whole = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)
    assert whole.search(result) is None


@given(text=TEXTS, handle=st.sampled_from(["@ann", "@bob_smith"]))
def test_a_removed_handle_is_never_left_in_the_text(text: str, handle: str) -> None:
    result = remove_handles(f"{handle} {text} {handle.upper()},{handle}", [handle])

    assert re.search(rf"{re.escape(handle)}(?![\w@])", result, re.IGNORECASE) is None


SYNTAX = st.lists(
    st.one_of(
        WORDS,
        st.sampled_from(
            [
                "{{",
                "}}",
                "{%",
                "%}",
                "{#",
                "#}",
                "{{ 7 * 7 }}",
                "{% for x in y %}",
                "{{ reply.__class__ }}",
                "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                "<script>alert(1)</script>",
                "{% raw %}",
                "\\",
                "'",
                '"',
            ]
        ),
    ),
    min_size=1,
    max_size=30,
).map(" ".join)

ECHO = Policy.from_string(
    """\
replyguard: 1
name: echo
rules:
  - id: echo
    when: "'true'"
    action: rewrite
    template: "[{{ thread.target.text }}|{{ thread.target.author }}|{{ reply.text }}]"
""",
    file="echo.yaml",
)


@given(text=SYNTAX, handle=SYNTAX, reply=SYNTAX)
def test_user_text_with_template_syntax_never_executes(
    text: str, handle: str, reply: str
) -> None:
    author = "@" + handle.replace(" ", "_")
    thread = Thread.model_validate(
        {"posts": [{"id": "1", "author": author, "text": text, "kind": "original"}]}
    )

    rendered = ECHO.render_rewrite(ECHO.rules[0], thread, Reply(text=reply), Signals())

    assert f"[{text}|{author}|{reply}]".strip() == rendered
