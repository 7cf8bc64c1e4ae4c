"""A small static type system for the names conditions and templates may read."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

from replyguard.models import (
    Media,
    Metrics,
    Post,
    Reply,
    Signals,
    Thread,
)

__all__ = ["ROOTS", "Attr", "Type", "describe", "policy_type"]


@dataclass(frozen=True)
class Attr:
    """A readable attribute: the Python attribute it compiles to, and its type."""

    python: str
    type: Type
    doc: str = ""


@dataclass(frozen=True)
class Type:
    """
    The static type of a name or expression in a condition.

    `kind` is one of str, int, float, bool, datetime, none, list, obj, any. An object
    with `extra` set is open: any attribute it does not list has that type.
    """

    kind: str
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    item: Type | None = None
    name: str = ""
    attrs: dict[str, Attr] = field(default_factory=dict, compare=False, hash=False)
    extra: Type | None = field(default=None, compare=False, hash=False)

    @property
    def numeric(self) -> bool:
        """Return whether the type is a number (bools count, as in Python)."""
        return self.kind in ("int", "float", "bool", "any")

    def optional(self) -> Type:
        """Return this type, allowing None."""
        return Type(
            self.kind,
            nullable=True,
            choices=self.choices,
            item=self.item,
            name=self.name,
            attrs=self.attrs,
            extra=self.extra,
        )

    def attribute(self, name: str) -> Attr | None:
        """Return the attribute `name` of an object type, or None when it has none."""
        found = self.attrs.get(name)
        if found is None and self.extra is not None:
            return Attr(name, self.extra)
        return found


ANY = Type("any")
STR = Type("str")
INT = Type("int")
FLOAT = Type("float")
BOOL = Type("bool")
NONE = Type("none", nullable=True)
DATETIME = Type("datetime")


def describe(kind: Type) -> str:
    """Return a type's name for messages (no Python type names)."""
    names = {
        "str": "text",
        "int": "number",
        "float": "number",
        "bool": "true/false",
        "datetime": "time",
        "none": "none",
        "list": "list",
        "any": "value",
    }
    if kind.kind == "obj":
        return kind.name or "object"
    return names.get(kind.kind, kind.kind)


def _scalar(annotation: Any) -> Type | None:
    if annotation is str:
        return STR
    if annotation is bool:
        return BOOL
    if annotation is int:
        return INT
    if annotation is float:
        return FLOAT
    if annotation is datetime:
        return DATETIME
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return Type("str", choices=tuple(str(m.value) for m in annotation))
    return None


_cache: dict[type[BaseModel], Type] = {}


def from_annotation(
    annotation: Any, extras: dict[type[BaseModel], dict[str, Attr]]
) -> Type:
    """Return the `Type` of a pydantic field annotation."""
    scalar = _scalar(annotation)
    if scalar is not None:
        return scalar
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return from_annotation(args[0], extras)
    if origin is typing.Literal:
        return Type("str", choices=tuple(str(a) for a in args))
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        base = from_annotation(inner[0], extras) if len(inner) == 1 else ANY
        return base.optional() if type(None) in args else base
    if origin in (tuple, list):
        return Type("list", item=from_annotation(args[0], extras) if args else ANY)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_type(annotation, extras)
    return ANY


def model_type(
    model: type[BaseModel], extras: dict[type[BaseModel], dict[str, Attr]]
) -> Type:
    """Return the object `Type` of a model: its fields (less evidence) plus extras."""
    if model in _cache:
        return _cache[model]
    attrs: dict[str, Attr] = {}
    result = Type(
        "obj",
        name=model.__name__.removesuffix("Signals").lower() or "object",
        attrs=attrs,
    )
    _cache[model] = result
    for name, info in model.model_fields.items():
        if name == "evidence":
            continue
        attrs[name] = Attr(
            name, from_annotation(info.annotation, extras), info.description or ""
        )
    attrs.update(extras.get(model, {}))
    return result


def _build_roots() -> dict[str, Type]:
    extras: dict[type[BaseModel], dict[str, Attr]] = {}
    post_type = model_type(Post, extras)
    post_type.attrs["handle"] = Attr(
        "handle", STR, "the author's handle, lowercase, no @"
    )
    extras[Thread] = {
        "target": Attr("target_post", post_type, "the post the bot answers"),
        "root": Attr("root", post_type, "the top of the target's chain"),
        "parent": Attr("parent", post_type.optional(), "what the target replies to"),
        "ancestors": Attr("ancestors", Type("list", item=post_type), "parent to root"),
        "depth": Attr("depth", INT, "steps from the target to the root"),
        "crowd": Attr(
            "crowd", STR, "the id of the post the target's crowd gathers around"
        ),
    }
    extras[Reply] = {
        "fingerprint": Attr(
            "fingerprint",
            STR,
            "a hash of the reply's words (no handles, case, punctuation)",
        ),
    }
    thread_type = model_type(Thread, extras)
    # `target` the field is an id; in conditions `thread.target` is the post.
    thread_type.attrs["target"] = extras[Thread]["target"]
    model_type(Metrics, extras)
    model_type(Media, extras)
    reply_type = model_type(Reply, extras)
    signals_type = model_type(Signals, extras)
    return {
        "thread": thread_type,
        "reply": reply_type,
        "signals": signals_type,
        "state": signals_type.attrs["state"].type,
    }


ROOTS: dict[str, Type] = _build_roots()
"""The types of the names every condition may read, except `policy`."""


def policy_type(
    thresholds: typing.Iterable[str], *, open_thresholds: bool = False
) -> Type:
    """
    Return the type of the `policy` name for a policy with these thresholds.

    With `open_thresholds` (a policy whose `extends` chain could not be read), any
    threshold name is accepted, so that a missing parent does not also report every
    threshold it would have defined.
    """
    strs = Type("list", item=STR)
    brand = Type(
        "obj",
        name="brand",
        attrs={k: Attr(k, strs) for k in ("handles", "names", "aliases", "products")},
    )
    threshold_type = Type(
        "obj",
        name="thresholds",
        attrs={k: Attr(k, FLOAT) for k in thresholds},
        extra=FLOAT if open_thresholds else None,
    )
    return Type(
        "obj",
        name="policy",
        attrs={
            "name": Attr("name", STR),
            "version": Attr("version", STR),
            "mode": Attr("mode", Type("str", choices=("enforce", "shadow"))),
            "thresholds": Attr("thresholds", threshold_type),
            "brand": Attr("brand", brand),
        },
    )
