"""
Escalation packets: the summary a person reads first, and the thread snapshot.

A person picking an escalation out of a queue should be able to act in a minute:
the summary says, in one paragraph written from the evidence, what the post is, how
it reads, how big its crowd is, what the bot wanted to send and why it was held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from replyguard.models import (
    Escalation,
    Post,
    Reason,
    Signals,
    Thread,
)
from replyguard.policy.compiled import Policy
from replyguard.policy.schema import parse_duration

__all__ = ["SNAPSHOT_POSTS", "complete_packet", "snapshot", "write_summary"]

SNAPSHOT_POSTS = 20
"""At most this many posts of the thread travel with an escalation."""

_KIND = {
    "original": "Post",
    "reply": "Reply",
    "retweet": "Retweet",
    "quote": "Quote",
}
_TONE = (
    ("activism", "a protest or campaign about the brand"),
    ("crisis", "a safety issue or crisis"),
    ("legal", "legal, regulatory or press involvement"),
    ("grief", "grief or loss"),
    ("hostility", "hostility"),
    ("mockery", "mockery"),
)
_INTENT = (
    ("complaint", "a complaint"),
    ("service_request", "a request for help"),
    ("opt_out", "a request not to be answered"),
    ("instructions", "an attempt to steer the bot"),
)


def _what_post(thread: Thread, signals: Signals) -> str:
    target = thread.target_post
    kind = _KIND.get(target.kind, "Post")
    text = f"{kind} {target.id} by {target.author}"
    referred = thread.get(target.parent_id)
    if referred is not None and target.kind in ("retweet", "quote", "reply"):
        word = {"retweet": "of", "quote": "of", "reply": "to"}[target.kind]
        text += f" {word} a post by {referred.author}"
    if not signals.chain.addressed_to_brand and not signals.chain.target_is_brand:
        text += " (not addressed to the brand)"
    return text


def _reads_as(signals: Signals, policy: Policy) -> str:
    found: list[str] = []
    for name, words in _TONE:
        value = float(getattr(signals.tone, name))
        if value >= policy.thresholds.get(name, 0.5):
            found.append(f"{words} ({value:.2f})")
    # the rule cues, not `detected`: the learned score reads brand complaints as
    # sarcastic too often to put in front of a person as a finding
    if signals.sarcasm.rules >= policy.thresholds.get("sarcasm_cues", 0.6):
        cues = ", ".join(signals.sarcasm.cues[:3])
        found.append(
            f"sarcasm ({signals.sarcasm.score:.2f}{'; ' + cues if cues else ''})"
        )
    for name, words in _INTENT:
        value = float(getattr(signals.intent, name))
        if value >= 0.5:
            found.append(words)
    if not found:
        return ""
    return "It reads as " + ", ".join(found[:4])


def _crowd(thread: Thread, signals: Signals, occurrences: int, window: str) -> str:
    state = signals.state
    chain = signals.chain
    parts: list[str] = []
    if state.crowd_inbound > 1:
        root = thread.get(thread.crowd)
        around = f"post {thread.crowd}" + (f" by {root.author}" if root else "")
        parts.append(
            f"Crowd of {state.crowd_inbound} people around {around} in the last "
            f"{window}; the brand answered {state.sent_for_original} of them today"
        )
        if state.storm_open:
            parts[-1] += "; the storm breaker is open"
    if chain.amplification >= 10:
        parts.append(
            f"the original by {chain.original_author or 'its author'} was retweeted "
            f"or quoted {chain.amplification} times"
        )
    if occurrences > 1:
        parts.append(f"{occurrences} posts of this crowd asked for a person")
    return "; ".join(parts)


def _proposed(signals: Signals) -> str:
    reply = signals.reply
    state = signals.state
    words = []
    if reply.generic >= 0.5:
        words.append("is a canned template")
    if state.sent_same_text:
        words.append(
            f"went out with the same words {state.sent_same_text} time(s) in the "
            "last hour"
        )
    if reply.repeats_brand_post >= 0.85:
        words.append("repeats what the brand already posted in this thread")
    if not words:
        return ""
    return "The proposed reply " + " and ".join(words)


def write_summary(
    thread: Thread,
    signals: Signals,
    reasons: list[Reason] | tuple[Reason, ...],
    policy: Policy,
    *,
    askers: list[str] | None = None,
    occurrences: int = 1,
) -> str:
    """
    Return a one-paragraph summary of why a reply needs a person, from the evidence.

    ``Retweet 7 by @dana of a post by @occupy_chalk (not addressed to the brand). It
    reads as a protest or campaign about the brand (0.82), mockery (0.61). Crowd of 14
    people around post 1 by @occupy_chalk in the last 15m; the brand answered 0 of
    them today. The proposed reply is a canned template. Held by activism-to-pr:
    Protests, boycotts... are PR's to answer.``
    """
    sentences = [_what_post(thread, signals)]
    parts = (
        _reads_as(signals, policy),
        _crowd(thread, signals, occurrences, policy.storm_window_text),
        _proposed(signals),
    )
    sentences.extend(part[0].upper() + part[1:] for part in parts if part)
    wanted = set(askers) if askers else None
    held = [
        f"{reason.rule} ({reason.message.rstrip('.')})"
        for reason in reasons
        if wanted is None or reason.rule in wanted
    ]
    if held:
        sentences.append("Held by " + "; ".join(held))
    text = ". ".join(s.rstrip(".") for s in sentences) + "."
    return text if len(text) <= 1500 else text[:1497] + "..."


def snapshot(thread: Thread, *, limit: int = SNAPSHOT_POSTS) -> Thread:
    """
    Return the part of `thread` a person needs: the target and what it refers to.

    The posts the target replies to, retweets or quotes, transitively, in thread
    order; beyond `limit`, the root and the latest ones, with placeholders for the
    posts left out that a kept post refers to.
    """
    wanted: dict[str, Post] = {}
    todo = [thread.target_post]
    while todo:
        post = todo.pop()
        if post.id in wanted:
            continue
        wanted[post.id] = post
        for ref in (post.in_reply_to, post.retweet_of, post.quote_of):
            found = thread.get(ref)
            if found is not None:
                todo.append(found)
    order = {post.id: index for index, post in enumerate(thread.posts)}
    posts = sorted(wanted.values(), key=lambda p: order[p.id])
    if len(posts) > limit:
        posts = [posts[0], *posts[-(limit - 1) :]]
        kept = {p.id for p in posts}
        missing = [
            ref
            for p in posts
            for ref in (p.in_reply_to, p.retweet_of, p.quote_of)
            if ref is not None and ref not in kept
        ]
        placeholders = [
            Post(id=ref, author="unknown", kind="original", missing=True)
            for ref in sorted(set(missing), key=lambda r: order[r])
        ]
        posts = [posts[0], *placeholders, *posts[1:]]
        posts.sort(key=lambda p: order[p.id])
    return Thread(
        platform=thread.platform,
        brand_handles=thread.brand_handles,
        posts=tuple(posts),
        target=thread.target_post.id,
    )


def complete_packet(
    escalation: Escalation,
    *,
    policy: Policy,
    thread: Thread,
    reasons: tuple[Reason, ...],
    decision_id: str,
    at: datetime,
    rewrite: str | None,
) -> Escalation:
    """Return `escalation` with what a person needs around it: ids, SLA, snapshot."""
    sla = policy.sla_for(escalation.route, escalation.priority)
    opened = escalation.opened_at or at
    due = opened + timedelta(seconds=parse_duration(sla)) if sla else None
    return escalation.model_copy(
        update={
            "escalation_id": escalation.escalation_id or decision_id,
            "decision_id": decision_id,
            "at": at,
            "opened_at": opened,
            "sla": sla,
            "due": due,
            "policy": policy.name,
            "platform": thread.platform,
            "author": thread.target_post.author,
            "reasons": reasons,
            "rewrite": rewrite,
            "thread": snapshot(thread),
        }
    )
