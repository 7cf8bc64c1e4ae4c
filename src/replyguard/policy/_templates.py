"""Sandboxed jinja2 templates for rule messages and rewrites, compiled at load."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import TemplateAssertionError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from rapidfuzz import fuzz, process

from replyguard.models import Thread

__all__ = ["TEMPLATE_NAMES", "TemplateProblem", "ThreadView", "compile_template"]

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


class _Environment(ImmutableSandboxedEnvironment):
    pass


ENVIRONMENT = _Environment(
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)
ENVIRONMENT.filters.update(
    {
        "strip_exclamations": _strip_exclamations,
        "drop_emoji": _drop_emoji,
        "remove_phrase": _remove_phrase,
    }
)


class TemplateProblem(Exception):
    """A template cannot be compiled."""

    def __init__(
        self, code: str, message: str, *, lineno: int = 1, help: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.lineno = lineno
        self.help = help


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


def compile_template(source: str) -> Any:
    """
    Compile a sandboxed template, checking its names and filters.

    Raises:
        TemplateProblem: bad syntax, an unknown filter, or an unknown name.
    """
    try:
        tree = ENVIRONMENT.parse(source)
        unknown = meta.find_undeclared_variables(tree) - TEMPLATE_NAMES
        if unknown:
            name = min(unknown)
            lineno = next(
                (n.lineno for n in tree.find_all(nodes.Name) if n.name == name), 1
            )
            raise TemplateProblem(
                "policy.unknown_name",
                f"unknown name `{name}` in template; templates read "
                + ", ".join(f"`{n}`" for n in sorted(TEMPLATE_NAMES)),
                lineno=lineno,
            )
        return ENVIRONMENT.from_string(source)
    except TemplateAssertionError as exc:
        text = str(exc.message or exc)
        found = re.search(r"named '([^']+)'", text)
        name = found.group(1) if found else "?"
        kind = "test" if "test" in text.split("named", maxsplit=1)[0] else "filter"
        choices = ENVIRONMENT.tests if kind == "test" else ENVIRONMENT.filters
        best = process.extractOne(
            name, list(choices), scorer=fuzz.WRatio, score_cutoff=70
        )
        raise TemplateProblem(
            f"policy.unknown_{kind}",
            f"unknown {kind} `{name}`",
            lineno=exc.lineno or 1,
            help=f"did you mean `{best[0]}`?" if best else None,
        ) from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            "policy.bad_template",
            f"cannot parse template: {str(exc.message or exc).lower()}",
            lineno=exc.lineno or 1,
        ) from None
