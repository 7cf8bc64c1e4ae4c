"""
Compile policy conditions (Jinja/Ansible `when:` syntax) into Python code, once.

A condition is parsed with jinja2's own expression parser, checked against the names
a policy may read (`thread`, `reply`, `signals`, `state`, `policy`), type-checked,
and turned into Python source. All of a policy's conditions become functions of one
code object, so a review runs plain Python: no interpretation, no sandbox per call.

What is allowed: ``and``, ``or``, ``not``, comparisons (``== != < <= > >= in``,
``not in``), arithmetic, ``x if c else y``, attribute paths over known names,
constant indexes, list literals, the tests ``is none`` / ``is not none``, the
filters in `FILTERS` and the functions in `FUNCTIONS`, with arguments of the types
they declare. Nothing else: no private attributes, no calls of arbitrary objects,
no I/O.

Missing values never fail a review: a comparison, ``in`` or text function with a
none operand is false, arithmetic and text filters with none give none, ``| length``
of none is 0 and ``| max`` of an empty list is none.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.lexer import Lexer, TokenStream
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
    Attr,
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


class PositionedEnvironment(Environment):
    """
    A parse-only environment whose nodes carry character offsets, not lines.

    jinja2 records only a line number on each node. Here every token's "line number"
    is its 1-based character offset in the source, so a problem found on a node can
    be traced to the exact character, and from there, through YAML folding, to the
    right line of the policy file. Use `offset_of` to read it back.
    """

    def _tokenize(
        self,
        source: str,
        name: str | None,
        filename: str | None = None,
        state: str | None = None,
    ) -> TokenStream:
        tokens = _positioned(self.lexer, source, name, filename, state)
        return TokenStream(self.lexer.wrap(tokens, name, filename), name, filename)


def _positioned(
    lexer: Lexer,
    source: str,
    name: str | None,
    filename: str | None,
    state: str | None,
) -> Iterator[tuple[int, str, str]]:
    position = 0
    try:
        for _, token, data in lexer.tokeniter(source, name, filename, state):
            found = source.find(data, position) if data else -1
            if found >= 0:
                position = found
            yield position + 1, token, data
            position += len(data)
    except TemplateSyntaxError as exc:
        raise TemplateSyntaxError(
            exc.message or "cannot parse", position + 1, name, filename
        ) from None


def syntax_reason(exc: TemplateSyntaxError) -> str:
    """Return jinja2's reason for a syntax error in the house style (lowercase, no period)."""
    return str(exc.message or exc).lower().rstrip(".")


def offset_of(node: nodes.Node | None) -> int:
    """Return the 0-based character offset of a node parsed by `PositionedEnvironment`."""
    return max(int(getattr(node, "lineno", 1) or 1) - 1, 0)


_ENV = PositionedEnvironment(autoescape=False)


class CompileProblem(Exception):
    """
    A condition cannot be compiled; carries a problem code, help and a position.

    Attributes:
        offset: the 0-based character offset of the problem in the condition text.
        lineno: the 1-based line of that character in the condition text.
    """

    def __init__(
        self, code: str, message: str, *, help: str | None = None, at: int = 0
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.help = help
        self.offset = at
        self.lineno = 1


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return ``did you mean `x`?`` for the closest choice, or None."""
    options = list(choices)
    if not options:
        return None
    # plain edit distance: partial-match scorers suggest `d` for `random`
    best = process.extractOne(word, options, scorer=fuzz.ratio, score_cutoff=70)
    if best is None:
        return None
    return f"did you mean `{best[0]}`?"


# --- runtime helpers (the only callables a compiled condition can reach) ----------
# Each one is none-safe: a missing value (None) never raises.


@functools.lru_cache(maxsize=1024)
def _fold(text: str) -> str:
    # many rules read the same post text: fold it once (str hashes are cached)
    return text.casefold()


def _contains(text: object, phrase: object) -> bool:
    if text is None or phrase is None:
        return False
    return _fold(str(phrase)) in _fold(str(text))


def _contains_any(text: object, phrases: Sequence[object] | None) -> bool:
    if text is None or phrases is None:
        return False
    folded = _fold(str(text))
    return any(_fold(str(p)) in folded for p in phrases if p is not None)


def _contains_folded(text: object, folded: tuple[str, ...]) -> bool:
    if text is None:
        return False
    haystack = _fold(str(text))
    return any(phrase in haystack for phrase in folded)


def _similarity(a: object, b: object) -> float | None:
    if a is None or b is None:
        return None
    return float(fuzz.ratio(_fold(str(a)), _fold(str(b)))) / 100.0


def _starts_with(text: object, prefix: object) -> bool:
    if text is None or prefix is None:
        return False
    return _fold(str(text)).startswith(_fold(str(prefix)))


def _matches(regex: re.Pattern[str], text: object) -> bool:
    return text is not None and regex.search(str(text)) is not None


def _length(value: Sequence[object] | str | None) -> int:
    return 0 if value is None else len(value)


def _lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


def _upper(value: object) -> str | None:
    return None if value is None else str(value).upper()


def _trim(value: object) -> str | None:
    return None if value is None else str(value).strip()


def _abs(value: float | None) -> float | None:
    return None if value is None else abs(value)


def _round(value: float | None) -> float | None:
    return None if value is None else float(round(value))


def _int(value: str | float | None) -> int | None:
    return None if value is None else int(value)


def _float(value: str | float | None) -> float | None:
    return None if value is None else float(value)


def _present(values: Iterable[Any] | None) -> list[Any]:
    return [] if values is None else [v for v in values if v is not None]


def _max(values: Iterable[Any] | None) -> Any:
    present = _present(values)
    return max(present) if present else None


def _min(values: Iterable[Any] | None) -> Any:
    present = _present(values)
    return min(present) if present else None


def _concat(*parts: object) -> str | None:
    if any(part is None for part in parts):
        return None
    return "".join(str(part) for part in parts)


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    return bool(_OPS[op](left, right))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lteq": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gteq": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


@dataclass(frozen=True)
class _Param:
    """What a function argument or a filter's input accepts, statically."""

    noun: str
    kinds: frozenset[str]
    items: frozenset[str] | None = None

    def accepts(self, kind: Type) -> bool:
        # a value of unknown type, or none (absent values are fine), always passes
        if kind.kind in ("any", "none"):
            return True
        if kind.kind not in self.kinds:
            return False
        if kind.kind == "list" and self.items is not None and kind.item is not None:
            return kind.item.kind in {*self.items, "any", "none"}
        return True


_NUMBERS = frozenset({"int", "float", "bool"})
TEXT = _Param("a text", frozenset({"str"}))
TEXTS = _Param("a list of texts", frozenset({"list"}), frozenset({"str"}))
SIZED = _Param("a list or a text", frozenset({"list", "str"}))
NUMBER = _Param("a number", _NUMBERS)
NUMBER_OR_TEXT = _Param("a number or a text", _NUMBERS | {"str"})
ORDERED = _Param(
    "a list of numbers, texts or times",
    frozenset({"list"}),
    _NUMBERS | {"str", "datetime"},
)


@dataclass(frozen=True)
class _Function:
    python: str
    impl: Callable[..., Any]
    params: tuple[_Param, ...]
    returns: Type
    doc: str
    usage: str = ""


FUNCTIONS: dict[str, _Function] = {
    "len": _Function(
        "_fn_len",
        _length,
        (SIZED,),
        INT,
        "number of items or characters; 0 of none",
        "len(x)",
    ),
    "contains": _Function(
        "_fn_contains",
        _contains,
        (TEXT, TEXT),
        BOOL,
        "whether text contains a phrase, ignoring case",
        "contains(text, phrase)",
    ),
    "contains_any": _Function(
        "_fn_contains_any",
        _contains_any,
        (TEXT, TEXTS),
        BOOL,
        "whether text contains any of the phrases, ignoring case",
        "contains_any(text, [phrases])",
    ),
    "starts_with": _Function(
        "_fn_starts_with",
        _starts_with,
        (TEXT, TEXT),
        BOOL,
        "whether text starts with a prefix, ignoring case",
        "starts_with(text, prefix)",
    ),
    "similarity": _Function(
        "_fn_similarity",
        _similarity,
        (TEXT, TEXT),
        FLOAT.optional(),
        "how alike two texts are, 0..1 (rapidfuzz ratio, ignoring case)",
        "similarity(a, b)",
    ),
    "matches": _Function(
        "_fn_matches",
        _matches,
        (TEXT, TEXT),
        BOOL,
        "whether text matches a regular expression (a constant, compiled at load)",
        'matches(text, "regex")',
    ),
}
"""The functions a condition may call, by name."""


FILTERS: dict[str, _Function] = {
    "lower": _Function("_flt_lower", _lower, (TEXT,), STR, "lowercase"),
    "upper": _Function("_flt_upper", _upper, (TEXT,), STR, "uppercase"),
    "trim": _Function("_flt_trim", _trim, (TEXT,), STR, "strip spaces"),
    "length": _Function(
        "_fn_len", _length, (SIZED,), INT, "number of items or characters; 0 of none"
    ),
    "count": _Function(
        "_fn_len", _length, (SIZED,), INT, "number of items or characters; 0 of none"
    ),
    "abs": _Function("_flt_abs", _abs, (NUMBER,), FLOAT, "absolute value"),
    "round": _Function(
        "_flt_round", _round, (NUMBER,), FLOAT, "round to a whole number"
    ),
    "int": _Function(
        "_flt_int", _int, (NUMBER_OR_TEXT,), INT, "convert to a whole number"
    ),
    "float": _Function(
        "_flt_float", _float, (NUMBER_OR_TEXT,), FLOAT, "convert to a number"
    ),
    "max": _Function(
        "_flt_max", _max, (ORDERED,), ANY, "the largest item of a list; none if empty"
    ),
    "min": _Function(
        "_flt_min", _min, (ORDERED,), ANY, "the smallest item of a list; none if empty"
    ),
}
"""The filters (``value | name``) a condition may use."""


def runtime_globals() -> dict[str, Any]:
    """Return the globals compiled conditions run with."""
    names: dict[str, Any] = {"__builtins__": {}, "len": len, "str": str}
    for function in (*FUNCTIONS.values(), *FILTERS.values()):
        names.setdefault(function.python, function.impl)
    names["_compare"] = _compare
    names["_concat"] = _concat
    names["_fn_contains_folded"] = _contains_folded
    return names


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

    def _temp(self) -> str:
        self.temp += 1
        return f"_t{self.temp}"

    # each visitor returns (python source, static type)
    def gen(self, node: nodes.Node) -> tuple[str, Type]:
        method = getattr(self, f"gen_{type(node).__name__}", None)
        if method is None:
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"`{render_expression(node)}` is not allowed in a condition",
                help="conditions may use and/or/not, comparisons, attribute paths, "
                "filters and the listed functions",
                at=offset_of(node),
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
            at=offset_of(node),
        )

    def gen_List(self, node: nodes.List | nodes.Tuple) -> tuple[str, Type]:
        parts = [self.gen(item) for item in node.items]
        kinds = {t.kind for _, t in parts}
        item = parts[0][1] if len(kinds) == 1 and parts else ANY
        if any(t.nullable for _, t in parts):
            item = item.optional()
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
                at=offset_of(node),
            )
        self.names.add(node.name)
        return node.name, self.roots[node.name]

    def gen_Getattr(self, node: nodes.Getattr) -> tuple[str, Type]:
        return self._attribute(node.node, node.attr)

    def _path(self, node: nodes.Node) -> str:
        return render_expression(node)

    def _attribute(self, base: nodes.Node, attr: str) -> tuple[str, Type]:
        code, kind = self.gen(base)
        found = check_attribute(
            self._path(base), kind, attr, what="conditions", at=offset_of(base)
        )
        if kind.nullable:
            tmp = self._temp()
            return (
                f"(None if ({tmp} := {code}) is None else {tmp}.{found.python})",
                found.type.optional(),
            )
        return f"{code}.{found.python}", found.type

    def gen_Getitem(self, node: nodes.Getitem) -> tuple[str, Type]:
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            return self._attribute(node.node, arg.value)
        code, kind = self.gen(node.node)
        if not (isinstance(arg, nodes.Const) and isinstance(arg.value, int)) and not (
            isinstance(arg, nodes.Neg) and isinstance(arg.node, nodes.Const)
        ):
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"index of `{self._path(node.node)}` must be a constant number",
                at=offset_of(node),
            )
        index, _ = self.gen(arg)
        if kind.kind not in ("list", "str"):
            raise CompileProblem(
                "policy.type_mismatch",
                f"`{self._path(node.node)}` is a {describe(kind)} and cannot be indexed",
                at=offset_of(node.node),
            )
        item = kind.item if kind.kind == "list" and kind.item else STR
        # an index past the end, or of a missing list, reads as none
        tmp = self._temp()
        inside = f"{tmp}[{index}] if -len({tmp}) <= {index} < len({tmp}) else None"
        if kind.nullable:
            return f"(None if ({tmp} := {code}) is None else ({inside}))", (
                item.optional()
            )
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
        if kind.nullable:
            tmp = self._temp()
            return f"(None if ({tmp} := {inner}) is None else -{tmp})", kind
        return f"(-{inner})", kind

    def gen_Pos(self, node: nodes.Pos) -> tuple[str, Type]:
        return self.gen(node.node)

    def _need_number(self, node: nodes.Node, kind: Type, op: str) -> None:
        if not (kind.numeric or kind.kind == "none"):
            raise CompileProblem(
                "policy.type_mismatch",
                f"`{render_expression(node)}` is a {describe(kind)}, "
                f"but `{op}` needs a number",
                at=offset_of(node),
            )

    def _binary(self, node: nodes.BinExpr) -> tuple[str, Type]:
        op = _BIN[type(node)]
        left, lt = self.gen(node.left)
        right, rt = self.gen(node.right)
        if op == "+" and lt.kind == "str" and rt.kind == "str":
            result = STR
        else:
            self._need_number(node.left, lt, op)
            self._need_number(node.right, rt, op)
            result = INT if lt.kind == rt.kind == "int" and op != "/" else FLOAT
        if lt.nullable or rt.nullable:
            # arithmetic with a missing value gives a missing value
            a, b = self._temp(), self._temp()
            code = (
                f"(None if ({a} := {left}) is None or ({b} := {right}) is None "
                f"else {a} {op} {b})"
            )
            return code, result.optional()
        return f"({left} {op} {right})", result

    gen_Add = gen_Sub = gen_Mul = gen_Div = gen_FloorDiv = gen_Mod = _binary

    def gen_Concat(self, node: nodes.Concat) -> tuple[str, Type]:
        parts = [self.gen(n) for n in node.nodes]
        if any(kind.nullable for _, kind in parts):
            return "_concat(" + ", ".join(code for code, _ in parts) + ")", (
                STR.optional()
            )
        return "(" + " + ".join(f"str({code})" for code, _ in parts) + ")", STR

    def gen_CondExpr(self, node: nodes.CondExpr) -> tuple[str, Type]:
        test, _ = self.gen(node.test)
        then, tt = self.gen(node.expr1)
        if node.expr2 is None:
            return f"({then} if {test} else None)", tt.optional()
        other, ot = self.gen(node.expr2)
        kind = tt.optional() if ot.nullable or ot.kind == "none" else tt
        if tt.kind == "none":
            kind = ot.optional()
        return f"({then} if {test} else {other})", kind

    def gen_Compare(self, node: nodes.Compare) -> tuple[str, Type]:
        left_code, left_type = self.gen(node.expr)
        parts: list[str] = []
        left_node: nodes.Node = node.expr
        for operand in node.ops:
            op = operand.op
            right_code, right_type = self.gen(operand.expr)
            self._check_compare(op, left_node, left_type, operand.expr, right_type)
            literal_none = "none" in (left_type.kind, right_type.kind)
            if literal_none and op in ("eq", "ne"):
                # `x == none` is the test `x is none`
                other = operand.expr if left_type.kind == "none" else left_node
                test = _is_none(other, self.gen(other)[0])
                parts.append(test if op == "eq" else f"(not {test})")
            elif left_type.nullable or right_type.nullable:
                # a comparison with a missing value is false, whatever the operator
                parts.append(f"_compare({op!r}, {left_code}, {right_code})")
            else:
                parts.append(f"({left_code} {_PY_CMP[op]} {right_code})")
            left_code, left_type, left_node = right_code, right_type, operand.expr
        return "(" + " and ".join(parts) + ")", BOOL

    def _check_compare(
        self, op: str, left: nodes.Node, lt: Type, right: nodes.Node, rt: Type
    ) -> None:
        at = offset_of(left)
        if op in ("in", "notin"):
            if rt.kind not in ("list", "str", "any", "none"):
                raise CompileProblem(
                    "policy.type_mismatch",
                    f"`{render_expression(right)}` is a {describe(rt)}; "
                    "`in` needs a list or a text on its right",
                    at=offset_of(right),
                )
            if rt.kind == "str" and lt.kind not in ("str", "any", "none"):
                raise CompileProblem(
                    "policy.type_mismatch",
                    f"`{render_expression(left)}` is a {describe(lt)}; "
                    "only a text can be `in` a text",
                    at=at,
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
            for a, at_type, b in ((left, lt, right), (right, rt, left)):
                if at_type.choices:
                    self._check_choice(at_type, a, b)
            if _incompatible(lt, rt):
                raise CompileProblem(
                    "policy.type_mismatch",
                    f"`{render_expression(left)}` is a {describe(lt)} and "
                    f"`{render_expression(right)}` is a {describe(rt)}: "
                    "they can never be equal",
                    at=at,
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
                at=at,
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
                at=offset_of(value),
            )

    def gen_Test(self, node: nodes.Test) -> tuple[str, Type]:
        inner, _ = self.gen(node.node)
        if node.name == "none":
            return _is_none(node.node, inner), BOOL
        if node.name == "defined":
            return "True", BOOL
        raise CompileProblem(
            "policy.unknown_test",
            f"unknown test `is {node.name}`",
            help="conditions support `is none`, `is not none` and `is defined`",
            at=offset_of(node),
        )

    def gen_Filter(self, node: nodes.Filter) -> tuple[str, Type]:
        function = FILTERS.get(node.name)
        if function is None:
            raise CompileProblem(
                "policy.unknown_filter",
                f"unknown filter `{node.name}`",
                help=did_you_mean(node.name, FILTERS)
                or "filters: " + ", ".join(f"`{f}`" for f in sorted(FILTERS)),
                at=offset_of(node),
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
                at=offset_of(node),
            )
        inner, kind = self.gen(node.node)
        [param] = function.params
        if not param.accepts(kind):
            raise CompileProblem(
                "policy.bad_arguments",
                f"`{render_expression(node.node)}` is a {describe(kind)}, "
                f"but the filter `{node.name}` needs {param.noun}",
                at=offset_of(node.node),
            )
        returns = function.returns
        if node.name in ("max", "min"):
            returns = (
                kind.item if kind.kind == "list" and kind.item else ANY
            ).optional()
        elif node.name == "abs" and kind.kind == "int":
            returns = INT
        sized = node.name in ("length", "count")
        if sized and not kind.nullable:
            return f"len({inner})", returns
        if kind.nullable and not sized:
            returns = returns.optional()
        return f"{function.python}({inner})", returns

    def gen_Call(self, node: nodes.Call) -> tuple[str, Type]:
        if not isinstance(node.node, nodes.Name):
            raise CompileProblem(
                "policy.unsafe_call",
                f"`{render_expression(node.node)}` cannot be called; only the listed "
                "functions can",
                help="functions: " + ", ".join(f"`{f}`" for f in sorted(FUNCTIONS)),
                at=offset_of(node.node),
            )
        name = node.node.name
        function = FUNCTIONS.get(name)
        if function is None:
            raise CompileProblem(
                "policy.unknown_function",
                f"unknown function `{name}`",
                help=did_you_mean(name, FUNCTIONS)
                or "functions: " + ", ".join(f"`{f}`" for f in sorted(FUNCTIONS)),
                at=offset_of(node.node),
            )
        if node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise CompileProblem(
                "policy.unsupported_syntax",
                f"`{name}` takes positional arguments only",
                at=offset_of(node.node),
            )
        if len(node.args) != len(function.params):
            raise CompileProblem(
                "policy.bad_arguments",
                f"`{name}` takes {len(function.params)} argument"
                f"{'s' if len(function.params) != 1 else ''}, not {len(node.args)}",
                help=f"`{function.usage}`: {function.doc}",
                at=offset_of(node.node),
            )
        args = [self.gen(arg) for arg in node.args]
        for position, (param, arg, (_, kind)) in enumerate(
            zip(function.params, node.args, args, strict=True), start=1
        ):
            if not param.accepts(kind):
                raise CompileProblem(
                    "policy.bad_arguments",
                    f"argument {position} of `{name}` is {_a(describe(kind))} "
                    f"`{render_expression(arg)}`, but it needs {param.noun}",
                    help=f"`{function.usage}`: {function.doc}",
                    at=offset_of(arg),
                )
        if name == "matches":
            return self._matches(node, args[0][0])
        return (
            f"{function.python}({', '.join(code for code, _ in args)})",
            function.returns,
        )

    def _matches(self, node: nodes.Call, text: str) -> tuple[str, Type]:
        pattern = node.args[1]
        if not (isinstance(pattern, nodes.Const) and isinstance(pattern.value, str)):
            raise CompileProblem(
                "policy.bad_arguments",
                "the pattern of `matches` must be a constant text",
                at=offset_of(pattern),
            )
        try:
            regex = re.compile(pattern.value, re.IGNORECASE)
        except re.error as exc:
            raise CompileProblem(
                "policy.bad_regex",
                f"invalid regular expression `{pattern.value}`: {exc}",
                at=offset_of(pattern),
            ) from None
        key = f"_re_{self.regex_prefix}_{len(self.regexes)}"
        self.regexes[key] = regex
        return f"_fn_matches({key}, {text})", BOOL


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def check_attribute(path: str, kind: Type, attr: str, *, what: str, at: int) -> Attr:
    """
    Return the `Attr` that `path.attr` reads, or raise the problem with reading it.

    Shared by conditions and templates (`what` names which, for messages).

    Raises:
        CompileProblem: the attribute is private, unknown, or read from a plain value.
    """
    if attr.startswith("_"):
        raise CompileProblem(
            "policy.unsafe_attribute",
            f"`{path}.{attr}` is private; {what} may not read names starting with `_`",
            at=at,
        )
    if kind.kind == "any":
        raise CompileProblem(
            "policy.unknown_name",
            f"`{path}` has no known attributes; cannot read `{attr}`",
            at=at,
        )
    if kind.kind != "obj":
        raise CompileProblem(
            "policy.type_mismatch",
            f"`{path}` is a {describe(kind)} and has no attribute `{attr}`",
            at=at,
        )
    found = kind.attribute(attr)
    if found is None:
        known = sorted(kind.attrs)
        noun = "signal" if path.startswith(("signals", "state")) else "name"
        raise CompileProblem(
            "policy.unknown_name",
            f"unknown {noun} `{path}.{attr}`",
            help=did_you_mean(attr, known)
            or "known: " + ", ".join(f"`{k}`" for k in known),
            at=at,
        )
    return found


def _is_none(node: nodes.Node, code: str) -> str:
    if isinstance(node, nodes.Const):
        # decided now: Python warns about `is` with a literal
        return repr(node.value is None)
    return f"({code} is None)"


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
    """
    Parse one expression with jinja2's parser; raise `CompileProblem` on bad syntax.

    Node `lineno` attributes are character offsets (see `PositionedEnvironment`).
    """
    try:
        parser = Parser(_ENV, source, state="variable")
        expr = parser.parse_expression()
        if parser.stream.current.type != "eof":
            token = parser.stream.current
            raise CompileProblem(
                "policy.bad_expression",
                f"unexpected `{token.value}` after the end of the condition",
                at=max(token.lineno - 1, 0),
            )
    except TemplateSyntaxError as exc:
        raise CompileProblem(
            "policy.bad_expression",
            f"cannot parse condition: {syntax_reason(exc)}",
            at=max((exc.lineno or 1) - 1, 0),
        ) from None
    return expr


def _parse_condition(text: str) -> nodes.Expr:
    if not text:
        raise CompileProblem("policy.bad_expression", "the condition is empty")
    return parse_expression(text)


def compile_condition(
    source: str | bool,  # noqa: FBT001 - YAML `when: true` arrives as a bool
    *,
    policy_type: Type,
    regex_prefix: str = "0",
) -> CompiledCondition:
    """
    Check one condition and return it as Python source.

    Raises:
        CompileProblem: the condition is malformed, unsafe, or names something
            unknown; its `offset` and `lineno` point into `source`.
    """
    roots = {**ROOTS, "policy": policy_type}
    lead = 0
    if isinstance(source, bool):
        node: nodes.Expr = nodes.Const(source, lineno=1)
        text = "true" if source else "false"
    else:
        text = source.strip()
        lead = len(source) - len(source.lstrip())
    try:
        if not isinstance(source, bool):
            node = _parse_condition(text)
        compiler = _Compiler(roots, regex_prefix)
        python, kind = compiler.gen(node)
    except CompileProblem as exc:
        exc.offset += lead
        if isinstance(source, str):
            exc.offset = min(exc.offset, len(source))
            exc.lineno = source.count("\n", 0, exc.offset) + 1
        raise
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
