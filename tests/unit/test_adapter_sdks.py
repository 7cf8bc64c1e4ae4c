"""
The adapters take the objects SDKs return, built here by the real SDKs.

replyguard never imports tweepy, atproto or Mastodon.py; these tests do (they are dev
dependencies) and check that what a bot already holds converts exactly as the raw JSON.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import tweepy
from atproto import models
from mastodon import return_types
from mastodon.types_base import try_cast_recurse
from tweepy.models import Status

from replyguard.adapters import from_payload, threads_from_payload
from replyguard.adapters.bluesky import from_bluesky, threads_from_bluesky
from replyguard.adapters.mastodon import from_mastodon, threads_from_mastodon
from replyguard.adapters.x import from_x, threads_from_x

FIXTURES = Path(__file__).parents[1] / "data" / "payloads"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def dumped(threads: list[Any]) -> list[Any]:
    return [t.model_dump(mode="json") for t in threads]


def test_tweepy_v2_response_converts_like_its_json() -> None:
    raw = load("x/v2_storm_page.json")
    includes = raw["includes"]
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # tweepy: no edit_history_tweet_ids
        response = tweepy.Response(
            data=[tweepy.Tweet(t) for t in raw["data"]],
            includes={
                "users": [tweepy.User(u) for u in includes["users"]],
                "tweets": [tweepy.Tweet(t) for t in includes["tweets"]],
                "media": [tweepy.Media(m) for m in includes["media"]],
            },
            errors=[],
            meta=raw["meta"],
        )
    assert dumped(threads_from_x(response, brand_handles=["@AcmeBank"])) == dumped(
        threads_from_x(raw, brand_handles=["@AcmeBank"])
    )
    assert (
        from_payload(response, target="1811000000000000102").target_post.kind == "quote"
    )


def test_tweepy_v11_status_converts_like_its_json() -> None:
    raw = load("x/v11_native_retweet_extended.json")
    status = Status.parse(None, raw)
    assert dumped([from_x(status)]) == dumped([from_x(raw)])
    statuses = [Status.parse(None, s) for s in load("x/v11_manual_retweets.json")]
    assert dumped(threads_from_x(statuses)) == dumped(
        threads_from_x(load("x/v11_manual_retweets.json"))
    )


def test_atproto_models_convert_like_their_json() -> None:
    raw = load("bluesky/listNotifications_burst.json")
    page = models.AppBskyNotificationListNotifications.Response.model_validate(raw)
    assert dumped(threads_from_bluesky(page)) == dumped(threads_from_bluesky(raw))
    assert dumped(threads_from_payload(page)) == dumped(threads_from_bluesky(raw))


def test_atproto_post_view_converts_like_its_json() -> None:
    raw = load("bluesky/postView_facets_video.json")
    view = models.AppBskyFeedDefs.PostView.model_validate(raw)
    assert dumped([from_bluesky(view)]) == dumped([from_bluesky(raw)])


def test_mastodon_py_entities_convert_like_their_json() -> None:
    raw = load("mastodon/status_reply_mentions.json")
    status = try_cast_recurse(return_types.Status, raw)
    assert not isinstance(status["created_at"], str)  # Mastodon.py parsed it
    assert dumped([from_mastodon(status)]) == dumped([from_mastodon(raw)])
    notes = load("mastodon/notifications_mixed.json")
    typed = [try_cast_recurse(return_types.Notification, n) for n in notes]
    assert dumped(threads_from_mastodon(typed)) == dumped(threads_from_mastodon(notes))
