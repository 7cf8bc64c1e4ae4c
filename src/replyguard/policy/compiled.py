"""A loaded policy, compiled once: conditions as Python code, templates as jinja2."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from replyguard.errors import PolicyProblem, RewriteError
from replyguard.models import Action, PolicyRef, Reply, Signals, Thread, TraceEvent
from replyguard.policy._templates import TemplateProblem, ThreadView, compile_template
from replyguard.policy._types import policy_type
from replyguard.policy.conditions import (
    CompiledCondition,
    CompileProblem,
    compile_condition,
    runtime_globals,
)
from replyguard.policy.loader import (
    LoadedRule,
    MergedPolicy,
    load_document,
    policy_error,
)
from replyguard.policy.schema import BrandSpec

if TYPE_CHECKING:
    from replyguard.analysis.lexicons import LexiconChange

__all__ = ["DEFAULT_THRESHOLDS", "CompiledRule", "Policy"]

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
        self.rules: tuple[CompiledRule, ...] = _compile_rules(merged, self.thresholds)
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
            value = _traced(function, args)
            matched = bool(value) and not isinstance(value, _Failure)
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
        return str(template.render(**scope)).strip()
    except Exception as exc:
        raise RewriteError(
            f"the {what} of rule `{rule_id}` failed: {type(exc).__name__}: {exc}"
        ) from exc


class _Failure(str):
    __slots__ = ()


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
    }
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
