"""Load YAML keeping the line and column of every value, for errors that point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from replyguard.errors import PolicyProblem

__all__ = ["Located", "Scalar", "load_located"]

Path = tuple[int | str, ...]


@dataclass(frozen=True)
class Scalar:
    """
    A text value and the source it was read from, to point inside the value.

    YAML folds plain, quoted and `>` scalars: a condition written over three lines can
    be one line of text. `line_at` maps a character of the value back to its file line.
    """

    value: str
    style: str | None
    raw: str
    """The scalar's source text, from its first content character."""
    line: int
    """The file line `raw` starts on."""

    def line_at(self, offset: int) -> int:
        """Return the file line of the character at `offset` in the value."""
        offset = min(max(offset, 0), len(self.value))
        if self.style == "|":
            # a literal block keeps its lines: line n of the value is line n of the block
            return self.line + self.value.count("\n", 0, offset)
        # elsewhere, walk the source alongside the value: characters the source has
        # and the value lacks are indentation, line breaks, quotes or escapes
        position = 0
        for char in self.value[: offset + 1]:
            found = self.raw.find(char, position)
            if found >= 0:
                position = found + 1
        return self.line + self.raw.count("\n", 0, max(position - 1, 0))


@dataclass
class Located:
    """A YAML document as plain data plus the (line, column) of every path in it."""

    data: Any
    file: str
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[PolicyProblem] = field(default_factory=list)
    scalars: dict[Path, Scalar] = field(default_factory=dict)
    text: str = ""

    def where(self, path: Path) -> tuple[int, int]:
        """Return the (line, column) of `path`, or of its nearest located parent."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (1, 1))

    def scalar(self, path: Path) -> Scalar | None:
        """Return the text scalar at `path`, or None when it is not a text."""
        return self.scalars.get(tuple(path))


def _mark(node: yaml.Node) -> tuple[int, int]:
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # a block scalar's text starts on the line after its `|` or `>`
        return line + 1, column
    return line, column


def load_located(text: str, file: str) -> Located:
    """
    Parse one YAML document into data and locations.

    Syntax errors and duplicate keys become problems on the result (code
    ``policy.syntax`` and ``policy.duplicate_key``); the data is None on a syntax error.
    """
    located = Located(data=None, file=file, text=text)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            located.data = None
            return located
        located.data = _construct(loader, node, (), located)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "cannot parse"
        located.problems.append(
            PolicyProblem(
                code="policy.syntax",
                message=f"yaml: {problem}",
                file=file,
                line=line,
                column=column,
            )
        )
        located.data = None
    except yaml.YAMLError as exc:
        located.problems.append(
            PolicyProblem(code="policy.syntax", message=f"yaml: {exc}", file=file)
        )
        located.data = None
    finally:
        loader.dispose()
    return located


def _construct(
    loader: yaml.SafeLoader, node: yaml.Node, path: Path, out: Located
) -> Any:
    out.marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                key = str(key)
            if key in result:
                line, column = _mark(key_node)
                out.problems.append(
                    PolicyProblem(
                        code="policy.duplicate_key",
                        message=f"key `{key}` appears twice in the same mapping",
                        file=out.file,
                        line=line,
                        column=column,
                        help="a later value would silently replace the earlier one",
                    )
                )
            child = (*path, key)
            out.marks[child] = _mark(value_node)
            result[key] = _construct(loader, value_node, child, out)
            # the key's own position is more useful for "unknown key" errors
            out.marks[(*child, "__key__")] = _mark(key_node)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, index), out)
            for index, item in enumerate(node.value)
        ]
    value = loader.construct_object(node, deep=True)
    if isinstance(value, str) and isinstance(node, yaml.ScalarNode):
        out.scalars[path] = _scalar(node, value, out.text)
    return value


def _scalar(node: yaml.ScalarNode, value: str, text: str) -> Scalar:
    start, end = node.start_mark, node.end_mark
    line = start.line + 1
    raw_start = start.index
    if node.style in ("|", ">"):
        # the content starts on the line after the `|` or `>` header
        newline = text.find("\n", start.index, end.index)
        raw_start = end.index if newline < 0 else newline + 1
        line += 1
    elif node.style in ("'", '"'):
        raw_start += 1
    return Scalar(value, node.style, text[raw_start : end.index], line)
