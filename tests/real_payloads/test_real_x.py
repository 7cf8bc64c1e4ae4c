"""Every real X payload converts, with the kinds, references and targets it really has."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from replyguard import Action, Guard
from replyguard.adapters.x import from_x, threads_from_x


def _items(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def _threads(path: Path, brand: list[str] | None = None) -> list[Any]:
    return [
        t
        for item in _items(path)
        for t in threads_from_x(item, brand_handles=brand or [])
    ]


def test_every_x_payload_converts(payloads: Path) -> None:
    files = sorted((payloads / "x").glob("*.json*"))
    assert files
    for path in files:
        threads = _threads(path)
        assert threads, path.name
        for thread in threads:
            assert thread.platform == "x"
            for post in thread.posts:
                assert post.author.startswith("@"), (path.name, post.id)
                assert post.author != "@unknown", (path.name, post.id)


def test_v2_search_page_retweet(payloads: Path) -> None:
    (thread,) = _threads(payloads / "x" / "v2_twarc_two_tweets_retweet.jsonl")
    target = thread.target_post
    assert target.kind == "retweet"
    assert thread.root.kind == "original"
    assert not thread.root.missing
    assert target.retweet_of == thread.root.id
    assert target.metrics is not None
    assert target.created_at is not None


def test_v2_lookup_with_the_data_tweet_also_in_includes(payloads: Path) -> None:
    (thread,) = _threads(payloads / "x" / "v2_twarc_mentions_tweet_retweet.jsonl")
    assert [p.kind for p in thread.posts] == ["original", "retweet"]
    # the original's full text, not the retweet's cut "…" copy
    assert not thread.root.text.endswith("…")
    assert thread.target_post.text.startswith("RT @")


def test_v11_bot_mentions_timeline(payloads: Path) -> None:
    path = payloads / "x" / "v11_pytwitter_bot_mentions_timeline.json"
    threads = _threads(path, ["@himawari8bot"])
    kinds = Counter(t.target_post.kind for t in threads)
    # 19 statuses: replies, three hand-made "RT @bot:" (old clients set in_reply_to on them),
    # one quote, one "MT @bot:" read as a quote of the rebuilt original, and originals
    assert sum(kinds.values()) == 19
    assert kinds == {"reply": 10, "retweet": 3, "quote": 3, "original": 3}
    for thread in threads:
        target = thread.target_post
        if target.kind == "retweet":
            assert thread.root.author == "@himawari8bot"
            assert not thread.root.missing
            assert target.retweet_of == thread.root.id
        if target.kind == "reply":
            # a tweet replied to is in the page (then it is used) or a placeholder that
            # still names its author (in_reply_to_screen_name)
            parent = thread.parent
            assert parent is not None
            assert parent.author != "@unknown"
            assert parent.missing == (not any(t.target == parent.id for t in threads))
    # the same reply chain seen from its two later replies shares the ancestors
    chains = [tuple(p.id for p in t.posts) for t in threads if t.depth >= 2]
    assert chains
    assert all(len(c) >= 3 for c in chains)


def test_v11_quote(payloads: Path) -> None:
    thread = from_x(
        _items(payloads / "x" / "v11_pytwitter_status_quoted_tweet.json")[0]
    )
    assert [p.kind for p in thread.posts] == ["original", "quote"]
    assert thread.target_post.quote_of == thread.root.id
    assert not thread.root.missing


def test_v11_extended_mode_reads_full_text(payloads: Path) -> None:
    thread = from_x(_items(payloads / "x" / "v11_pytwitter_extended_full_text.json")[0])
    assert thread.target_post.kind == "original"
    assert thread.target_post.text
    assert thread.target_post.media  # extended_entities


def test_v11_fifteen_retweets_of_a_hand_made_retweet(payloads: Path) -> None:
    threads = _threads(payloads / "x" / "v11_tweepy_retweets_nested_rt.json")
    assert len(threads) == 15
    roots = {t.root.id for t in threads}
    middles = {t.posts[1].id for t in threads}
    assert len(roots) == 1
    assert len(middles) == 1
    for thread in threads:
        # "RT @twitter: RT @TwitterEng: ..." -> original (rebuilt) <- @Twitter's RT <- the retweet
        assert [p.kind for p in thread.posts] == ["original", "retweet", "retweet"]
        assert thread.root.author == "@TwitterEng"
        assert thread.posts[1].author == "@Twitter"


def test_the_retweet_burst_is_held_by_the_default_policy(payloads: Path) -> None:
    guard = Guard.default(store="memory://")
    threads = _threads(
        payloads / "x" / "v11_tweepy_retweets_nested_rt.json", ["@Twitter"]
    )
    actions = Counter(
        guard.review("Thanks for the support!", t).action for t in threads
    )
    assert actions[Action.ALLOW] == 0, actions
