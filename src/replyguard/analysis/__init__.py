"""
Analysis: turn a thread and a proposed reply into typed `Signals`. Pure, no I/O.

`analyze` runs the default pipeline. Every analyzer reads an `AnalysisContext` and
returns one signal group; none reads the clock (the guard passes ``now`` in).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from replyguard.analysis._context import AnalysisContext, Brand
from replyguard.analysis.chain import analyze_chain
from replyguard.analysis.reply import analyze_reply
from replyguard.models import Reply, SarcasmSignals, Signals, Thread

__all__ = ["ANALYZERS", "AnalysisContext", "Brand", "analyze"]

ANALYZERS: tuple[str, ...] = ("chain.v1", "reply.v1")
"""The analyzers of the default pipeline, by registered name."""


def analyze(
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
        now: the review's time, read once by the guard.
    """
    limits = dict(thresholds or {})
    ctx = AnalysisContext(
        thread=thread, reply=reply, brand=brand or Brand(), now=now, thresholds=limits
    )
    chain = analyze_chain(ctx)
    reply_signals = analyze_reply(ctx)
    sarcasm = SarcasmSignals()
    return Signals(
        chain=chain, sarcasm=sarcasm, reply=reply_signals, analyzers=ANALYZERS
    )
