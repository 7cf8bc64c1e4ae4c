"""
Sandboxed jinja2 templates for rule messages and rewrites, checked and compiled at load.

A template is checked like a condition: the names it reads, every attribute path
after them (against the same static types, `_types.ROOTS`), and every filter and test
it uses, which must be on an explicit allowlist of pure functions. jinja2's globals
(`range`, `lipsum`, `cycler`, ...) and its impure filters (`random`) are not reachable.
"""

from __future__ import annotations

import gc
import operator
import threading
import time
from collections.abc import Callable
from typing import Any

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    meta,
    nodes,
    pass_context,
)
from jinja2.exceptions import TemplateAssertionError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as DEFAULT_TESTS

from replyguard import rewrite
from replyguard.errors import RewriteError
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
    "render_sandboxed",
]

TEMPLATE_NAMES = frozenset({"thread", "reply", "signals", "state", "policy"})

MAX_OUTPUT = 20_000
"""Characters a template may produce; more is a `RewriteError` (a runaway template)."""

MAX_SIZE = 20_000
"""The largest text or list an operator or filter inside a template may build."""

MAX_SECONDS = 2.0
"""
CPU time a template may take to render; more is a `RewriteError`.

A safety net only: the checks at load (no nested or recursive loops) and the size caps
already keep a template's work linear in its input, so a real template takes
microseconds. It is the rendering thread's own CPU time (`time.thread_time`), not wall
time, and generous: a busy process (threads waiting for the GIL, a loaded machine, a
garbage collection that happens to run in this thread) must never turn a harmless
template into a failed review. (It was 250 ms of wall time; 8 threads on 2 cores
failed reviews with it.)
"""

MAX_LOOP_DEPTH = 1
"""``for`` loops may not nest: the work a template does stays linear in its input."""

TEMPLATE_FILTERS: dict[str, str] = {
    "abs": "absolute value",
    "capitalize": "first letter uppercase, the rest lowercase",
    "center": "centre in a given width",
    "count": "number of items or characters",
    "d": "the same as `default`",
    "default": "a value to use when the first is missing",
    "dm_invite": "replace a public request for private data with a DM invitation",
    "drop_emoji": "remove emoji and fold the spaces left behind",
    "first": "the first item",
    "first_name": "the first name in a display name or handle, or nothing",
    "float": "convert to a number",
    "int": "convert to a whole number",
    "join": "join the items of a list with a separator",
    "last": "the last item",
    "length": "number of items or characters",
    "lower": "lowercase",
    "max": "the largest item",
    "min": "the smallest item",
    "remove_handles": "remove the given @handles",
    "remove_phrase": "remove a phrase, ignoring case",
    "replace": "replace a phrase with another",
    "reverse": "reverse a text or a list",
    "round": "round a number",
    "strip_exclamations": "turn `!`, `!!`, ... into `.`",
    "striptags": "remove HTML tags",
    "title": "every word capitalised",
    "trim": "strip spaces (or given characters)",
    "truncate": "cut a text to a length",
    "truncate_to_platform": "cut at a word boundary to the thread's platform limit",
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


@pass_context
def _truncate_to_platform(
    context: Context, text: object, limit: int | None = None
) -> str:
    view = context.get("thread")
    platform = getattr(view, "platform", "x") if view is not None else "x"
    return rewrite.truncate_to_platform(text, platform, limit)


def _sized(name: str, function: Callable[..., Any], *size_args: int) -> Any:
    """Wrap a jinja2 filter whose numeric arguments set the size of its result."""

    def checked(*args: Any, **kwargs: Any) -> Any:
        for index in size_args:
            if (
                index < len(args)
                and isinstance(args[index], int | float)
                and args[index] > MAX_SIZE
            ):
                raise RewriteError(
                    f"filter `{name}` was asked for {args[index]} characters "
                    f"(at most {MAX_SIZE})"
                )
        return _check_size(function(*args, **kwargs), f"filter `{name}`")

    return checked


def _replace(text: object, old: object, new: object, count: int | None = None) -> str:
    value, old_text, new_text = str(text), str(old), str(new)
    occurrences = value.count(old_text) if count is None else count
    if len(value) + occurrences * len(new_text) > MAX_SIZE:
        raise RewriteError(
            f"filter `replace` would build more than {MAX_SIZE} characters"
        )
    return value.replace(old_text, new_text, -1 if count is None else count)


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_SIZE:
        raise RewriteError(f"{what} built more than {MAX_SIZE} characters or items")
    return value


_OWN_FILTERS: dict[str, Any] = {
    "strip_exclamations": rewrite.strip_exclamations,
    "drop_emoji": rewrite.drop_emoji,
    "remove_phrase": rewrite.remove_phrase,
    "remove_handles": rewrite.remove_handles,
    "first_name": rewrite.first_name,
    "dm_invite": rewrite.dm_invite,
    "truncate_to_platform": _truncate_to_platform,
    "center": _sized("center", DEFAULT_FILTERS["center"], 1),
    "wordwrap": _sized("wordwrap", DEFAULT_FILTERS["wordwrap"], 1),
    "truncate": _sized("truncate", DEFAULT_FILTERS["truncate"], 1),
    "replace": _replace,
}

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "%": operator.mod,
}


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with operators that could build huge values checked first."""

    intercepted_binops = frozenset(_BINOPS)

    def call_binop(
        self,
        context: Context,  # noqa: ARG002 - jinja2's signature
        operator: str,
        left: Any,
        right: Any,
    ) -> Any:
        """Run `*`, `**` and `%` once their result is known to stay small."""
        if operator == "**":
            if not (
                isinstance(left, int | float)
                and isinstance(right, int | float)
                and abs(right) <= 64
                and abs(left) <= 1e6
            ):
                raise RewriteError("`**` in a template is limited to small numbers")
        elif operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int)]
            if sizes and counts and sizes[0] * max(counts[0], 0) > MAX_SIZE:
                raise RewriteError(
                    f"`*` in a template would build more than {MAX_SIZE} characters"
                )
        elif operator == "%" and isinstance(left, str):
            raise RewriteError("`%` formatting is not available in templates; use `~`")
        return _BINOPS[operator](left, right)


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


_GC_SECONDS: dict[int, float] = {}
"""CPU seconds each thread spent in garbage collection (not the template's own work)."""
_GC_STARTED: dict[int, float] = {}


def _count_gc(phase: str, info: dict[str, Any]) -> None:  # noqa: ARG001 - gc's signature
    thread = threading.get_ident()
    if phase == "start":
        _GC_STARTED[thread] = time.thread_time()
    elif (began := _GC_STARTED.pop(thread, None)) is not None:
        _GC_SECONDS[thread] = _GC_SECONDS.get(thread, 0.0) + time.thread_time() - began


gc.callbacks.append(_count_gc)


def render_sandboxed(template: Template, scope: dict[str, Any]) -> str:
    """
    Render a compiled template in the sandbox, within its output and time budget.

    Raises:
        RewriteError: the template failed, produced more than `MAX_OUTPUT` characters,
            ran longer than `MAX_SECONDS` of CPU time, or tried to leave the sandbox.
    """
    thread = threading.get_ident()
    started = time.thread_time() - _GC_SECONDS.get(thread, 0.0)
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**scope):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RewriteError(  # noqa: TRY301 - one message for every runaway
                    f"the template produced more than {MAX_OUTPUT} characters"
                )
            if (
                time.thread_time() - _GC_SECONDS.get(thread, 0.0) - started
                > MAX_SECONDS
            ):
                raise RewriteError(  # noqa: TRY301
                    f"the template ran longer than {MAX_SECONDS * 1000:.0f} ms of CPU time"
                )
            parts.append(chunk)
    except RewriteError:
        raise
    except RecursionError:
        raise RewriteError("the template recursed too deeply") from None
    except Exception as exc:
        raise RewriteError(f"{type(exc).__name__}: {exc}") from exc
    return "".join(parts).strip()


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
        self.loops = 0  # `for` loops around the node being checked
        self.in_macro = False  # inside a macro or call block body

    def statements(self, body: list[nodes.Node], scope: Scope) -> None:
        for node in body:
            self.statement(node, scope)

    def statement(self, node: nodes.Node, scope: Scope) -> None:
        if isinstance(node, nodes.Expr):
            self.expression(node, scope)
        elif isinstance(node, nodes.For):
            self._check_loop(node)
            self.expression(node.iter, scope)
            iterated = self.type_of(node.iter, scope)
            item = iterated.item if iterated and iterated.kind == "list" else None
            inner: Scope = {**scope, "loop": None}
            for name in _targets(node.target):
                inner[name] = item if isinstance(node.target, nodes.Name) else None
            if node.test is not None:
                self.expression(node.test, inner)
            self.loops += 1
            try:
                self.statements(node.body, inner)
            finally:
                self.loops -= 1
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
            if self.in_macro:
                raise CompileProblem(
                    "policy.bad_template",
                    "macros and call blocks cannot be defined inside another",
                    at=offset_of(node),
                )
            self.in_macro = True
            try:
                self.statements(node.body, inner)
            finally:
                self.in_macro = False
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

    def _check_loop(self, node: nodes.For) -> None:
        """Keep a template's work linear: no nested or recursive loops, none in macros."""
        if node.recursive:
            raise CompileProblem(
                "policy.bad_template",
                "recursive loops are not allowed in templates",
                at=offset_of(node),
            )
        if self.loops >= MAX_LOOP_DEPTH:
            raise CompileProblem(
                "policy.bad_template",
                "loops cannot nest in templates (a rewrite's work stays linear)",
                at=offset_of(node),
            )
        if self.in_macro:
            raise CompileProblem(
                "policy.bad_template",
                "macros and call blocks cannot contain loops",
                at=offset_of(node),
            )

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
        if local and self.in_macro and callee.name != "caller":  # type: ignore[attr-defined]  # local implies a Name
            raise CompileProblem(
                "policy.bad_template",
                "a macro cannot call a macro (no recursion in templates)",
                at=offset_of(callee),
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
