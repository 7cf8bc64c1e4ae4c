"""
The sarcasm analyzer (``sarcasm.v1``): is the target saying the opposite of what it means?

Rule cues, each with a weight, combined by noisy-or:

- explicit markers (``/s``, ``#sarcasm``, ``#not``) and stock phrases ("yeah right",
  "thanks for nothing");
- eye-roll, upside-down and clown emoji;
- praise next to a bad situation (Riloff et al. 2013: "love waiting on hold"), damped
  when the situation was resolved ("waived my fees in one call");
- scare quotes around a short phrase (``"restored within 24 hours"``);
- sarcastic phrases ("love how", "oh great") count fully only in a negative context;
  shape cues (punctuation runs, words in capitals, elongation, hyperbole, one-word
  sentences, laughter) only add to other cues, never decide alone.

A learned linear model (`replyguard.analysis.scorer`, trained on iSarcasmEval) is blended
in when one is given; `SarcasmSignals.rules` and `.model` keep both parts.
"""

from __future__ import annotations

import math

from replyguard.analysis._context import AnalysisContext
from replyguard.analysis.reader import Hit, Reading
from replyguard.models import Evidence, SarcasmSignals, trusted

__all__ = [
    "NAME",
    "analyze_sarcasm",
    "blend",
    "model_cues",
    "rule_score",
    "sarcasm_cues",
]

NAME = "sarcasm.v1"

CONTRAST_WINDOW = 20
"""Tokens between a praise word and a bad situation for the contrast cue."""

_SHAPE_CAP = 0.35
_THANKS = frozenset(
    {"thanks", "thank you", "thank u", "thx", "ty", "appreciate", "grateful"}
)


def _noisy_or(weights: list[float]) -> float:
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


Cue = tuple[str, float, Hit | tuple[int, int] | None]


def sarcasm_cues(reading: Reading) -> list[Cue]:
    """
    Return the sarcasm cues in one reading: (cue name, weight, where).

    `where` is the lexicon hit, an original-text span, or None. Computed once per
    reading (a reading is shared by every review of the same text).
    """
    found: list[Cue] | None = reading.memo.get("sarcasm_cues")
    if found is None:
        found = reading.memo["sarcasm_cues"] = _sarcasm_cues(reading)
    return found


def _sarcasm_cues(reading: Reading) -> list[Cue]:
    cues: list[tuple[str, float, Hit | tuple[int, int] | None]] = []
    negative = max(reading.score("bad_situation"), reading.score("complaint"))
    resolved = reading.score("resolution")
    eye_roll = reading.get("eye_roll")
    negative_context = negative >= 0.6 or bool(eye_roll) or bool(reading.quotes)
    markers = reading.get("sarcasm_markers")
    for hit in markers:
        if hit.weight >= 0.9:
            cues.append(("explicit_marker", 0.95, hit))
        elif hit.weight >= 0.6:
            weight = 0.6 if negative_context else 0.45
            cues.append(("sarcastic_phrase", weight * (1.0 - 0.5 * resolved), hit))
    cues.extend(("eye_roll_emoji", hit.weight, hit) for hit in eye_roll)
    positives = [h for h in reading.get("positive") if h.weight >= 0.6]
    situations = reading.get("bad_situation")
    best: tuple[float, Hit | None, Hit | None] = (0.0, None, None)
    for praise in positives:
        for situation in situations:
            if praise.start < situation.end and situation.start < praise.end:
                continue  # the same words ("fee" inside "thanks for the fee")
            gap = abs(praise.token_start - situation.token_start)
            if praise.token_start < 0 or gap > CONTRAST_WINDOW:
                continue
            if _negated(reading, situation):
                continue  # "no battle pass" is good news
            if praise.cue in _THANKS and not _thanks_for(reading, praise, situation):
                continue  # "thanks" closing a request is politeness, not praise
            weight = (
                0.45 + 0.1 * (praise.weight >= 0.9) + 0.1 * (situation.weight >= 0.9)
            )
            if weight > best[0]:
                best = (weight, praise, situation)
    if best[1] is not None:
        weight = best[0] * (1.0 - 0.8 * resolved)
        cues.append(("praise_of_bad_situation", weight, best[1]))
        # the situation is evidence too, at no extra weight
        cues.append(("praise_of_bad_situation", 0.0, best[2]))
    # scare quotes around a short phrase; around a promise in a complaint
    # ("restored within 24 hours", "unlimited") they are the joke itself
    quote_weight = 0.45 if negative >= 0.6 else 0.3
    cues.extend(("scare_quotes", quote_weight, span) for span in reading.quotes[:2])
    shape: list[tuple[str, float, Hit | tuple[int, int] | None]] = []
    weak = [h for h in markers if h.weight < 0.6]
    shape.extend(("weak_marker", 0.2, hit) for hit in weak[:2])
    shape.extend(("punctuation_run", 0.15, span) for span in reading.punct_runs[:1])
    shape.extend(("capitals", 0.1, span) for span in reading.caps_words[:2])
    shape.extend(("elongation", 0.15, span) for span in reading.elongations[:1])
    shape.extend(("one_word_sentences", 0.35, span) for span in reading.clapping[:1])
    shape.extend(("hyperbole", 0.15, hit) for hit in reading.get("hyperbole")[:2])
    shape.extend(("laughter", 0.15, hit) for hit in reading.get("laughter")[:1])
    shape.extend(
        ("mocks_the_bot", 0.4, hit)
        for hit in reading.get("bot_mockery")[:1]
        if hit.weight >= 0.9
    )
    if shape and (cues or negative >= 0.6):
        total = min(_SHAPE_CAP, _noisy_or([w for _, w, _ in shape]))
        scale = total / max(_noisy_or([w for _, w, _ in shape]), 1e-9)
        cues.extend((name, weight * scale, where) for name, weight, where in shape)
    return cues


_NEGATORS = ("no", "not", "without", "never", "zero", "n't", "none", "nothing")


def _negated(reading: Reading, situation: Hit) -> bool:
    """Return whether a negator stands just before the situation ("no fees")."""
    before = (
        reading.text[max(0, situation.start - 12) : situation.start].lower().split()
    )
    return bool(before) and before[-1].endswith(_NEGATORS)


def _thanks_for(reading: Reading, thanks: Hit, situation: Hit) -> bool:
    """Return whether it reads "thanks for <the bad situation>" (Riloff's frame)."""
    if situation.start < thanks.end:
        return False
    between = reading.text[thanks.end : situation.start].lower()
    return " for " in f" {between} " and situation.token_start - thanks.token_end <= 6


def rule_score(reading: Reading) -> float:
    """Return the rule-based sarcasm score of one reading."""
    return _noisy_or([weight for _, weight, _ in sarcasm_cues(reading)])


def analyze_sarcasm(
    ctx: AnalysisContext, model_score: float | None = None
) -> SarcasmSignals:
    """Return the sarcasm signals of the thread's target."""
    target = ctx.thread.target_post
    if target.missing:
        return SarcasmSignals()
    reading = ctx.reading(target)
    cues = sarcasm_cues(reading)
    rules = _noisy_or([weight for _, weight, _ in cues])
    model = model_score if model_score is not None else 0.0
    score = blend(rules, model_score)
    threshold = ctx.thresholds.get("sarcasm", 0.45)
    evidence = []
    shown = [c for c in sorted(cues, key=lambda c: -c[1]) if c[1] > 0][:6]
    shown += [c for c in cues if c[1] == 0]  # companions (the situation praised)
    for name, weight, where in shown:
        start = end = None
        text = None
        if isinstance(where, Hit):
            start, end, text = where.start, where.end, where.text
        elif isinstance(where, tuple):
            start, end = where
            text = reading.text[start:end]
        evidence.append(
            trusted(
                Evidence,
                signal="sarcasm",
                cue=name,
                post_id=target.id,
                start=start,
                end=end,
                text=text,
                weight=round(weight, 3),
            )
        )
    if model_score is not None and model >= 0.5:
        evidence.append(
            trusted(
                Evidence,
                signal="sarcasm",
                cue="learned_model",
                post_id=target.id,
                start=None,
                end=None,
                text=None,
                weight=round(model, 3),
            )
        )
    return trusted(
        SarcasmSignals,
        score=round(score, 4),
        detected=score >= threshold,
        cues=tuple(dict.fromkeys(name for name, _, _ in cues)),
        rules=round(rules, 4),
        model=round(model, 4),
        evidence=tuple(evidence),
    )


def blend(rules: float, model: float | None) -> float:
    """
    Return the sarcasm score from the rule score and the model's probability.

    In log-odds: ``logit(score) = logit(model) + logit(0.5 + rules / 2)``. With no
    rule cue the model speaks alone; a strong cue (``/s``: 0.95) lifts an even model
    score (0.5) to 0.975 and a doubtful one (0.2) to 0.9; the model (calibrated so
    that 0.5 is even odds) moves a weak cue up or down. Measured on iSarcasmEval
    under cross-validation, this ranks better than either part alone (see
    benchmarks/bench_signals.py).
    """
    if model is None:
        return rules
    odds = min(max(model, 1e-4), 1.0 - 1e-4)
    cue = min(0.5 + rules / 2.0, 1.0 - 1e-4)
    z = math.log(odds / (1.0 - odds)) + math.log(cue / (1.0 - cue))
    return 1.0 / (1.0 + math.exp(-z))


def model_cues(reading: Reading) -> dict[str, float]:
    """Return the rule cues as features for the learned model (name -> weight)."""
    found: dict[str, float] = {}
    for name, weight, _ in sarcasm_cues(reading):
        found[name] = max(found.get(name, 0.0), weight)
    return found
