"""
The `Guard`: analyze -> evaluate -> decide, behind ``review`` and ``areview``.

One guard is meant to live as long as the bot: it compiles its policy once and is
safe to share across threads and asyncio tasks (its only mutable state is the policy
reference, swapped atomically by `Guard.reload`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from replyguard._inputs import reply_from, thread_from
from replyguard.analysis import Analyzer, Brand
from replyguard.errors import (
    ConfigurationError,
    InvalidArgument,
    RewriteError,
    StoreError,
)
from replyguard.models import (
    Action,
    Decision,
    DecisionError,
    Escalation,
    Reason,
    Reply,
    Signals,
    Thread,
    TraceEvent,
    trusted,
)
from replyguard.policy.compiled import CompiledRule, Policy
from replyguard.state import Store, store_from_url
from replyguard.state._replies import ReplyMemory

__all__ = ["Clock", "Explanation", "Guard"]

Clock = Callable[[], datetime]
"""A callable returning an aware datetime: what windows and ages are measured against."""

_PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Explanation:
    """A decision plus the trace of every rule's evaluation (see `Guard.explain`)."""

    decision: Decision
    trace: tuple[TraceEvent, ...]


class Guard:
    """
    Review proposed replies against a compiled policy.

    Build one with `Guard.default()` or `Guard.from_file(path)` and keep it: every
    ``review`` reuses the compiled policy. ``review`` never raises for a failure
    inside the review (it returns the policy's ``on_error`` action with the error on
    ``decision.errors``); it raises only for arguments of the wrong type or shape.

    Args:
        policy: a compiled `Policy`.
        store: where replies sent are remembered, shared by every worker using it:
            a `Store`, or a URL (``memory://``, ``sqlite:///path.db``,
            ``redis://host:6379/0``); ``None`` (default): nothing is remembered and
            `signals.state` stays zero.
        clock: returns the current time as an aware datetime; defaults to wall time.
        strict: re-raise failures inside a review instead of recording them (tests).
        analyzer: an `Analyzer` of your own (a custom sarcasm model, another cache
            size), built with the policy's ``lexicons`` and ``nlp_pipeline`` (else
            `ConfigurationError`); by default one is built for them and shared by
            every guard with the same ones. It is kept across `reload`.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        store: str | Store | None = None,
        clock: Clock | None = None,
        strict: bool = False,
        analyzer: Analyzer | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise InvalidArgument(
                f"policy must be a `Policy`, not `{type(policy).__name__}`"
            )
        if isinstance(store, str):
            store = store_from_url(store)
        elif store is not None and not isinstance(store, Store):
            raise InvalidArgument(
                f"store must be a URL or a `Store`, not `{type(store).__name__}`"
            )
        self.store: Store | None = store
        if clock is not None and not callable(clock):
            raise InvalidArgument(
                "clock must be a callable returning an aware datetime"
            )
        if analyzer is not None and not isinstance(analyzer, Analyzer):
            raise InvalidArgument(
                f"analyzer must be an `Analyzer`, not `{type(analyzer).__name__}`"
            )
        self._analyzer = analyzer
        self._clock: Clock = clock or _wall_clock
        self._strict = strict
        self._lock = threading.Lock()
        self._source: str | Path | None = None
        self._install(policy)

    def _install(self, policy: Policy) -> None:
        brand = Brand.build(
            handles=policy.brand.handles,
            names=[*policy.brand.names, *policy.brand.aliases],
            derive_names=policy.brand.derive_names,
        )
        analyzer = self._analyzer or analyzer_for(policy)
        if analyzer.lexicon_changes != policy.lexicons or (
            analyzer.pipeline != policy.nlp_pipeline
        ):
            raise ConfigurationError(
                "the analyzer was built for other lexicons or another pipeline than "
                f"policy `{policy.name}` asks for; build it with "
                "Analyzer(lexicons=policy.lexicons, pipeline=policy.nlp_pipeline, ...)"
            )
        # one tuple, replaced whole: a review reads it once and never sees a mix
        self._state: tuple[Policy, Brand, Analyzer] = (policy, brand, analyzer)
        self._memory = (
            ReplyMemory(self.store, f"replyguard:{policy.name}")
            if self.store is not None
            else None
        )

    # -- construction -------------------------------------------------------------

    @classmethod
    def default(
        cls,
        *,
        store: str | Store | None = None,
        clock: Clock | None = None,
        strict: bool = False,
    ) -> Guard:
        """Return a guard running the shipped default policy (``replyguard:default``)."""
        guard = cls(Policy.packaged("default"), store=store, clock=clock, strict=strict)
        guard._source = "replyguard:default"
        return guard

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        store: str | Store | None = None,
        clock: Clock | None = None,
        strict: bool = False,
    ) -> Guard:
        """
        Return a guard running the policy in `path` (or ``replyguard:NAME``).

        Raises:
            PolicyError: the policy has problems; all are listed, with file:line:col.
        """
        guard = cls(Policy.from_file(path), store=store, clock=clock, strict=strict)
        guard._source = path
        return guard

    @property
    def policy(self) -> Policy:
        """Return the policy in force."""
        return self._state[0]

    def reload(self, path: str | Path | None = None) -> Policy:
        """
        Load the policy again (or the one in `path`) and swap it in atomically.

        Reviews in flight finish with the policy they started with.

        Raises:
            PolicyError: the new policy has problems; the old one stays in force.
        """
        source = path if path is not None else self._source
        if source is None:
            raise InvalidArgument(
                "this guard was built from a `Policy`; give reload a path"
            )
        policy = Policy.from_file(source)
        with self._lock:
            self._install(policy)
            self._source = source
        return policy

    # -- reviewing ------------------------------------------------------------------

    def analyze(
        self, thread: Thread | dict[str, object], reply: Reply | str | None = None
    ) -> Signals:
        """
        Return the signals of a thread (and reply) as the policy in force sees them.

        With a store, `signals.state` holds what it remembers (read only).

        Raises:
            StoreError: the store failed (a review would return ``on_error``).
        """
        policy, brand, analyzer = self._state
        thread_model = thread_from(thread)
        reply_model = reply_from(reply) if reply is not None else None
        now = self._now()
        signals = analyzer.analyze(
            thread_model,
            reply_model,
            brand=brand,
            thresholds=policy.thresholds,
            now=now,
        )
        if self._memory is not None:
            state = self._memory.read(
                thread_model, reply_model or Reply(text=""), now=now.timestamp()
            )
            signals = signals.model_copy(update={"state": state})
        return signals

    def review(
        self,
        reply: Reply | str | dict[str, object],
        thread: Thread | dict[str, object],
        *,
        record: bool = True,
    ) -> Decision:
        """
        Decide whether `reply` may be sent into `thread`.

        Args:
            reply: the proposed reply (a `Reply`, its text, or its JSON form).
            thread: the thread it answers (a `Thread` or its JSON form).
            record: remember a reply that goes out (no effect without a store).

        Raises:
            InvalidInput: the thread or reply data is malformed (the path is named).
            InvalidArgument: an argument has the wrong type.
        """
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        return self._decide(reply_model, thread_model, record=record)[0]

    async def areview(
        self,
        reply: Reply | str | dict[str, object],
        thread: Thread | dict[str, object],
        *,
        record: bool = True,
    ) -> Decision:
        """Decide like `review`, for asyncio code; analysis runs inline (microseconds)."""
        return self.review(reply, thread, record=record)

    def record(
        self, reply: Reply | str | dict[str, object], thread: Thread | dict[str, object]
    ) -> None:
        """
        Remember a reply sent without a review (a person's, an approved escalation).

        So that repetition and counts stay exact. Does nothing without a store.

        Raises:
            StoreError: the store failed (nothing was recorded).
        """
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        if self._memory is not None:
            self._memory.record(
                thread_model, reply_model, uuid.uuid4().hex, now=self._now().timestamp()
            )

    def forget(self, decision: Decision | str) -> bool:
        """
        Take back what a review recorded, when the send failed.

        Args:
            decision: the decision, or its ``decision_id``.

        Returns:
            Whether anything was recorded for it (False without a store).
        """
        member = decision.decision_id if isinstance(decision, Decision) else decision
        if not isinstance(member, str):
            raise InvalidArgument("forget takes a `Decision` or its decision id")
        if self._memory is None:
            return False
        return self._memory.forget(member, now=self._now().timestamp())

    def pause(self, reason: str, *, until: datetime | None = None) -> None:
        """
        Pause automated replies for every worker sharing the store, until `until`.

        The default policy then escalates every review (`signals.state.paused`).

        Raises:
            ConfigurationError: the guard has no store to share the pause through.
        """
        if self._memory is None:
            raise ConfigurationError("pause needs a store (Guard(..., store=URL))")
        if until is not None and (
            not isinstance(until, datetime) or until.tzinfo is None  # type: ignore[redundant-expr]  # callers may pass anything
        ):
            raise InvalidArgument("until must be an aware datetime (or None)")
        now = self._now()
        ttl = None if until is None else max(0.0, (until - now).total_seconds())
        self._memory.pause(reason or "paused", now=now.timestamp(), ttl=ttl)

    def resume(self) -> None:
        """Lift a pause, for every worker sharing the store."""
        if self._memory is None:
            raise ConfigurationError("resume needs a store (Guard(..., store=URL))")
        self._memory.resume(now=self._now().timestamp())

    def explain(
        self, reply: Reply | str | dict[str, object], thread: Thread | dict[str, object]
    ) -> Explanation:
        """Return the decision and a trace of every rule's evaluation; records nothing."""
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        decision, trace = self._decide(reply_model, thread_model, trace=True)
        return Explanation(decision=decision, trace=tuple(trace))

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None:  # type: ignore[redundant-expr]  # a user's clock may return anything
            raise InvalidArgument("the guard's clock must return an aware datetime")
        return now

    def _decide(
        self, reply: Reply, thread: Thread, *, trace: bool = False, record: bool = False
    ) -> tuple[Decision, list[TraceEvent]]:
        decision, events = self._judge(reply, thread, trace=trace)
        memory = self._memory
        if record and memory is not None and decision.sends and not decision.errors:
            try:
                sent = (
                    reply
                    if decision.text == reply.text
                    else Reply(text=decision.text or "")
                )
                memory.record(
                    thread, sent, decision.decision_id, now=decision.at.timestamp()
                )
            except StoreError as exc:
                if self._strict:
                    raise
                policy = self._state[0]
                # a reply that cannot be remembered must not go out unremembered
                return self._failed(
                    policy,
                    reply,
                    thread,
                    decision.at,
                    decision.signals,
                    [
                        DecisionError(
                            type=type(exc).__name__, message=str(exc), stage="state"
                        )
                    ],
                ), events
        return decision, events

    def _judge(
        self, reply: Reply, thread: Thread, *, trace: bool = False
    ) -> tuple[Decision, list[TraceEvent]]:
        policy, brand, analyzer = self._state
        now = self._now()
        events: list[TraceEvent] = []
        try:
            signals = analyzer.analyze(
                thread, reply, brand=brand, thresholds=policy.thresholds, now=now
            )
            if self._memory is not None:
                state = self._memory.read(thread, reply, now=now.timestamp())
                signals = signals.model_copy(update={"state": state})
        except Exception as exc:
            if self._strict:
                raise
            return self._failed(
                policy,
                reply,
                thread,
                now,
                Signals(),
                [
                    DecisionError(
                        type=type(exc).__name__,
                        message=str(exc),
                        stage="state" if isinstance(exc, StoreError) else "analyze",
                    )
                ],
            ), events
        try:
            matched, failed = policy.evaluate_safely(thread, reply, signals)
            if failed and self._strict:
                raise failed[0][1]  # noqa: TRY301 - strict mode re-raises the rule's error
            errors = [
                DecisionError(
                    type=type(exc).__name__,
                    message=f"rule `{rule.id}` ({rule.location}): {exc}",
                    stage="evaluate",
                )
                for rule, exc in failed
            ]
            if trace:
                events = policy.trace(thread, reply, signals)
            if errors:
                return self._failed(
                    policy, reply, thread, now, signals, errors, matched
                ), events
            return self._combine(policy, reply, thread, now, signals, matched), events
        except Exception as exc:
            if self._strict:
                raise
            stage = "rewrite" if isinstance(exc, RewriteError) else "internal"
            return self._failed(
                policy,
                reply,
                thread,
                now,
                signals,
                [DecisionError(type=type(exc).__name__, message=str(exc), stage=stage)],
            ), events

    def _reasons(
        self,
        policy: Policy,
        rules: list[CompiledRule],
        reply: Reply,
        thread: Thread,
        signals: Signals,
    ) -> list[Reason]:
        return [
            Reason(
                rule=rule.id,
                action=rule.action,
                message=policy.render_message(rule, thread, reply, signals),
                evidence=_evidence_for(rule, signals),
                route=rule.route,
                priority=rule.priority,
            )
            for rule in rules
        ]

    def _combine(
        self,
        policy: Policy,
        reply: Reply,
        thread: Thread,
        now: datetime,
        signals: Signals,
        matched: list[CompiledRule],
    ) -> Decision:
        action = max(
            (rule.action for rule in matched),
            key=lambda a: a.severity,
            default=Action.ALLOW,
        )
        reasons = self._reasons(policy, matched, reply, thread, signals)
        text: str | None = None
        if action is Action.ALLOW:
            text = reply.text
        elif action is Action.REWRITE:
            current = reply
            for rule in matched:
                if rule.action is Action.REWRITE:
                    current = current.model_copy(
                        update={
                            "text": policy.render_rewrite(
                                rule, thread, current, signals
                            )
                        }
                    )
            text = current.text
        escalation = _escalation(
            policy, [r for r in matched if r.asks_person], reasons, reply, thread
        )
        return self._finish(
            policy, action, text, reasons, escalation, signals, (), reply, thread, now
        )

    def _failed(
        self,
        policy: Policy,
        reply: Reply,
        thread: Thread,
        now: datetime,
        signals: Signals,
        errors: list[DecisionError],
        matched: list[CompiledRule] | None = None,
    ) -> Decision:
        action = policy.on_error
        reasons = [
            Reason(
                rule="on-error",
                action=action,
                message=f"the review failed ({errors[0].type}); "
                f"policy `on_error` is {action.value}",
            )
        ]
        reasons.extend(
            Reason(
                rule=rule.id,
                action=rule.action,
                message=rule.default_message(),
                route=rule.route,
                priority=rule.priority,
            )
            for rule in matched or []
        )
        escalation = None
        if action is Action.ESCALATE or any(r.asks_person for r in matched or []):
            # the rules that did match still say who should look (legal, crisis...)
            asking = [r for r in matched or [] if r.asks_person and r.route]
            lead = max(
                asking,
                key=lambda r: (_PRIORITY_RANK.get(r.priority or "normal", 1), -r.index),
                default=None,
            )
            route = lead.route if lead is not None and lead.route else "social-care"
            priority = max(
                "high",
                (lead.priority or policy.routes.get(route, "high")) if lead else "high",
                key=lambda p: _PRIORITY_RANK.get(p, 1),
            )
            escalation = Escalation(
                route=route,
                priority=priority,
                summary=f"review of a reply to post {thread.target_post.id} by "
                f"{thread.target_post.author} failed: {errors[0].message}"[:500],
                proposed_reply=reply.text,
                rules=tuple(r.rule for r in reasons),
                target_id=thread.target_post.id,
            )
        return self._finish(
            policy,
            action,
            None,
            reasons,
            escalation,
            signals,
            tuple(errors),
            reply,
            thread,
            now,
        )

    def _finish(
        self,
        policy: Policy,
        action: Action,
        text: str | None,
        reasons: list[Reason],
        escalation: Escalation | None,
        signals: Signals,
        errors: tuple[DecisionError, ...],
        reply: Reply,
        thread: Thread,
        now: datetime,
    ) -> Decision:
        would_have = None
        if policy.mode == "shadow" and not errors:
            would_have, action, text, escalation = (
                action,
                Action.ALLOW,
                reply.text,
                None,
            )
        # every value below was built or checked by replyguard: no validation needed
        return trusted(
            Decision,
            action=action,
            text=text,
            reasons=tuple(reasons),
            escalation=escalation,
            signals=signals,
            errors=errors,
            policy=policy.ref,
            at=now,
            target_id=thread.target_post.id,
            proposed=reply.text,
            would_have=would_have,
            decision_id=uuid.uuid4().hex,  # given: a default factory costs a signature()
        )


_analyzers: dict[tuple[str, ...], Analyzer] = {}
_analyzers_lock = threading.Lock()


def analyzer_for(policy: Policy) -> Analyzer:
    """
    Return the analyzer a policy needs, built once per distinct configuration.

    Guards whose policies share lexicon changes and pipeline share one analyzer (and
    its cache of readings): building one costs about a second.
    """
    changes = policy.lexicons
    key = (policy.nlp_pipeline, repr(sorted(changes.items())))
    analyzer = _analyzers.get(key)
    if analyzer is None:
        with _analyzers_lock:
            analyzer = _analyzers.get(key)
            if analyzer is None:
                analyzer = Analyzer(lexicons=changes, pipeline=policy.nlp_pipeline)
                _analyzers[key] = analyzer
    return analyzer


def _evidence_for(rule: CompiledRule, signals: Signals) -> tuple:  # type: ignore[type-arg]
    """Return the evidence of the signal groups a rule's condition reads."""
    source = rule.condition.source
    found = []
    for group in ("chain", "sarcasm", "tone", "intent", "reply", "language", "state"):
        if f"signals.{group}" in source or (group == "state" and "state." in source):
            found.extend(getattr(signals, group).evidence)
    return tuple(found)


def _escalation(
    policy: Policy,
    rules: list[CompiledRule],
    reasons: list[Reason],
    reply: Reply,
    thread: Thread,
) -> Escalation | None:
    if not rules:
        return None
    lead = max(
        rules, key=lambda r: (_PRIORITY_RANK.get(r.priority or "normal", 1), -r.index)
    )
    target = thread.target_post
    by_rule = {reason.rule: reason.message for reason in reasons}
    summary = (
        f"{target.kind.capitalize()} {target.id} by {target.author}: "
        + "; ".join(f"{r.id}: {by_rule.get(r.id, '').rstrip('.')}" for r in rules)
    )
    priority = lead.priority or policy.routes.get(lead.route or "", "normal")
    return Escalation(
        route=lead.route or "social-care",
        priority=priority,
        summary=summary[:1000],
        proposed_reply=reply.text,
        rules=tuple(r.id for r in rules),
        target_id=target.id,
    )
