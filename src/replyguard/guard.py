"""
The `Guard`: analyze -> evaluate -> decide, behind ``review`` and ``areview``.

One guard is meant to live as long as the bot: it compiles its policy once and is
safe to share across threads and asyncio tasks (its only mutable state is the policy
reference, swapped atomically by `Guard.reload`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replyguard._inputs import reply_from, thread_from
from replyguard._output import check_output, scan_rewrite
from replyguard._packets import complete_packet, write_summary
from replyguard.analysis import Analyzer, Brand
from replyguard.audit import (
    AuditLog,
    AuditTrail,
    Processor,
    audit_log_from_spec,
    decision_record,
    masker,
)
from replyguard.errors import (
    ConfigurationError,
    InvalidArgument,
    LimitError,
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
    StateSignals,
    Thread,
    TraceEvent,
    reply_words,
    trusted,
)
from replyguard.policy.compiled import CompiledBlackout, CompiledRule, Policy
from replyguard.sinks import CallbackSink, EscalationSink, sink_from_spec
from replyguard.state import (
    AsyncMemoryStore,
    AsyncSQLiteStore,
    AsyncStore,
    MemoryStore,
    SQLiteStore,
    Store,
    async_store_from_url,
    store_from_url,
)
from replyguard.state._protocol import Op, arun_ops, run_ops
from replyguard.state._replies import LimitCheck, ReplyMemory, key_text

__all__ = ["Clock", "Explanation", "Guard"]

Clock = Callable[[], datetime]
"""A callable returning an aware datetime: what windows and ages are measured against."""

SinkLike = EscalationSink | Callable[[Escalation], object]
"""An escalation sink, or a function called with each escalation."""

AuditLike = AuditLog | str | Path
"""A decision log, or its path (``*.jsonl``) or ``sqlite:///path``."""

_LOG = logging.getLogger("replyguard.guard")

_PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}

Procedure = Generator[list[Op], list[Any], tuple[Decision, list[TraceEvent]]]
"""A review as a generator: it yields store batches and receives their results."""


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Timings:
    """Nanoseconds spent in each phase of one review (a side channel, not the decision)."""

    start: int
    begin: int = 0
    analyze: int = 0
    state: int = 0
    output: int = 0
    end: int = 0

    def latency_us(self, done: int) -> dict[str, int]:
        procedure = self.end - self.begin
        evaluate = max(0, procedure - self.analyze - self.state - self.output)
        return {
            "analyze": self.analyze // 1000,
            "state": self.state // 1000,
            "evaluate": evaluate // 1000,
            "output": self.output // 1000,
            "total": (done - self.start) // 1000,
        }


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
            a URL (``memory://``, ``sqlite:///path.db``, ``redis://host:6379/0``),
            which serves both `review` and `areview`; a `Store`; or an `AsyncStore`
            (then only `areview` can run). ``None`` (default): nothing is
            remembered, `signals.state` stays zero and limits do not apply.
        clock: returns the current time as an aware datetime; defaults to wall time.
        strict: re-raise failures inside a review instead of recording them (tests).
        analyzer: an `Analyzer` of your own (a custom sarcasm model, another cache
            size), built with the policy's ``lexicons`` and ``nlp_pipeline`` (else
            `ConfigurationError`); by default one is built for them and shared by
            every guard with the same ones. It is kept across `reload`.
        sinks: where escalations are delivered besides the policy's own
            (``escalations.sinks``): `EscalationSink` objects (`replyguard.sinks`)
            or functions called with each `Escalation`. A review that records
            (not a dry run, not `explain`) delivers its escalation, new or update.
        audit: decision logs besides the policy's own (``audit.log``): an
            `AuditLog` (`replyguard.audit`), a path (``decisions.jsonl``) or
            ``sqlite:///path.db``, or a list of them. Every review (dry runs too,
            not `explain`) appends one record; a review whose record cannot be
            written never lets a reply out (see ``docs/audit-and-replay.md``).
        audit_processors: functions run on each record after the policy's
            masking (``audit.mask``) and before any log.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        store: str | Store | AsyncStore | None = None,
        clock: Clock | None = None,
        strict: bool = False,
        analyzer: Analyzer | None = None,
        sinks: Sequence[SinkLike] | None = None,
        audit: AuditLike | Sequence[AuditLike] | None = None,
        audit_processors: Sequence[Processor] = (),
    ) -> None:
        if not isinstance(policy, Policy):
            raise InvalidArgument(
                f"policy must be a `Policy`, not `{type(policy).__name__}`"
            )
        self._store_url: str | None = None
        self._astore: AsyncStore | None = None
        self._astore_lock = threading.Lock()
        if isinstance(store, str):
            self._store_url = store
            store = store_from_url(store)
        elif store is not None and not isinstance(store, Store):
            if isinstance(store, AsyncStore):
                self._astore = store
                store = None
            else:
                raise InvalidArgument(
                    "store must be a URL, a `Store` or an `AsyncStore`, not "
                    f"`{type(store).__name__}`"
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
        self._own_sinks: tuple[EscalationSink, ...] = tuple(
            _as_sink(sink) for sink in sinks or ()
        )
        self._policy_sinks: tuple[EscalationSink, ...] = ()
        self._sink_specs: list[Any] = []
        self._own_audit: tuple[AuditLog, ...] = _as_audit_logs(audit)
        if not all(callable(p) for p in audit_processors):
            raise InvalidArgument("audit_processors must be functions of a record")
        self._audit_processors = tuple(audit_processors)
        self._policy_audit: AuditLog | None = None
        self._audit_spec: tuple[Any, ...] | None = None
        self._trail: AuditTrail | None = None
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
        memory = (
            ReplyMemory(f"replyguard:{policy.name}", policy.storm)
            if self.store is not None or self._astore is not None
            else None
        )
        specs = [
            spec.model_dump(exclude_none=True) for spec in policy.escalations.sinks
        ]
        old_sinks = None
        if specs != self._sink_specs or not hasattr(self, "_state"):
            # build the new ones first: a sink that cannot be built keeps the old policy
            built = tuple(
                sink_from_spec(spec, base_dir=policy.source_dir) for spec in specs
            )
            old_sinks, self._policy_sinks, self._sink_specs = (
                self._policy_sinks,
                built,
                specs,
            )
        # one tuple, replaced whole: a review reads it once and never sees a mix
        self._state: tuple[Policy, Brand, Analyzer, ReplyMemory | None] = (
            policy,
            brand,
            analyzer,
            memory,
        )
        for sink in old_sinks or ():
            _close_sink(sink)
        self._install_audit(policy)

    def _install_audit(self, policy: Policy) -> None:
        """Build the policy's decision log (when it changed) and the trail to it."""
        spec = policy.audit
        key = (spec.log, spec.fsync, spec.rotate_bytes, policy.source_dir)
        old_log = self._policy_audit
        if key != self._audit_spec:
            self._policy_audit = (
                audit_log_from_spec(
                    spec.log,
                    base_dir=policy.source_dir,
                    fsync=spec.fsync,
                    rotate_bytes=spec.rotate_bytes,
                )
                if spec.log is not None
                else None
            )
            self._audit_spec = key
        logs = [
            *([self._policy_audit] if self._policy_audit is not None else []),
            *self._own_audit,
        ]
        old = self._trail
        mask = spec.mask
        self._trail = (
            AuditTrail(
                logs,
                [
                    masker(pii=mask.pii, handles=mask.handles, text=mask.text),
                    *self._audit_processors,
                ],
                pending=old.carried() if old is not None else None,
            )
            if logs
            else None
        )
        if (
            old is not None
            and old_log is not None
            and old_log is not self._policy_audit
        ):
            old.close([old_log])

    # -- construction -------------------------------------------------------------

    @classmethod
    def default(
        cls,
        *,
        store: str | Store | AsyncStore | None = None,
        clock: Clock | None = None,
        strict: bool = False,
        sinks: Sequence[SinkLike] | None = None,
        audit: AuditLike | Sequence[AuditLike] | None = None,
        audit_processors: Sequence[Processor] = (),
    ) -> Guard:
        """Return a guard running the shipped default policy (``replyguard:default``)."""
        guard = cls(
            Policy.packaged("default"),
            store=store,
            clock=clock,
            strict=strict,
            sinks=sinks,
            audit=audit,
            audit_processors=audit_processors,
        )
        guard._source = "replyguard:default"
        return guard

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        store: str | Store | AsyncStore | None = None,
        clock: Clock | None = None,
        strict: bool = False,
        sinks: Sequence[SinkLike] | None = None,
        audit: AuditLike | Sequence[AuditLike] | None = None,
        audit_processors: Sequence[Processor] = (),
    ) -> Guard:
        """
        Return a guard running the policy in `path` (or ``replyguard:NAME``).

        Raises:
            PolicyError: the policy has problems; all are listed, with file:line:col.
            ConfigurationError: a sink of the policy cannot be built (an unset
                environment variable in a webhook's URL, a bad path).
        """
        guard = cls(
            Policy.from_file(path),
            store=store,
            clock=clock,
            strict=strict,
            sinks=sinks,
            audit=audit,
            audit_processors=audit_processors,
        )
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

        With a store, `signals.state` holds what it remembers (read only: this post is
        not counted as inbound).

        Raises:
            StoreError: the store failed (a review would return ``on_error``).
        """
        policy, brand, analyzer, memory = self._state
        thread_model = thread_from(thread)
        reply_model = reply_from(reply) if reply is not None else Reply(text="")
        now = self._now()
        signals = analyzer.analyze(
            thread_model,
            reply_model if reply is not None else None,
            brand=brand,
            thresholds=policy.thresholds,
            now=now,
        )
        state = signals.state
        if memory is not None:
            results = self._run(
                memory.read_ops(
                    thread_model, reply_model, now=now.timestamp(), inbound=False
                )
            )
            state = memory.state_from(results, memory.storm_reading(results))
        return _with_state(signals, state, policy.blackout_at(now))

    def review(
        self,
        reply: Reply | str | dict[str, object],
        thread: Thread | dict[str, object],
        *,
        record: bool = True,
    ) -> Decision:
        """
        Decide whether `reply` may be sent into `thread`.

        With a store, the review counts the target as inbound (storm breaker),
        reserves the policy's limits for a reply that goes out and records it: send
        it, or call `forget` when the send fails.

        Args:
            reply: the proposed reply (a `Reply`, its text, or its JSON form).
            thread: the thread it answers (a `Thread` or its JSON form).
            record: remember the review (False: a dry run that writes nothing).

        Raises:
            InvalidInput: the thread or reply data is malformed (the path is named).
            InvalidArgument: an argument has the wrong type.
            ConfigurationError: the guard's store is asyncio-only (use `areview`).
        """
        trail = self._trail
        timings = _Timings(time.perf_counter_ns()) if trail is not None else None
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        decision = self._drive(
            self._procedure(reply_model, thread_model, record=record, timings=timings),
            timings,
        )[0]
        if trail is not None:
            decision, forget = self._log(
                trail, decision, reply_model, thread_model, record, timings
            )
            if forget:
                self._forget_quietly(forget)
        if record and decision.escalation is not None:
            self._deliver(decision.escalation)
        return decision

    async def areview(
        self,
        reply: Reply | str | dict[str, object],
        thread: Thread | dict[str, object],
        *,
        record: bool = True,
    ) -> Decision:
        """
        Decide like `review`, for asyncio code.

        Analysis runs inline (microseconds); the store is awaited (its asyncio twin:
        the same URL serves both).
        """
        trail = self._trail
        timings = _Timings(time.perf_counter_ns()) if trail is not None else None
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        procedure = self._procedure(
            reply_model, thread_model, record=record, timings=timings
        )
        decision = (await self._adrive(procedure, timings))[0]
        if trail is not None:
            if trail.blocking:  # fsync or SQLite: keep the event loop free
                decision, forget = await asyncio.to_thread(
                    self._log,
                    trail,
                    decision,
                    reply_model,
                    thread_model,
                    record,
                    timings,
                )
            else:
                decision, forget = self._log(
                    trail, decision, reply_model, thread_model, record, timings
                )
            if forget and self.store is not None:
                await asyncio.to_thread(self._forget_quietly, forget)
            elif forget:
                _LOG.warning(
                    "decision %s was recorded as sent, but its log record failed and "
                    "the asyncio store cannot take it back here",
                    forget.decision_id,
                )
        if record and decision.escalation is not None and self.sinks:
            # a queue file fsyncs: keep the event loop free
            await asyncio.to_thread(self._deliver, decision.escalation)
        return decision

    def record(
        self, reply: Reply | str | dict[str, object], thread: Thread | dict[str, object]
    ) -> None:
        """
        Remember a reply sent without a review (a person's, an approved escalation).

        So that repetition, counts and limits stay exact: it counts for every limit
        it falls under, even over the limit (it went out). Does nothing without a
        store.

        Raises:
            StoreError: the store failed (nothing was recorded).
            LimitError: a limit's key or condition failed (nothing was recorded).
        """
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        policy, brand, analyzer, memory = self._state
        if memory is None:
            return
        now = self._now()
        at = now.timestamp()
        signals = analyzer.analyze(
            thread_model,
            reply_model,
            brand=brand,
            thresholds=policy.thresholds,
            now=now,
        )
        if policy.limits:
            # limits read the state a review would see (`when: state.sent_to_author...`)
            results = self._run(
                memory.read_ops(thread_model, reply_model, now=at, inbound=False)
            )
            state = memory.state_from(results, memory.storm_reading(results))
            signals = signals.model_copy(update={"state": state})
        checks = _limit_checks(policy, thread_model, reply_model, signals)
        if any(check.limit.similar is not None for check in checks):
            words = reply_words_of(reply_model)
            recents = self._run(memory.similar_ops(checks, words, now=at))
            checks = memory.with_families(checks, recents, words)
        self._run(
            memory.record_ops(
                thread_model,
                reply_model,
                uuid.uuid4().hex,
                now=at,
                checks=checks,
                reserved=False,
            )
        )

    def forget(self, decision: Decision | str) -> bool:
        """
        Take back what a review recorded, when the send failed.

        Its limit reservations are released too.

        Args:
            decision: the decision, or its ``decision_id``.

        Returns:
            Whether anything was recorded for it (False without a store).

        Raises:
            StoreError: the store failed.
        """
        member = decision.decision_id if isinstance(decision, Decision) else decision
        if not isinstance(member, str):
            raise InvalidArgument("forget takes a `Decision` or its decision id")
        memory = self._state[3]
        if memory is None:
            return False
        now = self._now().timestamp()
        index = memory.index_flag(member)
        (keys,) = self._run([Op("get_flag", (index,), {"now": now})])
        if not keys:
            return False
        ops = [Op("release", (key, member)) for key in keys.split("\n")]
        ops.append(Op("set_flag", (index, ""), {"now": now, "ttl": 0.0}))
        return any(self._run(ops)[:-1])

    def pause(self, reason: str, *, until: datetime | None = None) -> None:
        """
        Pause automated replies for every worker sharing the store, until `until`.

        The default policy then escalates every review (`signals.state.paused`).

        Raises:
            ConfigurationError: the guard has no store to share the pause through.
            StoreError: the store failed.
        """
        memory = self._state[3]
        if memory is None:
            raise ConfigurationError("pause needs a store (Guard(..., store=URL))")
        if until is not None and (
            not isinstance(until, datetime) or until.tzinfo is None  # type: ignore[redundant-expr]  # callers may pass anything
        ):
            raise InvalidArgument("until must be an aware datetime (or None)")
        now = self._now()
        ttl = None if until is None else max(0.0, (until - now).total_seconds())
        self._run(
            [
                Op(
                    "set_flag",
                    (memory.pause_flag(), reason or "paused"),
                    {"now": now.timestamp(), "ttl": ttl},
                )
            ]
        )

    def resume(self) -> None:
        """Lift a pause, for every worker sharing the store."""
        memory = self._state[3]
        if memory is None:
            raise ConfigurationError("resume needs a store (Guard(..., store=URL))")
        self._run(
            [
                Op(
                    "set_flag",
                    (memory.pause_flag(), ""),
                    {"now": self._now().timestamp(), "ttl": 0.0},
                )
            ]
        )

    def explain(
        self, reply: Reply | str | dict[str, object], thread: Thread | dict[str, object]
    ) -> Explanation:
        """Return the decision and a trace of every rule's evaluation; records nothing."""
        reply_model = reply_from(reply)
        thread_model = thread_from(thread)
        decision, trace = self._drive(
            self._procedure(reply_model, thread_model, trace=True, record=False)
        )
        return Explanation(decision=decision, trace=tuple(trace))

    @property
    def sinks(self) -> tuple[EscalationSink, ...]:
        """Return where escalations go: the policy's sinks, then the guard's own."""
        return (*self._policy_sinks, *self._own_sinks)

    def deliver(self, escalation: Escalation) -> None:
        """
        Deliver an escalation to every sink (a review that records does this itself).

        Never raises: a sink that fails is logged on ``replyguard.guard``.
        """
        self._deliver(escalation)

    def _deliver(self, escalation: Escalation) -> None:
        for sink in self.sinks:
            try:
                sink.deliver(escalation)
            except Exception:  # noqa: BLE001 - a sink must not take the bot down
                _LOG.exception(
                    "escalation sink %s failed on escalation %s",
                    type(sink).__name__,
                    escalation.escalation_id,
                )

    def flush(self, timeout: float | None = None) -> bool:
        """
        Wait until the sinks delivered what they hold; False on timeout.

        Decision logs are flushed too (synced to disk; records that wait after a
        failure are tried again).
        """
        trail = self._trail
        if trail is not None:
            trail.flush()
        done = True
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if flush is not None:
                done = bool(flush(timeout)) and done
        return done

    async def aclose(self) -> None:
        """Close the guard's stores (connections, files) and its sinks."""
        if self._astore is not None:
            await self._astore.aclose()
        if self.store is not None:
            self.store.close()
        await asyncio.to_thread(self._close_sinks)

    def close(self) -> None:
        """Close the guard's synchronous store and its sinks (`aclose` from asyncio)."""
        if self.store is not None:
            self.store.close()
        self._close_sinks()

    def _close_sinks(self) -> None:
        for sink in self.sinks:
            _close_sink(sink)
        trail = self._trail
        if trail is not None:
            trail.close()

    # -- the decision log ------------------------------------------------------------

    def _log(
        self,
        trail: AuditTrail,
        decision: Decision,
        reply: Reply,
        thread: Thread,
        record: bool,  # noqa: FBT001 - internal
        timings: _Timings | None,
    ) -> tuple[Decision, Decision | None]:
        """
        Append the review's record to the decision logs; return the decision to give.

        When a log cannot take it, the review must not pass for logged: a reply that
        would go out gets the policy's ``on_error`` instead (and the decision to take
        back from the store is returned second); one that would not keeps its
        action. Either way the error is on the decision, stage ``audit``, and the
        record of what was returned waits to be written before the next one.
        """
        latency = timings.latency_us(time.perf_counter_ns()) if timings else None
        try:
            entry = trail.process(
                decision_record(decision, thread, recorded=record, latency_us=latency)
            )
        except Exception as exc:
            if self._strict:
                raise
            # a processor failed: nothing can be written unmasked
            return self._audit_failed(decision, reply, thread, exc), (
                decision if record and decision.sends else None
            )
        failed, error = trail.write(entry)
        if not failed or error is None:
            return decision, None
        if self._strict:
            raise error
        held = self._audit_failed(decision, reply, thread, error)
        try:
            kept = trail.process(
                decision_record(held, thread, recorded=record, latency_us=latency)
            )
        except Exception:  # noqa: BLE001 - reported below; the decision stands
            _LOG.exception(
                "decision %s: its log record cannot be built", held.decision_id
            )
        else:
            trail.keep(kept, failed)
        return held, decision if record and decision.sends else None

    def _audit_failed(
        self, decision: Decision, reply: Reply, thread: Thread, exc: Exception
    ) -> Decision:
        error = DecisionError(
            type=type(exc).__name__,
            message=f"the decision log could not be written ({exc}); the review "
            f"decided {decision.action.value}",
            stage="audit",
        )
        _LOG.error("decision %s: %s", decision.decision_id, error.message)
        if not decision.sends:
            return decision.model_copy(update={"errors": (*decision.errors, error)})
        failed = self._failed(
            self.policy, reply, thread, decision.at, decision.signals, [error]
        )
        return failed.model_copy(update={"decision_id": decision.decision_id})

    def _forget_quietly(self, decision: Decision) -> None:
        try:
            self.forget(decision)
        except Exception:  # noqa: BLE001 - the reply is held either way
            _LOG.exception(
                "decision %s: cannot take back its record in the store",
                decision.decision_id,
            )

    # -- running store batches ------------------------------------------------------

    def _run(self, ops: list[Op]) -> list[Any]:
        store = self.store
        if store is None:
            raise ConfigurationError(
                "this guard's store is an asyncio store: use `await guard.areview(...)`"
            )
        return run_ops(store, ops)

    def _async_store(self) -> AsyncStore:
        if self._astore is None:
            with self._astore_lock:
                if self._astore is None:
                    self._astore = _async_twin(self.store, self._store_url)
        return self._astore

    def _drive(
        self, procedure: Procedure, timings: _Timings | None = None
    ) -> tuple[Decision, list[TraceEvent]]:
        """Run a review, sending its store batches to the synchronous store."""
        try:
            batch = next(procedure)
            while True:
                started = time.perf_counter_ns()
                failure: Exception | None = None
                try:
                    results = self._run(batch)
                except Exception as exc:  # noqa: BLE001 - the procedure decides
                    failure = _as_store_error(exc)
                if timings is not None:
                    timings.state += time.perf_counter_ns() - started
                batch = (
                    procedure.send(results)
                    if failure is None
                    else procedure.throw(failure)
                )
        except StopIteration as stop:
            if timings is not None:
                timings.end = time.perf_counter_ns()
            value: tuple[Decision, list[TraceEvent]] = stop.value
            return value

    async def _adrive(
        self, procedure: Procedure, timings: _Timings | None = None
    ) -> tuple[Decision, list[TraceEvent]]:
        """Run a review, awaiting its store batches on the asyncio store."""
        try:
            batch = next(procedure)
            store = self._async_store()
            while True:
                started = time.perf_counter_ns()
                failure: Exception | None = None
                try:
                    if isinstance(store, _ThreadedStore):
                        results = await asyncio.to_thread(run_ops, store.sync, batch)
                    else:
                        results = await arun_ops(store, batch)
                except Exception as exc:  # noqa: BLE001 - the procedure decides
                    failure = _as_store_error(exc)
                if timings is not None:
                    timings.state += time.perf_counter_ns() - started
                batch = (
                    procedure.send(results)
                    if failure is None
                    else procedure.throw(failure)
                )
        except StopIteration as stop:
            if timings is not None:
                timings.end = time.perf_counter_ns()
            value: tuple[Decision, list[TraceEvent]] = stop.value
            return value

    def _now(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None:  # type: ignore[redundant-expr]  # a user's clock may return anything
            raise InvalidArgument("the guard's clock must return an aware datetime")
        return now

    # -- one review -------------------------------------------------------------------

    def _procedure(
        self,
        reply: Reply,
        thread: Thread,
        *,
        trace: bool = False,
        record: bool = False,
        timings: _Timings | None = None,
    ) -> Procedure:
        """
        Review `reply`: analyze, read the store, evaluate, apply limits, record.

        A generator, so that `review` and `areview` share it: it yields each batch of
        store operations and receives the results (or the `StoreError`, thrown in).
        With `timings`, the time spent analyzing and checking the output is added up
        there (the drivers add the store's).
        """
        policy, brand, analyzer, memory = self._state
        if timings is not None:
            timings.begin = time.perf_counter_ns()
        now = self._now()
        at = now.timestamp()
        events: list[TraceEvent] = []
        try:
            signals = analyzer.analyze(
                thread, reply, brand=brand, thresholds=policy.thresholds, now=now
            )
            if timings is not None:
                timings.analyze = time.perf_counter_ns() - timings.begin
        except Exception as exc:
            if self._strict:
                raise
            return self._failed(
                policy, reply, thread, now, Signals(), [_error(exc, "analyze")]
            ), events
        blackout = policy.blackout_at(now)
        state = signals.state
        if memory is not None:
            try:
                results = yield memory.read_ops(thread, reply, now=at, inbound=record)
                reading = memory.storm_reading(results)
                state = memory.state_from(results, reading)
                if reading.storming and record:
                    yield memory.storm_ops(thread, results, now=at)
            except StoreError as exc:
                if self._strict:
                    raise
                return self._failed(
                    policy, reply, thread, now, signals, [_error(exc, "state")]
                ), events
        signals = _with_state(signals, state, blackout)
        try:
            matched, failed = policy.evaluate_safely(thread, reply, signals)
            if failed and self._strict:
                raise failed[0][1]  # noqa: TRY301 - strict mode re-raises the rule's error
            if trace:
                events = policy.trace(thread, reply, signals)
            if failed:
                errors = [
                    DecisionError(
                        type=type(exc).__name__,
                        message=f"rule `{rule.id}` ({rule.location}): {exc}",
                        stage="evaluate",
                    )
                    for rule, exc in failed
                ]
                return self._failed(
                    policy, reply, thread, now, signals, errors, matched
                ), events
            outcome = self._outcome(policy, reply, thread, signals, matched, blackout)
            if outcome.sends:
                started = time.perf_counter_ns()
                self._check_output(
                    policy, analyzer, brand, reply, thread, signals, outcome, now
                )
                if timings is not None:
                    timings.output += time.perf_counter_ns() - started
            checks: list[LimitCheck] = []
            # what goes out: the reply, or its rewrite (limits count it, memory keeps it)
            sent = (
                reply
                if outcome.text is None or outcome.text == reply.text
                else Reply(text=outcome.text)
            )
            if outcome.sends and memory is not None and policy.limits:
                checks = _limit_checks(policy, thread, sent, signals)
        except Exception as exc:
            if self._strict:
                raise
            stage = "rewrite" if isinstance(exc, RewriteError) else "internal"
            if isinstance(exc, LimitError):
                stage = "evaluate"
            return self._failed(
                policy, reply, thread, now, signals, [_error(exc, stage)]
            ), events
        member = uuid.uuid4().hex
        if memory is not None:
            try:
                if checks:
                    if any(check.limit.similar is not None for check in checks):
                        words = reply_words_of(sent)
                        recents = yield memory.similar_ops(checks, words, now=at)
                        checks = memory.with_families(checks, recents, words)
                    answers = yield memory.limit_ops(
                        checks, member, now=at, reserve=record
                    )
                    checks = memory.limit_results(checks, answers)
                    over = [check for check in checks if not check.allowed]
                    if over:
                        if record:
                            kept = [check for check in checks if check.allowed]
                            if kept:
                                yield memory.release_ops(kept, member)
                        self._over_limits(policy, outcome, over, reply, thread, signals)
                        checks = []
                if outcome.sends and record:
                    yield memory.record_ops(thread, sent, member, now=at, checks=checks)
                if outcome.escalation is not None:
                    yield from self._escalate_once(
                        policy, memory, outcome, thread, member, at, record=record
                    )
            except StoreError as exc:
                if self._strict:
                    raise
                # a reply that cannot be remembered must not go out unremembered
                return self._failed(
                    policy, reply, thread, now, signals, [_error(exc, "state")]
                ), events
        return self._finish(
            policy, outcome, signals, (), reply, thread, now, member
        ), events

    def _outcome(
        self,
        policy: Policy,
        reply: Reply,
        thread: Thread,
        signals: Signals,
        matched: list[CompiledRule],
        blackout: CompiledBlackout | None,
    ) -> _Outcome:
        action = max(
            (rule.action for rule in matched),
            key=lambda a: a.severity,
            default=Action.ALLOW,
        )
        reasons = [
            Reason(
                rule=rule.id,
                action=rule.action,
                message=policy.render_message(rule, thread, reply, signals),
                evidence=_evidence_for(rule, signals),
                route=rule.route,
                priority=rule.priority,
            )
            for rule in matched
        ]
        askers = [
            _Asker(rule.id, rule.route or "social-care", rule.priority, rule.index)
            for rule in matched
            if rule.asks_person
        ]
        if blackout is not None:
            reasons.append(
                Reason(
                    rule=blackout.id,
                    action=blackout.action,
                    message=f"blackout: {blackout.reason}",
                    route=blackout.route,
                    priority=blackout.priority,
                )
            )
            action = max(action, blackout.action, key=lambda a: a.severity)
            if blackout.route is not None:
                askers.append(
                    _Asker(blackout.id, blackout.route, blackout.priority, -1)
                )
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
        outcome = _Outcome(action=action, text=text, reasons=reasons, askers=askers)
        outcome.escalation = _escalation(
            policy, askers, reasons, reply, thread, signals
        )
        return outcome

    def _check_output(
        self,
        policy: Policy,
        analyzer: Analyzer,
        brand: Brand,
        reply: Reply,
        thread: Thread,
        signals: Signals,
        outcome: _Outcome,
        now: datetime,
    ) -> None:
        """
        Check what would go out: links, media, length; then scan a changed reply.

        A reply that fails is held (its reasons added, a person asked); a reply the
        guard changed (a rewrite, a cut to the platform's limit) that fails its
        scan is escalated with the rewrite in the packet. Never sent either way.
        """
        assert outcome.text is not None  # noqa: S101 - only replies that would go out
        checked = check_output(
            policy, analyzer, brand, reply, thread, outcome.text, now
        )
        route = policy.replies.route
        if checked.held:
            for held in checked.held:
                outcome.reasons.append(held.reason)
                outcome.askers.append(
                    _Asker(held.reason.rule, held.route, held.reason.priority, -2)
                )
            outcome.action = max(
                (outcome.action, *(h.reason.action for h in checked.held)),
                key=lambda a: a.severity,
            )
            outcome.rewrite = outcome.text if outcome.text != reply.text else None
            outcome.text = None
            outcome.escalation = _escalation(
                policy, outcome.askers, outcome.reasons, reply, thread, signals
            )
            return
        assert checked.text is not None  # noqa: S101 - not held
        outcome.reasons.extend(checked.changes)
        if checked.changes:
            outcome.action = max(
                outcome.action, Action.REWRITE, key=lambda a: a.severity
            )
        if checked.text == reply.text:
            outcome.text = checked.text
            return
        rewritten = Reply(text=checked.text, links=reply.links, media=reply.media)
        scan = scan_rewrite(policy, analyzer, brand, rewritten, thread, signals, now)
        if not scan.failures:
            outcome.text = checked.text
            return
        by = [r.rule for r in outcome.reasons if r.action is Action.REWRITE]
        outcome.reasons.append(
            Reason(
                rule="rewrite-failed-scan",
                action=Action.ESCALATE,
                message=f"the rewrite by {', '.join(by) or 'the guard'} failed its "
                f"scan: {'; '.join(scan.failures)}",
                route=scan.route or route,
                priority=scan.priority,
            )
        )
        outcome.askers.append(
            _Asker("rewrite-failed-scan", scan.route or route, scan.priority, -2)
        )
        outcome.action = Action.ESCALATE
        outcome.rewrite = checked.text
        outcome.text = None
        outcome.escalation = _escalation(
            policy, outcome.askers, outcome.reasons, reply, thread, signals
        )

    def _over_limits(
        self,
        policy: Policy,
        outcome: _Outcome,
        over: list[LimitCheck],
        reply: Reply,
        thread: Thread,
        signals: Signals,
    ) -> None:
        """Turn a reply that would go out over a limit into the limit's action."""
        for check in over:
            limit = check.limit
            outcome.reasons.append(
                Reason(
                    rule=limit.id,
                    action=limit.action,
                    message=policy.render_limit_message(
                        limit, check.count, thread, reply, signals
                    ),
                    route=limit.route,
                    priority=limit.priority,
                )
            )
            if limit.asks_person:
                outcome.askers.append(
                    _Asker(
                        limit.id,
                        limit.route or "social-care",
                        limit.priority,
                        10_000 + limit.index,
                    )
                )
        outcome.action = max(
            (check.limit.action for check in over), key=lambda a: a.severity
        )
        outcome.text = None
        outcome.escalation = _escalation(
            policy, outcome.askers, outcome.reasons, reply, thread, signals
        )

    def _escalate_once(
        self,
        policy: Policy,
        memory: ReplyMemory,
        outcome: _Outcome,
        thread: Thread,
        member: str,
        at: float,
        *,
        record: bool,
    ) -> Generator[list[Op], list[Any], None]:
        """Hand a crowd to a person once per route and priority; later ones are suppressed."""
        escalation = outcome.escalation
        if (
            escalation is None
            or policy.escalations.once_per != "crowd"
            or escalation.priority == "urgent"
        ):
            return
        results = yield memory.escalation_ops(
            thread,
            escalation.route,
            escalation.priority,
            member,
            now=at,
            window=policy.escalation_window,
            reserve=record,
        )
        if record:
            first, recent, _, asks = results
            allowed = first.allowed
        else:
            first, recent, asks = results
            allowed = int(first) == 0
            asks = int(asks) + 1  # this review, which a dry run does not count
        occurrences = max(int(asks), 1)
        if occurrences > 1:
            escalation = escalation.model_copy(
                update={
                    "summary": f"{escalation.summary} {occurrences} posts of this "
                    f"crowd asked for {escalation.route} within "
                    f"{policy.escalations.per}."
                }
            )
        if allowed:
            outcome.escalation = escalation.model_copy(
                update={"occurrences": occurrences}
            )
            return
        earlier, opened = (recent[0][0], recent[0][1]) if recent else ("", at)
        outcome.reasons.append(
            Reason(
                rule="escalated-once",
                action=Action.SUPPRESS,
                message=f"this crowd is already with {escalation.route} "
                f"(escalation {earlier or '?'}); this post updates it instead of "
                f"paging again within {policy.escalations.per}",
            )
        )
        # an update of the open escalation: sinks change it instead of paging again
        outcome.escalation = escalation.model_copy(
            update={
                "update": True,
                "escalation_id": earlier,
                "occurrences": occurrences,
                "opened_at": datetime.fromtimestamp(float(opened), UTC),
            }
        )
        if outcome.action is Action.ESCALATE:
            outcome.action = Action.SUPPRESS

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
                crowd=thread.crowd,
            )
        outcome = _Outcome(
            action=action, text=None, reasons=reasons, escalation=escalation
        )
        return self._finish(
            policy,
            outcome,
            signals,
            tuple(errors),
            reply,
            thread,
            now,
            uuid.uuid4().hex,
        )

    def _finish(
        self,
        policy: Policy,
        outcome: _Outcome,
        signals: Signals,
        errors: tuple[DecisionError, ...],
        reply: Reply,
        thread: Thread,
        now: datetime,
        member: str,
    ) -> Decision:
        action, text, escalation = outcome.action, outcome.text, outcome.escalation
        reasons = tuple(outcome.reasons)
        if escalation is not None:
            escalation = complete_packet(
                escalation,
                policy=policy,
                thread=thread,
                reasons=reasons,
                decision_id=member,
                at=now,
                rewrite=outcome.rewrite,
            )
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
            reasons=reasons,
            escalation=escalation,
            signals=signals,
            errors=errors,
            policy=policy.ref,
            at=now,
            target_id=thread.target_post.id,
            proposed=reply.text,
            would_have=would_have,
            decision_id=member,  # given: a default factory costs a signature()
        )


@dataclass
class _Asker:
    """A rule, limit or blackout that asks for a person."""

    id: str
    route: str
    priority: str | None
    order: int


@dataclass
class _Outcome:
    """A decision in the making: what the rules, blackouts and limits asked for."""

    action: Action
    text: str | None
    reasons: list[Reason]
    askers: list[_Asker] = field(default_factory=list)
    escalation: Escalation | None = None
    rewrite: str | None = None
    """A rewrite that was held (it failed its scan), for the escalation packet."""

    @property
    def sends(self) -> bool:
        return self.text is not None


class _ThreadedStore:
    """A synchronous store run from asyncio in worker threads (no twin is known)."""

    url: str

    def __init__(self, sync: Store) -> None:
        self.sync = sync
        self.url = sync.url

    async def aclose(self) -> None:
        """Close the store it wraps."""
        self.sync.close()


def _async_twin(store: Store | None, url: str | None) -> AsyncStore:
    """Return the asyncio store that shares `store`'s data."""
    if isinstance(store, MemoryStore):
        return AsyncMemoryStore(store)
    if isinstance(store, SQLiteStore):
        return AsyncSQLiteStore(store.path)
    if url is not None:
        return async_store_from_url(url)
    if store is None:  # pragma: no cover - a guard without a store has no memory
        raise ConfigurationError("this guard has no store")
    return _ThreadedStore(store)  # type: ignore[return-value]  # run in threads by _adrive


def _as_audit_logs(
    audit: AuditLike | Sequence[AuditLike] | None,
) -> tuple[AuditLog, ...]:
    if audit is None:
        return ()
    items = [audit] if isinstance(audit, str | Path | AuditLog) else list(audit)
    logs: list[AuditLog] = []
    for item in items:
        if isinstance(item, str | Path):
            logs.append(audit_log_from_spec(item))
        elif isinstance(item, AuditLog):
            logs.append(item)
        else:
            raise InvalidArgument(
                "audit must be decision logs or their paths, not "
                f"`{type(item).__name__}`"
            )
    return tuple(logs)


def _as_sink(sink: SinkLike) -> EscalationSink:
    if isinstance(sink, EscalationSink):
        return sink
    if callable(sink):
        return CallbackSink(sink)
    raise InvalidArgument(
        "sinks must be escalation sinks or functions taking an `Escalation`, not "
        f"`{type(sink).__name__}`"
    )


def _close_sink(sink: EscalationSink) -> None:
    try:
        sink.close()
    except Exception:  # noqa: BLE001 - closing must not fail a reload or a shutdown
        _LOG.exception("escalation sink %s failed to close", type(sink).__name__)


def _with_state(
    signals: Signals, state: StateSignals, blackout: CompiledBlackout | None
) -> Signals:
    """Return `signals` with the store's `state` and the blackout in force, if any."""
    if blackout is not None:
        state = state.model_copy(
            update={"blackout": blackout.id, "blackout_reason": blackout.reason}
        )
    if state is signals.state:
        return signals
    return signals.model_copy(update={"state": state})


def _as_store_error(exc: Exception) -> Exception:
    if isinstance(exc, StoreError):
        return exc
    error = StoreError(
        f"the store failed: {type(exc).__name__}: {exc}", backend="unknown"
    )
    error.__cause__ = exc
    return error


def _error(exc: Exception, stage: str) -> DecisionError:
    if isinstance(exc, StoreError):
        stage = "state"
    return DecisionError(
        type=type(exc).__name__,
        message=str(exc),
        stage=stage,
    )


def reply_words_of(reply: Reply) -> str:
    """Return the words a reply is compared by (`replyguard.models.reply_words`)."""
    return reply_words(reply.text)


def _limit_checks(
    policy: Policy, thread: Thread, reply: Reply, signals: Signals
) -> list[LimitCheck]:
    """Return the limits that apply to `reply`, each with its key."""
    checks: list[LimitCheck] = []
    state = signals.state
    namespace = policy.namespace
    for limit in policy.limits:
        try:
            if limit.when is not None and not limit.when(
                thread, reply, signals, state, namespace
            ):
                continue
            key = key_text(limit.key(thread, reply, signals, state, namespace))
        except Exception as exc:
            raise LimitError(
                f"limit `{limit.id}` ({limit.location}): {type(exc).__name__}: {exc}"
            ) from exc
        if key is not None:
            checks.append(LimitCheck(limit=limit, key=key))
    return checks


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
    askers: list[_Asker],
    reasons: list[Reason],
    reply: Reply,
    thread: Thread,
    signals: Signals,
) -> Escalation | None:
    if not askers:
        return None
    lead = max(
        askers, key=lambda a: (_PRIORITY_RANK.get(a.priority or "normal", 1), -a.order)
    )
    target = thread.target_post
    summary = write_summary(
        thread, signals, reasons, policy, askers=[a.id for a in askers]
    )
    state = signals.state
    priority = lead.priority or policy.routes.get(lead.route, "normal")
    return Escalation(
        route=lead.route,
        priority=priority,
        summary=summary,
        proposed_reply=reply.text,
        rules=tuple(a.id for a in askers),
        target_id=target.id,
        crowd=thread.crowd,
        crowd_size=state.crowd_inbound,
    )
