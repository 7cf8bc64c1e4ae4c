"""The Mastodon adapter: statuses, contexts and notifications into threads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from replyguard import Guard
from replyguard.adapters.mastodon import (
    __all__ as public_names,
)
from replyguard.adapters.mastodon import (
    from_mastodon,
    html_to_text,
    threads_from_mastodon,
)
from replyguard.analysis._text import handle_matches
from replyguard.errors import InvalidArgument, InvalidInput, PayloadError
from replyguard.models import Action, Thread

DATA = Path(__file__).resolve().parents[1] / "data" / "payloads" / "mastodon"
BRAND_SHORT = ["@acme"]
BRAND_FULL = ["@acme@mastodon.social"]

BRAND_POST = "112000000000000200"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def text_of(name: str) -> str:
    return (DATA / name).read_text()


def post(thread: Thread, post_id: str):
    found = thread.get(post_id)
    assert found is not None, f"no post {post_id} in {[p.id for p in thread.posts]}"
    return found


def status(**extra: Any) -> dict[str, Any]:
    """A minimal status by a local account of mastodon.social."""
    base: dict[str, Any] = {
        "id": "1",
        "created_at": "2026-05-01T10:00:00.000Z",
        "content": "<p>hello</p>",
        "account": {"id": "10", "acct": "ann", "url": "https://mastodon.social/@ann"},
        "mentions": [],
    }
    base.update(extra)
    return base


# --- statuses ------------------------------------------------------------------------


def test_public_names():
    assert sorted(public_names) == [
        "from_mastodon",
        "html_to_text",
        "threads_from_mastodon",
    ]
    for name in public_names:
        assert globals()[name].__doc__


def test_full_status_like_the_docs_example():
    thread = from_mastodon(load("status_full.json"), brand_handles=BRAND_SHORT)
    assert thread.platform == "mastodon"
    assert thread.brand_handles == ("@acme",)
    assert [p.id for p in thread.posts] == ["112000000000000100"]
    target = thread.target_post
    assert target.kind == "original"
    assert target.author == "@wren@mastodon.social"
    assert target.author_name == "Wren :blobcat:"
    assert target.author_followers == 210
    assert target.created_at == datetime(2026, 5, 2, 9, 15, tzinfo=UTC)
    assert target.lang == "en"
    assert target.visibility == "public"
    assert target.url == "https://mastodon.social/@wren/112000000000000100"
    assert target.text == (
        "New kettle from @acme@mastodon.social arrived today :blobcat: #kettles\n\n"
        "Review here: https://blog.wren.example/2026/05/kettle-review"
    )
    # the content link and the card are the same address: listed once
    assert target.links == ("https://blog.wren.example/2026/05/kettle-review",)
    assert [(m.type, m.url, m.alt_text) for m in target.media] == [
        (
            "image",
            "https://files.mastodon.social/media/kettle.jpg",
            "A steel kettle on a stove",
        ),
        ("gif", "https://files.mastodon.social/media/steam.mp4", None),
        ("other", "https://fediverse.example/media/x.bin", None),
    ]
    assert target.metrics is not None
    assert (
        target.metrics.replies,
        target.metrics.retweets,
        target.metrics.likes,
        target.metrics.quotes,
    ) == (
        3,
        7,
        21,
        1,
    )


def test_card_url_is_a_link_even_without_a_link_in_the_text():
    data = status(card={"url": "https://news.example/story", "title": "Story"})
    assert from_mastodon(data).target_post.links == ("https://news.example/story",)


def test_boost_is_a_retweet_of_the_boosted_status():
    thread = from_mastodon(load("status_boost.json"), brand_handles=BRAND_SHORT)
    assert [p.id for p in thread.posts] == [BRAND_POST, "112000000000000201"]
    boost = thread.target_post
    assert boost.id == "112000000000000201"
    assert boost.kind == "retweet"
    assert boost.retweet_of == BRAND_POST
    assert boost.author == "@kestrel@toot.example"  # remote: acct has the domain
    assert boost.text == ""
    assert boost.created_at == datetime(2026, 5, 3, 10, 5, tzinfo=UTC)
    original = post(thread, BRAND_POST)
    assert original.kind == "original"
    assert original.author == "@acme@mastodon.social"
    assert original.text.startswith("Our spring kettles")
    assert not original.missing


def test_boost_of_a_reply_keeps_the_reply_parent_as_a_placeholder():
    inner = status(id="5", in_reply_to_id="4", in_reply_to_account_id="99")
    wrapper = status(id="6", content="", reblog=inner)
    thread = from_mastodon(wrapper)
    assert [p.id for p in thread.posts] == ["4", "5", "6"]
    assert post(thread, "4").missing
    assert post(thread, "4").author == "@unknown"
    assert post(thread, "5").kind == "reply"
    assert thread.target_post.kind == "retweet"


def test_reply_with_local_and_remote_mentions():
    thread = from_mastodon(load("status_reply_mentions.json"), brand_handles=BRAND_FULL)
    target = thread.target_post
    assert target.kind == "reply"
    assert target.in_reply_to == BRAND_POST
    assert (
        target.text
        == "@acme@mastodon.social @otter@fediverse.example my kettle whistles at 3am & won't stop.\nHelp?"
    )
    assert target.links == ()  # mentions are not links
    parent = post(thread, BRAND_POST)
    assert parent.missing
    # the parent's author comes from in_reply_to_account_id through mentions[]
    assert parent.author == "@acme@mastodon.social"
    assert [p.id for p in thread.posts] == [BRAND_POST, target.id]


def test_reply_parent_author_unknown_when_not_mentioned():
    thread = from_mastodon(
        status(id="2", in_reply_to_id="1x", in_reply_to_account_id="77")
    )
    assert post(thread, "1x").author == "@unknown"


def test_self_reply_parent_author_is_the_author():
    thread = from_mastodon(
        status(id="2", in_reply_to_id="1x", in_reply_to_account_id="10")
    )
    assert post(thread, "1x").author == "@ann@mastodon.social"


@pytest.mark.parametrize(
    "brand", [BRAND_SHORT, BRAND_FULL, ["acme@mastodon.social"], ["@ACME"]]
)
def test_brand_matches_in_both_forms(brand):
    thread = from_mastodon(load("status_reply_mentions.json"), brand_handles=brand)
    assert handle_matches(
        post(thread, BRAND_POST).author, [b.lstrip("@").lower() for b in brand]
    )
    signals = Guard.default().analyze(thread, "Sorry to hear that!")
    assert signals.chain.addressed_to_brand
    assert signals.chain.is_brand_original


def test_local_handles_take_the_domain_from_the_profile_url():
    data = status(
        account={"id": "1", "acct": "ann", "url": "https://social.example.org/@ann"}
    )
    assert from_mastodon(data).target_post.author == "@ann@social.example.org"
    # no url: the ActivityPub uri's host; neither: the bare acct
    data = status(
        account={"id": "1", "acct": "ann", "uri": "https://ap.example/users/ann"}
    )
    assert from_mastodon(data).target_post.author == "@ann@ap.example"
    data = status(account={"id": "1", "acct": "ann"})
    assert from_mastodon(data).target_post.author == "@ann"
    # a port is not part of a handle
    data = status(
        account={"id": "1", "acct": "ann", "url": "http://localhost:3000/@ann"}
    )
    assert from_mastodon(data).target_post.author == "@ann@localhost"


def test_content_warning_comes_first():
    data = status(
        spoiler_text="death in the family",
        content="<p>my dad passed, the order can wait</p>",
    )
    assert (
        from_mastodon(data).target_post.text
        == "CW: death in the family\n\nmy dad passed, the order can wait"
    )
    data = status(spoiler_text=" grief ", content="")
    assert from_mastodon(data).target_post.text == "CW: grief"
    signals = Guard.default().analyze(
        from_mastodon(
            status(spoiler_text="grief, death", content="<p>@acme my mother died</p>")
        ),
        "Glad to help!",
    )
    assert signals.tone.grief > 0


def test_visibility_passes_through_when_known():
    for visibility in ("public", "unlisted", "private", "direct"):
        assert (
            from_mastodon(status(visibility=visibility)).target_post.visibility
            == visibility
        )
    assert from_mastodon(status(visibility="local")).target_post.visibility is None


# --- quotes --------------------------------------------------------------------------


def test_accepted_quote():
    thread = from_mastodon(
        load("status_quote_accepted.json"), brand_handles=BRAND_SHORT
    )
    target = thread.target_post
    assert target.kind == "quote"
    assert target.quote_of == BRAND_POST
    quoted = post(thread, BRAND_POST)
    assert not quoted.missing
    assert quoted.author == "@acme@mastodon.social"
    # the "RE: link" fallback paragraph is dropped: the quote is the quote_of post
    assert target.text == "Tell you what I think? Mine caught fire."
    assert target.links == ()
    signals = Guard.default().analyze(thread, "Thanks!")
    assert signals.chain.addressed_to_brand


def test_revoked_quote_without_id_is_a_placeholder():
    thread = from_mastodon(load("status_quote_revoked.json"))
    target = thread.target_post
    assert target.kind == "quote"
    assert target.quote_of == "112000000000000402#quote"
    stub = post(thread, target.quote_of)
    assert stub.missing
    assert stub.author == "@unknown"
    assert target.text == "lol ok"


@pytest.mark.parametrize(
    "state", ["pending", "rejected", "revoked", "deleted", "unauthorized"]
)
def test_quote_not_accepted_with_known_id(state):
    data = status(
        id="9", quote={"state": state, "quoted_status": None, "quoted_status_id": "8"}
    )
    thread = from_mastodon(data)
    assert thread.target_post.kind == "quote"
    assert thread.target_post.quote_of == "8"
    assert post(thread, "8").missing


def test_quote_not_accepted_keeps_quoted_author_but_not_text():
    quoted = status(
        id="8",
        content="<p>secret</p>",
        account={"id": "3", "acct": "acme", "url": "https://mastodon.social/@acme"},
    )
    thread = from_mastodon(
        status(id="9", quote={"state": "pending", "quoted_status": quoted})
    )
    stub = post(thread, "8")
    assert stub.missing
    assert stub.author == "@acme@mastodon.social"
    assert stub.text == ""


def test_reply_and_quote_is_a_reply_with_quote_of():
    quoted = status(id="8")
    data = status(
        id="9", in_reply_to_id="7", quote={"state": "accepted", "quoted_status": quoted}
    )
    thread = from_mastodon(data)
    assert thread.target_post.kind == "reply"
    assert thread.target_post.in_reply_to == "7"
    assert thread.target_post.quote_of == "8"


def test_nested_shallow_quote_becomes_a_placeholder():
    quoted = status(id="8", quote={"state": "accepted", "quoted_status_id": "7"})
    thread = from_mastodon(
        status(id="9", quote={"state": "accepted", "quoted_status": quoted})
    )
    assert post(thread, "8").quote_of == "7"
    assert post(thread, "7").missing


def test_fork_quote_forms():
    # Fedibird / Glitch: `quote` is the quoted status itself
    quoted = status(id="8", content="<p>quoted words</p>")
    data = status(
        id="9",
        quote=quoted,
        quote_id="8",
        content='<p>mine<span class="quote-inline"><br>QT: x</span></p>',
    )
    thread = from_mastodon(data)
    assert thread.target_post.quote_of == "8"
    assert post(thread, "8").text == "quoted words"
    assert thread.target_post.text == "mine"
    # only an id
    thread = from_mastodon(status(id="9", quote_id=8))
    assert thread.target_post.quote_of == "8"
    assert post(thread, "8").missing
    # Pleroma / Akkoma
    thread = from_mastodon(status(id="9", pleroma={"quote": quoted}))
    assert post(thread, "8").text == "quoted words"
    thread = from_mastodon(status(id="9", pleroma={"quote_id": "8"}))
    assert thread.target_post.kind == "quote"


# --- context -------------------------------------------------------------------------


def test_status_with_context_keeps_every_post():
    thread = from_mastodon(
        load("status_context_target.json"),
        context=load("context_conversation.json"),
        brand_handles=BRAND_SHORT,
    )
    assert thread.target == "112000000000000502"
    ids = [p.id for p in thread.posts]
    assert set(ids) == {f"11200000000000050{i}" for i in range(5)}
    assert (
        ids.index("112000000000000500")
        < ids.index("112000000000000501")
        < ids.index("112000000000000502")
    )
    assert ids.index("112000000000000502") < ids.index("112000000000000503")
    assert not any(p.missing for p in thread.posts)
    assert thread.root.id == "112000000000000500"
    assert [p.id for p in thread.ancestors] == [
        "112000000000000501",
        "112000000000000500",
    ]
    assert post(thread, "112000000000000504").in_reply_to == "112000000000000500"


def test_context_alone_needs_a_target():
    context = load("context_conversation.json")
    thread = from_mastodon(context, target="112000000000000501")
    assert thread.target == "112000000000000501"
    assert (
        len(thread.posts) == 5
    )  # the four statuses and the one a descendant replies to
    assert post(thread, "112000000000000502").missing
    assert post(thread, "112000000000000502").author == "@kestrel@toot.example"
    thread = from_mastodon(context, target=112000000000000501)
    assert thread.target == "112000000000000501"
    with pytest.raises(PayloadError, match=r"mastodon payload: \$: .*target="):
        from_mastodon(context)
    with pytest.raises(
        PayloadError,
        match=r"mastodon payload: \$: the payload holds no post with id `404`",
    ):
        from_mastodon(context, target="404")


def test_context_as_json_text_and_errors_inside_it():
    thread = from_mastodon(
        text_of("status_context_target.json"),
        context=text_of("context_conversation.json"),
    )
    assert len(thread.posts) == 5
    bad = load("context_conversation.json")
    del bad["descendants"][1]["account"]["acct"]
    with pytest.raises(PayloadError) as info:
        from_mastodon(load("status_context_target.json"), context=bad)
    assert "mastodon payload: context:$.descendants[1].account.acct" in str(info.value)
    with pytest.raises(
        PayloadError, match=r"mastodon payload: context:\$: not valid JSON"
    ):
        from_mastodon(load("status_context_target.json"), context='{"ancestors": [')


def test_context_path_in_errors_when_context_is_the_payload():
    bad = load("context_conversation.json")
    bad["descendants"][1]["account"]["acct"] = 5
    with pytest.raises(PayloadError) as info:
        from_mastodon(bad, target="112000000000000500")
    assert str(info.value).startswith(
        "mastodon payload: $.descendants[1].account.acct: expected a string"
    )


def test_context_cycle_is_refused():
    a = status(id="1", in_reply_to_id="2")
    b = status(id="2", in_reply_to_id="1")
    with pytest.raises(PayloadError, match="cycle"):
        from_mastodon({"ancestors": [a], "descendants": [b]}, target="1")


def test_context_twice_is_refused():
    context = load("context_conversation.json")
    with pytest.raises(PayloadError, match="context already"):
        from_mastodon(context, context=context)


def test_threads_from_a_context_give_one_thread_per_status():
    threads = threads_from_mastodon(load("context_conversation.json"))
    assert [t.target for t in threads] == [
        f"11200000000000050{i}" for i in (0, 1, 3, 4)
    ]
    assert threads_from_mastodon({"ancestors": [], "descendants": []}) == []


# --- notifications -------------------------------------------------------------------


def test_notifications_of_several_types():
    threads = threads_from_mastodon(
        load("notifications_mixed.json"), brand_handles=BRAND_SHORT
    )
    # mention; reblog; quote. favourite, follow, poll, admin.sign_up and follow_request are
    # skipped; the update names the mentioned status again (one thread for it)
    assert [t.target for t in threads] == [
        "112000000000000301",
        f"{BRAND_POST}#reblog-by-110000000000000004",
        "112000000000000401",
    ]
    mention, reblog, quote = threads
    assert mention.target_post.kind == "reply"
    # the brand post came in another notification of the page: a real post, not a placeholder
    assert not post(mention, BRAND_POST).missing
    boost = reblog.target_post
    assert boost.kind == "retweet"
    assert boost.retweet_of == BRAND_POST
    assert boost.author == "@kestrel@toot.example"
    assert boost.text == ""
    assert boost.created_at == datetime(2026, 5, 3, 10, 5, 1, tzinfo=UTC)
    assert [p.id for p in reblog.posts] == [BRAND_POST, boost.id]
    assert quote.target_post.kind == "quote"


@pytest.mark.parametrize("index", [0, 1, 4, 5])
def test_one_post_notification(index):
    note = load("notifications_mixed.json")[index]
    thread = from_mastodon(note)
    assert thread.target in {
        "112000000000000301",
        "112000000000000401",
        f"{BRAND_POST}#reblog-by-110000000000000004",
    }
    assert threads_from_mastodon(note)[0].target == thread.target


@pytest.mark.parametrize(
    ("index", "kind"),
    [
        (2, "favourite"),
        (3, "follow"),
        (6, "poll"),
        (7, "admin.sign_up"),
        (8, "follow_request"),
    ],
)
def test_notifications_that_are_not_posts(index, kind):
    note = load("notifications_mixed.json")[index]
    with pytest.raises(PayloadError) as info:
        from_mastodon(note)
    assert str(info.value).startswith(
        f"mastodon payload: $.type: a `{kind}` notification is not a post"
    )
    assert threads_from_mastodon(note) == []


def test_notification_without_its_status():
    note = load("notifications_mixed.json")[0]
    note["status"] = None
    with pytest.raises(
        PayloadError,
        match=r"mastodon payload: \$\.status: a `mention` notification needs its status",
    ):
        from_mastodon(note)
    page = [note]
    with pytest.raises(PayloadError, match=r"mastodon payload: \$\[0\]\.status:"):
        threads_from_mastodon(page)


def test_grouped_notifications():
    threads = threads_from_mastodon(
        load("notifications_grouped.json"), brand_handles=BRAND_SHORT
    )
    assert [t.target for t in threads] == [
        f"{BRAND_POST}#reblog-by-110000000000000005",
        "112000000000000301",
    ]
    crowd, mention = threads
    boosts = [p for p in crowd.posts if p.kind == "retweet"]
    assert {p.author for p in boosts} == {
        "@heron@mastodon.social",
        "@kestrel@toot.example",
        "@otter@fediverse.example",
    }
    assert all(p.retweet_of == BRAND_POST for p in boosts)
    assert crowd.posts[0].id == BRAND_POST
    assert Guard.default().analyze(crowd, "Thanks!").chain.amplification >= 3
    assert not post(mention, BRAND_POST).missing
    with pytest.raises(
        PayloadError,
        match="2 notification groups about posts: use threads_from_mastodon",
    ):
        from_mastodon(load("notifications_grouped.json"))
    one = load("notifications_grouped.json")
    one["notification_groups"] = one["notification_groups"][1:]
    assert from_mastodon(one).target == "112000000000000301"


def test_grouped_notification_naming_a_missing_status():
    data = load("notifications_grouped.json")
    data["notification_groups"][1]["status_id"] = "404"
    with pytest.raises(
        PayloadError, match=r"\$\.notification_groups\[1\]\.status_id: no status `404`"
    ):
        threads_from_mastodon(data)


def test_timeline_page_of_statuses():
    page = [
        load("status_reply_mentions.json"),
        load("status_boost.json"),
        load("status_full.json"),
    ]
    threads = threads_from_mastodon(page, brand_handles=BRAND_SHORT)
    assert [t.target for t in threads] == [
        "112000000000000301",
        "112000000000000201",
        "112000000000000100",
    ]
    # the boost brought the brand post; the reply's thread uses it (parents first)
    assert not post(threads[0], BRAND_POST).missing
    assert threads_from_mastodon([]) == []
    assert [t.target for t in threads_from_mastodon(load("status_full.json"))] == [
        "112000000000000100"
    ]


# --- HTML ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>one<br>two<br/>three</p>", "one\ntwo\nthree"),
        ("<p>a<br><br>b</p>", "a\n\nb"),
        (
            "<p>Fish &amp; chips &lt;3 &#128512; &quot;ok&quot;</p>",
            'Fish & chips <3 😀 "ok"',
        ),
        ("<p>  spaced \n  out  </p>", "spaced out"),
        ("<p>hi :blobcat: :party_parrot:</p>", "hi :blobcat: :party_parrot:"),
        (
            '<p><a href="https://mastodon.social/tags/Kettles" class="mention hashtag" rel="tag">#<span>Kettles</span></a></p>',
            "#Kettles",
        ),
        (
            (
                '<p><a href="https://example.com/a/very/long/path?x=1" rel="nofollow noopener" target="_blank">'
                '<span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lon</span>'
                '<span class="invisible">g/path?x=1</span></a></p>'
            ),
            "https://example.com/a/very/long/path?x=1",
        ),
        (
            '<p class="quote-inline">RE: <a href="https://m.example/@a/1">x</a></p><p>mine</p>',
            "RE: x\n\nmine",
        ),
        ("<p>a<script>alert(1)</script>b</p>", "ab"),
        ("<p>a</p><style>p { color: red }</style><p>b</p>", "a\n\nb"),
        (
            "<template><p>t</p></template><iframe>f</iframe><object><p>o</p></object>ok",
            "ok",
        ),
        ("<p>x<script>document.write('</p><p>leak')</script>y</p>", "xy"),
        ("<p>x</p><iframe><p>never closed", "x"),
        ("<noscript>n</noscript><svg><text>s</text></svg>v", "v"),
        ("<ul><li>one</li><li>two</li></ul><p>after</p>", "one\ntwo\n\nafter"),
        ("<blockquote><p>quoted</p></blockquote><p>reply</p>", "quoted\n\nreply"),
        ("<pre>  keep\n    indent</pre>", "  keep\n    indent"),
        (
            '<p>emoji <img class="custom-emoji" alt=":wave:" src="x.png"></p>',
            "emoji :wave:",
        ),
        ("plain text, no tags", "plain text, no tags"),
        ("", ""),
        ("<p><!-- a comment -->b</p>", "b"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_html_mentions_resolve_through_mentions_or_the_link_host():
    html = (
        '<p><span class="h-card"><a href="https://fediverse.example/users/otter" class="u-url mention">'
        '@<span>otter</span></a></span> <span class="h-card"><a href="https://mastodon.social/@acme" '
        'class="u-url mention">@<span>acme</span></a></span></p>'
    )
    assert html_to_text(html) == "@otter@fediverse.example @acme@mastodon.social"
    mentions = {"https://fediverse.example/users/otter": "@otter@fediverse.example"}
    assert html_to_text(html, mentions=mentions).startswith("@otter@fediverse.example ")
    shown_full = '<p><a href="https://x.example/@bo" class="u-url mention">@<span>bo@y.example</span></a></p>'
    assert html_to_text(shown_full) == "@bo@y.example"


def test_html_quote_inline_dropped_on_request():
    html = '<p class="quote-inline">RE: <a href="https://m.example/@a/1">link</a></p><p>mine</p>'
    assert html_to_text(html, drop_quote_inline=True) == "mine"


def test_malicious_html_never_reaches_the_text():
    thread = from_mastodon(load("status_malicious_html.json"))
    text = thread.target_post.text
    assert text == "Great service really\n\nbye"
    for leaked in ("alert", "display", "hidden", "frame", "object text", "evil"):
        assert leaked not in text
    assert thread.target_post.links == ()


def test_content_links_collected_but_not_mentions_or_tags():
    content = (
        '<p><a href="https://a.example/x">a</a> <a href="https://mastodon.social/@acme" class="u-url mention">'
        '@<span>acme</span></a> <a href="https://mastodon.social/tags/t" class="mention hashtag" rel="tag">#'
        '<span>t</span></a> <a href="mailto:x@y.z">mail</a> <a href="https://a.example/x">again</a></p>'
    )
    assert from_mastodon(status(content=content)).target_post.links == (
        "https://a.example/x",
    )


# --- input forms ---------------------------------------------------------------------


class AttribAccessDict(dict):  # what Mastodon.py returns: a dict with attribute access
    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _mastodonpy(value: Any, key: str = "") -> Any:
    """Convert JSON into Mastodon.py's form: AttribAccessDicts, datetimes, int ids."""
    if isinstance(value, dict):
        return AttribAccessDict({k: _mastodonpy(v, k) for k, v in value.items()})
    if isinstance(value, list):
        return [_mastodonpy(v) for v in value]
    if (
        isinstance(value, str)
        and (key == "id" or key.endswith("_id"))
        and value.isdigit()
    ):
        return int(value)
    if isinstance(value, str) and key in {"created_at", "edited_at"}:
        return datetime.fromisoformat(value)
    return value


def test_mastodonpy_objects():
    converted = _mastodonpy(load("status_reply_mentions.json"))
    assert isinstance(converted.id, int)
    assert isinstance(converted.created_at, datetime)
    thread = from_mastodon(converted, brand_handles=BRAND_SHORT)
    assert thread.target == "112000000000000301"
    assert thread.target_post.in_reply_to == BRAND_POST
    assert post(thread, BRAND_POST).author == "@acme@mastodon.social"
    assert thread.target_post.created_at == datetime(2026, 5, 3, 11, 0, tzinfo=UTC)
    threads = threads_from_mastodon(_mastodonpy(load("notifications_mixed.json")))
    assert [t.target for t in threads] == [
        t.target for t in threads_from_mastodon(load("notifications_mixed.json"))
    ]
    naive = _mastodonpy(load("status_full.json"))
    naive["created_at"] = datetime(2026, 5, 2, 9, 15)  # noqa: DTZ001 - a naive time means UTC
    assert from_mastodon(naive).target_post.created_at == datetime(
        2026, 5, 2, 9, 15, tzinfo=UTC
    )


def test_json_text_and_bytes():
    thread = from_mastodon(text_of("status_boost.json"))
    assert thread.target_post.kind == "retweet"
    assert from_mastodon(text_of("status_boost.json").encode()).target == thread.target


def test_truncated_json():
    text = text_of("status_full.json")
    with pytest.raises(
        PayloadError,
        match=r"^mastodon payload: \$: not valid JSON: the JSON ends early",
    ):
        from_mastodon(text[: len(text) // 2])
    with pytest.raises(PayloadError, match=r"^mastodon payload: \$: not valid JSON"):
        threads_from_mastodon(text[:100])


def test_other_platforms_refused():
    with pytest.raises(
        PayloadError,
        match=r"looks like a X payload, not Mastodon: use replyguard\.adapters\.x\.from_x",
    ):
        from_mastodon({"data": {"id": "1", "text": "hi"}})
    with pytest.raises(PayloadError, match="Bluesky payload"):
        threads_from_mastodon(
            {"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": {}}
        )


BAD_INPUTS = [
    (lambda d: d.pop("id"), "$.id", "expected an id"),
    (lambda d: d.update(id=True), "$.id", "expected an id"),
    (lambda d: d.update(account=None), "$.account", "expected an account"),
    (
        lambda d: d["account"].pop("acct"),
        "$.account.acct",
        "expected a non-empty string",
    ),
    (lambda d: d["account"].update(acct=["x"]), "$.account.acct", "expected a string"),
    (lambda d: d.update(content=3), "$.content", "expected a string"),
    (lambda d: d.pop("content"), "$.content", "expected a string"),
    (lambda d: d.update(created_at="yesterday"), "$.created_at", "not a timestamp"),
    (lambda d: d.update(created_at=5), "$.created_at", "expected a timestamp"),
    (lambda d: d.update(mentions="x"), "$.mentions", "expected an array"),
    (
        lambda d: d["mentions"].append({"id": "1", "url": "https://a.example/@x"}),
        "$.mentions[2].acct",
        "expected",
    ),
    (lambda d: d["mentions"].append(7), "$.mentions[2]", "expected a mention"),
    (
        lambda d: d.update(in_reply_to_id={"id": 1}),
        "$.in_reply_to_id",
        "expected an id",
    ),
    (
        lambda d: d.update(in_reply_to_account_id=[]),
        "$.in_reply_to_account_id",
        "expected an id",
    ),
    (
        lambda d: d.update(media_attachments=[{"type": 3}]),
        "$.media_attachments[0].type",
        "expected a string",
    ),
    (
        lambda d: d.update(media_attachments={}),
        "$.media_attachments",
        "expected an array",
    ),
    (lambda d: d.update(card="x"), "$.card", "expected an object"),
    (lambda d: d.update(card={"url": 1}), "$.card.url", "expected a string"),
    (lambda d: d.update(quote="x"), "$.quote", "expected a quote"),
    (
        lambda d: d.update(quote={"state": "accepted", "quoted_status": {"id": "8"}}),
        "$.quote.quoted_status.account",
        "expected an account",
    ),
    (lambda d: d.update(quote={"state": 1}), "$.quote.state", "expected a string"),
    (
        lambda d: d.update(reblog={"id": "3", "account": {"acct": "x"}, "content": 1}),
        "$.reblog.content",
        "expected a string",
    ),
    (lambda d: d.update(spoiler_text=1), "$.spoiler_text", "expected a string"),
    (lambda d: d.update(language=1), "$.language", "expected a string"),
    (lambda d: d.update(url=1), "$.url", "expected a string"),
]


@pytest.mark.parametrize(("mutate", "path", "message"), BAD_INPUTS)
def test_bad_status_fields_name_their_path(mutate, path, message):
    data = copy.deepcopy(load("status_reply_mentions.json"))
    mutate(data)
    with pytest.raises(PayloadError) as info:
        from_mastodon(data)
    error = info.value
    assert str(error).startswith(f"mastodon payload: {path}: "), str(error)
    assert message in str(error)
    assert error.path == path
    assert error.platform == "mastodon"
    assert isinstance(error, InvalidInput)
    assert isinstance(error, InvalidArgument)


def test_bad_items_in_a_page_name_their_index():
    page = [load("status_full.json"), load("status_boost.json")]
    page[1]["reblog"]["account"]["acct"] = ""
    with pytest.raises(
        PayloadError, match=r"^mastodon payload: \$\[1\]\.reblog\.account\.acct: "
    ):
        threads_from_mastodon(page)
    with pytest.raises(
        PayloadError, match=r"^mastodon payload: \$\[0\]: expected a Mastodon status"
    ):
        threads_from_mastodon([3])
    with pytest.raises(
        PayloadError, match=r"^mastodon payload: \$\[0\]: not a Mastodon status"
    ):
        threads_from_mastodon([{"id": "1"}])
    notes = load("notifications_mixed.json")
    notes[1]["account"]["id"] = None
    with pytest.raises(
        PayloadError, match=r"^mastodon payload: \$\[1\]\.account\.id: expected an id"
    ):
        threads_from_mastodon(notes)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"id": "1"}, "not a Mastodon status"),
        ([], "a list of posts: use threads_from_mastodon"),
        ("[1, 2", "not valid JSON"),
        ({"type": 3, "account": {}}, r"\$\.type: expected a string"),
        ({"type": "", "account": {}}, "expected a non-empty string"),
        (object(), "cannot read a `object`"),
    ],
)
def test_not_a_post(payload, message):
    with pytest.raises(PayloadError, match=message):
        from_mastodon(payload)


def test_target_must_be_in_the_payload():
    with pytest.raises(PayloadError, match="no post with id `nope`"):
        from_mastodon(load("status_full.json"), target="nope")
    with pytest.raises(PayloadError, match=r"mastodon payload: target: expected an id"):
        from_mastodon(load("status_full.json"), target="")


def test_target_may_name_an_embedded_post():
    thread = from_mastodon(load("status_boost.json"), target=BRAND_POST)
    assert thread.target == BRAND_POST
    assert [p.id for p in thread.posts] == [BRAND_POST]


# --- with the guard --------------------------------------------------------------------


@pytest.mark.parametrize("brand", [BRAND_SHORT, BRAND_FULL])
def test_guard_reviews_adapter_output(brand):
    guard = Guard.default()
    boost = from_mastodon(load("status_boost.json"), brand_handles=brand)
    decision = guard.review("Thanks for sharing!", boost, record=False)
    assert decision.action != Action.ALLOW
    assert decision.signals.chain.target_kind == "retweet"
    assert not decision.signals.chain.addressed_to_brand
    reply = from_mastodon(load("status_reply_mentions.json"), brand_handles=brand)
    decision = guard.review("Thanks for sharing!", reply, record=False)
    assert decision.signals.chain.addressed_to_brand
    for thread in threads_from_mastodon(
        load("notifications_mixed.json"), brand_handles=brand
    ):
        assert guard.review("Thanks for sharing!", thread, record=False).action in set(
            Action
        )


def test_round_trip_through_the_thread_format():
    thread = from_mastodon(
        load("status_context_target.json"), context=load("context_conversation.json")
    )
    again = Thread.model_validate(
        json.loads(thread.model_dump_json(exclude_defaults=True))
    )
    assert again == thread
