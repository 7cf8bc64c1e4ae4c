"""
The reply analyzer (``reply.v1``): the proposed reply, read against the thread.

- `length`, `mentions`, `repeats_brand_post` (the brand already posted this text here);
- `cheer`: exclamations and upbeat words and emoji;
- `generic`: stock phrases of canned replies that share nothing with the target;
- `off_topic`: the reply shares no content word with what the target is about;
- `asks_for_private_data`: asks in public for account or card numbers, passwords...
  (an ask routed to a DM in the same reply does not count);
- `pii`: card numbers (Luhn), IBANs, SSNs, emails and phone numbers in the reply;
- `echoes_user_text`: user-controlled text inserted verbatim (a run of four words of
  the target, or a handle of someone in the thread), 1.0 when what is echoed is
  hostile, a slur or an instruction; `hostile_mentions`: the hostile handles it
  names, other than the target author's (a rewrite can drop those);
- `claims`: refunds, prices, compensation and legal commitments;
- `hostility`: the reply's own words insult, threaten or carry a slur (a bot made to
  say it, or a template fed with it).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rapidfuzz import fuzz

from replyguard.analysis._context import AnalysisContext
from replyguard.analysis._text import HANDLE, handle_matches, strip_handles
from replyguard.analysis.normalize import normalize
from replyguard.analysis.pii import find_pii
from replyguard.analysis.reader import Reading
from replyguard.analysis.tone import _evidence, _hostility, lexicon_score
from replyguard.models import Evidence, Post, ReplySignals, normalize_handle, trusted

__all__ = ["NAME", "analyze_reply"]

NAME = "reply.v1"

ECHO_WORDS = 4
"""A run of this many of the target's words, in the reply, is an echo."""

_WORD = re.compile(r"[\w']+")
_ASK = re.compile(
    r"\b(?:send|share|provide|give|tell|reply with|respond with|post|confirm|"
    r"include|need|type|enter|what(?:'s| is) your|drop)\b",
    re.IGNORECASE,
)
_PII_WEIGHT = {"card": 1.0, "iban": 1.0, "ssn": 1.0, "email": 0.5, "phone": 0.5}
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|[_.\-]+")


def _reply_evidence(
    signal: str,
    cue: str,
    weight: float,
    *,
    post_id: str | None = None,
    start: int | None = None,
    end: int | None = None,
    text: str | None = None,
) -> Evidence:
    return trusted(
        Evidence,
        signal=signal,
        cue=cue,
        post_id=post_id,
        start=start,
        end=end,
        text=text,
        weight=round(weight, 3),
    )


def analyze_reply(ctx: AnalysisContext) -> ReplySignals:
    """Return the reply signals (all zero when there is no reply)."""
    reply = ctx.reply
    if reply is None:
        return ReplySignals()
    text = reply.text
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
                    _reply_evidence(
                        "reply.repeats_brand_post", "same_text", score, post_id=post.id
                    )
                )
            repeats = max(repeats, score)
    reading = ctx.reply_reading()
    assert reading is not None  # noqa: S101 - there is a reply
    target = ctx.thread.target_post
    target_reading = None if target.missing else ctx.reading(target)
    own = _own(reading)

    overlap = 0.0
    off_topic = 0.0
    if target_reading is not None:
        mine, theirs = reading.words, target_reading.words
        if len(mine) >= 3 and len(theirs) >= 3:
            shared = mine & theirs
            overlap = min(1.0, len(shared) / 2.0)
            off_topic = 1.0 - overlap
            if shared:
                evidence.append(
                    _reply_evidence(
                        "reply.off_topic",
                        "shared_words",
                        overlap,
                        text=" ".join(sorted(shared)[:8]),
                    )
                )
    generic = own.stock * (1.0 - overlap)
    if generic >= 0.3:
        evidence.extend(own.stock_evidence)
    evidence.extend(own.evidence)

    echoes = 0.0
    hostile: tuple[str, ...] = ()
    if target_reading is not None:
        echoes, hostile = _echoes(ctx, reading, target, target_reading, evidence)

    return trusted(
        ReplySignals,
        length=len(text),
        mentions=own.mentions,
        repeats_brand_post=round(repeats, 4),
        generic=round(generic, 4),
        cheer=own.cheer,
        asks_for_private_data=own.asks,
        pii=own.pii,
        pii_kinds=own.pii_kinds,
        echoes_user_text=round(echoes, 4),
        hostile_mentions=hostile,
        claims=own.claims,
        off_topic=round(off_topic, 4),
        hostility=own.hostility,
        evidence=tuple(evidence),
    )


class _Own(NamedTuple):
    """What a reply's text says on its own, whatever thread it lands in."""

    mentions: tuple[str, ...]
    cheer: float
    stock: float
    stock_evidence: tuple[Evidence, ...]
    asks: float
    pii: float
    pii_kinds: tuple[str, ...]
    hostility: float
    claims: float
    evidence: tuple[Evidence, ...]


def _own(reading: Reading) -> _Own:
    """Return the thread-free reply signals, computed once per reply text."""
    found: _Own | None = reading.memo.get("reply")
    if found is None:
        found = reading.memo["reply"] = _read_own(reading)
    return found


def _read_own(reading: Reading) -> _Own:
    text = reading.text
    evidence: list[Evidence] = []
    cheer, hits = lexicon_score(reading, "cheer")
    if reading.exclamations:
        cheer = 1.0 - (1.0 - cheer) * (0.7 if reading.exclamations == 1 else 0.5)
    if cheer >= 0.3:
        evidence.extend(_evidence("reply.cheer", None, hits[:3]))
    stock, stock_hits = lexicon_score(reading, "generic_reply")

    asks = 0.0
    private = reading.get("private_data_ask")
    if private and _ASK.search(text):
        routed = reading.get("dm_route")
        asks = 0.1 if routed else 0.9
        evidence.extend(_evidence("reply.asks_for_private_data", None, private[:2]))

    pii = 0.0
    kinds: list[str] = []
    for found in find_pii(text):
        pii = max(pii, _PII_WEIGHT.get(found.kind, 0.5))
        kinds.append(found.kind)
        evidence.append(
            _reply_evidence(
                "reply.pii",
                found.kind,
                _PII_WEIGHT.get(found.kind, 0.5),
                start=found.start,
                end=found.end,
            )
        )

    hostility, hostile_hits = _hostility(reading)
    if hostility >= 0.3:
        evidence.extend(_evidence("reply.hostility", None, hostile_hits[:3]))

    claims, claim_hits = lexicon_score(reading, "claims")
    if claims >= 0.3:
        evidence.extend(_evidence("reply.claims", None, claim_hits[:3]))
    return _Own(
        mentions=tuple(m.group(0) for m in HANDLE.finditer(text)),
        cheer=round(cheer, 4),
        stock=stock,
        stock_evidence=tuple(_evidence("reply.generic", None, stock_hits[:3])),
        asks=asks,
        pii=pii,
        pii_kinds=tuple(dict.fromkeys(kinds)),
        hostility=round(hostility, 4),
        claims=round(claims, 4),
        evidence=tuple(evidence),
    )


def _echoes(
    ctx: AnalysisContext,
    reading: Reading,
    target: Post,
    target_reading: Reading,
    evidence: list[Evidence],
) -> tuple[float, tuple[str, ...]]:
    """
    Return how much user-controlled text the reply repeats, and how bad it is.

    And the hostile handles it names, other than the target's author's (a template
    can drop those; a reply that goes to a hostile handle cannot be fixed).
    """
    score = 0.0
    hostile: list[str] = []
    assert ctx.reader is not None  # noqa: S101 - set by analyze()
    # handles of people in the thread, rendered into the reply: read their words
    for match in HANDLE.finditer(reading.text):
        handle = match.group(1)
        if handle_matches(handle, ctx.brand_handles):
            continue
        local = handle.split("@", 1)[0]
        words = " ".join(_CAMEL.split(local))
        found = ctx.read(words)
        bad = max(
            lexicon_score(found, "hostility", "slurs")[0],
            lexicon_score(found, "threat")[0],
            found.score("slurs"),
        )
        # run-together words ("@hitlerdidnothingwrong"): look for the compact forms
        squeezed = normalize(local, vocabulary=ctx.reader.vocabulary).text.lower()
        squeezed = _NOT_ALNUM.sub("", squeezed)
        if bad < 0.3 and ctx.reader.compact_pattern().search(squeezed) is not None:
            bad = 1.0
        if bad >= 0.3:
            score = max(score, 1.0)
            if normalize_handle(handle) != target.handle:
                hostile.append(match.group(0))
            evidence.append(
                _reply_evidence(
                    "reply.echoes_user_text",
                    "hostile_handle",
                    1.0,
                    start=match.start(),
                    end=match.end(),
                    text=match.group(0),
                )
            )
    mine = [w.lower() for w in _WORD.findall(reading.text)]
    theirs = [w.lower() for w in _WORD.findall(target_reading.text)]
    mentions = tuple(dict.fromkeys(hostile))
    if len(mine) < ECHO_WORDS or len(theirs) < ECHO_WORDS:
        return score, mentions
    grams = {
        tuple(theirs[i : i + ECHO_WORDS]) for i in range(len(theirs) - ECHO_WORDS + 1)
    }
    stop = ctx.reader.stop_words
    run_start = None
    runs: list[tuple[int, int]] = []
    for i in range(len(mine) - ECHO_WORDS + 1):
        gram = tuple(mine[i : i + ECHO_WORDS])
        if gram in grams and sum(w not in stop for w in gram) >= 2:
            if run_start is None:
                run_start = i
        elif run_start is not None:
            runs.append((run_start, i - 1 + ECHO_WORDS))
            run_start = None
    if run_start is not None:
        runs.append((run_start, len(mine)))
    for start, end in runs:
        echoed = " ".join(mine[start:end])
        found = ctx.read(echoed)
        bad = max(
            found.score("slurs"),
            lexicon_score(found, "hostility", "threat")[0],
            found.score("complaint") * 0.8,
            target_reading.score("instructions"),
        )
        weight = 1.0 if bad >= 0.5 else 0.6
        score = max(score, weight)
        evidence.append(
            _reply_evidence(
                "reply.echoes_user_text",
                "verbatim_run",
                weight,
                post_id=target.id,
                text=echoed,
            )
        )
    return score, mentions
