"""
The chain analyzer (``chain.v1``): structure, not words.

Who the target speaks to, what it carries, how far the thing it carries spread, and
whether the brand already spoke in this thread.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from replyguard.analysis._context import AnalysisContext
from replyguard.analysis._text import (
    HANDLE,
    content_text,
    handle_matches,
    leading_handles,
    own_words,
)
from replyguard.models import ChainSignals, Evidence, Post, Thread, trusted

__all__ = ["NEAR_DUPLICATE_SCORE", "analyze_chain"]

NEAR_DUPLICATE_SCORE = 90.0
"""rapidfuzz ratio (0..100) at which two posts say the same thing."""

NAME = "chain.v1"


def _addressed(ctx: AnalysisContext, thread: Thread, target: Post) -> list[Evidence]:
    """Return the evidence that the target speaks to the brand (empty: it does not)."""
    if target.kind == "retweet" or target.missing:
        return []
    brand = ctx.brand_handles
    evidence: list[Evidence] = []
    parent = thread.get(target.in_reply_to)
    if parent is not None and handle_matches(parent.author, brand):
        evidence.append(
            trusted(
                Evidence,
                signal="chain.addressed_to_brand",
                cue="reply_to_brand",
                post_id=target.id,
                text=parent.author,
            )
        )
    quoted = thread.get(target.quote_of)
    if quoted is not None and handle_matches(quoted.author, brand):
        evidence.append(
            trusted(
                Evidence,
                signal="chain.addressed_to_brand",
                cue="quote_of_brand",
                post_id=target.id,
                text=quoted.author,
            )
        )
    text = target.text
    start, end = own_words(text)
    # Handles a reply starts with that it inherited from the post it answers still
    # address the brand: on X the poster chooses to keep them (a customer asking the
    # brand under someone else's complaint). The cue says which kind it was.
    inherited: set[str] = set()
    prefix_end = 0
    if target.kind == "reply" and parent is not None:
        leading, prefix_end = leading_handles(text)
        parent_handles = {m.group(1).lower() for m in HANDLE.finditer(parent.text)}
        parent_handles.add(parent.author.lstrip("@").lower())
        inherited = {h.lower() for h in leading if h.lower() in parent_handles}
    for match in HANDLE.finditer(text, start, end):
        handle = match.group(1)
        if not handle_matches(handle, brand):
            continue
        inherited_here = match.start() < prefix_end and handle.lower() in inherited
        evidence.append(
            trusted(
                Evidence,
                signal="chain.addressed_to_brand",
                cue="reply_prefix_mention" if inherited_here else "mention",
                post_id=target.id,
                start=match.start(),
                end=match.end(),
                text=match.group(0),
            )
        )
    if ctx.brand_names is not None:
        evidence.extend(
            trusted(
                Evidence,
                signal="chain.addressed_to_brand",
                cue="brand_name",
                post_id=target.id,
                start=match.start(),
                end=match.end(),
                text=match.group(0),
            )
            for match in ctx.brand_names.finditer(text, start, end)
        )
    return evidence


def _amplification(thread: Thread, target: Post) -> tuple[int, list[Evidence]]:
    chain = [target, *thread.ancestors]
    chain_ids = {p.id for p in chain}
    observed: dict[str, int] = dict.fromkeys(chain_ids, 0)
    for post in thread.posts:
        ref = post.retweet_of or post.quote_of
        if ref in observed:
            observed[ref] += 1
    best, best_post = 0, None
    for post in chain:
        reported = (post.metrics.retweets + post.metrics.quotes) if post.metrics else 0
        count = max(reported, observed[post.id])
        if count > best:
            best, best_post = count, post
    evidence = []
    if best_post is not None:
        evidence.append(
            trusted(
                Evidence,
                signal="chain.amplification",
                cue="retweets_and_quotes",
                post_id=best_post.id,
                text=str(best),
                weight=float(best),
            )
        )
    return best, evidence


def analyze_chain(ctx: AnalysisContext) -> ChainSignals:
    """Return the chain signals of the context's thread."""
    thread = ctx.thread
    target = thread.target_post
    brand = ctx.brand_handles
    root = thread.root
    carried = (
        thread.original_of(target) if target.kind in ("retweet", "quote") else root
    )
    original = root if target.kind == "reply" else carried
    addressed = _addressed(ctx, thread, target)
    amplification, amp_evidence = _amplification(thread, target)
    brand_posts = [p for p in thread.posts if handle_matches(p.author, brand)]
    target_is_brand = handle_matches(target.author, brand)
    duplicates, dup_evidence = _near_duplicates(ctx, thread, target)
    evidence = [*addressed, *amp_evidence, *dup_evidence]
    evidence.extend(
        trusted(
            Evidence,
            signal="chain.brand_posts",
            cue="brand_post",
            post_id=p.id,
            text=p.author,
        )
        for p in brand_posts
    )
    return trusted(
        ChainSignals,
        target_kind=target.kind,
        addressed_to_brand=bool(addressed) and not target_is_brand,
        original_author=original.author,
        is_brand_original=handle_matches(original.author, brand),
        depth=thread.depth,
        amplification=amplification,
        near_duplicates=duplicates,
        brand_posts=len(brand_posts),
        brand_in_chain=any(handle_matches(p.author, brand) for p in thread.ancestors),
        target_is_brand=target_is_brand,
        evidence=tuple(evidence),
    )


def _near_duplicates(
    ctx: AnalysisContext, thread: Thread, target: Post
) -> tuple[int, list[Evidence]]:
    query = ctx.content(target)
    if len(query) < 12:
        return 0, []
    others = {
        p.id: ctx.content(p)
        for p in thread.posts
        if p.id not in (target.id, target.retweet_of)
        and not p.missing
        and not handle_matches(p.author, ctx.brand_handles)
    }
    if not others:
        return 0, []
    found = process.extract(
        query, others, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_SCORE, limit=None
    )
    evidence = [
        trusted(
            Evidence,
            signal="chain.near_duplicates",
            cue="same_text",
            post_id=key,
            weight=round(score / 100.0, 3),
        )
        for _, score, key in found
    ]
    return len(found), evidence


__all__ += ["content_text"]
