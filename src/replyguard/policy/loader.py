"""
Read policy files: YAML with positions, `extends`, schema validation, merging.

Only this module touches the file system. Every problem found is collected and raised
at once, each with its file, line and column.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from replyguard.errors import (
    ConfigurationError,
    PolicyError,
    PolicyProblem,
    PolicySchemaError,
    PolicySyntaxError,
)
from replyguard.policy._yaml import Located, load_located
from replyguard.policy.conditions import did_you_mean
from replyguard.policy.schema import BrandSpec, PolicyDocument, RuleSpec

__all__ = [
    "PACKAGE_PREFIX",
    "LoadedRule",
    "MergedPolicy",
    "load_document",
    "packaged_policies",
    "packaged_policy_path",
]

PACKAGE_PREFIX = "replyguard:"


@dataclass(frozen=True)
class LoadedRule:
    """A rule as written, with where it was written."""

    spec: RuleSpec
    file: str
    line: int
    column: int
    when_line: int
    when_column: int
    template_line: int
    message_line: int


@dataclass(frozen=True)
class MergedPolicy:
    """A policy document with its `extends` chain merged in, ready to compile."""

    document: PolicyDocument
    rules: tuple[LoadedRule, ...]
    files: tuple[str, ...]
    sources: tuple[str, ...]
    brand: BrandSpec
    thresholds: dict[str, float]
    on_error: str
    mode: str
    routes: dict[str, str]


def _policies_dir() -> Path:
    return Path(str(importlib.resources.files("replyguard") / "_data" / "policies"))


def packaged_policies() -> list[str]:
    """Return the names of the policies shipped with replyguard, sorted."""
    folder = _policies_dir()
    return sorted(p.stem for p in folder.glob("*.yaml"))


def packaged_policy_path(name: str) -> Path:
    """
    Return the file of a packaged policy, by name (``default`` or ``replyguard:default``).

    Raises:
        ConfigurationError: no policy of that name ships with replyguard.
    """
    name = name.removeprefix(PACKAGE_PREFIX)
    path = _policies_dir() / f"{name}.yaml"
    if not path.is_file():
        available = ", ".join(f"`{PACKAGE_PREFIX}{n}`" for n in packaged_policies())
        raise ConfigurationError(
            f"no packaged policy `{PACKAGE_PREFIX}{name}`; available: {available}"
        )
    return path


def _display(path: Path) -> str:
    try:
        packaged = _policies_dir().resolve()
        if path.resolve().is_relative_to(packaged):
            return PACKAGE_PREFIX + path.stem
    except OSError:  # pragma: no cover - resolve() of a vanished file
        pass
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


_MODELS: dict[str, type[BaseModel]] = {"rules": RuleSpec, "brand": BrandSpec}


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    if len(loc) >= 1 and loc[0] in _MODELS:
        return _MODELS[loc[0]]
    return PolicyDocument


def _schema_problems(exc: ValidationError, located: Located) -> list[PolicyProblem]:
    problems = []
    data = located.data if isinstance(located.data, dict) else {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        rule_id = None
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rules = data.get("rules")
            if (
                isinstance(rules, list)
                and loc[1] < len(rules)
                and isinstance(rules[loc[1]], dict)
            ):
                rid = rules[loc[1]].get("id")
                rule_id = str(rid) if rid is not None else None
        in_rule = f" in rule `{rule_id}`" if rule_id else ""
        field = ".".join(str(p) for p in loc) or "policy"
        help_text = None
        if kind == "extra_forbidden":
            key = str(loc[-1])
            line, column = located.where((*loc, "__key__"))
            allowed = list(_model_at(loc).model_fields)
            if loc[:1] == ("brand",):
                allowed = list(BrandSpec.model_fields)
            help_text = did_you_mean(key, allowed) or (
                "known keys: " + ", ".join(f"`{k}`" for k in allowed)
            )
            code, message = "policy.unknown_key", f"unknown key `{key}`{in_rule}"
        else:
            line, column = located.where(loc)
            if kind == "missing":
                code = "policy.missing_key"
                message = f"missing required key `{loc[-1]}`{in_rule}"
            elif kind == "literal_error" and loc[-1] == "action":
                value = error.get("input")
                code = "policy.unknown_action"
                message = (
                    f"`{value}` is not an action{in_rule}; "
                    "use allow, rewrite, escalate or suppress"
                )
                help_text = did_you_mean(
                    str(value), ["allow", "rewrite", "escalate", "suppress"]
                )
            elif kind == "literal_error" and loc[-1] == "on_error":
                value = error.get("input")
                code = "policy.bad_on_error"
                message = (
                    f"`on_error: {value}` is not allowed; use escalate or suppress"
                )
                if value == "allow":
                    help_text = "a failed review must never let a reply out silently"
            elif kind == "literal_error" and loc[-1] == "replyguard":
                code = "policy.unsupported_version"
                message = (
                    f"unsupported policy format `replyguard: {error.get('input')}`"
                )
                help_text = "this version of replyguard reads format 1"
            else:
                code = "policy.bad_value"
                reason = str(error["msg"])
                for prefix in ("Value error, ", "Assertion failed, "):
                    reason = reason.removeprefix(prefix)
                reason = reason[:1].lower() + reason[1:]
                message = f"`{field}`{in_rule}: {reason}"
        problems.append(
            PolicyProblem(
                code=code,
                message=message,
                file=located.file,
                line=line,
                column=column,
                rule_id=rule_id,
                help=help_text,
            )
        )
    return problems


@dataclass
class _Parsed:
    document: PolicyDocument
    located: Located
    path: Path | None
    source: str


def _read(
    ref: str | Path, base: Path | None, *, origin: PolicyProblem | None
) -> tuple[Path | None, str, str]:
    """Return (path, display name, text) of a policy reference."""
    if isinstance(ref, str) and ref.startswith(PACKAGE_PREFIX):
        try:
            path = packaged_policy_path(ref)
        except ConfigurationError as exc:
            raise PolicyError(
                [_at(origin, "policy.extends_not_found", str(exc))]
            ) from None
    else:
        path = Path(ref)
        if base is not None and not path.is_absolute():
            path = base / path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            [_at(origin, "policy.not_found", f"no policy file `{ref}`")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            [_at(origin, "policy.unreadable", f"cannot read `{ref}`: {exc}")]
        ) from None
    return path, _display(path), text


def _at(origin: PolicyProblem | None, code: str, message: str) -> PolicyProblem:
    if origin is None:
        return PolicyProblem(code=code, message=message)
    return PolicyProblem(
        code=code,
        message=message,
        file=origin.file,
        line=origin.line,
        column=origin.column,
    )


def _parse(text: str, file: str) -> _Parsed:
    located = load_located(text, file)
    if located.problems and located.data is None:
        raise PolicySyntaxError(located.problems)
    problems = list(located.problems)
    if not isinstance(located.data, dict):
        problems.append(
            PolicyProblem(
                code="policy.not_a_mapping",
                message="a policy must be a mapping with keys such as `replyguard`, `name` and `rules`",
                file=file,
                line=1,
                column=1,
            )
        )
        raise PolicySchemaError(problems)
    try:
        document = PolicyDocument.model_validate(located.data)
    except ValidationError as exc:
        raise PolicySchemaError([*problems, *_schema_problems(exc, located)]) from None
    if problems:
        raise PolicySyntaxError(problems)
    return _Parsed(document, located, None, text)


def load_document(
    source: str | Path | None = None,
    *,
    text: str | None = None,
    file: str = "<string>",
) -> MergedPolicy:
    """
    Read a policy (a path, ``replyguard:NAME``, or `text`) and merge its `extends`.

    Raises:
        PolicyError: with every problem found, located.
    """
    if text is not None:
        parsed = _parse(text, file)
        base = Path.cwd()
    else:
        if source is None:
            raise ValueError("give a source or text")
        path, display, body = _read(source, None, origin=None)
        parsed = _parse(body, display)
        parsed.path = path
        base = path.parent if path is not None else Path.cwd()
    return _merge(parsed, base, stack=())


def _merge(parsed: _Parsed, base: Path, *, stack: tuple[str, ...]) -> MergedPolicy:
    key = str(parsed.path.resolve()) if parsed.path else parsed.located.file
    stack = (*stack, key)
    problems: list[PolicyProblem] = []
    parents: list[MergedPolicy] = []
    document, located = parsed.document, parsed.located
    for index, ref in enumerate(document.extends):
        line, column = located.where(
            ("extends", index)
            if isinstance(located.data.get("extends"), list)
            else ("extends",)
        )
        origin = PolicyProblem(
            code="", message="", file=located.file, line=line, column=column
        )
        try:
            path, display, body = _read(ref, base, origin=origin)
            resolved = str(path.resolve()) if path else display
            if resolved in stack:
                chain = " -> ".join(
                    [*(Path(s).name for s in stack), Path(resolved).name]
                )
                problems.append(
                    _at(
                        origin,
                        "policy.extends_cycle",
                        f"`extends: {ref}` makes a cycle: {chain}",
                    )
                )
                continue
            child = _parse(body, display)
            child.path = path
            parents.append(_merge(child, path.parent if path else base, stack=stack))
        except PolicyError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyError(problems)

    rules: list[LoadedRule] = []
    brand = BrandSpec()
    thresholds: dict[str, float] = {}
    routes: dict[str, str] = {}
    on_error, mode = "escalate", "enforce"
    files: list[str] = []
    sources: list[str] = []
    for parent in parents:
        for rule in parent.rules:
            rules = [r for r in rules if r.spec.id != rule.spec.id]
            rules.append(rule)
        brand = _merge_brand(brand, parent.brand)
        thresholds.update(parent.thresholds)
        routes.update(parent.routes)
        on_error, mode = parent.on_error, parent.mode
        files.extend(f for f in parent.files if f not in files)
        sources.extend(parent.sources)

    own_ids: dict[str, int] = {}
    for index, spec in enumerate(document.rules):
        line, column = located.where(("rules", index))
        if spec.id in own_ids:
            problems.append(
                PolicyProblem(
                    code="policy.duplicate_rule",
                    message=f"rule id `{spec.id}` is used twice in this file",
                    file=located.file,
                    line=line,
                    column=column,
                    rule_id=spec.id,
                    help=f"the first is at line {own_ids[spec.id]}",
                )
            )
            continue
        own_ids[spec.id] = line
        when_line, when_column = located.where(("rules", index, "when"))
        loaded = LoadedRule(
            spec=spec,
            file=located.file,
            line=line,
            column=column,
            when_line=when_line,
            when_column=when_column,
            template_line=located.where(("rules", index, "template"))[0],
            message_line=located.where(("rules", index, "message"))[0],
        )
        position = next((i for i, r in enumerate(rules) if r.spec.id == spec.id), None)
        if position is None:
            rules.append(loaded)
        else:
            rules[position] = loaded  # a child rule with a parent's id overrides it
    for index, rule_id in enumerate(document.disable):
        ids = [r.spec.id for r in rules]
        if rule_id not in ids:
            line, column = located.where(("disable", index))
            problems.append(
                PolicyProblem(
                    code="policy.unknown_rule",
                    message=f"`disable` names rule `{rule_id}`, which no policy in the chain defines",
                    file=located.file,
                    line=line,
                    column=column,
                    help=did_you_mean(rule_id, ids),
                )
            )
    if problems:
        raise PolicyError(problems)
    disabled = set(document.disable)
    rules = [r for r in rules if r.spec.id not in disabled]
    if document.brand is not None:
        brand = _merge_brand(brand, document.brand)
    thresholds.update(document.thresholds)
    routes.update(document.routes)
    on_error = document.on_error or on_error
    mode = document.mode or mode
    files.append(located.file)
    sources.append(parsed.source)
    return MergedPolicy(
        document=document,
        rules=tuple(rules),
        files=tuple(files),
        sources=tuple(sources),
        brand=brand,
        thresholds=thresholds,
        on_error=on_error,
        mode=mode,
        routes=routes,
    )


def _merge_brand(base: BrandSpec, override: BrandSpec) -> BrandSpec:
    fields = override.model_fields_set
    return BrandSpec(
        **{
            name: getattr(override, name) if name in fields else getattr(base, name)
            for name in BrandSpec.model_fields
        }
    )
