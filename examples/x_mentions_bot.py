"""
An X mentions bot that sends only what replyguard lets through.

Every round it asks X for the mentions newer than the last one it saw
(``GET /2/users/:id/mentions`` with ``since_id``), turns the page into one thread per
mention (`threads_from_x`), has a deliberately naive composer propose a reply, and
lets the guard decide. Allowed and rewritten replies are posted; everything else is
logged with the rules that held it, and the escalations among them reach people
through the guard's sinks. A page replyguard cannot read is logged and skipped: one
bad payload never takes the bot down.

    python examples/x_mentions_bot.py --offline   # a recorded page; nothing is sent
    python examples/x_mentions_bot.py             # live: needs the X_* variables below

Only `fetch_mentions` and `post_reply` touch the network (tests replace them). Live,
they read ``X_BEARER_TOKEN`` and ``X_USER_ID`` (reading mentions) and ``X_API_KEY``,
``X_API_SECRET``, ``X_ACCESS_TOKEN``, ``X_ACCESS_SECRET`` (posting as the brand).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replyguard import Decision, Guard, Thread
from replyguard.adapters.x import threads_from_x
from replyguard.errors import PayloadError
from replyguard.sinks import CallbackSink, QueueFileSink

log = logging.getLogger("x_mentions_bot")

RECORDED = Path(__file__).parent / "payloads" / "x_mentions_page.json"
RECORDED_AT = datetime(2026, 9, 14, 16, 5, tzinfo=UTC)
"""When the recorded page was fetched: the offline guard's clock stops here."""
BRAND_HANDLES = ("@AcmeBank",)
CANNED = (
    "Thanks for reaching out! We're here to help. "
    "Reply with your account number and we'll take a look."
)

MENTIONS_URL = "https://api.x.com/2/users/{user_id}/mentions"
QUERY = {
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,"
    "attachments.media_keys",
    "tweet.fields": "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,"
    "public_metrics,entities,lang,note_tweet",
    "user.fields": "username,name,public_metrics",
    "media.fields": "type,url,preview_image_url,alt_text",
    "max_results": "100",
}

Fetch = Callable[[str | None], Mapping[str, Any]]
Post = Callable[[str, str], None]
Compose = Callable[[Thread], str]


# --- the network: two small functions ---------------------------------------------


def fetch_mentions(since_id: str | None) -> dict[str, Any]:
    """Return the newest page of the brand's mentions after `since_id` (v2 JSON)."""
    query = dict(QUERY)
    if since_id is not None:
        query["since_id"] = since_id
    # more than max_results mentions between two polls: follow meta.next_token with
    # pagination_token (newest page first), then answer them all
    url = MENTIONS_URL.format(user_id=os.environ["X_USER_ID"])
    request = urllib.request.Request(  # noqa: S310 - a fixed https URL
        f"{url}?{urllib.parse.urlencode(query)}",
        headers={"Authorization": f"Bearer {os.environ['X_BEARER_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - as above
        page: dict[str, Any] = json.load(response)
    return page


def post_reply(text: str, in_reply_to_id: str) -> None:
    """Post `text` as the brand, in reply to the tweet `in_reply_to_id`."""
    import tweepy  # noqa: PLC0415 - only the live bot needs it

    client = tweepy.Client(
        consumer_key=os.environ["X_API_KEY"],
        consumer_secret=os.environ["X_API_SECRET"],
        access_token=os.environ["X_ACCESS_TOKEN"],
        access_token_secret=os.environ["X_ACCESS_SECRET"],
    )
    client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to_id)


# --- the bot -------------------------------------------------------------------------


def canned_reply(thread: Thread) -> str:  # noqa: ARG001 - a real composer reads it
    """Propose the same answer to everyone: what a careless bot does."""
    return CANNED


def run(
    guard: Guard,
    fetch: Fetch,
    post: Post,
    *,
    brand_handles: Iterable[str],
    compose: Compose = canned_reply,
    rounds: int | None = None,
    pause: float = 60.0,
) -> list[tuple[Thread, Decision]]:
    """
    Poll for mentions `rounds` times (forever if None); return what was decided.

    Each mention is reviewed and answered only when the guard says so. A page that
    cannot be read, a failed fetch or a failed post is logged, and the bot goes on.
    """
    handled: list[tuple[Thread, Decision]] = []
    since_id: str | None = None
    done = 0
    while rounds is None or done < rounds:
        if done:
            time.sleep(pause)
        done += 1
        try:
            page = fetch(since_id)
        except (OSError, ValueError) as exc:  # down, rate-limited, cut short: retry
            log.warning("fetching mentions failed: %s", exc)
            continue
        # move past every page, even one we cannot read: fetching it again fails again
        since_id = newest_id(page) or since_id
        try:
            threads = threads_from_x(page, brand_handles=brand_handles)
        except PayloadError as exc:
            log.error("SKIP a page replyguard cannot read: %s", exc)  # noqa: TRY400 - no traceback: the message names the path
            continue
        # X lists the newest first: answer in the order they were written
        handled.extend(
            (thread, answer(guard, thread, post, compose))
            for thread in reversed(threads)
        )
    return handled


def answer(guard: Guard, thread: Thread, post: Post, compose: Compose) -> Decision:
    """Review the proposed reply to one mention; post it only if the guard allows."""
    decision = guard.review(compose(thread), thread)
    target = thread.target_post
    why = f"{decision.action.value}: {', '.join(decision.rules) or 'no rule'}"
    if decision.sends and decision.text is not None:
        try:
            post(decision.text, target.id)
        except Exception:  # a failed send is logged; the bot goes on
            log.exception("sending to %s failed", thread.target)
        else:
            log.info(
                "SEND %s to %s (%s): %s",
                thread.target,
                target.author,
                why,
                decision.text,
            )
        return decision
    log.info(
        "HOLD %s from %s [%s] (%s)", thread.target, target.author, target.kind, why
    )
    if decision.escalation is not None:
        # the guard already delivered it to its sinks: a queue, a webhook, a callback
        news = "an update" if decision.escalation.update else "new"
        log.info(
            "     escalation for %s (%s), sent to the guard's sinks",
            decision.escalation.route,
            news,
        )
    return decision


def newest_id(page: object) -> str | None:
    """Return ``meta.newest_id`` of a v2 page, if it has one."""
    meta = page.get("meta") if isinstance(page, Mapping) else None
    newest = meta.get("newest_id") if isinstance(meta, Mapping) else None
    return str(newest) if newest else None


def recorded(*pages: Path) -> Fetch:
    """Return a fetch that replays recorded pages, then finds no new mentions."""
    queue: Iterator[Path] = iter(pages)

    def fetch(since_id: str | None) -> dict[str, Any]:
        path = next(queue, None)
        if path is None:
            return {"meta": {"result_count": 0}}
        log.info("--- page %s (since_id=%s)", path.name, since_id)
        page: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return page

    return fetch


def main(argv: list[str]) -> int:
    """Run the bot live, or over the recorded page with ``--offline``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--offline", action="store_true", help="replay a recorded page")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    if not args.offline:
        guard = Guard.default(
            store="sqlite:///x_mentions_bot.db",
            sinks=[QueueFileSink("escalations.jsonl")],
        )
        try:
            run(guard, fetch_mentions, post_reply, brand_handles=BRAND_HANDLES)
        finally:
            guard.close()
        return 0
    queued: list[str] = []
    # the guard's clock stands at the time the page was recorded: its posts are
    # minutes old, as they were, not months (stale posts are never answered)
    guard = Guard.default(
        store="memory://",
        clock=lambda: RECORDED_AT,
        sinks=[CallbackSink(lambda escalation: queued.append(escalation.route))],
    )
    sent: list[tuple[str, str]] = []
    handled = run(
        guard,
        recorded(RECORDED),
        lambda text, to: sent.append((to, text)),
        brand_handles=BRAND_HANDLES,
        rounds=2,
        pause=0,
    )
    print(
        f"\n{len(handled)} mentions: {len(sent)} answered, {len(handled) - len(sent)} "
        f"held; {len(queued)} escalation packet(s) delivered to the sinks"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
