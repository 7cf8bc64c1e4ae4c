"""
The tone analyzer (``tone.v1``): how the thread feels, from its cue lexicons.

Each score reads the target and the other people's posts of the thread (the brand's
own posts are not read): the target counts fully, the rest at `CONTEXT_WEIGHT`, so that
a reply under a grieving or furious post inherits some of its tone. Strong cues count at
their weight; medium and weak cues count at a fraction, so that a single ambiguous word
("fire", "strike", "court") never decides alone.

`trend` compares the negativity (hostility, complaint, mockery) of the last post with
the posts before it: above 0 when the thread is heating up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from replyguard.analysis._context import AnalysisContext
from replyguard.analysis.reader import Hit, Reading
from replyguard.models import Evidence, ToneSignals, trusted

__all__ = ["CONTEXT_WEIGHT", "NAME", "analyze_tone", "lexicon_score"]

NAME = "tone.v1"

CONTEXT_WEIGHT = 0.8
"""How much the other posts of the thread count, against the target's 1.0."""

# medium and weak cues count at these fractions of their weight
_DAMPING = {"strong": 1.0, "medium": 0.5, "weak": 0.35}


def _tier(weight: float) -> str:
    if weight >= 0.85:
        return "strong"
    if weight >= 0.5:
        return "medium"
    return "weak"


def lexicon_score(reading: Reading, *lexicons: str) -> tuple[float, list[Hit]]:
    """Return the damped noisy-or score of some lexicons in a reading, and its hits."""
    remaining = 1.0
    hits: list[Hit] = []
    seen: set[str] = set()
    for name in lexicons:
        for hit in reading.get(name):
            if hit.cue in seen:
                continue
            seen.add(hit.cue)
            hits.append(hit)
            remaining *= 1.0 - hit.weight * _DAMPING[_tier(hit.weight)]
    return 1.0 - remaining, hits


_ADDRESSEE = frozenset(
    {
        "you", "you're", "youre", "your", "u", "ur", "yall", "y'all", "bunch",
        "such", "total", "absolute", "complete", "fucking", "are", "is", "staff",
    }
)  # fmt: skip


def _hostility(reading: Reading) -> tuple[float, list[Hit]]:
    """
    Return hostility, counting insults aimed at someone fully.

    "you are a bunch of idiots", "your staff are morons": a lone insult word is
    damped like any medium cue.
    """
    remaining = 1.0
    hits: list[Hit] = []
    seen: set[str] = set()
    text = reading.text.lower()
    for name in ("hostility", "threat", "slurs"):
        for hit in reading.get(name):
            if hit.cue in seen:
                continue
            seen.add(hit.cue)
            hits.append(hit)
            damping = _DAMPING[_tier(hit.weight)]
            if damping < 1.0 and hit.weight >= 0.5:
                before = text[max(0, hit.start - 48) : hit.start].split()[-6:]
                if _ADDRESSEE.intersection(before):
                    damping = 1.0
            remaining *= 1.0 - hit.weight * damping
    return 1.0 - remaining, hits


def _crisis(reading: Reading) -> tuple[float, list[Hit]]:
    score, hits = lexicon_score(reading, "crisis")
    vulnerable = reading.get("vulnerable")
    distress = reading.get("distress")
    if vulnerable and distress:
        strong = any(h.weight >= 0.85 for h in distress)
        combined = 0.7 if strong else 0.3
        score = 1.0 - (1.0 - score) * (1.0 - combined)
        hits = [*hits, vulnerable[0], distress[0]]
    return score, hits


def _evidence(
    signal: str, post_id: str | None, hits: Iterable[Hit], scale: float = 1.0
) -> list[Evidence]:
    return [
        trusted(
            Evidence,
            signal=signal,
            cue=f"{hit.lexicon}:{hit.cue}",
            post_id=post_id,
            start=hit.start,
            end=hit.end,
            text=hit.text,
            weight=round(hit.weight * scale, 3),
        )
        for hit in hits
    ]


def analyze_tone(ctx: AnalysisContext, *, sarcasm: float = 0.0) -> ToneSignals:
    """Return the tone signals of the thread, the target weighing most."""
    thread = ctx.thread
    target = thread.target_post
    # the target and the chain it stands in (what it answers, quotes or retweets);
    # side replies of other people are a crowd's business (see the state store)
    chain = [*reversed(thread.ancestors)]
    carried = thread.get(target.retweet_of or target.quote_of)
    if carried is not None and carried not in chain:
        chain.append(carried)
    posts = [p for p in chain if not p.missing and not ctx.is_brand(p)]
    if not target.missing:
        posts.append(target)
    scores = dict.fromkeys(
        ("hostility", "mockery", "grief", "crisis", "activism", "legal"), 0.0
    )
    evidence: list[Evidence] = []
    negativity: list[float] = []
    seen_texts: set[str] = set()
    for post in posts:
        reading = ctx.reading(post)
        weight = 1.0 if post is target else CONTEXT_WEIGHT
        found = {
            "hostility": _hostility(reading),
            "mockery": _mockery(ctx, reading),
            "grief": lexicon_score(reading, "grief"),
            "crisis": _crisis(reading),
            "activism": lexicon_score(reading, "activism"),
            "legal": lexicon_score(reading, "legal"),
        }
        if reading.all_caps and found["hostility"][0] > 0:
            base, hits = found["hostility"]
            found["hostility"] = (1.0 - (1.0 - base) * 0.85, hits)
        complaint = lexicon_score(reading, "complaint")[0]
        negativity.append(
            max(found["hostility"][0], 0.8 * complaint, found["mockery"][0])
        )
        first_time = reading.text not in seen_texts
        seen_texts.add(reading.text)
        for name, (score, hits) in found.items():
            scores[name] = max(scores[name], score * weight)
            if hits and first_time and score * weight >= 0.3:
                evidence.extend(_evidence(f"tone.{name}", post.id, hits[:4], weight))
    if sarcasm:
        scores["mockery"] = 1.0 - (1.0 - scores["mockery"]) * (1.0 - 0.6 * sarcasm)
    trend = 0.0
    if len(negativity) >= 2:
        earlier = sum(negativity[:-1]) / (len(negativity) - 1)
        trend = max(0.0, min(1.0, negativity[-1] - earlier))
    return trusted(
        ToneSignals,
        hostility=round(scores["hostility"], 4),
        mockery=round(scores["mockery"], 4),
        grief=round(scores["grief"], 4),
        crisis=round(scores["crisis"], 4),
        activism=round(scores["activism"], 4),
        legal=round(scores["legal"], 4),
        trend=round(trend, 4),
        evidence=tuple(evidence),
    )


_CLAPPED_WORD = re.compile(r"[A-Za-z']+")
_NEGATIONS = frozenset(
    {"nobody", "no", "not", "none", "nothing", "never", "zero", "noone"}
)


def _mockery(ctx: AnalysisContext, reading: Reading) -> tuple[float, list[Hit]]:
    """
    Return mockery: remarks about the bot, laughter at a complaint, clapped words.

    Words clapped back one by one ("Nobody. Had. Any. Account. Related.
    Inquiries.") are mockery for sure when they are a canned reply's.
    """
    score, hits = lexicon_score(reading, "bot_mockery")
    laughter = reading.get("laughter")
    negative = max(
        lexicon_score(reading, "complaint")[0],
        lexicon_score(reading, "bad_situation")[0],
    )
    if laughter and negative >= 0.5:
        score = 1.0 - (1.0 - score) * 0.6
        hits = [*hits, laughter[0]]
    if reading.clapping:
        words = [
            w.lower()
            for start, end in reading.clapping
            for w in _CLAPPED_WORD.findall(reading.text[start:end])
        ]
        clapped = ctx.read(" ".join(words))
        canned = clapped.get("generic_reply") + clapped.get("bot_mockery")
        start, end = reading.clapping[0]
        cue = Hit("mockery", "", 0.0, start, end, reading.text[start:end], -1, -1)
        if any(hit.weight >= 0.85 for hit in canned):
            score = 1.0 - (1.0 - score) * 0.2
            hits = [*hits, cue._replace(cue="claps_back_canned_text", weight=0.8)]
        elif _NEGATIONS.intersection(words) or negative >= 0.5:
            score = 1.0 - (1.0 - score) * 0.5
            hits = [*hits, cue._replace(cue="one_word_sentences", weight=0.5)]
    return score, hits
