"""
What the guard remembers about replies, on top of a `Store`: the first layer of state.

For every reply that goes out, three members are recorded (the member is the
decision id, so that ``guard.forget(decision)`` can take them back):

- ``crowd:<id>``: the crowd the target belongs to. A retweet or quote belongs to the
  post it carries, a reply to the root of its chain, an original to itself: everyone
  piling onto one post is one crowd.
- ``author:<handle>``: the person answered.
- ``text:<fingerprint>``: the reply's words, without handles, case or spacing (the 2013
  macro sent to sixteen people is one fingerprint).

Before a review they are counted into `StateSignals` (``sent_for_original`` over a day,
``sent_to_author`` over a day, ``sent_same_text`` over an hour), and a pause flag is
read (``guard.pause``). Keys are namespaced by the policy's name, so two brands can
share one store.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from replyguard.models import Reply, StateSignals, Thread, normalize_handle, trusted

if TYPE_CHECKING:
    from replyguard.state._protocol import Store

__all__ = ["CROWD_WINDOW", "TEXT_WINDOW", "ReplyMemory", "crowd_id", "fingerprint"]

CROWD_WINDOW = 24 * 3600.0
"""Seconds a reply counts for its crowd and its author."""

TEXT_WINDOW = 3600.0
"""Seconds a reply's text counts as already sent."""

_HANDLE = re.compile(r"@[\w.\-]+(?:@[\w.\-]+)?")
_NOT_WORD = re.compile(r"[^\w]+")

PAUSE = "pause"


def fingerprint(text: str) -> str:
    """Return a short hash of a reply's words: no handles, case, punctuation or spacing."""
    words = _NOT_WORD.sub(" ", _HANDLE.sub(" ", text)).casefold().split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:20]


def crowd_id(thread: Thread) -> str:
    """Return the id of the post a target's crowd gathers around."""
    target = thread.target_post
    if target.kind in ("retweet", "quote"):
        return thread.original_of(target).id
    if target.kind == "reply":
        return thread.root.id
    return target.id


class ReplyMemory:
    """
    Counts and records replies in a store, under one namespace.

    Args:
        store: where to keep them.
        namespace: a prefix for every key (the guard uses the policy's name).
    """

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def _keys(self, thread: Thread, reply: Reply) -> tuple[str, str, str]:
        platform = thread.platform
        target = thread.target_post
        return (
            f"{self.namespace}:crowd:{platform}:{crowd_id(thread)}",
            f"{self.namespace}:author:{platform}:{normalize_handle(target.author)}",
            f"{self.namespace}:text:{fingerprint(reply.text)}",
        )

    def read(self, thread: Thread, reply: Reply, *, now: float) -> StateSignals:
        """Return what the store remembers about this thread, author and text."""
        crowd, author, text = self._keys(thread, reply)
        store = self.store
        reason = store.get_flag(f"{self.namespace}:{PAUSE}", now=now)
        return trusted(
            StateSignals,
            evidence=(),
            sent_for_original=store.count(crowd, now=now, window=CROWD_WINDOW),
            sent_to_author=store.count(author, now=now, window=CROWD_WINDOW),
            sent_same_text=store.count(text, now=now, window=TEXT_WINDOW),
            storm_level=0.0,
            paused=reason is not None,
            pause_reason=reason or "",
        )

    def record(self, thread: Thread, reply: Reply, member: str, *, now: float) -> None:
        """Remember that `reply` went out into `thread` (member: the decision id)."""
        keys = self._keys(thread, reply)
        crowd, author, text = keys
        self.store.add(crowd, member, now=now, ttl=CROWD_WINDOW)
        self.store.add(author, member, now=now, ttl=CROWD_WINDOW)
        self.store.add(text, member, now=now, ttl=TEXT_WINDOW)
        # where it was recorded, so that `forget` needs only the decision id
        self.store.set_flag(
            f"{self.namespace}:decision:{member}",
            "\n".join(keys),
            now=now,
            ttl=CROWD_WINDOW,
        )

    def forget(self, member: str, *, now: float) -> bool:
        """Take back a recorded reply (its send failed); return whether it was there."""
        index = f"{self.namespace}:decision:{member}"
        keys = self.store.get_flag(index, now=now)
        if not keys:
            return False
        found = [self.store.release(key, member) for key in keys.split("\n")]
        self.store.set_flag(index, "", now=now, ttl=0.0)
        return any(found)

    def pause(self, reason: str, *, now: float, ttl: float | None) -> None:
        """Pause automated replies for every worker sharing the store."""
        self.store.set_flag(f"{self.namespace}:{PAUSE}", reason, now=now, ttl=ttl)

    def resume(self, *, now: float) -> None:
        """Lift a pause (the flag expires at once)."""
        self.store.set_flag(f"{self.namespace}:{PAUSE}", "", now=now, ttl=0.0)
