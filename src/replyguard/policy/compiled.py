"""A loaded policy, compiled once: conditions as Python code, templates as jinja2."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from replyguard.errors import PolicyError, PolicyProblem, RewriteError
from replyguard.models import Action, PolicyRef, Reply, Signals, Thread, TraceEvent
from replyguard.policy._templates import (
    TemplateProblem,
    ThreadView,
    compile_template,
    render_sandboxed,
)
from replyguard.policy._types import INT, STR, Attr, Type, policy_type
from replyguard.policy.conditions import (
    CompiledCondition,
    CompileProblem,
    compile_condition,
    runtime_globals,
)
from replyguard.policy.loader import (
    LoadedItem,
    LoadedRule,
    MergedPolicy,
    load_document,
    policy_error,
)
from replyguard.policy.schema import (
    AuditSpec,
    BrandSpec,
    EscalationsSpec,
    RepliesSpec,
    StormSpec,
    parse_duration,
)

if TYPE_CHECKING:
    from replyguard.analysis.lexicons import LexiconChange

__all__ = [
    "DEFAULT_THRESHOLDS",
    "CompiledBlackout",
    "CompiledLimit",
    "CompiledRule",
    "Policy",
    "StormSettings",
]

DEFAULT_THRESHOLDS: dict[str, float] = {"sarcasm": 0.45}
"""Thresholds every policy has unless it sets its own."""

MatchFunction = Callable[[Thread, Reply, Signals, Any, Any], list[int]]
RuleFunction = Callable[[Thread, Reply, Signals, Any, Any], Any]

_PARTS = ("when", "message", "template")


@dataclass(frozen=True)
class CompiledRule:
    """One rule ready to run: its spec, its compiled condition and templates."""

    id: str
    index: int
    action: Action
    description: str
    route: str | None
    priority: str | None
    asks_person: bool
    condition: CompiledCondition
    message: Any | None
    template: Any | None
    location: str
    tags: tuple[str, ...] = ()
    loaded: LoadedRule | None = field(default=None, repr=False)

    def default_message(self) -> str:
        """Return the first sentence of the description, or a generic line."""
        if self.description:
            first = re.split(r"(?<=[.!?])\s", self.description.strip(), maxsplit=1)[0]
            return first.strip()
        return f"rule `{self.id}` matched"


LIMIT_TYPE = Type(
    "obj",
    name="limit",
    attrs={
        "id": Attr("id", STR),
        "count": Attr("count", INT, "replies already counted in the window"),
        "max": Attr("max", INT),
        "per": Attr("per", STR, "the window, as written (`1h`)"),
    },
)
"""The type of `limit` in a limit's message template."""


@dataclass(frozen=True)
class CompiledLimit:
    """One limit ready to run: its key and condition as functions, its window in seconds."""

    id: str
    index: int
    description: str
    max: int
    per: str
    window: float
    similar: float | None
    action: Action
    route: str | None
    priority: str | None
    asks_person: bool
    key: Callable[[Thread, Reply, Signals, Any, Any], Any]
    when: Callable[[Thread, Reply, Signals, Any, Any], Any] | None
    message: Any | None
    location: str

    def default_message(self, count: int) -> str:
        """Return the first sentence of the description, or a line with the counts."""
        if self.description:
            return re.split(r"(?<=[.!?])\s", self.description.strip(), maxsplit=1)[0]
        return (
            f"limit `{self.id}`: {count} already went out within {self.per} "
            f"(at most {self.max})"
        )


@dataclass(frozen=True)
class CompiledBlackout:
    """One blackout: a fixed span, or a date every year in a time zone."""

    id: str
    reason: str
    action: Action
    route: str | None
    priority: str | None
    start: datetime | None
    end: datetime | None
    every_year: tuple[int, int] | None
    zone: Any
    location: str

    def active(self, now: datetime) -> bool:
        """Return whether `now` falls in the blackout."""
        if self.every_year is not None:
            local = now.astimezone(self.zone)
            return (local.month, local.day) == self.every_year
        if self.start is not None and now < self.start:
            return False
        return self.end is None or now < self.end


@dataclass(frozen=True)
class StormSettings:
    """The storm breaker's settings, in seconds."""

    window: float
    min_people: int
    share: float
    brand_factor: float
    cool_down: float
    baseline: float = 24 * 3600.0

    @classmethod
    def from_spec(cls, spec: StormSpec) -> StormSettings:
        """Return the settings of a policy's `storm:` section."""
        return cls(
            window=parse_duration(spec.window),
            min_people=spec.min_people,
            share=spec.share,
            brand_factor=spec.brand_factor,
            cool_down=parse_duration(spec.cool_down),
        )


class Policy:
    """
    A compiled policy: load it once, evaluate it for many reviews.

    Build one with `Policy.from_file`, `Policy.from_string` or `Policy.packaged`.
    Loading checks every condition and template; any problem raises `PolicyError`
    listing all of them with file, line and column.
    """

    def __init__(self, merged: MergedPolicy) -> None:
        document = merged.document
        self.name: str = document.name
        self.version: str = document.version
        self.description: str | None = document.description
        self.files: tuple[str, ...] = merged.files
        self.brand: BrandSpec = merged.brand
        self.thresholds: dict[str, float] = {**DEFAULT_THRESHOLDS, **merged.thresholds}
        self.on_error: Action = Action(merged.on_error)
        self.mode: str = merged.mode
        self.nlp_pipeline: str = merged.nlp
        self.lexicons: dict[str, LexiconChange] = _lexicon_changes(merged)
        self.routes: dict[str, str] = dict(merged.routes)
        problems: list[PolicyProblem] = []
        self.rules: tuple[CompiledRule, ...] = ()
        try:
            self.rules = _compile_rules(merged, self.thresholds)
        except PolicyError as exc:
            problems.extend(exc.problems)
        self.limits: tuple[CompiledLimit, ...] = ()
        self.blackouts: tuple[CompiledBlackout, ...] = ()
        try:
            self.limits = _compile_limits(merged, self.thresholds, document.name)
        except PolicyError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
        try:
            self.blackouts = _compile_blackouts(merged)
        except PolicyError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
        if problems:
            raise policy_error(problems)
        self.hash: str = _content_hash(merged, self.thresholds)
        self.ref: PolicyRef = PolicyRef(
            name=self.name, version=self.version, hash=self.hash
        )
        self.namespace: SimpleNamespace = SimpleNamespace(
            name=self.name,
            version=self.version,
            mode=self.mode,
            thresholds=SimpleNamespace(**self.thresholds),
            brand=SimpleNamespace(
                **{
                    k: tuple(v) if isinstance(v, list) else v
                    for k, v in self.brand.model_dump().items()
                }
            ),
        )
        self._match, self._rule_functions = _build_code(self.rules, self.name)
        self._operand_functions: list[list[RuleFunction]] | None = None
        self.storm: StormSettings = StormSettings.from_spec(merged.storm)
        self.escalations: EscalationsSpec = merged.escalations
        self.escalation_window: float = parse_duration(merged.escalations.per)
        self.storm_window_text: str = merged.storm.window
        self.route_slas: dict[str, str] = dict(merged.route_slas)
        self.replies: RepliesSpec = merged.replies
        links = merged.replies.links
        self.allowed_domains: tuple[str, ...] | None = (
            None
            if links is None or links.allow is None
            else tuple(_domain(d) for d in links.allow)
        )
        self.source_dir: Path | None = _source_dir(merged.files)
        self.audit: AuditSpec = merged.audit

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """
        Load and compile a policy file (or ``replyguard:NAME`` for a packaged one).

        Raises:
            PolicyError: every problem found, with file, line and column.
        """
        return cls(load_document(path, keep_going=True))

    @classmethod
    def from_string(cls, text: str, *, file: str = "<string>") -> Policy:
        """Load and compile a policy from YAML text; relative `extends` resolve from the cwd."""
        return cls(load_document(text=text, file=file, keep_going=True))

    @classmethod
    def packaged(cls, name: str = "default") -> Policy:
        """Load a policy shipped with replyguard, such as ``default`` or ``finance``."""
        name = name if name.startswith("replyguard:") else f"replyguard:{name}"
        return cls.from_file(name)

    def __repr__(self) -> str:
        return (
            f"<Policy {self.name!r} version={self.version!r} rules={len(self.rules)} "
            f"hash={self.hash[:12]}>"
        )

    # -- evaluation -----------------------------------------------------------------

    def match(
        self, thread: Thread, reply: Reply, signals: Signals
    ) -> list[CompiledRule]:
        """
        Return the rules whose conditions hold, in rule order.

        Raises whatever a condition raises; `evaluate_safely` records it instead.
        """
        indexes = self._match(thread, reply, signals, signals.state, self.namespace)
        return [self.rules[i] for i in indexes]

    def evaluate_safely(
        self, thread: Thread, reply: Reply, signals: Signals
    ) -> tuple[list[CompiledRule], list[tuple[CompiledRule, Exception]]]:
        """Return the matched rules and, per failing rule, the error it raised."""
        try:
            return self.match(thread, reply, signals), []
        except Exception:  # noqa: BLE001 - a rule failed; find which, one by one
            matched: list[CompiledRule] = []
            failed: list[tuple[CompiledRule, Exception]] = []
            state = signals.state
            for rule, function in zip(self.rules, self._rule_functions, strict=True):
                try:
                    if function(thread, reply, signals, state, self.namespace):
                        matched.append(rule)
                except Exception as exc:  # noqa: BLE001 - recorded on the decision
                    failed.append((rule, exc))
            return matched, failed

    def trace(self, thread: Thread, reply: Reply, signals: Signals) -> list[TraceEvent]:
        """Return the evaluation of every rule and its top-level operands, for `explain`."""
        if self._operand_functions is None:
            self._operand_functions = _build_operand_code(self.rules, self.name)
        events: list[TraceEvent] = []
        args = (thread, reply, signals, signals.state, self.namespace)
        for rule, function, operands in zip(
            self.rules, self._rule_functions, self._operand_functions, strict=True
        ):
            events.append(
                TraceEvent(
                    op="enter",
                    rule=rule.id,
                    expr=rule.condition.source,
                    location=rule.location,
                )
            )
            for (display, _), operand in zip(
                rule.condition.operands, operands, strict=True
            ):
                events.append(
                    TraceEvent(
                        op="eval",
                        rule=rule.id,
                        expr=display,
                        value=_traced(operand, args),
                        location=rule.location,
                    )
                )
            value, matched = _traced_match(function, args)
            events.append(
                TraceEvent(
                    op="match" if matched else "fail",
                    rule=rule.id,
                    expr=rule.condition.source,
                    value=value if not isinstance(value, _Failure) else str(value),
                    location=rule.location,
                )
            )
        return events

    def render_message(
        self, rule: CompiledRule, thread: Thread, reply: Reply, signals: Signals
    ) -> str:
        """Return the reason message of a matched rule (its template, or description)."""
        if rule.message is None:
            return rule.default_message()
        scope = self._template_scope(thread, reply, signals)
        return _render(rule.id, "message", rule.message, scope)

    def render_limit_message(
        self,
        limit: CompiledLimit,
        count: int,
        thread: Thread,
        reply: Reply,
        signals: Signals,
    ) -> str:
        """Return the reason message of a limit a reply went over."""
        if limit.message is None:
            return limit.default_message(count)
        scope = self._template_scope(thread, reply, signals)
        scope["limit"] = SimpleNamespace(
            id=limit.id, count=count, max=limit.max, per=limit.per
        )
        return _render(limit.id, "message", limit.message, scope)

    def sla_for(self, route: str, priority: str) -> str | None:
        """Return how soon a person should act on an escalation to `route`."""
        return self.route_slas.get(route) or self.escalations.sla.get(priority)  # type: ignore[call-overload]  # a Priority literal key

    def link_allowed(self, url: str) -> bool:
        """Return whether `url`'s domain is on the policy's allowlist (or none is set)."""
        if self.allowed_domains is None:
            return True
        host = _domain(url)
        return any(
            host == domain or host.endswith("." + domain)
            for domain in self.allowed_domains
        )

    def blackout_at(self, now: datetime) -> CompiledBlackout | None:
        """Return the first blackout in force at `now`, if any."""
        for blackout in self.blackouts:
            if blackout.active(now):
                return blackout
        return None

    def render_rewrite(
        self, rule: CompiledRule, thread: Thread, reply: Reply, signals: Signals
    ) -> str:
        """Return the rewritten reply text of a rewrite rule."""
        if rule.template is None:
            return reply.text
        scope = self._template_scope(thread, reply, signals)
        return _render(rule.id, "template", rule.template, scope)

    def _template_scope(
        self, thread: Thread, reply: Reply, signals: Signals
    ) -> dict[str, Any]:
        return {
            "thread": ThreadView(thread),
            "reply": reply,
            "signals": signals,
            "state": signals.state,
            "policy": self.namespace,
        }


def _render(rule_id: str, what: str, template: Any, scope: dict[str, Any]) -> str:
    try:
        return render_sandboxed(template, scope)
    except RewriteError as exc:
        raise RewriteError(f"the {what} of rule `{rule_id}` failed: {exc}") from exc


class _Failure(str):
    __slots__ = ()


def _traced_match(function: RuleFunction, args: tuple[Any, ...]) -> tuple[Any, bool]:
    """Return a rule's value as the trace shows it, and whether the rule matched."""
    try:
        raw = function(*args)
    except Exception as exc:  # noqa: BLE001 - shown in the trace
        return _Failure(f"error: {type(exc).__name__}: {exc}"), False
    if isinstance(raw, int | float | str | bool) or raw is None:
        return raw, bool(raw)
    return repr(raw), bool(raw)


def _traced(function: RuleFunction, args: tuple[Any, ...]) -> Any:
    try:
        value = function(*args)
    except Exception as exc:  # noqa: BLE001 - shown in the trace
        return _Failure(f"error: {type(exc).__name__}: {exc}")
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return repr(value)


def _compile_rules(
    merged: MergedPolicy, thresholds: dict[str, float]
) -> tuple[CompiledRule, ...]:
    # with a parent missing, any threshold it might define is accepted
    kind = policy_type(thresholds, open_thresholds=not merged.complete)
    problems: list[PolicyProblem] = list(merged.problems)
    compiled: list[CompiledRule] = []
    # every rule is checked: disabled ones (`enabled: false`) and the valid parts of
    # rules that failed the schema too; only enabled, valid rules run
    for index, loaded in enumerate((*merged.rules, *merged.checked)):
        spec = loaded.spec
        parts = loaded.checks if loaded.checks is not None else frozenset(_PARTS)
        condition = message = template = None
        if "when" in parts:
            try:
                condition = compile_condition(
                    spec.when, policy_type=kind, regex_prefix=str(index)
                )
            except CompileProblem as exc:
                problems.append(
                    loaded.problem(
                        exc.code,
                        exc.message,
                        part="when",
                        offset=exc.offset,
                        help=exc.help,
                    )
                )
        for attr in ("message", "template"):
            text = getattr(spec, attr)
            if text is None or attr not in parts:
                continue
            try:
                if attr == "message":
                    message = compile_template(text, policy=kind)
                else:
                    template = compile_template(text, policy=kind)
            except TemplateProblem as exc:
                problems.append(
                    loaded.problem(
                        exc.code,
                        exc.message,
                        part=attr,
                        offset=exc.offset,
                        help=exc.help,
                    )
                )
        if spec.route is not None and spec.action == "allow":
            problems.append(
                loaded.problem(
                    "policy.route_on_allow",
                    f"rule `{spec.id}` allows, so it cannot route to `{spec.route}`",
                    mention=False,
                    help="use action escalate, or suppress with a route to hold and notify",
                )
            )
        if condition is None or loaded.checks is not None or not spec.enabled:
            continue
        action = Action(spec.action)
        compiled.append(
            CompiledRule(
                id=spec.id,
                index=len(compiled),
                action=action,
                description=(spec.description or "").strip(),
                route=spec.route
                or ("social-care" if action is Action.ESCALATE else None),
                priority=spec.priority
                or (merged.routes.get(spec.route) if spec.route else None),
                asks_person=action is Action.ESCALATE or spec.route is not None,
                condition=condition,
                message=message,
                template=template,
                location=f"{loaded.file}:{loaded.when_line}:{loaded.when_column}",
                tags=tuple(spec.tags),
                loaded=loaded,
            )
        )
    if problems:
        raise policy_error(problems)
    return tuple(compiled)


def _code_globals(rules: tuple[CompiledRule, ...]) -> dict[str, Any]:
    names = runtime_globals()
    for rule in rules:
        names.update(rule.condition.regexes)
    return names


_ARGS = "thread, reply, signals, state, policy"


def _build_code(
    rules: tuple[CompiledRule, ...], name: str
) -> tuple[MatchFunction, list[RuleFunction]]:
    lines = [f"def _match({_ARGS}):", "    m = []"]
    for rule in rules:
        lines += [f"    if {rule.condition.python}:", f"        m.append({rule.index})"]
    lines.append("    return m")
    for rule in rules:
        lines += [
            f"def _rule_{rule.index}({_ARGS}):",
            f"    return {rule.condition.python}",
        ]
    namespace = _code_globals(rules)
    exec(compile("\n".join(lines), f"<policy {name}>", "exec"), namespace)  # noqa: S102 - checked code
    functions = [namespace[f"_rule_{rule.index}"] for rule in rules]
    return namespace["_match"], functions


def _build_operand_code(
    rules: tuple[CompiledRule, ...], name: str
) -> list[list[RuleFunction]]:
    lines: list[str] = []
    for rule in rules:
        for j, (_, python) in enumerate(rule.condition.operands):
            lines += [f"def _op_{rule.index}_{j}({_ARGS}):", f"    return {python}"]
    namespace = _code_globals(rules)
    if lines:
        exec(compile("\n".join(lines), f"<policy {name} trace>", "exec"), namespace)  # noqa: S102 - checked code
    return [
        [
            namespace[f"_op_{rule.index}_{j}"]
            for j in range(len(rule.condition.operands))
        ]
        for rule in rules
    ]


def _domain(text: str) -> str:
    """Return the lowercase host of a URL or a bare domain (``*.`` and ``www.`` dropped)."""
    value = text.strip().lower()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0]
    value = value.removeprefix("*.").rstrip(".")
    return value.removeprefix("www.")


def _source_dir(files: tuple[str, ...]) -> Path | None:
    """Return the folder of the policy's own file, when it is one."""
    if not files:
        return None
    path = Path(files[-1])
    return path.parent if path.is_file() else None


def _content_hash(merged: MergedPolicy, thresholds: dict[str, float]) -> str:
    content = {
        "name": merged.document.name,
        "version": merged.document.version,
        "brand": merged.brand.model_dump(),
        "thresholds": thresholds,
        "on_error": merged.on_error,
        "mode": merged.mode,
        "routes": merged.routes,
        "rules": [r.spec.model_dump(mode="json") for r in merged.rules],
        "lexicons": {
            name: [spec.model_dump(mode="json") for spec in specs]
            for name, specs in sorted(merged.lexicons.items())
        },
        "nlp": merged.nlp,
        "limits": [item.spec.model_dump(mode="json") for item in merged.limits],
        "blackouts": [item.spec.model_dump(mode="json") for item in merged.blackouts],
        "storm": merged.storm.model_dump(mode="json"),
        "escalations": merged.escalations.model_dump(mode="json"),
        "replies": merged.replies.model_dump(mode="json"),
        "route_slas": merged.route_slas,
    }
    if merged.audit != AuditSpec():
        # only when set: a policy without `audit:` keeps the hash it always had
        content["audit"] = merged.audit.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest[:16]}"


def _lexicon_changes(merged: MergedPolicy) -> dict[str, LexiconChange]:
    """Return the policy's lexicon changes (the loader reported any bad one, located)."""
    if not merged.lexicons:
        return {}
    from replyguard.analysis.lexicons import (  # noqa: PLC0415 - only when used
        LexiconChange,
        packaged_lexicons,
    )
    from replyguard.errors import ConfigurationError  # noqa: PLC0415

    known = packaged_lexicons().names
    changes: dict[str, LexiconChange] = {}
    for name, specs in sorted(merged.lexicons.items()):
        if name not in known:
            continue
        add: dict[str, float] = {}
        remove: list[str] = []
        for spec in specs:
            try:
                parsed = LexiconChange.parse(
                    f"lexicons.{name}", spec.model_dump(exclude_defaults=True)
                )
            except ConfigurationError:
                continue
            # in order, parent first: a child can take back what a parent added
            for term in parsed.remove:
                for phrase in [p for p in add if p == term.casefold()]:
                    del add[phrase]
            add.update(parsed.add)
            remove.extend(parsed.remove)
        changes[name] = LexiconChange(add=add, remove=tuple(remove))
    return changes


_KEY_KINDS = frozenset({"str", "int", "float", "any", "none"})


def _compile_limits(
    merged: MergedPolicy, thresholds: dict[str, float], name: str
) -> tuple[CompiledLimit, ...]:
    kind = policy_type(thresholds, open_thresholds=not merged.complete)
    problems: list[PolicyProblem] = []
    lines: list[str] = []
    names = runtime_globals()
    pending: list[tuple[int, LoadedItem, Any]] = []
    for index, item in enumerate(merged.limits):
        spec = item.spec
        keys = spec.key if isinstance(spec.key, list) else [spec.key]
        codes: list[str] = []
        for position, source in enumerate(keys):
            try:
                compiled = compile_condition(
                    source, policy_type=kind, regex_prefix=f"l{index}k{position}"
                )
            except CompileProblem as exc:
                problems.append(
                    item.problem(
                        exc.code,
                        f"in the key of limit `{spec.id}`: {exc.message}",
                        part="key",
                        offset=exc.offset if len(keys) == 1 else 0,
                        help=exc.help,
                    )
                )
                continue
            if compiled.type.kind not in _KEY_KINDS:
                problems.append(
                    item.problem(
                        "policy.bad_limit_key",
                        f"the key of limit `{spec.id}` is a {compiled.type.kind} "
                        f"(`{source}`); a key is a text or a number",
                        part="key",
                        help="count by an id or a handle: `thread.crowd`, "
                        "`thread.target.author`, `reply.fingerprint`",
                    )
                )
                continue
            names.update(compiled.regexes)
            codes.append(compiled.python)
        when_code = None
        if spec.when is not True:
            try:
                compiled = compile_condition(
                    spec.when, policy_type=kind, regex_prefix=f"l{index}w"
                )
                names.update(compiled.regexes)
                when_code = compiled.python
            except CompileProblem as exc:
                problems.append(
                    item.problem(
                        exc.code,
                        f"in limit `{spec.id}`: {exc.message}",
                        part="when",
                        offset=exc.offset,
                        help=exc.help,
                    )
                )
        message = None
        if spec.message is not None:
            try:
                message = compile_template(
                    spec.message, policy=kind, extra={"limit": LIMIT_TYPE}
                )
            except TemplateProblem as exc:
                problems.append(
                    item.problem(
                        exc.code,
                        f"in the message of limit `{spec.id}`: {exc.message}",
                        part="message",
                        offset=exc.offset,
                        help=exc.help,
                    )
                )
        if len(codes) != len(keys) or not spec.enabled:
            continue
        joined = codes[0] if len(codes) == 1 else f"({', '.join(codes)},)"
        lines += [f"def _key_{index}({_ARGS}):", f"    return {joined}"]
        if when_code is not None:
            lines += [f"def _when_{index}({_ARGS}):", f"    return {when_code}"]
        pending.append((index, item, message))
    if problems:
        raise policy_error(problems)
    if lines:
        exec(compile("\n".join(lines), f"<policy {name} limits>", "exec"), names)  # noqa: S102 - checked code
    limits: list[CompiledLimit] = []
    for index, item, message in pending:
        spec = item.spec
        action = Action(spec.action)
        limits.append(
            CompiledLimit(
                id=spec.id,
                index=len(limits),
                description=(spec.description or "").strip(),
                max=spec.max,
                per=spec.per,
                window=parse_duration(spec.per),
                similar=spec.similar,
                action=action,
                route=spec.route
                or ("social-care" if action is Action.ESCALATE else None),
                priority=spec.priority
                or (merged.routes.get(spec.route) if spec.route else None),
                asks_person=action is Action.ESCALATE or spec.route is not None,
                key=names[f"_key_{index}"],
                when=names.get(f"_when_{index}"),
                message=message,
                location=item.location,
            )
        )
    return tuple(limits)


def _compile_blackouts(merged: MergedPolicy) -> tuple[CompiledBlackout, ...]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - rarely used

    problems: list[PolicyProblem] = []
    blackouts: list[CompiledBlackout] = []
    for item in merged.blackouts:
        spec = item.spec
        zone: Any = UTC
        if spec.timezone != "UTC":
            try:
                zone = ZoneInfo(spec.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(
                    item.problem(
                        "policy.unknown_timezone",
                        f"blackout `{spec.id}`: unknown time zone `{spec.timezone}`",
                        part="timezone",
                        help="use an IANA name such as `Europe/London` or "
                        "`America/New_York`",
                    )
                )
                continue
        every_year = None
        if spec.every_year is not None:
            month, day = (int(part) for part in spec.every_year.split("-"))
            every_year = (month, day)
        action = Action(spec.action)
        blackouts.append(
            CompiledBlackout(
                id=spec.id,
                reason=spec.reason.strip(),
                action=action,
                route=spec.route
                or ("social-care" if action is Action.ESCALATE else None),
                priority=spec.priority
                or (merged.routes.get(spec.route) if spec.route else None),
                start=spec.start,
                end=spec.end,
                every_year=every_year,
                zone=zone,
                location=item.location,
            )
        )
    if problems:
        raise policy_error(problems)
    return tuple(blackouts)
