"""
Lint a policy: warnings about rules that load but cannot do what they say.

`lint_policy` loads a policy the way `Policy.from_file` does (raising `PolicyError`
when it cannot load), then looks for mistakes the loader accepts: a rule that never
decides anything because a stricter rule always matches with it, a comparison that
can never hold (a 0..1 score compared with ``60``), a threshold nothing reads, a
blocklist term that is the brand's own name, a rule without a description.

Every finding is a `PolicyProblem` with severity ``warning`` and a ``lint.*`` code
(`LINT_CODES`), located at the rule (or the threshold, or the lexicon term) in the
file that defines it. The checks are syntactic: they read conditions as written, with
the policy's thresholds as numbers, and never run them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import nodes

from replyguard.errors import PolicyProblem
from replyguard.policy._types import ROOTS, Type
from replyguard.policy._yaml import Located, load_located
from replyguard.policy.compiled import CompiledRule, Policy
from replyguard.policy.conditions import (
    CompileProblem,
    offset_of,
    parse_expression,
    render_expression,
)
from replyguard.policy.loader import (
    PACKAGE_PREFIX,
    LoadedItem,
    LoadedRule,
    MergedPolicy,
    in_rule,
    load_document,
    packaged_policy_path,
)

__all__ = ["LINT_CODES", "lint_policy"]

LINT_CODES: dict[str, str] = {
    "lint.shadowed_rule": "a rule that can never change a decision: whenever it "
    "matches, a stricter rule matches too",
    "lint.duplicate_condition": "two rules with the same condition and the same action",
    "lint.unreachable_condition": "a comparison, or conjuncts together, that can "
    "never hold given what the signal can be",
    "lint.always_true": "a comparison that always holds (`score >= 0`)",
    "lint.threshold_out_of_range": "a 0..1 score compared with a number of 2 or more "
    "(a percentage: 60 for 0.6)",
    "lint.unused_threshold": "a policy threshold that no rule, limit or analyzer reads",
    "lint.blocks_own_brand": "a blocklist term or lexicon addition that matches the "
    "brand's own name, alias, product or handle",
    "lint.no_description": "a rule without a `description` for compliance review",
    "lint.disabled_rule": "a rule with `enabled: false` and no note saying why",
}
"""Every lint code, with a one-line summary (for the docs and ``--help``)."""

_SEVERITY = {"allow": 0, "rewrite": 1, "escalate": 2, "suppress": 3}
_PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}

NOT_SCORES: frozenset[str] = frozenset(
    {"signals.chain.target_age", "signals.state.brand_baseline"}
)
"""The number signals that are not 0..1 scores (seconds, a count per window)."""

READ_BY_REPLYGUARD: frozenset[str] = frozenset(
    {
        # the sarcasm analyzer sets `detected` at `sarcasm`
        "sarcasm",
        # escalation summaries (replyguard._packets): what the post reads as
        "sarcasm_cues",
        "activism",
        "crisis",
        "legal",
        "grief",
        "hostility",
        "mockery",
        # the scan of a rewritten reply (replyguard._output.SCAN)
        "echo",
        "private_data",
        "pii",
        "claims",
    }
)
"""Thresholds replyguard's own code reads, whether or not a rule does."""

BENIGN_LEXICONS: frozenset[str] = frozenset(
    {"cheer", "dm_route", "generic_reply", "positive", "resolution", "service_request"}
)
"""Lexicons whose matches never hold a reply; additions to every other one can."""

_THRESHOLD_REF = re.compile(
    r"policy\s*\.\s*thresholds\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
)
_FLIP = {"lt": "gt", "gt": "lt", "lteq": "gteq", "gteq": "lteq", "eq": "eq", "ne": "ne"}
_OP_TEXT = {"lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=", "eq": "==", "ne": "!="}
_NUMERIC_OPS = frozenset(_OP_TEXT)
_TINY = 1e-9

_Reporter = Callable[[str, str, "nodes.Node | None", "str | None"], None]
"""Reports a problem: code, message, the node it is at (None: the rule), help."""


def lint_policy(source: str | Path) -> list[PolicyProblem]:
    """
    Return the lint warnings of a policy file (or ``replyguard:NAME``), sorted.

    The policy is loaded first, along its `extends` chain, and every rule of the
    merged policy is linted where it is written (an inherited rule in its parent's
    file). Every problem has severity ``warning`` and a code of `LINT_CODES`.

    Raises:
        PolicyError: the policy cannot be loaded, as `Policy.from_file` raises it.
    """
    merged = load_document(source, keep_going=True)
    policy = Policy(merged)
    found = _Linter(merged, policy).run()
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=PolicyProblem.sort_key)


# --- reading conditions ---------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    """What a comparison is about: a canonical path, and what values it can take."""

    key: str
    kind: str  # score (0..1), count (0, 1, 2...), flag, number, text
    nullable: bool


@dataclass(frozen=True)
class _Constraint:
    """One comparison of a subject with a number: ``subject op value``."""

    subject: _Subject
    op: str
    value: float
    literal: bool
    node: nodes.Node

    def holds(self, x: float) -> bool:
        return _holds(self.op, x, self.value)

    @property
    def text(self) -> str:
        value = _number_text(self.value)
        return f"{self.subject.key} {_OP_TEXT[self.op]} {value}"


def _holds(op: str, x: float, v: float) -> bool:
    return {
        "lt": x < v,
        "lteq": x <= v,
        "gt": x > v,
        "gteq": x >= v,
        "eq": x == v,
        "ne": x != v,
    }[op]


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _candidates(kind: str, values: Iterable[float]) -> list[float]:
    """Return points of a subject's domain that decide any set of comparisons."""
    values = sorted(set(values))
    if kind == "flag":
        return [0.0, 1.0]
    if kind == "count":
        points = {0.0, 1e18}
        for v in values:
            for n in (math.floor(v) - 1, math.floor(v), math.ceil(v), math.ceil(v) + 1):
                if n >= 0:
                    points.add(float(n))
        return sorted(points)
    points = set(values)
    for v in values:
        points.update((v - _TINY, v + _TINY))
    points.update((a + b) / 2 for a, b in itertools.pairwise(values))
    if kind == "score":
        points.update((0.0, 1.0))
        return sorted(p for p in points if 0.0 <= p <= 1.0)
    points.update((-1e18, 1e18))
    return sorted(points)


def _satisfiable(kind: str, constraints: list[_Constraint]) -> bool:
    points = _candidates(kind, (c.value for c in constraints))
    return any(all(c.holds(x) for c in constraints) for x in points)


def _implies(a: _Constraint, b: _Constraint) -> bool:
    """Return whether every value of the subject that meets `a` meets `b`."""
    points = _candidates(a.subject.kind, (a.value, b.value))
    return all(b.holds(x) for x in points if a.holds(x))


def _path(node: nodes.Node) -> tuple[str, Type] | None:
    """Return the canonical path and static type of a plain attribute path."""
    if isinstance(node, nodes.Name):
        if node.name == "state":
            return "signals.state", ROOTS["state"]
        kind = ROOTS.get(node.name)
        return (node.name, kind) if kind is not None else None
    attr: str | None = None
    inner: nodes.Node | None = None
    if isinstance(node, nodes.Getattr):
        attr, inner = node.attr, node.node
    elif (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        attr, inner = node.arg.value, node.node
    if attr is not None and inner is not None:
        base = _path(inner)
        if base is None or base[1].kind != "obj":
            return None
        found = base[1].attribute(attr)
        if found is None:
            return None
        kind = found.type.optional() if base[1].nullable else found.type
        return f"{base[0]}.{attr}", kind
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, int)
    ):
        base = _path(node.node)
        if base is None or base[1].kind != "list" or base[1].item is None:
            return None
        return f"{base[0]}[{node.arg.value}]", base[1].item.optional()
    return None


def _policy_path(node: nodes.Node) -> str | None:
    """Return ``policy.a.b`` for a path into `policy` (a constant of the policy)."""
    if isinstance(node, nodes.Name):
        return "policy" if node.name == "policy" else None
    if isinstance(node, nodes.Getattr):
        base = _policy_path(node.node)
        return f"{base}.{node.attr}" if base else None
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        base = _policy_path(node.node)
        return f"{base}.{node.arg.value}" if base else None
    return None


def _subject(node: nodes.Node) -> _Subject | None:
    """Return what a comparison operand is about, when it is a known signal or path."""
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
        args = ", ".join(_canon(a) for a in node.args)
        if node.node.name == "len":
            return _Subject(f"len({args})", "count", nullable=False)
        if node.node.name == "similarity":
            return _Subject(f"similarity({args})", "score", nullable=True)
        return None
    if isinstance(node, nodes.Filter) and node.name in ("length", "count"):
        inner = _canon(node.node) if node.node is not None else ""
        return _Subject(f"len({inner})", "count", nullable=False)
    found = _path(node)
    if found is None or found[0].startswith("policy"):
        return None
    key, kind = found
    if kind.kind == "bool":
        return _Subject(key, "flag", kind.nullable)
    if kind.kind == "int":
        return _Subject(key, "count", kind.nullable)
    if kind.kind == "float":
        score = key.startswith("signals.") and key not in NOT_SCORES
        return _Subject(key, "score" if score else "number", kind.nullable)
    if kind.kind == "str":
        return _Subject(key, "text", kind.nullable)
    return None


def _canon(node: nodes.Node) -> str:
    """Return a condition as text, written one way: the form conditions are compared in."""
    match node:
        case nodes.Const() if isinstance(node.value, str):
            return '"' + node.value.replace('"', '\\"') + '"'
        case nodes.Const() if isinstance(node.value, float) and node.value.is_integer():
            return str(int(node.value))
        case nodes.Name() | nodes.Getattr() | nodes.Getitem() if _path(node):
            found = _path(node)
            return found[0] if found else render_expression(node)
        case nodes.Getattr() | nodes.Getitem() if _policy_path(node):
            return _policy_path(node) or render_expression(node)
        case nodes.Getattr():
            return f"{_canon(node.node)}.{node.attr}"
        case nodes.Getitem():
            return f"{_canon(node.node)}[{_canon(node.arg)}]"
        case nodes.And():
            parts = sorted({_canon(p) for p in _flatten(node, nodes.And)})
            return "(" + " and ".join(parts) + ")"
        case nodes.Or():
            parts = sorted({_canon(p) for p in _flatten(node, nodes.Or)})
            return "(" + " or ".join(parts) + ")"
        case nodes.Not():
            return f"not {_canon(node.node)}"
        case nodes.Neg():
            return f"-{_canon(node.node)}"
        case nodes.Pos():
            return _canon(node.node)
        case nodes.Compare() if len(node.ops) == 1:
            left, op, right = node.expr, node.ops[0].op, node.ops[0].expr
            if op in _FLIP and _is_constant(left) and not _is_constant(right):
                left, op, right = right, _FLIP[op], left
            text = {**_OP_TEXT, "in": "in", "notin": "not in"}.get(op, op)
            return f"{_canon(left)} {text} {_canon(right)}"
        case nodes.Compare():
            text = _canon(node.expr)
            for operand in node.ops:
                text += (
                    f" {_OP_TEXT.get(operand.op, operand.op)} {_canon(operand.expr)}"
                )
            return text
        case nodes.List() | nodes.Tuple():
            return "[" + ", ".join(_canon(i) for i in node.items) + "]"
        case nodes.Filter() if node.name in ("length", "count"):
            inner = _canon(node.node) if node.node is not None else ""
            return f"len({inner})"
        case nodes.Filter():
            inner = _canon(node.node) if node.node is not None else ""
            return f"{inner} | {node.name}"
        case nodes.Test():
            return f"{_canon(node.node)} is {node.name}"
        case nodes.Call():
            return (
                f"{_canon(node.node)}(" + ", ".join(_canon(a) for a in node.args) + ")"
            )
        case nodes.CondExpr():
            other = f" else {_canon(node.expr2)}" if node.expr2 is not None else ""
            return f"({_canon(node.expr1)} if {_canon(node.test)}{other})"
        case nodes.BinExpr():
            return f"({_canon(node.left)} {node.operator} {_canon(node.right)})"
        case nodes.Concat():
            return " ~ ".join(_canon(n) for n in node.nodes)
        case _:
            return render_expression(node)


def _is_constant(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Const):
        return True
    if isinstance(node, nodes.Neg | nodes.Pos):
        return _is_constant(node.node)
    return _policy_path(node) is not None


def _flatten(node: nodes.Node, kind: type[nodes.Node]) -> list[nodes.Node]:
    if isinstance(node, kind) and isinstance(node, nodes.And | nodes.Or):
        return [*_flatten(node.left, kind), *_flatten(node.right, kind)]
    return [node]


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _polar(
    node: nodes.Node, *, positive: bool = True
) -> Iterator[tuple[nodes.Node, bool]]:
    """Yield every node with whether it counts for (true) or against the condition."""
    yield node, positive
    if isinstance(node, nodes.Not):
        yield from _polar(node.node, positive=not positive)
        return
    if isinstance(node, nodes.CondExpr):
        # the test of `a if t else b` counts both ways
        yield from _polar(node.test, positive=True)
        yield from _polar(node.test, positive=False)
        yield from _polar(node.expr1, positive=positive)
        if node.expr2 is not None:
            yield from _polar(node.expr2, positive=positive)
        return
    for child in node.iter_child_nodes():
        yield from _polar(child, positive=positive)


# --- the linter -----------------------------------------------------------------


@dataclass
class _Rule:
    """A rule of the merged policy, with its condition parsed."""

    loaded: LoadedRule
    node: nodes.Expr | None
    lead: int
    compiled: CompiledRule | None
    dnf: list[list[nodes.Node]]


class _Linter:
    def __init__(self, merged: MergedPolicy, policy: Policy) -> None:
        self.merged = merged
        self.policy = policy
        self.located = _located_files(merged)
        compiled = {rule.id: rule for rule in policy.rules}
        self.rules: list[_Rule] = []
        for loaded in merged.rules:
            node, lead = _parse_when(loaded.spec.when)
            self.rules.append(
                _Rule(
                    loaded=loaded,
                    node=node,
                    lead=lead,
                    compiled=compiled.get(loaded.spec.id)
                    if loaded.spec.enabled
                    else None,
                    dnf=_dnf(node) if node is not None else [],
                )
            )
        self.problems: list[PolicyProblem] = []

    def run(self) -> list[PolicyProblem]:
        for rule in self.rules:
            if rule.node is not None:
                self._comparisons(rule.node, self._at_rule(rule))
        for item in self.merged.limits:
            when = item.spec.when
            if isinstance(when, str):
                node, lead = _parse_when(when)
                if node is not None:
                    self._comparisons(node, self._at_limit(item, lead))
        self._shadowing()
        self._thresholds()
        self._brand()
        self._documentation()
        return self.problems

    # -- where problems go --------------------------------------------------------

    def _at_rule(self, rule: _Rule) -> _Reporter:
        def report(
            code: str, message: str, node: nodes.Node | None, help: str | None
        ) -> None:
            problem = rule.loaded.problem(
                code,
                message,
                part="when" if node is not None else None,
                offset=rule.lead + offset_of(node) if node is not None else 0,
                help=help,
                mention=node is not None,
            )
            self.problems.append(dataclasses.replace(problem, severity="warning"))

        return report

    def _at_limit(self, item: LoadedItem, lead: int) -> _Reporter:
        def report(
            code: str, message: str, node: nodes.Node | None, help: str | None
        ) -> None:
            problem = item.problem(
                code,
                in_rule(message, f"the `when` of limit `{item.spec.id}`"),
                part="when",
                offset=lead + offset_of(node) if node is not None else 0,
                help=help,
            )
            self.problems.append(dataclasses.replace(problem, severity="warning"))

        return report

    def _warn_at(
        self,
        located: Located,
        path: tuple[Any, ...],
        code: str,
        message: str,
        help: str | None,
        rule_id: str | None = None,
    ) -> None:
        line, column = located.where(path)
        self.problems.append(
            PolicyProblem(
                code=code,
                message=message,
                file=located.file,
                line=line,
                column=column,
                rule_id=rule_id,
                help=help,
                severity="warning",
            )
        )

    # -- comparisons ----------------------------------------------------------------

    def _constraint(
        self, left: nodes.Node, op: str, right: nodes.Node
    ) -> _Constraint | None:
        if op not in _NUMERIC_OPS:
            return None
        subject, value, literal = _subject(left), self._number(right), True
        if subject is None or value is None:
            subject, value, op = _subject(right), self._number(left), _FLIP[op]
            if subject is None or value is None:
                return None
            left = right
        if subject.kind == "text":
            return None
        number, literal = value
        return _Constraint(subject, op, number, literal, left)

    def _number(self, node: nodes.Node) -> tuple[float, bool] | None:
        """Return (value, is a literal) of a number literal or a policy threshold."""
        if isinstance(node, nodes.Const):
            value = node.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value), True
            return None
        if isinstance(node, nodes.Neg | nodes.Pos):
            inner = self._number(node.node)
            if inner is None:
                return None
            sign = -1.0 if isinstance(node, nodes.Neg) else 1.0
            return sign * inner[0], inner[1]
        found = _policy_path(node)
        if found is not None and found.startswith("policy.thresholds."):
            name = found.removeprefix("policy.thresholds.")
            if name in self.policy.thresholds:
                return float(self.policy.thresholds[name]), False
        return None

    def _comparisons(self, root: nodes.Node, report: _Reporter) -> None:
        single_never: set[str] = set()
        for node in _walk(root):
            if not isinstance(node, nodes.Compare):
                continue
            left = node.expr
            for operand in node.ops:
                found = self._constraint(left, operand.op, operand.expr)
                left = operand.expr
                if found is None or not found.literal:
                    continue
                if self._check_one(found, report):
                    single_never.add(found.subject.key)
        for node in _walk(root):
            if isinstance(node, nodes.And) and not _inside_and(root, node):
                self._contradictions(_flatten(node, nodes.And), single_never, report)

    def _check_one(self, c: _Constraint, report: _Reporter) -> bool:
        """Report one comparison that can never hold or always holds; True if never."""
        kind = c.subject.kind
        if kind not in ("score", "count", "flag"):
            return False
        points = _candidates(kind, [c.value])
        never = not any(c.holds(x) for x in points)
        always = all(c.holds(x) for x in points) and not c.subject.nullable
        shown = f"`{c.text}`"
        if kind == "score" and c.value >= 2:
            guess = c.value / 100 if c.value <= 100 else None
            outcome = (
                "can never hold"
                if never
                else "always holds"
                if always
                else "holds only at that end"
            )
            report(
                "lint.threshold_out_of_range",
                f"{shown} compares a 0..1 score with {_number_text(c.value)}, so it "
                f"{outcome}; the rule does not work as its threshold says",
                c.node,
                f"scores run from 0 to 1: did you mean `{_number_text(guess)}`?"
                if guess is not None
                else "scores run from 0 to 1",
            )
            return never
        what = {
            "score": "a score in 0..1",
            "count": "a count (0, 1, 2, ...)",
            "flag": "true/false (1 or 0 compared with a number)",
        }[kind]
        if never:
            report(
                "lint.unreachable_condition",
                f"{shown} can never hold: `{c.subject.key}` is {what}; the part of "
                "the condition it guards never matches",
                c.node,
                "fix the number or the operator"
                + (", or test the flag itself" if kind == "flag" else ""),
            )
            return True
        if always:
            report(
                "lint.always_true",
                f"{shown} always holds: `{c.subject.key}` is {what}; it filters "
                "nothing, so the rule matches more than it seems to",
                c.node,
                "drop the comparison, or raise the threshold to what was meant",
            )
        return False

    def _contradictions(
        self, parts: list[nodes.Node], skip: set[str], report: _Reporter
    ) -> None:
        by_subject: dict[str, list[_Constraint]] = {}
        texts: dict[str, list[tuple[str, str, nodes.Node]]] = {}
        flags: dict[str, tuple[bool, nodes.Node]] = {}
        for part in parts:
            negated = isinstance(part, nodes.Not)
            bare = part.node if isinstance(part, nodes.Not) else part
            flag = _subject(bare)
            if flag is not None and flag.kind == "flag":
                earlier = flags.get(flag.key)
                if earlier is not None and earlier[0] != negated:
                    report(
                        "lint.unreachable_condition",
                        f"`{flag.key}` and `not {flag.key}` can never hold together; "
                        "the rule never matches",
                        part,
                        "one of the two is a mistake: keep the one that was meant",
                    )
                flags[flag.key] = (negated, part)
                continue
            if not isinstance(part, nodes.Compare) or len(part.ops) != 1:
                continue
            op, right = part.ops[0].op, part.ops[0].expr
            found = self._constraint(part.expr, op, right)
            if found is not None:
                by_subject.setdefault(found.subject.key, []).append(found)
                continue
            text = _text_constraint(part.expr, op, right)
            if text is not None:
                texts.setdefault(text[0], []).append((text[1], text[2], part))
        for key, constraints in by_subject.items():
            if len(constraints) < 2 or key in skip:
                continue
            if not _satisfiable(constraints[0].subject.kind, constraints):
                shown = " and ".join(f"`{c.text}`" for c in constraints)
                report(
                    "lint.unreachable_condition",
                    f"{shown} can never hold together; the rule never matches",
                    constraints[-1].node,
                    "a band needs its lower bound below its upper bound: check the "
                    "numbers (and the thresholds they read)",
                )
        for key, values in texts.items():
            equal = {v for op, v, _ in values if op == "eq"}
            unequal = {v for op, v, _ in values if op == "ne"}
            if len(equal) > 1 or equal & unequal:
                report(
                    "lint.unreachable_condition",
                    f"`{key}` cannot be "
                    + " and ".join(
                        f"{'' if op == 'eq' else 'other than '}`{v}`"
                        for op, v, _ in values
                    )
                    + " at once; the rule never matches",
                    values[-1][2],
                    "to accept any of several values, write `in [...]` or `or`",
                )

    # -- shadowing ----------------------------------------------------------------

    def _shadowing(self) -> None:
        live = [r for r in self.rules if r.compiled is not None and r.node is not None]
        duplicates: set[int] = set()
        for i, later in enumerate(live):
            for earlier in live[:i]:
                if (
                    later.compiled
                    and earlier.compiled
                    and later.compiled.action is earlier.compiled.action
                    and _same(later.dnf, earlier.dnf)
                ):
                    where = _where(earlier.loaded)
                    self._at_rule(later)(
                        "lint.duplicate_condition",
                        f"rule `{later.loaded.spec.id}` has the same condition and "
                        f"action as rule `{earlier.loaded.spec.id}` ({where}); two "
                        "rules that always match together give every decision two "
                        "reasons and split future edits",
                        None,
                        f"merge them into `{earlier.loaded.spec.id}` (one route, one "
                        "message), or make their conditions differ",
                    )
                    duplicates.add(i)
                    break
        for i, rule in enumerate(live):
            if i in duplicates or rule.compiled is None:
                continue
            for other in live:
                if other is rule or other.compiled is None:
                    continue
                if (
                    _SEVERITY[other.compiled.action.value]
                    <= _SEVERITY[rule.compiled.action.value]
                ):
                    continue
                if not _covers(other.compiled, rule.compiled):
                    continue
                if not self._dnf_implies(rule.dnf, other.dnf):
                    continue
                self._report_shadowed(rule, other)
                break

    def _report_shadowed(self, rule: _Rule, other: _Rule) -> None:
        assert rule.compiled is not None  # noqa: S101 - only live rules are shadowed
        assert other.compiled is not None  # noqa: S101
        mine, theirs = rule.compiled.action.value, other.compiled.action.value
        asks = ""
        if rule.compiled.asks_person:
            asks = (
                f", and its escalation (route `{other.compiled.route}`, priority "
                f"`{other.compiled.priority or 'normal'}`) leads this rule's"
            )
        self._at_rule(rule)(
            "lint.shadowed_rule",
            f"rule `{rule.loaded.spec.id}` ({mine}) can never change a decision: "
            f"whenever it matches, rule `{other.loaded.spec.id}` "
            f"({_where(other.loaded)}) matches too, and its `{theirs}` is stricter{asks}",
            None,
            "a rule decides only when it can raise the action or the escalation: "
            f"narrow `{other.loaded.spec.id}`, make this rule's condition broader, "
            "or delete it",
        )

    def _dnf_implies(
        self, mine: list[list[nodes.Node]], theirs: list[list[nodes.Node]]
    ) -> bool:
        """Return whether condition `mine` can only hold when `theirs` holds."""
        if not mine:
            return False
        return all(
            any(self._conjunction_implies(ds, dt) for dt in theirs) for ds in mine
        )

    def _conjunction_implies(
        self, mine: list[nodes.Node], theirs: list[nodes.Node]
    ) -> bool:
        return all(any(self._part_implies(a, b) for a in mine) for b in theirs)

    def _part_implies(self, a: nodes.Node, b: nodes.Node) -> bool:
        if _canon(a) == _canon(b):
            return True
        ca, cb = self._single(a), self._single(b)
        if ca is None or cb is None or ca.subject.key != cb.subject.key:
            return False
        return _implies(ca, cb)

    def _single(self, node: nodes.Node) -> _Constraint | None:
        if not isinstance(node, nodes.Compare) or len(node.ops) != 1:
            return None
        return self._constraint(node.expr, node.ops[0].op, node.ops[0].expr)

    # -- thresholds -----------------------------------------------------------------

    def _thresholds(self) -> None:
        used = set(READ_BY_REPLYGUARD)
        defined: dict[str, Located] = {}
        for located in self.located.values():
            data = located.data if isinstance(located.data, dict) else {}
            for section in ("rules", "limits"):
                for text in _strings(data.get(section)):
                    for match in _THRESHOLD_REF.finditer(text):
                        used.add(match.group(1) or match.group(2))
            thresholds = data.get("thresholds")
            if isinstance(thresholds, dict):
                for name in thresholds:
                    defined[str(name)] = located  # the last file that sets it
        for name, located in sorted(defined.items()):
            if name in used:
                continue
            self._warn_at(
                located,
                ("thresholds", name, "__key__"),
                "lint.unused_threshold",
                f"threshold `{name}` is read by no rule or limit, nor by replyguard "
                "itself; changing it changes nothing",
                f"read it in a condition as `policy.thresholds.{name}`, or delete it",
            )

    # -- the brand's own names --------------------------------------------------------

    def _brand_names(self) -> list[str]:
        from replyguard.analysis._context import handle_names  # noqa: PLC0415

        brand = self.merged.brand
        names = [*brand.names, *brand.aliases, *brand.products]
        handles = [h.strip().lstrip("@").lower() for h in brand.handles if h.strip()]
        names.extend(handles)
        if brand.derive_names:
            names.extend(handle_names(frozenset(handles)))
        return [n.strip() for n in names if n.strip()]

    def _brand(self) -> None:
        names = self._brand_names()
        if not names:
            return
        for rule in self.rules:
            if rule.compiled is None or rule.node is None:
                continue
            if rule.compiled.action.value not in ("escalate", "suppress"):
                continue
            for node, term, how in _blocking_terms(rule.node):
                hit = _brand_hit(term, names, regex=how == "pattern")
                if hit is None:
                    continue
                self._at_rule(rule)(
                    "lint.blocks_own_brand",
                    f"the {how} `{term}` matches the brand's own `{hit}`; every "
                    "post or reply that names it makes the rule "
                    f"{rule.compiled.action.value}, so the bot stops talking about "
                    "its own brand",
                    node,
                    "make the term specific (a phrase, a whole-word pattern that "
                    f"excludes `{hit}`), or exempt the brand's names",
                )
        self._lexicon_terms(names)

    def _lexicon_terms(self, names: list[str]) -> None:
        final = self.policy.lexicons
        for located in self.located.values():
            data = located.data if isinstance(located.data, dict) else {}
            lexicons = data.get("lexicons")
            if not isinstance(lexicons, dict):
                continue
            for name, change in lexicons.items():
                if name in BENIGN_LEXICONS or name not in final:
                    continue
                if not isinstance(change, dict):
                    continue
                added = final[name].add
                for path, term in _added_terms(change.get("add")):
                    phrases = _expand(term)
                    hits = [
                        (phrase, hit)
                        for phrase in phrases
                        if phrase in added
                        and (hit := _brand_hit(phrase, names, regex=False)) is not None
                    ]
                    if not hits:
                        continue
                    phrase, hit = hits[0]
                    self._warn_at(
                        located,
                        ("lexicons", name, "add", *path),
                        "lint.blocks_own_brand",
                        f"`lexicons.{name}` adds `{phrase}`, which matches the brand's "
                        f"own `{hit}`: every post that names the brand then reads as "
                        f"{name}, and rules on that signal hold the reply",
                        "add a longer phrase that is hostile only in context, or "
                        "leave the brand's names out of cue lexicons",
                    )

    # -- descriptions and disabled rules ---------------------------------------------

    def _documentation(self) -> None:
        texts = {located.file: located.text for located in self.located.values()}
        for rule in self.rules:
            spec = rule.loaded.spec
            if not (spec.description or "").strip():
                self._at_rule(rule)(
                    "lint.no_description",
                    f"rule `{spec.id}` has no `description`; compliance review reads "
                    "what a rule is for there, and decisions show its first sentence "
                    "when the rule has no `message`",
                    None,
                    "add `description:` saying what the rule prevents and why",
                )
            if spec.enabled:
                continue
            text = texts.get(rule.loaded.file, "")
            own = re.compile(rf"(?<![\w-]){re.escape(spec.id)}(?![\w-])")
            mentioned = sum(len(own.findall(t)) for t in texts.values()) > 1
            if mentioned or _has_note(text, rule.loaded.line, rule.loaded.column):
                continue
            self._at_rule(rule)(
                "lint.disabled_rule",
                f"rule `{spec.id}` has `enabled: false` and nothing says why: it is "
                "checked but never runs, and a reviewer cannot tell whether it is "
                "waiting to be turned on or dead",
                None,
                "add a comment above it saying when to turn it on, or delete it",
            )


# --- helpers ------------------------------------------------------------------------


def _parse_when(when: str | bool) -> tuple[nodes.Expr | None, int]:  # noqa: FBT001 - YAML `when: true`
    if isinstance(when, bool):
        return nodes.Const(when, lineno=1), 0
    text = when.strip()
    lead = len(when) - len(when.lstrip())
    try:
        return parse_expression(text), lead
    except CompileProblem:  # pragma: no cover - a policy that loaded parses
        return None, lead


def _dnf(node: nodes.Node) -> list[list[nodes.Node]]:
    """Return a condition as alternatives of conjunctions, one level deep."""
    if isinstance(node, nodes.Const) and node.value is True:
        return [[]]
    return [
        [
            part
            for part in _flatten(alternative, nodes.And)
            if not (isinstance(part, nodes.Const) and part.value is True)
        ]
        for alternative in _flatten(node, nodes.Or)
    ]


def _same(a: list[list[nodes.Node]], b: list[list[nodes.Node]]) -> bool:
    def key(dnf: list[list[nodes.Node]]) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(_canon(p) for p in conj) for conj in dnf)

    return key(a) == key(b)


def _covers(stricter: CompiledRule, rule: CompiledRule) -> bool:
    """Return whether `stricter`, matching, leaves nothing for `rule` to add."""
    if not rule.asks_person:
        return True
    if not stricter.asks_person:
        return False  # `rule` still sends it to a person
    mine = _PRIORITY_RANK.get(rule.priority or "normal", 1)
    theirs = _PRIORITY_RANK.get(stricter.priority or "normal", 1)
    if theirs != mine:
        return theirs > mine
    return stricter.route == rule.route or stricter.index < rule.index


def _inside_and(root: nodes.Node, node: nodes.Node) -> bool:
    """Return whether `node` is the left or right of another `and` (not a chain's top)."""
    for parent in _walk(root):
        if isinstance(parent, nodes.And) and (
            node is parent.left or node is parent.right
        ):
            return True
    return False


def _where(loaded: LoadedRule) -> str:
    return f"{loaded.file}:{loaded.line}"


def _text_constraint(
    left: nodes.Node, op: str, right: nodes.Node
) -> tuple[str, str, str] | None:
    if op not in ("eq", "ne"):
        return None
    for subject_node, value_node in ((left, right), (right, left)):
        subject = _subject(subject_node)
        if (
            subject is not None
            and subject.kind == "text"
            and isinstance(value_node, nodes.Const)
            and isinstance(value_node.value, str)
        ):
            return subject.key, op, value_node.value
    return None


def _blocking_terms(root: nodes.Node) -> Iterator[tuple[nodes.Node, str, str]]:
    """Yield (node, term, kind) for every text a condition holds a reply on finding."""
    for node, positive in _polar(root):
        if not positive:
            continue
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
            name, args = node.node.name, node.args
            if name == "contains_any" and len(args) == 2:
                if isinstance(args[1], nodes.List | nodes.Tuple):
                    for item in args[1].items:
                        if isinstance(item, nodes.Const) and isinstance(
                            item.value, str
                        ):
                            yield item, item.value, "term"
            elif (
                name in ("contains", "matches")
                and len(args) == 2
                and isinstance(args[1], nodes.Const)
                and isinstance(args[1].value, str)
            ):
                kind = "pattern" if name == "matches" else "term"
                yield args[1], args[1].value, kind
        elif isinstance(node, nodes.Compare) and len(node.ops) == 1:
            op, right = node.ops[0].op, node.ops[0].expr
            if op != "in":
                continue
            if isinstance(right, nodes.List | nodes.Tuple):
                subject = _path(node.expr)
                if subject is not None and subject[1].choices:
                    continue  # a choice (`kind in [...]`) is never a brand name
                for item in right.items:
                    if isinstance(item, nodes.Const) and isinstance(item.value, str):
                        yield item, item.value, "term"
            elif isinstance(node.expr, nodes.Const) and isinstance(
                node.expr.value, str
            ):
                yield node.expr, node.expr.value, "term"


def _brand_hit(term: str, names: list[str], *, regex: bool) -> str | None:
    """Return the brand name `term` matches as a whole word, if any."""
    if regex:
        try:
            pattern = re.compile(term, re.IGNORECASE)
        except re.error:  # pragma: no cover - the loader rejects bad patterns
            return None
        for name in names:
            for match in pattern.finditer(name):
                start, end = match.span()
                if (
                    end > start
                    and (start == 0 or not name[start - 1].isalnum())
                    and (end == len(name) or not name[end].isalnum())
                ):
                    return name
        return None
    cleaned = term.strip().lstrip("@#^").rstrip("*").strip().casefold()
    if not cleaned:
        return None
    word = re.compile(rf"(?<!\w){re.escape(cleaned)}(?!\w)")
    for name in names:
        if word.search(" ".join(name.casefold().split())):
            return name
    return None


def _added_terms(data: object) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Yield (path under `add`, term) of a lexicon change's additions."""
    if isinstance(data, str):
        yield (), data
    elif isinstance(data, list):
        for index, term in enumerate(data):
            if isinstance(term, str):
                yield (index,), term
    elif isinstance(data, dict):
        for strength, terms in data.items():
            for path, term in _added_terms(terms):
                yield (strength, *path), term


def _expand(term: str) -> list[str]:
    from replyguard.analysis.lexicons import expand  # noqa: PLC0415 - only when used
    from replyguard.errors import ConfigurationError  # noqa: PLC0415

    try:
        return expand("lint", term.strip().casefold())
    except ConfigurationError:  # pragma: no cover - the loader reports it
        return []


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)


def _has_note(text: str, line: int, column: int) -> bool:
    """
    Return whether a comment says why a rule is off.

    A comment counts on the lines right above the rule, among its own lines, or after
    its ``enabled: false``.
    """
    lines = text.splitlines()
    index = line - 2  # the line above the rule's first line, 0-based
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index >= 0 and lines[index].lstrip().startswith("#"):
        return True
    indent = max(column - 1, 0)
    for number, current in enumerate(lines[line - 1 :]):
        stripped = current.strip()
        depth = len(current) - len(current.lstrip(" "))
        if number and stripped and depth < indent:
            break  # the next rule, or the end of `rules:`
        if stripped.startswith("#") or re.match(r"enabled\s*:\s*false\s+#", stripped):
            return True
    return False


def _located_files(merged: MergedPolicy) -> dict[str, Located]:
    """Return every file of the policy's `extends` chain, parsed with positions."""
    found: dict[str, Located] = {}
    if len(merged.files) == len(merged.sources):
        pairs: Iterable[tuple[str, str | None]] = zip(
            merged.files, merged.sources, strict=True
        )
    else:  # a file reached twice along `extends`: read each one again
        pairs = [(file, None) for file in merged.files]
    for file, source in pairs:
        text = source
        if text is None:
            path = (
                packaged_policy_path(file)
                if file.startswith(PACKAGE_PREFIX)
                else Path(file)
            )
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:  # pragma: no cover - it was read a moment ago
                continue
        found[file] = load_located(text, file)
    return found
