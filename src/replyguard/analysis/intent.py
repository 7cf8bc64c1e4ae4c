"""
The intent analyzer (``intent.v1``): what does the target want from the brand?

- `service_request`: a concrete question or problem the brand can act on;
- `complaint`: displeasure: complaint words, bad situations, hostility (sarcasm is
  its own signal: a policy combines them, as the default does);
- `praise`: positive words, discounted by sarcasm cues and by complaint;
- `opt_out`: "stop", "unsubscribe", "#nobot", "don't reply", in the target or in the
  same author's earlier posts of the thread;
- `instructions`: text that tries to steer the bot ("ignore your rules", "repeat after
  me", "say X if you're a real person").
"""

from __future__ import annotations

import re

from replyguard.analysis._context import AnalysisContext
from replyguard.analysis._text import HANDLE, handle_key
from replyguard.analysis.tone import _evidence, lexicon_score
from replyguard.models import IntentSignals, trusted

__all__ = ["NAME", "analyze_intent"]

NAME = "intent.v1"

_BARE_OPT_OUT = frozenset(
    {
        "stop",
        "unsubscribe",
        "stopall",
        "stop please",
        "please stop",
        "stop pls",
    }
)
_NOISE = re.compile(r"https?://\S+|[^\w\s]")


def _bare(text: str) -> str:
    return " ".join(_NOISE.sub(" ", HANDLE.sub(" ", text)).lower().split())


def analyze_intent(
    ctx: AnalysisContext, *, sarcasm: float = 0.0, hostility: float = 0.0
) -> IntentSignals:
    """Return the intent signals of the thread's target."""
    target = ctx.thread.target_post
    if target.missing:
        return IntentSignals()
    reading = ctx.reading(target)
    evidence = []
    request, request_hits = lexicon_score(reading, "service_request")
    if reading.questions:
        request = 1.0 - (1.0 - request) * 0.7
    complaint, complaint_hits = lexicon_score(reading, "complaint")
    situation, _ = lexicon_score(reading, "bad_situation")
    complaint = 1.0 - (1.0 - complaint) * (1.0 - 0.6 * situation)
    complaint = 1.0 - (1.0 - complaint) * (1.0 - 0.8 * hostility)
    praise, praise_hits = lexicon_score(reading, "positive", "resolution")
    praise *= (1.0 - sarcasm) * (1.0 - 0.5 * complaint)
    instructions, instruction_hits = lexicon_score(reading, "instructions")
    opt_out = 0.0
    author = handle_key(target.author)
    for post in ctx.thread.posts:
        if handle_key(post.author) != author or post.missing:
            continue
        if post.kind == "retweet":
            continue
        found, hits = lexicon_score(ctx.reading(post), "opt_out")
        if _bare(post.text) in _BARE_OPT_OUT:
            found = 1.0
        if found > opt_out:
            opt_out = found
            evidence.extend(_evidence("intent.opt_out", post.id, hits[:2]))
        if post is target:
            break
    for signal, score, hits in (
        ("intent.service_request", request, request_hits),
        ("intent.complaint", complaint, complaint_hits),
        ("intent.praise", praise, praise_hits),
        ("intent.instructions", instructions, instruction_hits),
    ):
        if score >= 0.3:
            evidence.extend(_evidence(signal, target.id, hits[:3]))
    return trusted(
        IntentSignals,
        service_request=round(request, 4),
        complaint=round(complaint, 4),
        praise=round(praise, 4),
        opt_out=round(opt_out, 4),
        instructions=round(instructions, 4),
        evidence=tuple(evidence),
    )
