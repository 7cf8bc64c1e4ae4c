"""
Analysis: turn a thread and a proposed reply into typed `Signals`. Pure, no I/O.

An `Analyzer` is built once (the guard builds one per installed policy): it holds the
spaCy pipeline, the lexicons (with the policy's additions) and the learned sarcasm
model. `Analyzer.analyze` reads every distinct text once, then runs the analyzers:

- ``chain.v1``: who speaks to whom, how far it spread;
- ``sarcasm.v1``, ``tone.v1``, ``intent.v1``: what the target says and how;
- ``reply.v1``: what the proposed reply does in that thread;
- ``language.v1``: whether the target is in a language the lexicons cover.

None reads the clock: the guard passes ``now`` in. `analyze` is a shortcut that uses a
default analyzer, built on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from replyguard.analysis._context import AnalysisContext, Brand
from replyguard.analysis.chain import analyze_chain
from replyguard.analysis.intent import analyze_intent
from replyguard.analysis.language import detect_language
from replyguard.analysis.reply import analyze_reply
from replyguard.analysis.sarcasm import analyze_sarcasm, model_cues
from replyguard.analysis.tone import analyze_tone
from replyguard.errors import InvalidArgument
from replyguard.models import (
    ChainSignals,
    LanguageSignals,
    Reply,
    Signals,
    Thread,
    trusted,
)

if TYPE_CHECKING:
    from replyguard.analysis.lexicons import LexiconChange, LexiconSet
    from replyguard.analysis.reader import Reader
    from replyguard.analysis.scorer import LinearScorer

__all__ = [
    "ANALYZERS",
    "COVERED_LANGUAGES",
    "AnalysisContext",
    "Analyzer",
    "Brand",
    "analyze",
]

ANALYZERS: tuple[str, ...] = (
    "chain.v1",
    "sarcasm.v1",
    "tone.v1",
    "intent.v1",
    "reply.v1",
    "language.v1",
)
"""The analyzers of the default pipeline, by registered name."""

COVERED_LANGUAGES = frozenset({"en", "und"})
"""Languages the packaged lexicons read (``und``: too little text to tell)."""

SARCASM_MODEL = "sarcasm"
"""The packaged learned sarcasm model's name (``replyguard/_data/models/``)."""


class Analyzer:
    """
    The analysis pipeline, built once and shared by every review.

    Args:
        lexicons: lexicon changes (a policy's ``lexicons:``), by lexicon name.
        pipeline: ``blank:en`` (default) or an installed trained spaCy pipeline.
        sarcasm_model: the learned sarcasm model: a `LinearScorer`, ``"packaged"``
            (default), or None for the rules alone.
        cache_size: distinct texts whose readings are kept between reviews.

    Raises:
        ConfigurationError: an unknown lexicon, pipeline or model.
    """

    def __init__(
        self,
        *,
        lexicons: Mapping[str, LexiconChange] | None = None,
        pipeline: str = "blank:en",
        sarcasm_model: LinearScorer | str | None = "packaged",
        cache_size: int = 4096,
    ) -> None:
        from replyguard.analysis.lexicons import packaged_lexicons  # noqa: PLC0415
        from replyguard.analysis.reader import Reader  # noqa: PLC0415 - spaCy is lazy
        from replyguard.analysis.scorer import LinearScorer  # noqa: PLC0415

        self.lexicon_changes: dict[str, LexiconChange] = dict(lexicons or {})
        self.pipeline = pipeline
        lexicon_set: LexiconSet = packaged_lexicons().changed(lexicons or {})
        self.reader: Reader = Reader(
            lexicon_set, pipeline=pipeline, cache_size=cache_size
        )
        if sarcasm_model == "packaged":
            self.sarcasm_model: LinearScorer | None = LinearScorer.packaged(
                SARCASM_MODEL
            )
        elif isinstance(sarcasm_model, str):
            self.sarcasm_model = LinearScorer.load(sarcasm_model)
        else:
            self.sarcasm_model = sarcasm_model

    def sarcasm_probability(self, ctx: AnalysisContext) -> float | None:
        """Return the learned model's sarcasm probability for the target (None: no model)."""
        if self.sarcasm_model is None:
            return None
        target = ctx.thread.target_post
        if target.missing:
            return None
        reading = ctx.reading(target)
        found: float | None = reading.memo.get("sarcasm_model")
        if found is None:
            found = self.sarcasm_model.score(
                reading.normalized.text, model_cues(reading)
            )
            reading.memo["sarcasm_model"] = found
        return found

    def analyze(
        self,
        thread: Thread,
        reply: Reply | None = None,
        *,
        brand: Brand | None = None,
        thresholds: Mapping[str, float] | None = None,
        now: datetime | None = None,
    ) -> Signals:
        """
        Return the signals of a thread (and of a proposed reply, when given).

        Args:
            thread: the conversation.
            reply: the proposed reply, if any.
            brand: the brand's handles and names (a thread's own handles take precedence).
            thresholds: the policy's thresholds; ``sarcasm`` sets `Signals.sarcasm.detected`.
            now: the review's time, read once by the guard (sets ``chain.target_age``).
        """
        if not isinstance(thread, Thread) or not (  # type: ignore[redundant-expr]  # callers may pass anything
            reply is None or isinstance(reply, Reply)
        ):
            raise InvalidArgument(
                "Analyzer.analyze takes a `Thread` and a `Reply` (or None); "
                "Guard.analyze also takes their JSON forms"
            )
        ctx = AnalysisContext(
            thread=thread,
            reply=reply,
            brand=brand or Brand(),
            now=now,
            thresholds=dict(thresholds or {}),
            reader=self.reader,
        )
        chain = analyze_chain(ctx)
        target = thread.target_post
        if now is not None and target.created_at is not None:
            created = target.created_at
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            chain = chain.model_copy(
                update={"target_age": (now - created).total_seconds()}
            )
        sarcasm = analyze_sarcasm(ctx, self.sarcasm_probability(ctx))
        tone = analyze_tone(ctx, sarcasm=sarcasm.rules)
        intent = analyze_intent(ctx, sarcasm=sarcasm.rules, hostility=tone.hostility)
        return trusted(
            Signals,
            chain=chain,
            sarcasm=sarcasm,
            tone=tone,
            intent=intent,
            reply=analyze_reply(ctx),
            language=_language(ctx),
            state=Signals.model_fields["state"].default,
            analyzers=ANALYZERS,
        )


def _language(ctx: AnalysisContext) -> LanguageSignals:
    target = ctx.thread.target_post
    if target.missing:
        return LanguageSignals()
    reading = ctx.reading(target)
    key = f"language:{target.lang}"
    guess = reading.memo.get(key)
    if guess is None:
        guess = detect_language(reading.text, hint=target.lang)
        if target.lang and guess.lang not in COVERED_LANGUAGES:
            # a platform's tag is a guess too: an English text tagged `es` is English
            own = detect_language(reading.text)
            if own.lang == "en" and own.confidence >= 0.5:
                guess = own
        reading.memo[key] = guess
    return trusted(
        LanguageSignals,
        lang=guess.lang,
        confidence=round(guess.confidence, 3),
        script=guess.script,
        covered=guess.lang in COVERED_LANGUAGES and guess.english_readable,
        evidence=(),
    )


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """Return the process-wide analyzer with the packaged lexicons and model."""
    global _default  # noqa: PLW0603 - one lazily built default per process
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Analyzer()
    return _default


def analyze(
    thread: Thread,
    reply: Reply | None = None,
    *,
    brand: Brand | None = None,
    thresholds: Mapping[str, float] | None = None,
    now: datetime | None = None,
) -> Signals:
    """Return the signals of a thread (and reply) with the default analyzer."""
    return default_analyzer().analyze(
        thread, reply, brand=brand, thresholds=thresholds, now=now
    )


__all__ += ["ChainSignals", "default_analyzer"]
