"""
A Mastodon bot on the streaming API that sends only what replyguard lets through.

Mastodon pushes each notification as it happens (Mastodon.py's
``StreamListener.on_notification``). For a mention, a quote or a boost the handler
builds the thread (`from_mastodon`), has a deliberately naive composer propose a
reply, and lets the guard decide. Allowed and rewritten replies are posted with the
visibility of the post answered: a ``direct`` mention is answered directly, never in
public, a followers-only post to followers only. Everything else is logged with the
rules that held it, and the escalations among them reach people through the guard's
sinks. A notification replyguard cannot read is logged and skipped: one bad payload
never takes the stream down.

    python examples/mastodon_streaming_bot.py --offline   # recorded notifications
    python examples/mastodon_streaming_bot.py             # live: MASTODON_* below

Only `stream_notifications` and `post_reply` touch the network (tests replace them).
Live, they read ``MASTODON_API_BASE_URL`` (``https://mastodon.social``) and
``MASTODON_ACCESS_TOKEN`` (scopes ``read:notifications write:statuses``).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replyguard import Decision, Guard, Thread
from replyguard.adapters.mastodon import from_mastodon
from replyguard.errors import PayloadError
from replyguard.sinks import CallbackSink, QueueFileSink

log = logging.getLogger("mastodon_streaming_bot")

RECORDED = Path(__file__).parent / "payloads" / "mastodon_notifications.json"
RECORDED_AT = datetime(2026, 9, 14, 16, 5, tzinfo=UTC)
"""When the notifications were recorded: the offline guard's clock stops here."""
# full form, @user@domain: on Mastodon `@acmebank` is a different account on every
# server; the adapter writes every handle in full so the brand is recognised anywhere
BRAND_HANDLES = ("@acmebank@mastodon.social",)
CANNED = (
    "Thanks for reaching out! We're here to help. "
    "Reply with your account number and we'll take a look."
)
ABOUT_POSTS = frozenset({"mention", "quote", "reblog"})
"""Notification types that carry a post the bot might answer (not favourites, follows)."""

Handler = Callable[[Mapping[str, Any]], None]
Stream = Callable[[Handler], None]
Post = Callable[[str, str, str], None]
Compose = Callable[[Thread], str]


# --- the network: two small functions ---------------------------------------------


@functools.cache
def _client() -> Any:
    from mastodon import Mastodon  # noqa: PLC0415 - only the live bot needs it

    return Mastodon(
        access_token=os.environ["MASTODON_ACCESS_TOKEN"],
        api_base_url=os.environ["MASTODON_API_BASE_URL"],
    )


def stream_notifications(handler: Handler) -> None:
    """Call `handler` with every notification of the account's stream, forever."""
    from mastodon import MastodonError, StreamListener  # noqa: PLC0415 - live only

    class Listener(StreamListener):
        def on_notification(self, notification: Mapping[str, Any]) -> None:
            handler(notification)

    while True:  # the stream ends when the connection drops: open it again
        try:
            _client().stream_user(Listener())
        except MastodonError:
            log.exception("the stream dropped; reconnecting in 10 s")
            time.sleep(10)


def post_reply(text: str, in_reply_to_id: str, visibility: str) -> None:
    """Post `text` in reply to the status `in_reply_to_id`, with `visibility`."""
    _client().status_post(text, in_reply_to_id=in_reply_to_id, visibility=visibility)


# --- the bot -------------------------------------------------------------------------


def canned_reply(thread: Thread) -> str:  # noqa: ARG001 - a real composer reads it
    """Propose the same answer to everyone: what a careless bot does."""
    return CANNED


def run(
    guard: Guard,
    stream: Stream,
    post: Post,
    *,
    brand_handles: Iterable[str],
    compose: Compose = canned_reply,
) -> list[tuple[Thread, Decision]]:
    """Handle every notification `stream` delivers; return what was decided."""
    brand_handles = tuple(brand_handles)
    handled: list[tuple[Thread, Decision]] = []

    def handler(notification: Mapping[str, Any]) -> None:
        result = handle(
            notification,
            guard=guard,
            post=post,
            brand_handles=brand_handles,
            compose=compose,
        )
        if result is not None:
            handled.append(result)

    stream(handler)
    return handled


def handle(
    notification: Mapping[str, Any],
    *,
    guard: Guard,
    post: Post,
    brand_handles: Iterable[str],
    compose: Compose,
) -> tuple[Thread, Decision] | None:
    """Review the proposed reply to one notification; post it only if allowed."""
    kind = notification.get("type")
    if kind not in ABOUT_POSTS:
        return None  # a favourite, a follow, a poll that ended: nothing to answer
    try:
        thread = from_mastodon(notification, brand_handles=brand_handles)
    except PayloadError as exc:
        log.error("SKIP a notification replyguard cannot read: %s", exc)  # noqa: TRY400 - no traceback: the message names the path
        return None
    target = thread.target_post
    # a reply reaches the people it mentions, so it starts with the author's full
    # handle, and the guard reviews exactly the text that would be sent
    decision = guard.review(f"{target.author} {compose(thread)}", thread)
    why = f"{decision.action.value}: {', '.join(decision.rules) or 'no rule'}"
    # never wider than the post answered; unknown means as private as it gets
    visibility = target.visibility or "direct"
    if decision.sends and decision.text is not None and kind != "reblog":
        try:
            post(decision.text, str(notification["status"]["id"]), visibility)
        except Exception:  # a failed send is logged; the bot goes on
            log.exception("sending to %s failed", thread.target)
        else:
            log.info(
                "SEND %s to %s [%s] (%s): %s",
                thread.target,
                target.author,
                visibility,
                why,
                decision.text,
            )
        return thread, decision
    if decision.sends:
        why = f"{why}; a boost has no words of its own to answer"
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
    return thread, decision


def replay(path: Path) -> Stream:
    """Return a stream that delivers recorded notifications, one by one, then ends."""

    def stream(handler: Handler) -> None:
        log.info("--- notifications from %s", path.name)
        for notification in json.loads(path.read_text(encoding="utf-8")):
            handler(notification)

    return stream


def main(argv: list[str]) -> int:
    """Run the bot live, or over the recorded notifications with ``--offline``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--offline", action="store_true", help="replay recordings")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    if not args.offline:
        guard = Guard.default(
            store="sqlite:///mastodon_bot.db",
            sinks=[QueueFileSink("escalations.jsonl")],
        )
        try:
            run(guard, stream_notifications, post_reply, brand_handles=BRAND_HANDLES)
        finally:
            guard.close()
        return 0
    queued: list[str] = []
    # the guard's clock stands at the time the notifications were recorded: their
    # posts are minutes old, as they were, not months (stale posts are never answered)
    guard = Guard.default(
        store="memory://",
        clock=lambda: RECORDED_AT,
        sinks=[CallbackSink(lambda escalation: queued.append(escalation.route))],
    )
    sent: list[tuple[str, str, str]] = []
    handled = run(
        guard,
        replay(RECORDED),
        lambda text, to, visibility: sent.append((to, visibility, text)),
        brand_handles=BRAND_HANDLES,
    )
    print(
        f"\n{len(handled)} notifications about posts: {len(sent)} answered "
        f"({', '.join(v for _, v, _ in sent)}), {len(handled) - len(sent)} held; "
        f"{len(queued)} escalation packet(s) delivered to the sinks"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
