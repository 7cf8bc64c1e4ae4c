"""The Mastodon adapter on every real Mastodon payload (structure and ids only)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from replyguard import Guard
from replyguard.adapters.mastodon import from_mastodon, threads_from_mastodon
from replyguard.analysis._text import HANDLE
from replyguard.models import Thread

# the same folder the `payloads` fixture gives (conftest.py), listed at collection
_DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "payloads"
_ROOT = Path(os.environ.get("REPLYGUARD_PAYLOADS", _DEFAULT))
FILES = sorted(p.name for p in (_ROOT / "mastodon").glob("*.json")) or ["<none>"]
FULL_HANDLE = re.compile(r"@[^@\s]+@[A-Za-z0-9.\-]+")


def _read(payloads: Path, name: str) -> Any:
    path = payloads / "mastodon" / name
    if not path.exists():
        pytest.fail(f"no Mastodon payloads in {payloads}")
    return json.loads(path.read_text(encoding="utf-8"))


POST_NOTIFICATIONS = {"mention", "status", "update", "quote"}


def _expected(data: Any) -> list[tuple[dict[str, Any], str, bool]]:
    """(status, expected target id, is a reblog notification) for each post of a payload."""
    if isinstance(data, list):
        out = [e for item in data for e in _expected(item)]
    elif "ancestors" in data or "descendants" in data:
        out = [
            (s, str(s["id"]), False)
            for s in [*data.get("ancestors", []), *data.get("descendants", [])]
        ]
    elif "type" in data and "content" not in data:  # a notification
        status = data.get("status")
        if data["type"] in POST_NOTIFICATIONS:
            out = [(status, str(status["id"]), False)]
        elif data["type"] == "reblog":
            out = [(status, f"{status['id']}#reblog-by-{data['account']['id']}", True)]
        else:
            out = []
    else:
        out = [(data, str(data["id"]), False)]
    seen: set[str] = set()
    return [e for e in out if not (e[1] in seen or seen.add(e[1]))]  # type: ignore[func-returns-value]


def _check_thread(thread: Thread) -> None:
    assert thread.platform == "mastodon"
    ids = [p.id for p in thread.posts]
    assert len(ids) == len(set(ids))
    assert thread.target in ids
    for index, post in enumerate(thread.posts):
        for ref in (post.in_reply_to, post.retweet_of, post.quote_of):
            if ref is not None:
                assert ref in ids[:index], (
                    f"{post.id} refers to {ref}, not an earlier post"
                )
        if post.author != "@unknown":
            assert FULL_HANDLE.fullmatch(post.author), post.author
        for match in HANDLE.finditer(post.text):
            assert "@" in match.group(1), (
                f"a bare handle {match.group(0)!r} in post {post.id}"
            )
        for markup in ("<p>", "</p>", "<span", "</a>", "<br"):
            assert markup not in post.text
    assert thread.target_post.kind in {"original", "reply", "retweet", "quote"}


@pytest.mark.parametrize("name", FILES)
def test_every_payload_converts(payloads: Path, name: str) -> None:
    data = _read(payloads, name)
    threads = threads_from_mastodon(data, brand_handles=["@admin"])
    if isinstance(data, dict) and "notification_groups" in data:
        assert all(t.target for t in threads)
        return
    expected = _expected(data)
    assert [t.target for t in threads] == [target for _, target, _ in expected]
    for (raw, _, reblog_notification), thread in zip(expected, threads, strict=True):
        target = thread.target_post
        if reblog_notification:
            assert target.kind == "retweet"
            assert target.retweet_of == str(raw["id"])
            assert target.text == ""
            continue
        if raw.get("reblog"):
            assert target.kind == "retweet"
            assert target.retweet_of == str(raw["reblog"]["id"])
            assert target.text == ""
            boosted = thread.get(target.retweet_of)
            assert boosted is not None
            assert not boosted.missing
            continue
        if raw.get("in_reply_to_id"):
            assert target.kind == "reply"
            assert target.in_reply_to == str(raw["in_reply_to_id"])
        quote = raw.get("quote")
        if isinstance(quote, dict) and quote.get("quoted_status"):
            quoted_id = str(quote["quoted_status"]["id"])
            assert target.quote_of == quoted_id
            assert target.kind == ("reply" if raw.get("in_reply_to_id") else "quote")
            if quote.get("state") == "accepted":
                quoted = thread.get(quoted_id)
                assert quoted is not None
                assert not quoted.missing
            assert "quote-inline" not in target.text
            assert not target.text.startswith("RE:")
        elif not raw.get("in_reply_to_id") and not quote:
            assert target.kind == "original"
        # every mention of the status is written in full in the text
        for mention in raw.get("mentions") or []:
            if f">{mention['username']}<" in raw.get("content", ""):
                assert any(
                    m.group(0).lower().startswith(f"@{mention['username'].lower()}@")
                    for m in HANDLE.finditer(target.text)
                )
        if raw.get("card") and raw["card"].get("url"):
            assert raw["card"]["url"] in target.links


@pytest.mark.parametrize("name", FILES)
def test_every_single_status_or_notification_through_from_mastodon(
    payloads: Path, name: str
) -> None:
    data = _read(payloads, name)
    items = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and "notification_groups" in data:
        items = []
    for item in items:
        if (
            "type" in item
            and "content" not in item
            and item["type"] not in POST_NOTIFICATIONS | {"reblog"}
        ):
            continue
        if "ancestors" in item or "descendants" in item:
            for _, target, _ in _expected(item):
                _check_thread(from_mastodon(item, target=target))
            continue
        thread = from_mastodon(json.dumps(item), brand_handles=["@admin@localhost"])
        _check_thread(thread)


def test_reply_with_mention_names_its_parent(payloads: Path) -> None:
    data = _read(payloads, "status_mastodonpy_reply_with_mention.json")
    thread = from_mastodon(data)
    parent = thread.get(str(data["in_reply_to_id"]))
    assert parent is not None
    assert parent.missing
    mentioned = {str(m["id"]): m["acct"] for m in data["mentions"]}
    assert parent.author.startswith(
        "@" + mentioned[str(data["in_reply_to_account_id"])] + "@"
    )
    # with the parent's own payload, the placeholder is replaced by the real post
    both = threads_from_mastodon(
        [_read(payloads, "status_mastodonpy_parent.json"), data]
    )
    assert not both[1].get(str(data["in_reply_to_id"])).missing  # type: ignore[union-attr]


def test_reply_with_quote_is_a_reply_with_quote_of(payloads: Path) -> None:
    data = _read(payloads, "status_mastodonpy_reply_with_quote.json")
    thread = from_mastodon(data)
    target = thread.target_post
    assert target.kind == "reply"
    assert target.in_reply_to == str(data["in_reply_to_id"])
    assert target.quote_of == str(data["quote"]["quoted_status"]["id"])
    assert [p.id for p in thread.posts][-1] == target.id


def test_boost_wrapper(payloads: Path) -> None:
    data = _read(payloads, "status_mastodonpy_reblog_wrapper.json")
    decision = Guard.default().review(
        "Thanks for sharing!", from_mastodon(data), record=False
    )
    assert decision.signals.chain.target_kind == "retweet"
    assert decision.action != "allow"


def test_mention_notification_targets_its_status(payloads: Path) -> None:
    data = _read(payloads, "notifications_mastodonpy_mention.json")
    threads = threads_from_mastodon(
        data, brand_handles=["@" + data[0]["status"]["mentions"][0]["acct"]]
    )
    assert [t.target for t in threads] == [str(n["status"]["id"]) for n in data]
    assert all(t.target_post.kind == "original" for t in threads)
