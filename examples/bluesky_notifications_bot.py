"""
A Bluesky bot that polls its notifications and sends only what replyguard lets through.

Every round it reads the newest page of ``app.bsky.notification.listNotifications``,
keeps the notifications it has not handled yet, turns them into one thread per reply,
mention, quote and repost (`threads_from_bluesky`; likes and follows are not posts),
has a deliberately naive composer propose a reply, and lets the guard decide. Allowed
and rewritten replies are posted under the post answered; everything else is logged
with the rules that held it, and the escalations among them reach people through the
guard's sinks. A page replyguard cannot read is logged and skipped: one bad payload
never takes the bot down.

    python examples/bluesky_notifications_bot.py --offline   # a recorded page
    python examples/bluesky_notifications_bot.py             # live: BLUESKY_* below

Only `fetch_notifications` and `post_reply` touch the network (tests replace them).
Live, they log in with ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD`` (an app
password, never the account's own).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replyguard import Decision, Guard, Thread
from replyguard.adapters.bluesky import threads_from_bluesky
from replyguard.errors import PayloadError
from replyguard.sinks import CallbackSink, QueueFileSink

log = logging.getLogger("bluesky_notifications_bot")

RECORDED = Path(__file__).parent / "payloads" / "bluesky_notifications_page.json"
RECORDED_AT = datetime(2026, 9, 14, 16, 5, tzinfo=UTC)
"""When the recorded page was fetched: the offline guard's clock stops here."""
# the DID too: a post known only by its at:// uri (the brand's own post a reply
# answers) is written by a DID, and the guard must still know it is the brand's
BRAND_HANDLES = ("@acmebank.bsky.social", "did:plc:acmebank0001")
CANNED = (
    "Thanks for reaching out! We're here to help. "
    "Reply with your account number and we'll take a look."
)

StrongRef = dict[str, str]
"""``{"uri": "at://...", "cid": "bafy..."}``: a post, pinned to one version of it."""
Fetch = Callable[[], Mapping[str, Any]]
Post = Callable[[str, StrongRef, StrongRef], None]
Compose = Callable[[Thread], str]


# --- the network: two small functions ---------------------------------------------


@functools.cache
def _client() -> Any:
    from atproto import Client  # noqa: PLC0415 - only the live bot needs it

    client = Client()
    client.login(os.environ["BLUESKY_HANDLE"], os.environ["BLUESKY_APP_PASSWORD"])
    return client


def fetch_notifications() -> dict[str, Any]:
    """Return the newest page of the account's notifications, as plain JSON."""
    page = _client().app.bsky.notification.list_notifications(params={"limit": 50})
    data: dict[str, Any] = page.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return data


def post_reply(text: str, parent: StrongRef, root: StrongRef) -> None:
    """Post `text` as a reply to `parent`, in the thread that starts at `root`."""
    from atproto import models  # noqa: PLC0415 - only the live bot needs it

    _client().send_post(
        text=text,
        reply_to=models.AppBskyFeedPost.ReplyRef(
            parent=models.ComAtprotoRepoStrongRef.Main(**parent),
            root=models.ComAtprotoRepoStrongRef.Main(**root),
        ),
    )


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
    Poll the notifications `rounds` times (forever if None); return what was decided.

    A notification is handled once: each round keeps those indexed after the newest
    one already seen (the first round: the unread ones). A page that cannot be read, a
    failed fetch or a failed post is logged, and the bot goes on.
    """
    brand_handles = tuple(brand_handles)
    handled: list[tuple[Thread, Decision]] = []
    seen: datetime | None = None
    done = 0
    while rounds is None or done < rounds:
        if done:
            time.sleep(pause)
        done += 1
        try:
            page = fetch()
        except Exception:  # the network or the login failed: try again next round
            log.exception("fetching notifications failed")
            continue
        page_new, newest = fresh(page, seen)
        seen = newest or seen  # past every page, even one we cannot read
        try:
            threads = threads_from_bluesky(page_new, brand_handles=brand_handles)
        except PayloadError as exc:
            log.error("SKIP a page replyguard cannot read: %s", exc)  # noqa: TRY400 - no traceback: the message names the path
            continue
        notifications = by_uri(page_new)
        # Bluesky lists the newest first: answer in the order they were written
        handled.extend(
            (
                thread,
                answer(
                    guard,
                    thread,
                    notifications.get(thread.target_post.id),
                    post,
                    compose,
                ),
            )
            for thread in reversed(threads)
        )
    return handled


def answer(
    guard: Guard,
    thread: Thread,
    notification: Mapping[str, Any] | None,
    post: Post,
    compose: Compose,
) -> Decision:
    """Review the proposed reply to one notification; post it only if allowed."""
    decision = guard.review(compose(thread), thread)
    target = thread.target_post
    why = f"{decision.action.value}: {', '.join(decision.rules) or 'no rule'}"
    refs = reply_refs(notification)
    if decision.sends and decision.text is not None and refs is not None:
        try:
            post(decision.text, *refs)
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
    if decision.sends:
        why = f"{why}; a repost has no words of its own to answer"
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


def reply_refs(
    notification: Mapping[str, Any] | None,
) -> tuple[StrongRef, StrongRef] | None:
    """
    Return the (parent, root) strongRefs a reply to the notification's post needs.

    The parent is the post itself; the root is its thread's first post, which a reply
    record names (``record.reply.root``); a post that replies to nothing is its own
    root. A repost has no post of its own to answer under: None.
    """
    if not notification or notification.get("reason") not in {
        "reply",
        "mention",
        "quote",
    }:
        return None
    parent = {"uri": notification["uri"], "cid": notification["cid"]}
    reply = notification.get("record", {}).get("reply")
    root = reply.get("root") if isinstance(reply, Mapping) else None
    if not isinstance(root, Mapping):
        return parent, parent
    return parent, {"uri": root["uri"], "cid": root["cid"]}


def fresh(page: object, seen: datetime | None) -> tuple[object, datetime | None]:
    """
    Return the page with only the notifications not handled yet, and the newest time.

    Before anything was seen, the unread notifications are new; afterwards, those
    indexed after `seen`. A page of another shape is returned as it is, for the
    adapter to say what is wrong with it.
    """
    if not isinstance(page, Mapping) or not isinstance(page.get("notifications"), list):
        return page, None
    keep: list[Any] = []
    newest = seen
    for item in page["notifications"]:
        when = _indexed_at(item)
        if when is not None and (newest is None or when > newest):
            newest = when
        if seen is None:
            if not (isinstance(item, Mapping) and item.get("isRead")):
                keep.append(item)
        elif when is None or when > seen:
            keep.append(item)
    return {**page, "notifications": keep}, newest


def _indexed_at(item: object) -> datetime | None:
    value = item.get("indexedAt") if isinstance(item, Mapping) else None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def by_uri(page: object) -> dict[str, Mapping[str, Any]]:
    """Return the page's notifications by uri (a thread's target is its post's uri)."""
    items = page.get("notifications") if isinstance(page, Mapping) else None
    return {
        item["uri"]: item
        for item in items or ()
        if isinstance(item, Mapping) and isinstance(item.get("uri"), str)
    }


def recorded(*pages: Path) -> Fetch:
    """Return a fetch that replays recorded pages, then the last one again."""
    queue: Iterator[Path] = iter(pages)
    last: dict[str, Any] = {"notifications": []}

    def fetch() -> dict[str, Any]:
        nonlocal last
        path = next(queue, None)
        if path is not None:
            log.info("--- page %s", path.name)
            last = json.loads(path.read_text(encoding="utf-8"))
        return last

    return fetch


def main(argv: list[str]) -> int:
    """Run the bot live, or over the recorded page with ``--offline``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--offline", action="store_true", help="replay a recorded page")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    if not args.offline:
        guard = Guard.default(
            store="sqlite:///bluesky_bot.db", sinks=[QueueFileSink("escalations.jsonl")]
        )
        try:
            run(guard, fetch_notifications, post_reply, brand_handles=BRAND_HANDLES)
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
    # the second round polls the same page again: nothing in it is new any more
    handled = run(
        guard,
        recorded(RECORDED),
        lambda text, parent, _root: sent.append((parent["uri"], text)),
        brand_handles=BRAND_HANDLES,
        rounds=2,
        pause=0,
    )
    print(
        f"\n{len(handled)} notifications about posts: {len(sent)} answered, "
        f"{len(handled) - len(sent)} held; {len(queued)} escalation packet(s) "
        "delivered to the sinks"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
