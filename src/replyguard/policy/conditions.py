"""
Compile policy conditions (Jinja/Ansible `when:` syntax) into Python code, once.

A condition is parsed with jinja2's own expression parser, checked against the names
a policy may read (`thread`, `reply`, `signals`, `state`, `policy`), type-checked,
and turned into Python source. All of a policy's conditions become functions of one
code object, so a review runs plain Python: no interpretation, no sandbox per call.

What is allowed: ``and``, ``or``, ``not``, comparisons (``== != < <= > >= in``,
``not in``), arithmetic, ``x if c else y``, attribute paths over known names,
constant indexes, list literals, the tests ``is none`` / ``is not none``, the
filters in `FILTERS` and the functions in `FUNCTIONS`. Nothing else: no private
attributes, no calls of arbitrary objects, no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.parser import Parser
from rapidfuzz import fuzz, process

from replyguard.policy._types import (
    ANY,
    BOOL,
    FLOAT,
    INT,
    NONE,
    ROOTS,
    STR,
    Type,
    describe,
)

__all__ = [
    "FILTERS",
    "FUNCTIONS",
    "CompileProblem",
    "CompiledCondition",
    "compile_condition",
    "did_you_mean",
    "render_expression",
]

_ENV = Environment(autoescape=False)  # noqa: S701 - expressions only, never rendered HTML


class CompileProblem(Exception):
    """A condition cannot be compiled; carries a problem code and help."""

    def __init__(
        self, code: str, message: str, *, help: str | None = None, lineno: int = 1
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.help = help
        self.lineno = lineno


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return ``did you mean `x`?`` for the closest choice, or None."""
    options = list(choices)
    if not options:
        return None
    best = process.extractOne(word, options, scorer=fuzz.WRatio, score_cutoff=70)
    if best is None:
        return None
    return f"did you mean `{best[0]}`?"


# --- runtime helpers (the only callables a compiled condition can reach) ----------


@functools.lru_cache(maxsize=1024)
def _fold(text: str) -> str:
    # many rules read the same post text: fold it once (str hashes are cached)
    return text.casefold()


def _contains(text: object, phrase: object) -> bool:
    return _fold(str(phrase)) in _fold(str(text))


def _contains_any(text: object, phrases: Sequence[object]) -> bool:
    folded = _fold(str(text))
    return any(_fold(str(p)) in folded for p in phrases)


def _contains_folded(text: object, folded: tuple[str, ...]) -> bool:
    haystack = _fold(str(text))
    return any(phrase in haystack for phrase in folded)


def _similarity(a: object, b: object) -> float:
    return float(fuzz.ratio(_fold(str(a)), _fold(str(b)))) / 100.0


def _starts_with(text: object, prefix: object) -> bool:
    return _fold(str(text)).startswith(_fold(str(prefix)))


@dataclass(frozen=True)
class _Function:
    python: str
    impl: Callable[..., Any]
    params: tuple[Type, ...]
    returns: Type
    doc: str


FUNCTIONS: dict[str, _Function] = {
    "len": _Function("len", len, (ANY,), INT, "number of items or characters"),
    "contains": _Function(
        "_fn_contains",
        _contains,
        (STR, STR),
        BOOL,
        "whether text contains a phrase, ignoring case",
    ),
    "contains_any": _Function(
        "_fn_contains_any",
        _contains_any,
        (STR, Type("list", item=STR)),
        BOOL,
        "whether text contains any of the phrases, ignoring case",
    ),
    "starts_with": _Function(
        "_fn_starts_with",
        _starts_with,
        (STR, STR),
        BOOL,
        "whether text starts with a prefix, ignoring case",
    ),
    "similarity": _Function(
        "_fn_similarity",
        _similarity,
        (STR, STR),
        FLOAT,
        "how alike two texts are, 0..1 (rapidfuzz ratio, ignoring case)",
    ),
    "matches": _Function(
        "_fn_matches",
        lambda *_: False,
        (STR, STR),
        BOOL,
        "whether text matches a regular expression (a constant, compiled at load)",
    ),
}
"""The functions a condition may call, by name."""


FILTERS: dict[str, _Function] = {
    "lower": _Function("_flt_lower", lambda v: str(v).lower(), (), STR, "lowercase"),
    "upper": _Function("_flt_upper", lambda v: str(v).upper(), (), STR, "uppercase"),
    "trim": _Function("_flt_trim", lambda v: str(v).strip(), (), STR, "strip spaces"),
    "length": _Function("len", len, (), INT, "number of items or characters"),
    "count": _Function("len", len, (), INT, "number of items or characters"),
    "abs": _Function("abs", abs, (), FLOAT, "absolute value"),
    "round": _Function("round", round, (), FLOAT, "round to a whole number"),
    "int": _Function("int", int, (), INT, "convert to a whole number"),
    "float": _Function("float", float, (), FLOAT, "convert to a number"),
    "max": _Function("max", max, (), ANY, "the largest item of a list"),
    "min": _Function("min", min, (), ANY, "the smallest item of a list"),
}
"""The filters (``value | name``) a condition may use."""


def runtime_globals() -> dict[str, Any]:
    """Return the globals compiled conditions run with."""
    names: dict[str, Any] = {
        "__builtins__": {},
        "str": str,
        "len": len,
        "abs": abs,
        "round": round,
        "int": int,
        "float": float,
        "max": max,
        "min": min,
    }
    for function in (*FUNCTIONS.values(), *FILTERS.values()):
        names.setdefault(function.python, function.impl)
    names["_cmp_none"] = _cmp_none
    names["_fn_contains_folded"] = _contains_folded
    return names


def _cmp_none(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    return bool(_ORDER_OPS[op](left, right))


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "lteq": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gteq": lambda a, b: a >= b,
}

_PY_CMP = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "lteq": "<=",
    "gt": ">",
    "gteq": ">=",
    "in": "in",
    "notin": "not in",
}
_J_CMP = {**_PY_CMP, "notin": "not in"}
_BIN = {
    nodes.Add: "+",
    nodes.Sub: "-",
    nodes.Mul: "*",
    nodes.Div: "/",
    nodes.FloorDiv: "//",
    nodes.Mod: "%",
}


@dataclass
class CompiledCondition:
    """One condition, checked and turned into Python source."""

    source: str
    python: str
    type: Type
    node: nodes.Expr
    regexes: dict[str, re.Pattern[str]] = field(default_factory=dict)
    names: frozenset[str] = frozenset()
    operands: tuple[tuple[str, str], ...] = ()
    """For explanations: the top-level ``and``/``or`` operands, (display, python)."""


class _Compiler:
    def __init__(self, roots: dict[str, Type], regex_prefix: str) -> None:
        self.roots = roots
        self.regexes: dict[str, re.Pattern[str]] = {}
        self.regex_prefix = regex_prefix
        self.names: set[str] = set()
        self.temp = 0

    # each visitor returns (python source, static type)
    def gen(self, node: nodes.Node) -> tuple[str, Type]:
        method = getattr(self, f"gen_{type(node).__name__}", None)
        if method is None:
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"`{render_expression(node)}` is not allowed in a condition",
                help="conditions may use and/or/not, comparisons, attribute paths, "
                "filters and the listed functions",
                lineno=getattr(node, "lineno", 1),
            )
        result: tuple[str, Type] = method(node)
        return result

    def gen_Const(self, node: nodes.Const) -> tuple[str, Type]:
        value = node.value
        if value is None:
            return "None", NONE
        if isinstance(value, bool):
            return repr(value), BOOL
        if isinstance(value, int):
            return repr(value), INT
        if isinstance(value, float):
            return repr(value), FLOAT
        if isinstance(value, str):
            return repr(value), STR
        raise CompileProblem(
            "policy.unsupported_syntax",
            f"constant `{value!r}` is not allowed",
            lineno=node.lineno,
        )

    def gen_List(self, node: nodes.List | nodes.Tuple) -> tuple[str, Type]:
        parts = [self.gen(item) for item in node.items]
        kinds = {t.kind for _, t in parts}
        item = parts[0][1] if len(kinds) == 1 and parts else ANY
        return "(" + "".join(f"{code}, " for code, _ in parts) + ")", Type(
            "list", item=item
        )

    gen_Tuple = gen_List

    def gen_Name(self, node: nodes.Name) -> tuple[str, Type]:
        if node.name not in self.roots:
            hint = did_you_mean(node.name, self.roots)
            raise CompileProblem(
                "policy.unknown_name",
                f"unknown name `{node.name}`; conditions read "
                + ", ".join(f"`{n}`" for n in sorted(self.roots)),
                help=hint,
                lineno=node.lineno,
            )
        self.names.add(node.name)
        return node.name, self.roots[node.name]

    def gen_Getattr(self, node: nodes.Getattr) -> tuple[str, Type]:
        return self._attribute(node.node, node.attr, node.lineno)

    def _path(self, node: nodes.Node) -> str:
        return render_expression(node)

    def _attribute(self, base: nodes.Node, attr: str, lineno: int) -> tuple[str, Type]:
        code, kind = self.gen(base)
        path = self._path(base)
        if attr.startswith("_"):
            raise CompileProblem(
                "policy.unsafe_attribute",
                f"`{path}.{attr}` is private; conditions may not read names starting with `_`",
                lineno=lineno,
            )
        if kind.kind == "any":
            raise CompileProblem(
                "policy.unknown_name",
                f"`{path}` has no known attributes; cannot read `{attr}`",
                lineno=lineno,
            )
        if kind.kind != "obj":
            raise CompileProblem(
                "policy.type_mismatch",
                f"`{path}` is a {describe(kind)} and has no attribute `{attr}`",
                lineno=lineno,
            )
        found = kind.attrs.get(attr)
        if found is None:
            known = sorted(kind.attrs)
            noun = "signal" if path.startswith(("signals", "state")) else "name"
            raise CompileProblem(
                "policy.unknown_name",
                f"unknown {noun} `{path}.{attr}`",
                help=did_you_mean(attr, known)
                or "known: " + ", ".join(f"`{k}`" for k in known),
                lineno=lineno,
            )
        if kind.nullable:
            self.temp += 1
            tmp = f"_t{self.temp}"
            return (
                f"(None if ({tmp} := {code}) is None else {tmp}.{found.python})",
                found.type.optional(),
            )
        return f"{code}.{found.python}", found.type

    def gen_Getitem(self, node: nodes.Getitem) -> tuple[str, Type]:
        code, kind = self.gen(node.node)
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            return self._attribute(node.node, arg.value, node.lineno)
        if not (isinstance(arg, nodes.Const) and isinstance(arg.value, int)) and not (
            isinstance(arg, nodes.Neg) and isinstance(arg.node, nodes.Const)
        ):
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"index of `{self._path(node.node)}` must be a constant number",
                lineno=node.lineno,
            )
        index, _ = self.gen(arg)
        if kind.kind not in ("list", "str"):
            raise CompileProblem(
                "policy.type_mismatch",
                f"`{self._path(node.node)}` is a {describe(kind)} and cannot be indexed",
                lineno=node.lineno,
            )
        item = kind.item if kind.kind == "list" and kind.item else STR
        # an index past the end reads as none rather than failing the review
        self.temp += 1
        tmp = f"_t{self.temp}"
        return (
            f"({tmp}[{index}] if -len({tmp} := {code}) <= {index} < len({tmp}) else None)",
            item.optional(),
        )

    def _chain(self, node: nodes.And | nodes.Or, joiner: str) -> tuple[str, Type]:
        # Left to right, as in Jinja: an earlier operand may guard a later one.
        operands = _flatten(node, type(node))
        return "(" + f" {joiner} ".join(
            self.gen(part)[0] for part in operands
        ) + ")", BOOL

    def gen_And(self, node: nodes.And) -> tuple[str, Type]:
        return self._chain(node, "and")

    def gen_Or(self, node: nodes.Or) -> tuple[str, Type]:
        return self._chain(node, "or")

    def gen_Not(self, node: nodes.Not) -> tuple[str, Type]:
        inner, _ = self.gen(node.node)
        return f"(not {inner})", BOOL

    def gen_Neg(self, node: nodes.Neg) -> tuple[str, Type]:
        inner, kind = self.gen(node.node)
        self._need_number(node.node, kind, "-")
        return f"(-{inner})", kind

    def gen_Pos(self, node: nodes.Pos) -> tuple[str, Type]:
        return self.gen(node.node)

    def _need_number(self, node: nodes.Node, kind: Type, op: str) -> None:
        if not kind.numeric:
            raise CompileProblem(
                "policy.type_mismatch",
                f"`{render_expression(node)}` is a {describe(kind)}, "
                f"but `{op}` needs a number",
                lineno=getattr(node, "lineno", 1),
            )

    def _binary(self, node: nodes.BinExpr) -> tuple[str, Type]:
        op = _BIN[type(node)]
        left, lt = self.gen(node.left)
        right, rt = self.gen(node.right)
        if op == "+" and lt.kind == "str" and rt.kind == "str":
            return f"({left} + {right})", STR
        self._need_number(node.left, lt, op)
        self._need_number(node.right, rt, op)
        result = INT if lt.kind == rt.kind == "int" and op != "/" else FLOAT
        return f"({left} {op} {right})", result

    gen_Add = gen_Sub = gen_Mul = gen_Div = gen_FloorDiv = gen_Mod = _binary

    def gen_Concat(self, node: nodes.Concat) -> tuple[str, Type]:
        parts = [self.gen(n)[0] for n in node.nodes]
        return "(" + " + ".join(f"str({p})" for p in parts) + ")", STR

    def gen_CondExpr(self, node: nodes.CondExpr) -> tuple[str, Type]:
        test, _ = self.gen(node.test)
        then, tt = self.gen(node.expr1)
        if node.expr2 is None:
            return f"({then} if {test} else None)", tt.optional()
        other, _ = self.gen(node.expr2)
        return f"({then} if {test} else {other})", tt

    def gen_Compare(self, node: nodes.Compare) -> tuple[str, Type]:
        left_code, left_type = self.gen(node.expr)
        parts: list[str] = []
        left_node: nodes.Node = node.expr
        for operand in node.ops:
            right_code, right_type = self.gen(operand.expr)
            self._check_compare(
                operand.op, left_node, left_type, operand.expr, right_type
            )
            if operand.op in _ORDER_OPS and (left_type.nullable or right_type.nullable):
                parts.append(f"_cmp_none({operand.op!r}, {left_code}, {right_code})")
            else:
                parts.append(f"({left_code} {_PY_CMP[operand.op]} {right_code})")
            left_code, left_type, left_node = right_code, right_type, operand.expr
        return "(" + " and ".join(parts) + ")", BOOL

    def _check_compare(
        self, op: str, left: nodes.Node, lt: Type, right: nodes.Node, rt: Type
    ) -> None:
        lineno = getattr(left, "lineno", 1)
        if op in ("in", "notin"):
            if rt.kind not in ("list", "str", "any"):
                raise CompileProblem(
                    "policy.type_mismatch",
                    f"`{render_expression(right)}` is a {describe(rt)}; "
                    "`in` needs a list or a text on its right",
                    lineno=lineno,
                )
            if (
                rt.kind == "list"
                and lt.choices
                and isinstance(right, nodes.List | nodes.Tuple)
            ):
                for item in right.items:
                    self._check_choice(lt, left, item)
            return
        if op in ("eq", "ne"):
            for a, at, b in ((left, lt, right), (right, rt, left)):
                if at.choices:
                    self._check_choice(at, a, b)
            if _incompatible(lt, rt):
                raise CompileProblem(
                    "policy.type_mismatch",
                    f"`{render_expression(left)}` is a {describe(lt)} and "
                    f"`{render_expression(right)}` is a {describe(rt)}: "
                    "they can never be equal",
                    lineno=lineno,
                )
            return
        ok = (lt.numeric and rt.numeric) or (
            lt.kind == rt.kind and lt.kind in ("str", "datetime")
        )
        if not ok:
            raise CompileProblem(
                "policy.type_mismatch",
                f"cannot order `{render_expression(left)}` ({describe(lt)}) against "
                f"`{render_expression(right)}` ({describe(rt)})",
                lineno=lineno,
            )

    def _check_choice(self, kind: Type, subject: nodes.Node, value: nodes.Node) -> None:
        if not (isinstance(value, nodes.Const) and isinstance(value.value, str)):
            return
        choices = kind.choices or ()
        if value.value not in choices:
            raise CompileProblem(
                "policy.unknown_value",
                f"`{value.value}` is never a value of `{render_expression(subject)}`; "
                "it is one of " + ", ".join(f"`{c}`" for c in choices),
                help=did_you_mean(value.value, choices),
                lineno=getattr(value, "lineno", 1),
            )

    def gen_Test(self, node: nodes.Test) -> tuple[str, Type]:
        inner, _ = self.gen(node.node)
        if node.name == "none":
            return f"({inner} is None)", BOOL
        if node.name == "defined":
            return "True", BOOL
        raise CompileProblem(
            "policy.unknown_test",
            f"unknown test `is {node.name}`",
            help="conditions support `is none`, `is not none` and `is defined`",
            lineno=node.lineno,
        )

    def gen_Filter(self, node: nodes.Filter) -> tuple[str, Type]:
        function = FILTERS.get(node.name)
        if function is None:
            raise CompileProblem(
                "policy.unknown_filter",
                f"unknown filter `{node.name}`",
                help=did_you_mean(node.name, FILTERS)
                or "filters: " + ", ".join(f"`{f}`" for f in sorted(FILTERS)),
                lineno=node.lineno,
            )
        if (
            node.node is None
            or node.args
            or node.kwargs
            or node.dyn_args
            or node.dyn_kwargs
        ):
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"filter `{node.name}` takes no arguments here",
                lineno=node.lineno,
            )
        inner, kind = self.gen(node.node)
        returns = function.returns
        if node.name in ("max", "min") and kind.kind == "list" and kind.item:
            returns = kind.item
        if node.name == "abs" and kind.kind == "int":
            returns = INT
        return f"{function.python}({inner})", returns

    def gen_Call(self, node: nodes.Call) -> tuple[str, Type]:
        if not isinstance(node.node, nodes.Name):
            raise CompileProblem(
                "policy.unsafe_call",
                f"`{render_expression(node.node)}` cannot be called; only the listed "
                "functions can",
                help="functions: " + ", ".join(f"`{f}`" for f in sorted(FUNCTIONS)),
                lineno=node.lineno,
            )
        name = node.node.name
        function = FUNCTIONS.get(name)
        if function is None:
            raise CompileProblem(
                "policy.unknown_function",
                f"unknown function `{name}`",
                help=did_you_mean(name, FUNCTIONS)
                or "functions: " + ", ".join(f"`{f}`" for f in sorted(FUNCTIONS)),
                lineno=node.lineno,
            )
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"`{name}` takes positional arguments only",
                lineno=node.lineno,
            )
        if len(node.args) != len(function.params):
            raise CompileProblem(
                "policy.bad_arguments",
                f"`{name}` takes {len(function.params)} argument"
                f"{'s' if len(function.params) != 1 else ''}, not {len(node.args)}",
                lineno=node.lineno,
            )
        args = [self.gen(arg) for arg in node.args]
        if name == "matches":
            pattern = node.args[1]
            if not (
                isinstance(pattern, nodes.Const) and isinstance(pattern.value, str)
            ):
                raise CompileProblem(
                    "policy.bad_arguments",
                    "the pattern of `matches` must be a constant text",
                    lineno=node.lineno,
                )
            try:
                regex = re.compile(pattern.value, re.IGNORECASE)
            except re.error as exc:
                raise CompileProblem(
                    "policy.bad_regex",
                    f"invalid regular expression `{pattern.value}`: {exc}",
                    lineno=node.lineno,
                ) from None
            key = f"_re_{self.regex_prefix}_{len(self.regexes)}"
            self.regexes[key] = regex
            return f"({key}.search(str({args[0][0]})) is not None)", BOOL
        return (
            f"{function.python}({', '.join(code for code, _ in args)})",
            function.returns,
        )


def _flatten(node: nodes.Node, kind: type[nodes.Node]) -> list[nodes.Node]:
    if isinstance(node, kind) and isinstance(node, nodes.And | nodes.Or):
        return [*_flatten(node.left, kind), *_flatten(node.right, kind)]
    return [node]


def _incompatible(a: Type, b: Type) -> bool:
    if "any" in (a.kind, b.kind) or "none" in (a.kind, b.kind):
        return False
    if a.numeric and b.numeric:
        return False
    return a.kind != b.kind


def parse_expression(source: str) -> nodes.Expr:
    """Parse one expression with jinja2's parser; raise `CompileProblem` on bad syntax."""
    try:
        parser = Parser(_ENV, source, state="variable")
        expr = parser.parse_expression()
        if parser.stream.current.type != "eof":
            token = parser.stream.current
            raise CompileProblem(
                "policy.bad_expression",
                f"unexpected `{token.value}` after the end of the condition",
                lineno=token.lineno,
            )
    except TemplateSyntaxError as exc:
        raise CompileProblem(
            "policy.bad_expression",
            f"cannot parse condition: {str(exc.message or exc).lower()}",
            lineno=exc.lineno or 1,
        ) from None
    return expr


def compile_condition(
    source: str | bool,  # noqa: FBT001 - YAML `when: true` arrives as a bool
    *,
    policy_type: Type,
    regex_prefix: str = "0",
) -> CompiledCondition:
    """
    Check one condition and return it as Python source.

    Raises:
        CompileProblem: the condition is malformed, unsafe, or names something unknown.
    """
    roots = {**ROOTS, "policy": policy_type}
    if isinstance(source, bool):
        node: nodes.Expr = nodes.Const(source, lineno=1)
        text = "true" if source else "false"
    else:
        text = source.strip()
        if not text:
            raise CompileProblem("policy.bad_expression", "the condition is empty")
        node = parse_expression(text)
    compiler = _Compiler(roots, regex_prefix)
    python, kind = compiler.gen(node)
    operands: list[tuple[str, str]] = []
    for part in _operands(node):
        code, _ = compiler.gen(part)
        operands.append((render_expression(part), code))
    return CompiledCondition(
        source=text,
        python=python,
        type=kind,
        node=node,
        regexes=compiler.regexes,
        names=frozenset(compiler.names),
        operands=tuple(operands),
    )


def _operands(node: nodes.Node) -> list[nodes.Node]:
    if isinstance(node, nodes.And | nodes.Or):
        kind = type(node)
        out: list[nodes.Node] = []
        for side in (node.left, node.right):
            out.extend(_operands(side) if isinstance(side, kind) else [side])
        return out
    return []


def render_expression(node: nodes.Node) -> str:
    """Return an expression tree as condition text (for traces and messages)."""
    r = render_expression
    match node:
        case nodes.Name():
            return node.name
        case nodes.Const():
            value = node.value
            if value is None:
                return "none"
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str):
                return '"' + value.replace('"', '\\"') + '"'
            return repr(value)
        case nodes.Getattr():
            return f"{r(node.node)}.{node.attr}"
        case nodes.Getitem():
            return f"{r(node.node)}[{r(node.arg)}]"
        case nodes.And():
            return f"{r(node.left)} and {r(node.right)}"
        case nodes.Or():
            return f"({r(node.left)} or {r(node.right)})"
        case nodes.Not():
            return f"not {r(node.node)}"
        case nodes.Neg():
            return f"-{r(node.node)}"
        case nodes.Compare():
            text = r(node.expr)
            for operand in node.ops:
                text += f" {_J_CMP.get(operand.op, operand.op)} {r(operand.expr)}"
            return text
        case nodes.List() | nodes.Tuple():
            return "[" + ", ".join(r(i) for i in node.items) + "]"
        case nodes.Filter():
            inner = r(node.node) if node.node is not None else ""
            return f"{inner} | {node.name}"
        case nodes.Test():
            return f"{r(node.node)} is {node.name}"
        case nodes.Call():
            return f"{r(node.node)}(" + ", ".join(r(a) for a in node.args) + ")"
        case nodes.CondExpr():
            other = f" else {r(node.expr2)}" if node.expr2 is not None else ""
            return f"{r(node.expr1)} if {r(node.test)}{other}"
        case nodes.BinExpr():
            return f"({r(node.left)} {node.operator} {r(node.right)})"
        case nodes.Concat():
            return " ~ ".join(r(n) for n in node.nodes)
        case _:
            return type(node).__name__.lower()
