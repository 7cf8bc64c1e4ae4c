"""The Bluesky adapter: getPostThread, postViews, feed items, records and notifications."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from replyguard import Action, Guard
from replyguard.adapters.bluesky import from_bluesky, threads_from_bluesky
from replyguard.errors import InvalidInput, PayloadError

DATA = Path(__file__).parents[1] / "data" / "payloads" / "bluesky"
BRAND = ["@acme.bsky.social"]
ACME = "did:plc:acmebrand0000000000000"


def post_uri(did_name: str, rkey: str, collection: str = "app.bsky.feed.post") -> str:
    return f"at://did:plc:{did_name}/{collection}/{rkey}"


FOCAL = post_uri("elielielielielielieli0000", "3kfocal00000")
PARENT = post_uri("danadanadanadanadana0000", "3kparent0000")
ROOT = post_uri("hiddenhiddenhidden000000", "3kroot00000a")
LAUNCH = f"at://{ACME}/app.bsky.feed.post/3klaunch0000"
OLDER = post_uri("gonegonegonegonegone0000", "3kolder00000")
REPLY1 = post_uri("franfranfranfranfran0000", "3kreply10000")
REPLY2 = post_uri("gusgusgusgusgusgusgus0000", "3kreply20000")
SALE = f"at://{ACME}/app.bsky.feed.post/3ksale000000"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def structure(
    thread,
) -> list[tuple[str, str, str | None, str | None, str | None, bool]]:
    return [
        (p.id, p.kind, p.in_reply_to, p.retweet_of, p.quote_of, p.missing)
        for p in thread.posts
    ]


# --- getPostThread ------------------------------------------------------------------------


@pytest.fixture
def thread_payload() -> Any:
    return load("getPostThread_quote_media_blocked.json")


def test_thread_holds_the_whole_conversation(thread_payload):
    thread = from_bluesky(thread_payload, brand_handles=BRAND)
    assert thread.platform == "bluesky"
    assert thread.target == FOCAL
    assert {p.id: p.kind for p in thread.posts} == {
        OLDER: "original",
        ROOT: "original",
        LAUNCH: "quote",
        PARENT: "reply",
        FOCAL: "reply",
        REPLY1: "reply",
        REPLY2: "reply",
    }
    focal = thread.target_post
    assert (focal.in_reply_to, focal.quote_of) == (PARENT, LAUNCH)
    assert thread.post(REPLY2).in_reply_to == REPLY1
    assert thread.post(REPLY1).in_reply_to == FOCAL
    assert [p.id for p in thread.ancestors] == [PARENT, ROOT]
    assert thread.root.id == ROOT


def test_thread_blocked_and_not_found_nodes(thread_payload):
    thread = from_bluesky(thread_payload, brand_handles=BRAND)
    missing = {p.id: p.author for p in thread.posts if p.missing}
    # the blocked root is referenced (a placeholder); the quoted #viewNotFound too; the
    # blocked and not-found replies nobody refers to are skipped
    assert missing == {
        ROOT: "did:plc:hiddenhiddenhidden000000",
        OLDER: "did:plc:gonegonegonegonegone0000",
    }
    ids = {p.id for p in thread.posts}
    assert post_uri("hiddenhiddenhidden000000", "3kblocked000") not in ids
    assert post_uri("gonegonegonegonegone0000", "3knotfound00") not in ids


def test_thread_post_fields(thread_payload):
    thread = from_bluesky(thread_payload, brand_handles=BRAND)
    focal = thread.target_post
    assert focal.author == "@eli.example.com"
    assert focal.author_name == "Éli"
    assert focal.lang == "en"
    assert focal.created_at is not None
    assert focal.created_at.isoformat() == "2024-05-01T10:05:00+00:00"
    assert focal.url == "https://bsky.app/profile/eli.example.com/post/3kfocal00000"
    assert focal.metrics is not None
    assert (focal.metrics.replies, focal.metrics.likes, focal.metrics.retweets) == (
        3,
        1,
        0,
    )
    # with a recordWithMedia, the images come from its view, with URLs and alt text
    # (an empty alt is none)
    assert [(m.type, m.alt_text, m.user_content) for m in focal.media] == [
        ("image", "a spinner on a login page", False),
        ("image", None, False),
    ]
    assert all(m.url and m.url.startswith("https://cdn.bsky.app/") for m in focal.media)


def test_thread_hydrated_quote_is_a_post(thread_payload):
    thread = from_bluesky(thread_payload, brand_handles=BRAND)
    quoted = thread.post(LAUNCH)
    assert not quoted.missing
    assert quoted.author == "@acme.bsky.social"
    assert quoted.author_name == "Acme Support"
    assert quoted.text.startswith("Our new app is out today")
    assert quoted.quote_of == OLDER
    assert quoted.metrics is not None
    assert quoted.metrics.quotes == 2


def test_thread_media_from_the_record_when_there_is_no_view(thread_payload):
    del thread_payload["thread"]["post"]["embed"]
    thread = from_bluesky(thread_payload)
    focal = thread.target_post
    assert [(m.type, m.url, m.alt_text) for m in focal.media] == [
        ("image", None, "a spinner on a login page"),
        ("image", None, None),
    ]
    assert focal.quote_of == LAUNCH
    assert thread.post(LAUNCH).missing  # not hydrated without the view


def test_bare_thread_view_post(thread_payload):
    thread = from_bluesky(thread_payload["thread"])
    assert thread.target == FOCAL
    assert len(thread.posts) == 7


def test_target_picks_another_post(thread_payload):
    thread = from_bluesky(thread_payload, target=REPLY2)
    assert thread.target == REPLY2
    assert [p.id for p in thread.ancestors] == [REPLY1, FOCAL, PARENT, ROOT]


def test_unknown_target(thread_payload):
    with pytest.raises(
        PayloadError,
        match=r"bluesky payload: \$: the payload holds no post with id `at://nope`",
    ):
        from_bluesky(thread_payload, target="at://nope")


def test_focal_post_not_found():
    payload = {
        "thread": {
            "$type": "app.bsky.feed.defs#notFoundPost",
            "uri": ROOT,
            "notFound": True,
        }
    }
    with pytest.raises(
        PayloadError,
        match=r"bluesky payload: \$\.thread: the thread's focal post is not found",
    ):
        from_bluesky(payload)


def test_parent_placeholder_links_to_the_root():
    # a reply whose parent is not in the payload: the parent stands in under the root
    thread = from_bluesky(
        {
            "uri": REPLY2,
            "cid": "c",
            "author": {"did": "did:plc:gus", "handle": "gus.bsky.social"},
            "record": {
                "text": "me too",
                "createdAt": "2024-05-01T10:00:00Z",
                "reply": {
                    "root": {"uri": ROOT, "cid": "c"},
                    "parent": {"uri": REPLY1, "cid": "c"},
                },
            },
            "indexedAt": "2024-05-01T10:00:00Z",
        }
    )
    assert structure(thread) == [
        (ROOT, "original", None, None, None, True),
        (REPLY1, "reply", ROOT, None, None, True),
        (REPLY2, "reply", REPLY1, None, None, False),
    ]
    assert thread.root.id == ROOT


def test_cycle_is_refused(thread_payload):
    # the parent claims to reply to the focal post, which replies to the parent
    thread_payload["thread"]["parent"]["post"]["record"]["reply"]["parent"]["uri"] = (
        FOCAL
    )
    with pytest.raises(PayloadError, match=r"bluesky payload: .*cycle"):
        from_bluesky(thread_payload)


# --- mentions and facets -------------------------------------------------------------------


@pytest.fixture
def facet_post() -> Any:
    return load("postView_facets_video.json")


def test_mentions_after_emoji_resolve_brand_dids(facet_post):
    # the brand names only its DID; the handle under the mention facet (after two
    # emoji and accented words: byte offsets, not str indices) joins the brand handles
    thread = from_bluesky(facet_post, brand_handles=[ACME])
    assert thread.brand_handles == (ACME, "@acme.bsky.social")
    text = thread.target_post.text
    assert text.startswith("🎉🎉 Merci à @acme.bsky.social")


def test_mention_handles_name_placeholder_authors(facet_post):
    # the post replies to a post by a DID whose handle only a mention facet tells
    dana = "did:plc:danadanadanadanadana0000"
    parent = f"at://{dana}/app.bsky.feed.post/3kx"
    facet_post["record"]["reply"] = {
        "root": {"uri": parent, "cid": "c"},
        "parent": {"uri": parent, "cid": "c"},
    }
    thread = from_bluesky(facet_post)
    assert thread.post(parent).author == "@dana.bsky.social"
    assert thread.post(parent).missing
    assert (
        thread.post(parent).url == "https://bsky.app/profile/dana.bsky.social/post/3kx"
    )


def test_bad_facet_offsets_are_ignored(facet_post):
    # the fixture holds a facet that cuts an emoji in half and one past the end
    thread = from_bluesky(
        facet_post,
        brand_handles=[
            "did:plc:cutcharacter000000000000",
            "did:plc:outofrange00000000000000",
        ],
    )
    assert thread.brand_handles == (
        "did:plc:cutcharacter000000000000",
        "did:plc:outofrange00000000000000",
    )


@pytest.mark.parametrize(
    "index",
    [
        pytest.param({"byteStart": 5, "byteEnd": 2}, id="reversed"),
        pytest.param({"byteStart": -1, "byteEnd": 4}, id="negative"),
        pytest.param({"byteStart": "0", "byteEnd": 4}, id="string"),
        pytest.param(None, id="missing"),
        pytest.param({"byteStart": 0, "byteEnd": 10_000}, id="past-the-end"),
    ],
)
def test_malformed_facet_index_is_ignored(facet_post, index):
    facet_post["record"]["facets"][0]["index"] = index
    thread = from_bluesky(facet_post, brand_handles=[ACME])
    assert thread.brand_handles == (ACME,)


def test_link_facets_and_video(facet_post):
    post = from_bluesky(facet_post).target_post
    # the text shows a shortened link; the facet holds the real one
    assert post.links == ("https://example.org/sale?ref=bsky",)
    assert [(m.type, m.alt_text) for m in post.media] == [("video", "unboxing")]
    assert post.media[0].url == "https://video.bsky.app/watch/x/playlist.m3u8"
    assert post.lang == "fr"


def test_external_embed_is_a_link():
    feed = load("getTimeline_repost_reply.json")
    thread = from_bluesky(feed["feed"][2])
    assert thread.target_post.links == ("https://example.org/morning",)
    assert thread.target_post.media == ()


# --- feed items ----------------------------------------------------------------------------------


def test_feed_item_with_reason_repost():
    feed = load("getTimeline_repost_reply.json")
    thread = from_bluesky(feed["feed"][0], brand_handles=BRAND)
    repost_id = (
        "at://did:plc:danadanadanadanadana0000/app.bsky.feed.repost/3ktrepost000"
    )
    original = f"at://{ACME}/app.bsky.feed.post/3ktipsorig00"
    assert structure(thread) == [
        (original, "original", None, None, None, False),
        (repost_id, "retweet", None, original, None, False),
    ]
    assert thread.target == repost_id
    repost = thread.target_post
    assert (repost.author, repost.author_name, repost.text) == (
        "@dana.bsky.social",
        "Dana",
        "",
    )
    assert thread.post(original).metrics is not None


def test_reason_repost_without_uri_gets_a_stable_id():
    item = load("getTimeline_repost_reply.json")["feed"][0]
    del item["reason"]["uri"]
    first = from_bluesky(item)
    second = from_bluesky(copy.deepcopy(item))
    original = f"at://{ACME}/app.bsky.feed.post/3ktipsorig00"
    expected = f"{original}#repost-by-did:plc:danadanadanadanadana0000"
    assert first.target == second.target == expected
    assert first.target_post.retweet_of == original


def test_feed_item_reply_with_hydrated_root_and_parent():
    item = load("getTimeline_repost_reply.json")["feed"][1]
    thread = from_bluesky(item)
    assert [p.author for p in thread.posts] == [
        "@dana.bsky.social",
        "@fran.bsky.social",
        "@gus.bsky.social",
    ]
    assert [p.missing for p in thread.posts] == [False, False, False]
    assert thread.depth == 2


def test_feed_item_reply_with_unavailable_parent():
    item = load("getTimeline_repost_reply.json")["feed"][1]
    parent_uri = item["reply"]["parent"]["uri"]
    item["reply"]["parent"] = {
        "$type": "app.bsky.feed.defs#blockedPost",
        "uri": parent_uri,
        "blocked": True,
        "author": {"did": "did:plc:franfranfranfranfran0000"},
    }
    thread = from_bluesky(item)
    parent = thread.post(parent_uri)
    assert parent.missing
    assert parent.author == "did:plc:franfranfranfranfran0000"
    assert parent.in_reply_to == thread.root.id


def test_timeline_page_gives_one_thread_per_item():
    threads = threads_from_bluesky(
        load("getTimeline_repost_reply.json"), brand_handles=BRAND
    )
    assert [t.target_post.kind for t in threads] == ["retweet", "reply", "original"]


def test_search_page_gives_one_thread_per_post(facet_post):
    threads = threads_from_bluesky({"posts": [facet_post, facet_post]})
    assert len(threads) == 2


def test_a_page_needs_target_in_from_bluesky():
    page = load("getTimeline_repost_reply.json")
    with pytest.raises(
        PayloadError, match=r"bluesky payload: \$: a page of 3 items holds many threads"
    ):
        from_bluesky(page)
    reply = "at://did:plc:gusgusgusgusgusgusgus0000/app.bsky.feed.post/3ktreply0000"
    thread = from_bluesky(page, target=reply)
    assert thread.target == reply
    assert len(thread.posts) == 3  # the chain only, not the page


# --- notifications -----------------------------------------------------------------------------


@pytest.fixture
def notifications() -> Any:
    return load("listNotifications_burst.json")


def test_notifications_page(notifications):
    threads = threads_from_bluesky(notifications, brand_handles=BRAND)
    # the like and the follow are skipped
    assert [t.target_post.kind for t in threads] == [
        "retweet",
        "retweet",
        "retweet",
        "quote",
        "reply",
        "original",
    ]
    burst = threads[:3]
    assert {t.target_post.retweet_of for t in burst} == {SALE}
    assert len({t.target for t in burst}) == 3
    for thread in burst:
        subject = thread.post(SALE)
        assert subject.missing
        assert thread.target_post.created_at is not None
    assert threads[3].target_post.quote_of == SALE
    assert threads[4].target_post.in_reply_to == SALE


def test_notification_recipient_joins_the_brand(notifications):
    # a notification is for the account that fetched it: the post replied to is the brand's
    reply = from_bluesky(notifications["notifications"][4], brand_handles=BRAND)
    assert reply.brand_handles == ("@acme.bsky.social", ACME)
    assert reply.parent is not None
    assert reply.parent.author == ACME
    # without brand handles nothing is assumed
    assert from_bluesky(notifications["notifications"][4]).brand_handles == ()


@pytest.mark.parametrize(("index", "reason"), [(5, "like"), (6, "follow")])
def test_like_and_follow_are_not_posts(notifications, index, reason):
    with pytest.raises(
        PayloadError,
        match=rf"bluesky payload: \$\.reason: a `{reason}` notification is not a post",
    ):
        from_bluesky(notifications["notifications"][index])
    assert threads_from_bluesky(notifications["notifications"][index]) == []


def test_mention_notification_after_emoji(notifications):
    thread = from_bluesky(notifications["notifications"][7], brand_handles=[ACME])
    assert thread.brand_handles == (ACME, "@acme.bsky.social")
    assert thread.target_post.kind == "original"


# --- records -----------------------------------------------------------------------------------


def test_get_record_of_a_repost():
    thread = from_bluesky(load("getRecord_repost.json"), brand_handles=BRAND)
    target = thread.target_post
    assert (
        target.id
        == "at://did:plc:gusgusgusgusgusgusgus0000/app.bsky.feed.repost/3krecrepost0"
    )
    assert (target.kind, target.retweet_of, target.author) == (
        "retweet",
        SALE,
        "did:plc:gusgusgusgusgusgusgus0000",
    )
    assert thread.post(SALE).missing


def test_get_record_of_a_post():
    uri = post_uri("ann", "3k1")
    thread = from_bluesky(
        {
            "uri": uri,
            "cid": "c",
            "value": {
                "$type": "app.bsky.feed.post",
                "text": "hello",
                "createdAt": "2024-01-01T00:00:00Z",
            },
        }
    )
    assert (thread.target, thread.target_post.author, thread.target_post.text) == (
        uri,
        "did:plc:ann",
        "hello",
    )


def test_get_record_of_a_like_is_refused():
    record = {
        "uri": post_uri("ann", "3k1", "app.bsky.feed.like"),
        "cid": "c",
        "value": {
            "$type": "app.bsky.feed.like",
            "subject": {"uri": SALE, "cid": "c"},
            "createdAt": "2024-01-01T00:00:00Z",
        },
    }
    with pytest.raises(
        PayloadError,
        match=r"bluesky payload: \$\.value: a `app\.bsky\.feed\.like` record is not a post",
    ):
        from_bluesky(record)


def test_bare_record_is_refused():
    with pytest.raises(
        PayloadError, match=r"bluesky payload: \$: a bare post record has no uri"
    ):
        from_bluesky(
            {
                "$type": "app.bsky.feed.post",
                "text": "hi",
                "createdAt": "2024-01-01T00:00:00Z",
            }
        )


# --- inputs: text, SDK objects, other platforms, bad data --------------------------------------------


def test_json_text_and_bytes(facet_post):
    text = json.dumps(facet_post)
    assert (
        from_bluesky(text).target
        == from_bluesky(text.encode()).target
        == facet_post["uri"]
    )


def test_truncated_json(facet_post):
    text = json.dumps(facet_post)
    with pytest.raises(
        PayloadError, match=r"bluesky payload: \$: not valid JSON: the JSON ends early"
    ):
        from_bluesky(text[: len(text) // 2])


class _Author(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    did: str
    handle: str
    display_name: str | None = Field(default=None, alias="displayName")


class _Record(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    py_type: str = Field(default="app.bsky.feed.post", alias="$type")
    text: str
    created_at: str = Field(alias="createdAt")
    langs: list[str] | None = None


class _PostView(BaseModel):
    """Shaped like atproto's `models.AppBskyFeedDefs.PostView` (aliases, None fields)."""

    model_config = ConfigDict(populate_by_name=True)
    py_type: str = Field(default="app.bsky.feed.defs#postView", alias="$type")
    uri: str
    cid: str
    author: _Author
    record: _Record
    like_count: int | None = Field(default=None, alias="likeCount")
    reply_count: int | None = Field(default=None, alias="replyCount")
    embed: dict[str, Any] | None = None
    indexed_at: str = Field(alias="indexedAt")


def test_sdk_model():
    view = _PostView(
        uri=post_uri("ann", "3kmodel"),
        cid="c",
        author=_Author(did="did:plc:ann", handle="ann.bsky.social", display_name="Ann"),
        record=_Record(
            text="@acme.bsky.social my order is late",
            created_at="2024-01-01T00:00:00Z",
            langs=["en"],
        ),
        like_count=4,
        indexed_at="2024-01-01T00:00:01Z",
    )
    thread = from_bluesky(view, brand_handles=BRAND)
    post = thread.target_post
    assert (post.author, post.author_name, post.lang) == (
        "@ann.bsky.social",
        "Ann",
        "en",
    )
    assert post.metrics is not None
    assert (post.metrics.likes, post.metrics.replies) == (4, 0)


@pytest.mark.parametrize(
    ("payload", "platform"),
    [
        pytest.param({"data": {"id": "1", "text": "hi"}}, "X", id="x-v2"),
        pytest.param(
            {"id": "1", "content": "<p>hi</p>", "account": {}},
            "Mastodon",
            id="mastodon",
        ),
    ],
)
def test_other_platforms_are_refused(payload, platform):
    with pytest.raises(
        PayloadError,
        match=rf"bluesky payload: \$: this looks like a {platform} payload",
    ):
        from_bluesky(payload)
    with pytest.raises(PayloadError, match="bluesky payload:"):
        threads_from_bluesky(payload)


def _breaks(path: list[str | int], value: Any) -> Any:
    def apply(payload: Any) -> Any:
        obj = payload
        for key in path[:-1]:
            obj = obj[key]
        if value is _DELETE:
            del obj[path[-1]]
        else:
            obj[path[-1]] = value
        return payload

    return apply


_DELETE = object()


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        pytest.param(
            _breaks(
                ["thread", "replies", 0, "replies", 0, "post", "record", "text"], 7
            ),
            r"\$\.thread\.replies\[0\]\.replies\[0\]\.post\.record\.text: expected a string, found a number",
            id="text-number",
        ),
        pytest.param(
            _breaks(["thread", "post", "record", "text"], _DELETE),
            r"\$\.thread\.post\.record\.text: expected a string, found null",
            id="text-missing",
        ),
        pytest.param(
            _breaks(["thread", "replies", 1], "oops"),
            r"\$\.thread\.replies\[1\]: expected a #threadViewPost",
            id="reply-string",
        ),
        pytest.param(
            _breaks(["thread", "replies"], {}),
            r"\$\.thread\.replies: expected an array",
            id="replies-object",
        ),
        pytest.param(
            _breaks(["thread", "post", "uri"], "https://bsky.app/x"),
            r"\$\.thread\.post\.uri: expected an at:// uri",
            id="uri-https",
        ),
        pytest.param(
            _breaks(["thread", "post", "author"], None),
            r"\$\.thread\.post\.author: expected an actor profile, found null",
            id="author-null",
        ),
        pytest.param(
            _breaks(["thread", "post", "author", "handle"], 3),
            r"\$\.thread\.post\.author\.handle: expected a string",
            id="handle-number",
        ),
        pytest.param(
            _breaks(["thread", "post", "record", "createdAt"], "yesterday"),
            r"\$\.thread\.post\.record\.createdAt: not a timestamp",
            id="bad-time",
        ),
        pytest.param(
            _breaks(["thread", "post", "record", "reply", "parent"], "x"),
            r"\$\.thread\.post\.record\.reply\.parent: expected a strongRef",
            id="parent-string",
        ),
        pytest.param(
            _breaks(["thread", "post", "record", "embed", "media", "images"], None),
            r"\$\.thread\.post\.record\.embed\.media\.images: expected an array",
            id="images-null",
        ),
        pytest.param(
            _breaks(
                ["thread", "parent", "post", "record", "facets"], [{"features": 3}]
            ),
            r"\$\.thread\.parent\.post\.record\.facets\[0\]\.features: expected an array",
            id="features-number",
        ),
        pytest.param(
            _breaks(["thread", "post", "record", "langs"], "en"),
            r"\$\.thread\.post\.record\.langs: expected an array",
            id="langs-string",
        ),
        pytest.param(
            _breaks(["thread", "post", "embed", "record", "record", "value"], []),
            r"\$\.thread\.post\.embed\.record\.record\.value: expected a record",
            id="quoted-value-array",
        ),
    ],
)
def test_bad_fields_name_their_path(thread_payload, mutate, where):
    with pytest.raises(PayloadError, match=rf"^bluesky payload: {where}") as info:
        from_bluesky(mutate(thread_payload))
    assert isinstance(info.value, InvalidInput)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(
            [],
            r"\$: expected a Bluesky payload \(an object\), found an array",
            id="array",
        ),
        pytest.param(
            {"hello": 1}, r"\$: not a Bluesky post payload", id="unknown-object"
        ),
        pytest.param("null", r"\$: expected a Bluesky payload", id="json-null"),
        pytest.param(
            {"notifications": [{"uri": SALE, "reason": "reply", "record": 5}]},
            r"\$\.notifications\[0\]\.record: expected a record",
            id="notification-record",
        ),
    ],
)
def test_shapeless_payloads(payload, message):
    convert = (
        threads_from_bluesky
        if isinstance(payload, dict) and "notifications" in payload
        else from_bluesky
    )
    with pytest.raises(PayloadError, match=rf"bluesky payload: {message}"):
        convert(payload)


def test_reposted_by_is_a_list_of_accounts():
    payload = {
        "uri": SALE,
        "repostedBy": [{"did": "did:plc:x", "handle": "x.bsky.social"}],
    }
    with pytest.raises(
        PayloadError,
        match=r"bluesky payload: \$\.repostedBy: an app\.bsky\.feed\.getRepostedBy output lists accounts",
    ):
        from_bluesky(payload)
    with pytest.raises(PayloadError, match=r"\$\.repostedBy"):
        threads_from_bluesky(payload)


def test_unknown_embeds_and_thread_nodes_are_skipped(facet_post):
    facet_post["embed"] = {"$type": "app.bsky.embed.somethingNew#view", "x": 1}
    facet_post["record"]["embed"] = {"$type": "app.bsky.embed.somethingNew", "x": 1}
    assert from_bluesky(facet_post).target_post.media == ()
    thread = {
        "thread": {
            "post": facet_post,
            "replies": [{"$type": "app.bsky.feed.defs#somethingNew"}],
        }
    }
    assert len(from_bluesky(thread).posts) == 1


def test_quote_of_a_feed_generator_is_not_a_quote(facet_post):
    generator = "at://did:plc:ann/app.bsky.feed.generator/cats"
    facet_post["record"]["embed"] = {
        "$type": "app.bsky.embed.record",
        "record": {"uri": generator, "cid": "c"},
    }
    facet_post["embed"] = {
        "$type": "app.bsky.embed.record#view",
        "record": {
            "$type": "app.bsky.feed.defs#generatorView",
            "uri": generator,
            "cid": "c",
            "did": "did:plc:ann",
            "creator": {},
            "displayName": "Cats",
            "indexedAt": "2024-01-01T00:00:00Z",
        },
    }
    thread = from_bluesky(facet_post)
    assert (
        thread.target_post.kind,
        thread.target_post.quote_of,
        len(thread.posts),
    ) == ("original", None, 1)


def test_invalid_handle_falls_back_to_the_did(facet_post):
    facet_post["author"]["handle"] = "handle.invalid"
    post = from_bluesky(facet_post).target_post
    assert post.author == facet_post["author"]["did"]
    assert (
        post.url
        == f"https://bsky.app/profile/{facet_post['author']['did']}/post/3kfacets0000"
    )


# --- the guard on the result ------------------------------------------------------------------------


def test_guard_reviews_adapted_threads(notifications):
    guard = Guard.default()
    repost = threads_from_bluesky(notifications, brand_handles=BRAND)[0]
    decision = guard.review("Thanks for sharing!", repost, record=False)
    assert decision.action is not Action.ALLOW
    conversation = from_bluesky(
        load("getPostThread_quote_media_blocked.json"), brand_handles=BRAND
    )
    decision = guard.review("Thanks for sharing!", conversation, record=False)
    assert decision.action in set(Action)


def test_quote_of_a_quote_adds_only_what_is_hydrated(thread_payload):
    quoted_view = thread_payload["thread"]["post"]["embed"]["record"]["record"]
    deeper = "at://did:plc:gonegonegonegonegone0000/app.bsky.feed.post/3kdeeper0000"
    quoted_view["embeds"][0]["record"] = {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": OLDER,
        "cid": "c",
        "author": {
            "did": "did:plc:gonegonegonegonegone0000",
            "handle": "old.bsky.social",
        },
        "value": {
            "$type": "app.bsky.feed.post",
            "text": "the original announcement",
            "createdAt": "2024-04-01T00:00:00Z",
            "embed": {
                "$type": "app.bsky.embed.record",
                "record": {"uri": deeper, "cid": "c"},
            },
        },
        "indexedAt": "2024-04-01T00:00:01Z",
    }
    thread = from_bluesky(thread_payload)
    older = thread.post(OLDER)
    assert (older.missing, older.author, older.kind, older.quote_of) == (
        False,
        "@old.bsky.social",
        "quote",
        deeper,
    )
    assert (thread.post(deeper).missing, thread.post(deeper).author) == (
        True,
        "@old.bsky.social",
    )
