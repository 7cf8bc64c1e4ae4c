"""
Sandboxed jinja2 templates for rule messages and rewrites, checked and compiled at load.

A template is checked like a condition: the names it reads, every attribute path
after them (against the same static types, `_types.ROOTS`), and every filter and test
it uses, which must be on an explicit allowlist of pure functions. jinja2's globals
(`range`, `lipsum`, `cycler`, ...) and its impure filters (`random`) are not reachable.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import TemplateAssertionError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as DEFAULT_TESTS

from replyguard.models import Thread
from replyguard.policy._types import ROOTS, STR, Type, describe, policy_type
from replyguard.policy.conditions import (
    CompileProblem,
    PositionedEnvironment,
    check_attribute,
    did_you_mean,
    offset_of,
    render_expression,
    syntax_reason,
)

__all__ = [
    "TEMPLATE_FILTERS",
    "TEMPLATE_NAMES",
    "TEMPLATE_TESTS",
    "TemplateProblem",
    "ThreadView",
    "compile_template",
]

TEMPLATE_NAMES = frozenset({"thread", "reply", "signals", "state", "policy"})

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\ufe0f\u200d]+"
)


def _strip_exclamations(text: str) -> str:
    return re.sub(r"!+", ".", str(text)).replace("..", ".")


def _drop_emoji(text: str) -> str:
    return re.sub(r"\s{2,}", " ", _EMOJI.sub("", str(text))).strip()


def _remove_phrase(text: str, phrase: str) -> str:
    pattern = re.compile(re.escape(phrase), re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", pattern.sub("", str(text))).strip()


TEMPLATE_FILTERS: dict[str, str] = {
    "abs": "absolute value",
    "capitalize": "first letter uppercase, the rest lowercase",
    "center": "centre in a given width",
    "count": "number of items or characters",
    "d": "the same as `default`",
    "default": "a value to use when the first is missing",
    "drop_emoji": "remove emoji and fold the spaces left behind",
    "first": "the first item",
    "float": "convert to a number",
    "int": "convert to a whole number",
    "join": "join the items of a list with a separator",
    "last": "the last item",
    "length": "number of items or characters",
    "lower": "lowercase",
    "max": "the largest item",
    "min": "the smallest item",
    "remove_phrase": "remove a phrase, ignoring case",
    "replace": "replace a phrase with another",
    "reverse": "reverse a text or a list",
    "round": "round a number",
    "strip_exclamations": "turn `!`, `!!`, ... into `.`",
    "striptags": "remove HTML tags",
    "title": "every word capitalised",
    "trim": "strip spaces (or given characters)",
    "truncate": "cut a text to a length",
    "upper": "uppercase",
    "wordcount": "number of words",
    "wordwrap": "wrap a text at a width",
}
"""The filters a template may use, and what each does. Nothing else is reachable."""

TEMPLATE_TESTS: frozenset[str] = frozenset(
    {
        "defined",
        "undefined",
        "none",
        "true",
        "false",
        "boolean",
        "number",
        "integer",
        "float",
        "string",
        "sequence",
        "lower",
        "upper",
        "even",
        "odd",
        "divisibleby",
        "in",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "equalto",
        "greaterthan",
        "lessthan",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
    }
)
"""The tests (``x is NAME``) a template may use."""

_OWN_FILTERS: dict[str, Any] = {
    "strip_exclamations": _strip_exclamations,
    "drop_emoji": _drop_emoji,
    "remove_phrase": _remove_phrase,
}


class _Environment(ImmutableSandboxedEnvironment):
    pass


ENVIRONMENT = _Environment(
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)
# Only the allowlist is reachable, even by a template that slipped past the checks.
ENVIRONMENT.filters = {
    name: _OWN_FILTERS.get(name) or DEFAULT_FILTERS[name] for name in TEMPLATE_FILTERS
}
ENVIRONMENT.tests = {name: DEFAULT_TESTS[name] for name in TEMPLATE_TESTS}
ENVIRONMENT.globals = {}

_PARSER = PositionedEnvironment(autoescape=False, keep_trailing_newline=False)
_PARSER.filters = ENVIRONMENT.filters
_PARSER.tests = ENVIRONMENT.tests
_PARSER.globals = {}


class TemplateProblem(CompileProblem):
    """A template cannot be compiled; `offset` and `lineno` point into its text."""


class ThreadView:
    """
    The thread as templates see it: ``thread.target`` is the target post.

    Everything else reads through to `Thread`.
    """

    __slots__ = ("_thread",)

    def __init__(self, thread: Thread) -> None:
        self._thread = thread

    def __getattr__(self, name: str) -> Any:
        if name == "target":
            return self._thread.target_post
        return getattr(self._thread, name)


def compile_template(
    source: str, *, policy: Type | None = None, extra: dict[str, Type] | None = None
) -> Template:
    """
    Check a template and compile it for the sandbox.

    `policy` is the type of the `policy` name (`_types.policy_type`); without it any
    threshold name is accepted.

    Raises:
        TemplateProblem: bad syntax, an unknown name, attribute, filter or test, a
            private attribute, or a call.
    """
    try:
        try:
            tree = _PARSER.parse(source)
        except TemplateSyntaxError as exc:
            raise CompileProblem(
                "policy.bad_template",
                f"syntax error: {syntax_reason(exc)}",
                at=max((exc.lineno or 1) - 1, 0),
            ) from None
        # filters and tests first: jinja2's name analysis below assumes they exist
        _Checker({**_roots(policy), **(extra or {})}).statements(tree.body, {})
        _check_names(tree, frozenset(extra or ()))
        return _sandboxed(source)
    except CompileProblem as exc:
        offset = min(exc.offset, len(source))
        problem = TemplateProblem(exc.code, exc.message, help=exc.help, at=offset)
        problem.lineno = source.count("\n", 0, offset) + 1
        raise problem from None


def _roots(policy: Type | None) -> dict[str, Type]:
    return {**ROOTS, "policy": policy or policy_type((), open_thresholds=True)}


def _sandboxed(source: str) -> Template:
    try:
        return ENVIRONMENT.from_string(source)
    except TemplateAssertionError as exc:  # pragma: no cover - the checks come first
        raise CompileProblem(
            "policy.bad_template",
            f"cannot compile: {syntax_reason(exc)}",
            at=_line_start(source, exc.lineno),
        ) from None
    except TemplateSyntaxError as exc:  # pragma: no cover - the checks come first
        raise CompileProblem(
            "policy.bad_template",
            f"syntax error: {syntax_reason(exc)}",
            at=_line_start(source, exc.lineno),
        ) from None


def _line_start(source: str, lineno: int | None) -> int:
    offset = 0
    for _ in range((lineno or 1) - 1):
        found = source.find("\n", offset)
        if found < 0:
            break
        offset = found + 1
    return offset


def _check_names(tree: nodes.Template, extra: frozenset[str] = frozenset()) -> None:
    known = TEMPLATE_NAMES | extra
    unknown = meta.find_undeclared_variables(tree) - known
    if unknown:
        name = min(unknown)
        at = next(
            (offset_of(n) for n in tree.find_all(nodes.Name) if n.name == name), 0
        )
        raise CompileProblem(
            "policy.unknown_name",
            f"unknown name `{name}`; templates read "
            + ", ".join(f"`{n}`" for n in sorted(known)),
            help=did_you_mean(name, known),
            at=at,
        )


Scope = dict[str, Type | None]
"""Names a template defines itself (`set`, `for`, macros); None when untyped."""


class _Checker:
    """Walk a template: attribute paths, filters, tests and calls."""

    def __init__(self, roots: dict[str, Type]) -> None:
        self.roots = roots

    def statements(self, body: list[nodes.Node], scope: Scope) -> None:
        for node in body:
            self.statement(node, scope)

    def statement(self, node: nodes.Node, scope: Scope) -> None:
        if isinstance(node, nodes.Expr):
            self.expression(node, scope)
        elif isinstance(node, nodes.For):
            self.expression(node.iter, scope)
            iterated = self.type_of(node.iter, scope)
            item = iterated.item if iterated and iterated.kind == "list" else None
            inner: Scope = {**scope, "loop": None}
            for name in _targets(node.target):
                inner[name] = item if isinstance(node.target, nodes.Name) else None
            if node.test is not None:
                self.expression(node.test, inner)
            self.statements(node.body, inner)
            self.statements(node.else_, dict(scope))
        elif isinstance(node, nodes.Assign):
            self.expression(node.node, scope)
            kind = self.type_of(node.node, scope)
            for name in _targets(node.target):
                scope[name] = kind if isinstance(node.target, nodes.Name) else None
        elif isinstance(node, nodes.AssignBlock):
            for name in _targets(node.target):
                scope[name] = STR
            self.statements(node.body, scope)
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            inner = {**scope, "caller": None}
            for arg in node.args:
                inner[arg.name] = None
            for default in node.defaults:
                self.expression(default, scope)
            if isinstance(node, nodes.Macro):
                scope[node.name] = None
            else:
                self.expression(node.call, scope)
            self.statements(node.body, inner)
        elif isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values, strict=True):
                self.expression(value, scope)
                for name in _targets(target):
                    inner[name] = None
            self.statements(node.body, inner)
        elif isinstance(
            node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends
        ):
            raise CompileProblem(
                "policy.bad_template",
                "templates cannot include, import or extend other templates",
                at=offset_of(node),
            )
        else:
            for child in node.iter_child_nodes():
                self.statement(child, scope)

    def expression(self, node: nodes.Node, scope: Scope) -> None:
        if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            self.type_of(node, scope)
        elif isinstance(node, nodes.Filter):
            self.filter(node, scope)
        elif isinstance(node, nodes.Test):
            if node.name not in TEMPLATE_TESTS:
                raise CompileProblem(
                    "policy.unknown_test",
                    f"unknown test `{node.name}`",
                    help=did_you_mean(node.name, TEMPLATE_TESTS),
                    at=offset_of(node),
                )
            for child in node.iter_child_nodes():
                self.expression(child, scope)
        elif isinstance(node, nodes.Call):
            self.call(node, scope)
        else:
            for child in node.iter_child_nodes():
                self.expression(child, scope)

    def filter(self, node: nodes.Filter, scope: Scope) -> None:
        if node.name not in TEMPLATE_FILTERS:
            raise CompileProblem(
                "policy.unknown_filter",
                f"unknown filter `{node.name}`",
                help=did_you_mean(node.name, TEMPLATE_FILTERS)
                or "templates may use: "
                + ", ".join(f"`{f}`" for f in sorted(TEMPLATE_FILTERS)),
                at=offset_of(node),
            )
        for keyword in node.kwargs:
            if keyword.key == "attribute":
                raise CompileProblem(
                    "policy.unsupported_syntax",
                    f"filter `{node.name}` cannot read attributes by name; "
                    "write the attribute path instead",
                    at=offset_of(node),
                )
        for child in node.iter_child_nodes():
            self.expression(child, scope)

    def call(self, node: nodes.Call, scope: Scope) -> None:
        callee = node.node
        local = isinstance(callee, nodes.Name) and callee.name in scope
        loop = (
            isinstance(callee, nodes.Getattr)
            and isinstance(callee.node, nodes.Name)
            and callee.node.name == "loop"
            and "loop" in scope
            and callee.attr in ("cycle", "changed")
        )
        if not (local or loop):
            raise CompileProblem(
                "policy.unsafe_call",
                f"`{render_expression(callee)}` cannot be called; "
                "templates may only use filters",
                help="filters: "
                + ", ".join(f"`{f}`" for f in sorted(TEMPLATE_FILTERS)),
                at=offset_of(callee),
            )
        for child in (*node.args, *node.kwargs):
            self.expression(child, scope)
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self.expression(extra, scope)

    def type_of(self, node: nodes.Node, scope: Scope) -> Type | None:
        """Check an attribute path and return its type, or None when unknown."""
        if isinstance(node, nodes.Name):
            if node.ctx != "load" or node.name in scope:
                return scope.get(node.name)
            return self.roots.get(node.name)
        if isinstance(node, nodes.Getattr):
            return self.attribute(node.node, node.attr, scope)
        if isinstance(node, nodes.Getitem):
            arg = node.arg
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                return self.attribute(node.node, arg.value, scope)
            base = self.type_of(node.node, scope)
            self.expression(arg, scope)
            if base is None or not isinstance(arg, nodes.Const | nodes.Neg):
                return None
            if base.kind == "list":
                return base.item.optional() if base.item else None
            if base.kind == "str":
                return STR.optional()
            if base.kind in ("any", "none"):
                return None
            raise CompileProblem(
                "policy.type_mismatch",
                f"`{render_expression(node.node)}` is a {describe(base)} "
                "and cannot be indexed",
                at=offset_of(node.node),
            )
        if isinstance(node, nodes.Filter) and node.name in ("first", "last"):
            self.expression(node, scope)
            if node.node is None:
                return None
            base = self.type_of(node.node, scope)
            if base is not None and base.kind == "list" and base.item is not None:
                return base.item.optional()
            return None
        self.expression(node, scope)
        return None

    def attribute(self, base: nodes.Node, attr: str, scope: Scope) -> Type | None:
        kind = self.type_of(base, scope)
        if kind is None:
            if attr.startswith("_"):
                raise CompileProblem(
                    "policy.unsafe_attribute",
                    f"`{render_expression(base)}.{attr}` is private; templates may "
                    "not read names starting with `_`",
                    at=offset_of(base),
                )
            return None
        found = check_attribute(
            render_expression(base), kind, attr, what="templates", at=offset_of(base)
        )
        return found.type.optional() if kind.nullable else found.type


def _targets(node: nodes.Node) -> list[str]:
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Tuple | nodes.List):
        return [name for item in node.items for name in _targets(item)]
    return []
