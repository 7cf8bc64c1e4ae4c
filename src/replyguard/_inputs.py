"""Turn user data into models, with errors that name the path of the bad field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from replyguard.errors import InvalidArgument, InvalidInput
from replyguard.models import Reply, Thread

__all__ = ["format_path", "format_validation_error", "reply_from", "thread_from"]


def format_path(loc: tuple[int | str, ...] | tuple[Any, ...]) -> str:
    """Return a pydantic location as ``posts[3].retweet_of``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message[:1].lower() + message[1:]


def format_validation_error(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """
    Return one ``path: message`` line per problem of a pydantic error.

    Model-level problems (bad references) already carry their path in the message.
    """
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    lines: list[str] = []
    for error, loc in zip(errors, locs, strict=True):
        # pydantic reports a container as too short when one of its items failed:
        # the item's own error says more.
        if error["type"] == "too_short" and any(
            other != loc and other[: len(loc)] == loc for other in locs
        ):
            continue
        message = _message(error)
        path = format_path(loc)
        if not path:
            lines.extend(part.strip() for part in message.split("\n") if part.strip())
            continue
        if prefix:
            path = f"{prefix}.{path}"
        lines.append(f"{path}: {message}")
    return lines


def thread_from(data: object, *, source: str = "thread") -> Thread:
    """
    Return `data` as a `Thread`, accepting a `Thread` or a mapping.

    Raises:
        InvalidInput: the mapping is not a valid thread; the message names each path.
        InvalidArgument: `data` is neither a `Thread` nor a mapping.
    """
    if isinstance(data, Thread):
        return data
    if not isinstance(data, Mapping):
        raise InvalidArgument(
            f"a thread must be a `Thread` or a mapping, not `{type(data).__name__}`"
        )
    try:
        return Thread.model_validate(data)
    except ValidationError as exc:
        problems = tuple(format_validation_error(exc))
        raise InvalidInput(
            f"invalid {source}: " + "; ".join(problems), problems=problems
        ) from None


def reply_from(data: object) -> Reply:
    """
    Return `data` as a `Reply`: a `Reply`, a string, or a mapping with ``text``.

    Raises:
        InvalidInput: the mapping is not a valid reply.
        InvalidArgument: `data` is of another type.
    """
    if isinstance(data, Reply):
        return data
    if isinstance(data, str):
        data = {"text": data}
    if not isinstance(data, Mapping):
        raise InvalidArgument(
            f"a reply must be a `Reply`, a string or a mapping, not `{type(data).__name__}`"
        )
    try:
        return Reply.model_validate(data)
    except ValidationError as exc:
        problems = tuple(format_validation_error(exc, prefix="reply"))
        raise InvalidInput(
            "invalid reply: " + "; ".join(problems), problems=problems
        ) from None
