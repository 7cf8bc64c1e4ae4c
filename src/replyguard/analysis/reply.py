"""
The reply analyzer (``reply.v1``): the proposed reply, read against the thread.

Structural checks only: length, mentions, and whether the brand already posted the
same text in this thread (the 2013 pattern, seen from inside one thread).
"""

from __future__ import annotations

from rapidfuzz import fuzz

from replyguard.analysis._context import AnalysisContext
from replyguard.analysis._text import HANDLE, handle_matches, strip_handles
from replyguard.models import Evidence, ReplySignals

__all__ = ["analyze_reply"]

NAME = "reply.v1"


def analyze_reply(ctx: AnalysisContext) -> ReplySignals:
    """Return the reply signals (all zero when there is no reply)."""
    reply = ctx.reply
    if reply is None:
        return ReplySignals()
    text = reply.text
    mentions = tuple(m.group(0) for m in HANDLE.finditer(text))
    evidence: list[Evidence] = []
    repeats = 0.0
    body = strip_handles(text)
    if body:
        for post in ctx.thread.posts:
            if not handle_matches(post.author, ctx.brand_handles) or post.missing:
                continue
            score = fuzz.ratio(body, strip_handles(post.text)) / 100.0
            if score >= 0.5:
                evidence.append(
                    Evidence(
                        signal="reply.repeats_brand_post",
                        cue="same_text",
                        post_id=post.id,
                        weight=round(score, 3),
                    )
                )
            repeats = max(repeats, score)
    return ReplySignals(
        length=len(text),
        mentions=mentions,
        repeats_brand_post=round(repeats, 4),
        evidence=tuple(evidence),
    )
