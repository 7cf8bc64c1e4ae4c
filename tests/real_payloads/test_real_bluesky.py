"""The Bluesky adapter on real payloads (structure only: ids, kinds, references)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from replyguard import Action, Guard
from replyguard.adapters.bluesky import from_bluesky, threads_from_bluesky
from replyguard.errors import PayloadError


def _bluesky(payloads: Path) -> Path:
    return payloads / "bluesky"


def test_every_bluesky_payload_is_handled(payloads):
    # every file but the lexicons gives threads, or (a list of accounts) a clear error
    files = sorted(p.name for p in _bluesky(payloads).glob("*.json"))
    assert files, "no Bluesky payloads found"
    for name in files:
        text = (_bluesky(payloads) / name).read_text(encoding="utf-8")
        if name.startswith("getRepostedBy"):
            with pytest.raises(
                PayloadError, match=r"bluesky payload: \$\.repostedBy: .*lists accounts"
            ):
                threads_from_bluesky(text)
            continue
        threads = threads_from_bluesky(text, brand_handles=["@brand.bsky.social"])
        assert threads, name
        for thread in threads:
            assert thread.platform == "bluesky"
            assert thread.target_post.id.startswith("at://")


def test_get_post_thread(payloads):
    text = (
        _bluesky(payloads) / "getPostThread_atprotodart_quote_mentions_replies.json"
    ).read_text(encoding="utf-8")
    thread = from_bluesky(text)
    focal = "at://did:plc:by3jhwdqgbtrcc7q4tkkv3cf/app.bsky.feed.post/3jtvi2jrijx2y"
    quoted = "at://did:plc:by3jhwdqgbtrcc7q4tkkv3cf/app.bsky.feed.post/3jtoq4zmhvz2z"
    assert thread.target == focal
    assert Counter(p.kind for p in thread.posts) == Counter(
        {"reply": 3, "quote": 1, "original": 1}
    )
    # the blocked and not-found replies are referenced by nothing: no placeholders
    assert [p.id for p in thread.posts if p.missing] == []
    target = thread.target_post
    assert (target.kind, target.quote_of, target.in_reply_to) == ("quote", quoted, None)
    assert target.links  # the link facet and the external card
    assert target.metrics is not None
    # the quoted post is hydrated from the recordWithMedia #view, with its four images
    assert not thread.post(quoted).missing
    assert [m.type for m in thread.post(quoted).media] == ["image"] * 4
    replies = [p for p in thread.posts if p.kind == "reply"]
    assert sum(p.in_reply_to == focal for p in replies) == 2
    nested = [p for p in replies if p.in_reply_to != focal]
    assert len(nested) == 1
    assert nested[0].in_reply_to in {p.id for p in replies}


def test_mention_facets_after_emoji(payloads):
    # the quoted post starts with an emoji: its mention facets' byte offsets are not
    # str indices; a brand naming a mentioned DID gets the handle written there
    text = (
        _bluesky(payloads) / "getPostThread_atprotodart_quote_mentions_replies.json"
    ).read_text(encoding="utf-8")
    did = "did:plc:oky5czdrnfjpqslsw2a5iclo"
    thread = from_bluesky(text, brand_handles=[did])
    assert thread.brand_handles[0] == did
    assert len(thread.brand_handles) == 2
    handle = thread.brand_handles[1]
    assert handle.startswith("@")
    quoted = thread.post(
        "at://did:plc:by3jhwdqgbtrcc7q4tkkv3cf/app.bsky.feed.post/3jtoq4zmhvz2z"
    )
    assert handle in quoted.text


def test_list_notifications(payloads):
    text = (
        _bluesky(payloads) / "listNotifications_atprotodart_reposts_quote_reply.json"
    ).read_text(encoding="utf-8")
    threads = threads_from_bluesky(text, brand_handles=["@brand.bsky.social"])
    kinds = Counter(t.target_post.kind for t in threads)
    assert kinds == Counter(
        {"retweet": 9, "quote": 1, "reply": 1}
    )  # likes and follows skipped
    subjects = Counter(
        t.target_post.retweet_of for t in threads if t.target_post.kind == "retweet"
    )
    burst_subject, burst = subjects.most_common(1)[0]
    assert burst >= 5  # most reposts are of one post: a burst
    for thread in threads:
        assert [p.missing for p in thread.posts] == [
            True,
            False,
        ]  # the brand's post, not hydrated
        assert thread.root.missing
        recipient = thread.root.id.split("/")[2]
        assert recipient in thread.brand_handles  # the notified account is the brand
    quote = next(t for t in threads if t.target_post.kind == "quote")
    assert quote.target_post.quote_of == burst_subject
    guard = Guard.default()
    repost = next(t for t in threads if t.target_post.kind == "retweet")
    assert (
        guard.review("Thanks for sharing!", repost, record=False).action
        is not Action.ALLOW
    )


def test_list_notifications_like_and_follow(payloads):
    page = json.loads(
        (
            _bluesky(payloads)
            / "listNotifications_atprotodart_reposts_quote_reply.json"
        ).read_text(encoding="utf-8")
    )
    for reason in ("like", "follow"):
        item = next(n for n in page["notifications"] if n["reason"] == reason)
        with pytest.raises(
            PayloadError, match=rf"a `{reason}` notification is not a post"
        ):
            from_bluesky(item)


def test_get_record(payloads):
    text = (_bluesky(payloads) / "getRecord_marshalx_post_record.json").read_text(
        encoding="utf-8"
    )
    thread = from_bluesky(text)
    assert len(thread.posts) == 1
    post = thread.target_post
    assert post.kind == "original"
    assert post.author.startswith("did:plc:")  # a record alone knows no handle
    assert post.created_at is not None


def test_get_reposted_by(payloads):
    text = (_bluesky(payloads) / "getRepostedBy_atprotodart.json").read_text(
        encoding="utf-8"
    )
    with pytest.raises(
        PayloadError,
        match=r"bluesky payload: \$\.repostedBy: an app\.bsky\.feed\.getRepostedBy output lists accounts, not posts",
    ):
        from_bluesky(text)
