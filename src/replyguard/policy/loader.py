"""
Read policy files: YAML with positions, `extends`, schema validation, merging.

Only this module touches the file system. Loading goes on past a problem wherever it
can: a rule that fails the schema does not stop the other rules (nor its own valid
parts) from being checked, and a parent that cannot be read does not stop the child.
Every problem found is raised at once, each with its file, line and column.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from replyguard.errors import (
    ConfigurationError,
    PolicyCompileError,
    PolicyError,
    PolicyProblem,
    PolicySchemaError,
    PolicySyntaxError,
)
from replyguard.policy._yaml import Located, Scalar, load_located
from replyguard.policy._yaml import Path as DataPath
from replyguard.policy.conditions import did_you_mean
from replyguard.policy.schema import (
    AuditMaskSpec,
    AuditSpec,
    BlackoutSpec,
    BrandSpec,
    EscalationsSpec,
    LexiconChangeSpec,
    LimitSpec,
    LinksSpec,
    NlpSpec,
    PolicyDocument,
    QueueSinkSpec,
    RepliesSpec,
    RouteSpec,
    RuleSpec,
    StormSpec,
    WebhookSinkSpec,
)

__all__ = [
    "PACKAGE_PREFIX",
    "LoadedItem",
    "LoadedRule",
    "MergedPolicy",
    "in_rule",
    "load_document",
    "packaged_policies",
    "packaged_policy_path",
    "policy_error",
    "render_path",
]

PACKAGE_PREFIX = "replyguard:"

_M = TypeVar("_M", bound=BaseModel)

_PARTS = ("when", "message", "template")


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
    template_column: int = 0
    message_column: int = 0
    scalars: dict[str, Scalar] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    """The text of `when`, `message` and `template`, to point inside them."""
    checks: frozenset[str] | None = None
    """For a rule that failed the schema: its parts that are still checked. It never runs."""

    def problem(
        self,
        code: str,
        message: str,
        *,
        part: str | None = None,
        offset: int = 0,
        help: str | None = None,
        mention: bool = True,
    ) -> PolicyProblem:
        """
        Return a problem in this rule, located at `part` (`when`, `message`, `template`).

        `offset` is the character of the part's text the problem is at; it picks the
        line (YAML may have folded the text), the column is where the value starts.
        Without a part, the problem points at the rule itself. The message gets
        ``in rule `r` `` (or ``in the message of rule `r` ``) unless `mention` is false.
        """
        rule_id = self.spec.id or None
        where = f"rule `{rule_id}`" if rule_id else "a rule"
        line, column = self.line, self.column
        if part is not None:
            line, column = {
                "when": (self.when_line, self.when_column),
                "message": (self.message_line, self.message_column),
                "template": (self.template_line, self.template_column),
            }[part]
            scalar = self.scalars.get(part)
            if scalar is not None:
                line = scalar.line_at(offset)
            if part != "when":
                where = f"the {part} of {where}"
        return PolicyProblem(
            code=code,
            message=in_rule(message, where) if mention else message,
            file=self.file,
            line=line,
            column=column,
            rule_id=rule_id,
            help=help,
        )


@dataclass(frozen=True)
class LoadedItem:
    """A limit or a blackout as written, with where it and each of its parts are."""

    spec: Any
    file: str
    line: int
    column: int
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[str, Scalar] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def location(self) -> str:
        """Return ``file:line:col`` of the item."""
        return f"{self.file}:{self.line}:{self.column}"

    def problem(
        self,
        code: str,
        message: str,
        *,
        part: str | None = None,
        offset: int = 0,
        help: str | None = None,
    ) -> PolicyProblem:
        """Return a problem located at `part` of this item (or at the item)."""
        line, column = self.parts.get(part or "", (self.line, self.column))
        scalar = self.scalars.get(part or "")
        if scalar is not None:
            line = scalar.line_at(offset)
        return PolicyProblem(
            code=code,
            message=message,
            file=self.file,
            line=line,
            column=column,
            rule_id=getattr(self.spec, "id", None),
            help=help,
        )


def _loaded_items(
    specs: Sequence[BaseModel], located: Located, section: str
) -> list[LoadedItem]:
    items: list[LoadedItem] = []
    for index, spec in enumerate(specs):
        path = (section, index)
        line, column = located.where(path)
        names = list(type(spec).model_fields)
        parts = {name: located.where((*path, name)) for name in names}
        # `key` may be a list: point at its first expression
        scalars = {
            name: scalar
            for name in names
            if (scalar := located.scalar((*path, name))) is not None
        }
        items.append(
            LoadedItem(
                spec=spec,
                file=located.file,
                line=line,
                column=column,
                parts=parts,
                scalars=scalars,
            )
        )
    return items


def _merge_items(
    inherited: list[LoadedItem], own: list[LoadedItem]
) -> list[LoadedItem]:
    """Return the parents' items with the child's added; a child's id overrides."""
    items = list(inherited)
    for item in own:
        position = next(
            (i for i, old in enumerate(items) if old.spec.id == item.spec.id), None
        )
        if position is None:
            items.append(item)
        else:
            items[position] = item
    return items


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
    lexicons: dict[str, tuple[LexiconChangeSpec, ...]] = field(default_factory=dict)
    nlp: str = "blank:en"
    checked: tuple[LoadedRule, ...] = ()
    """Rules that failed the schema: what can still be checked of them, never run."""
    limits: tuple[LoadedItem, ...] = ()
    blackouts: tuple[LoadedItem, ...] = ()
    storm: StormSpec = field(default_factory=StormSpec)
    escalations: EscalationsSpec = field(default_factory=EscalationsSpec)
    replies: RepliesSpec = field(default_factory=RepliesSpec)
    audit: AuditSpec = field(default_factory=AuditSpec)
    route_slas: dict[str, str] = field(default_factory=dict)
    problems: tuple[PolicyProblem, ...] = ()
    """Problems found so far (only with ``load_document(..., keep_going=True)``)."""
    complete: bool = True
    """False when part of the `extends` chain could not be read."""


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


# --- problems -----------------------------------------------------------------------

_SYNTAX_CODES = frozenset({"policy.syntax", "policy.duplicate_key"})
_SCHEMA_CODES = frozenset(
    {
        "policy.not_a_mapping",
        "policy.unknown_key",
        "policy.missing_key",
        "policy.unknown_action",
        "policy.bad_on_error",
        "policy.unsupported_version",
        "policy.bad_value",
    }
)
_LOAD_CODES = frozenset(
    {
        "policy.not_found",
        "policy.unreadable",
        "policy.unknown_package",
        "policy.extends_not_found",
        "policy.extends_cycle",
        "policy.duplicate_rule",
        "policy.unknown_rule",
    }
)


def policy_error(problems: Iterable[PolicyProblem]) -> PolicyError:
    """
    Return the error that carries `problems`, problems of every stage at once.

    Its class names the earliest stage with a problem: `PolicySyntaxError`, then
    `PolicySchemaError`, then `PolicyError` (files, `extends`, `disable`, rule ids),
    then `PolicyCompileError` (conditions and templates).
    """
    problems = list(problems)
    codes = {p.code for p in problems}
    if codes & _SYNTAX_CODES:
        return PolicySyntaxError(problems)
    if codes & _SCHEMA_CODES:
        return PolicySchemaError(problems)
    if codes & _LOAD_CODES:
        return PolicyError(problems)
    return PolicyCompileError(problems)


def in_rule(message: str, where: str) -> str:
    """
    Return `message` saying where it is (``in rule `r` ``), after its subject.

    The place goes before the first ``; `` or ``: `` outside backticks, so that
    ``unknown name `x`; conditions read ...`` becomes ``unknown name `x` in rule `r`;
    conditions read ...``; a message without such a clause gets it at the end.
    """
    quoted = False
    for index, char in enumerate(message):
        if char == "`":
            quoted = not quoted
        elif not quoted and message.startswith(("; ", ": "), index):
            return f"{message[:index]} in {where}{message[index:]}"
    return f"{message} in {where}"


def render_path(loc: Sequence[object]) -> str:
    """Return a path into the document as messages write it: ``rules[0].id``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "policy"


def _lexicon_problems(
    document: PolicyDocument, located: Located
) -> list[PolicyProblem]:
    """Return the problems of a document's `lexicons:` section, located."""
    if not document.lexicons:
        return []
    from replyguard.analysis.lexicons import (  # noqa: PLC0415 - only when used
        LexiconChange,
        packaged_lexicons,
    )
    from replyguard.errors import ConfigurationError  # noqa: PLC0415

    known = packaged_lexicons().names
    found = []
    for name, spec in document.lexicons.items():
        if name not in known:
            found.append(
                _problem(
                    located,
                    ("lexicons", name, "__key__"),
                    "policy.unknown_lexicon",
                    f"`lexicons` names `{name}`, which is not a lexicon",
                    help=did_you_mean(name, known) or f"known: {', '.join(known)}",
                )
            )
            continue
        try:
            LexiconChange.parse(
                f"lexicons.{name}", spec.model_dump(exclude_defaults=True)
            )
        except ConfigurationError as exc:
            found.append(
                _problem(located, ("lexicons", name), "policy.bad_lexicon", str(exc))
            )
    return found


def _problem(
    located: Located,
    path: DataPath,
    code: str,
    message: str,
    *,
    rule_id: str | None = None,
    help: str | None = None,
) -> PolicyProblem:
    """Return a problem at `path` in the document (``(*path, "__key__")``: its key)."""
    line, column = located.where(path)
    return PolicyProblem(
        code=code,
        message=message,
        file=located.file,
        line=line,
        column=column,
        rule_id=rule_id,
        help=help,
    )


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    if loc[:1] == ("rules",):
        return RuleSpec
    if loc[:1] == ("brand",):
        return BrandSpec
    if loc[:1] == ("nlp",):
        return NlpSpec
    if loc[:1] == ("limits",) and len(loc) >= 2:
        return LimitSpec
    if loc[:1] == ("blackouts",) and len(loc) >= 2:
        return BlackoutSpec
    if loc[:1] == ("storm",):
        return StormSpec
    if loc[:2] == ("escalations", "sinks") and len(loc) >= 4:
        return WebhookSinkSpec if loc[3:4] == ("webhook",) else QueueSinkSpec
    if loc[:1] == ("escalations",):
        return EscalationsSpec
    if loc[:1] == ("audit",):
        return AuditMaskSpec if loc[1:2] == ("mask",) else AuditSpec
    if loc[:1] == ("replies",):
        return LinksSpec if loc[1:2] == ("links",) else RepliesSpec
    if loc[:1] == ("routes",) and len(loc) >= 3:
        return RouteSpec
    if loc[:1] == ("lexicons",) and len(loc) >= 3:
        return LexiconChangeSpec
    return PolicyDocument


def _rule_id_at(loc: tuple[Any, ...], data: dict[str, Any]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules")
        if (
            isinstance(rules, list)
            and loc[1] < len(rules)
            and isinstance(rules[loc[1]], dict)
        ):
            rule_id = rules[loc[1]].get("id")
            return str(rule_id) if rule_id is not None else None
    return None


def _schema_problems(
    errors: Iterable[dict[str, Any]], located: Located
) -> list[PolicyProblem]:
    problems = []
    data = located.data if isinstance(located.data, dict) else {}
    for error in errors:
        loc = tuple(error["loc"])
        kind = error["type"]
        rule_id = _rule_id_at(loc, data)
        where = f"rule `{rule_id}`" if rule_id else None
        value = error.get("input")
        help_text = None
        path = loc
        if kind == "extra_forbidden":
            key = str(loc[-1])
            path = (*loc, "__key__")
            allowed = list(_model_at(loc).model_fields)
            help_text = did_you_mean(key, allowed) or (
                "known keys: " + ", ".join(f"`{k}`" for k in allowed)
            )
            code, message = "policy.unknown_key", f"unknown key `{key}`"
        elif kind == "missing":
            code, message = "policy.missing_key", f"missing required key `{loc[-1]}`"
        elif kind == "literal_error" and loc[-1] == "action":
            code = "policy.unknown_action"
            message = (
                f"`{value}` is not an action; use allow, rewrite, escalate or suppress"
            )
            help_text = did_you_mean(
                str(value), ["allow", "rewrite", "escalate", "suppress"]
            )
        elif kind == "literal_error" and loc == ("on_error",):
            code = "policy.bad_on_error"
            message = f"`on_error: {value}` is not allowed; use escalate or suppress"
            if value == "allow":
                help_text = "a failed review must never let a reply out silently"
        elif kind == "literal_error" and loc == ("replyguard",):
            code = "policy.unsupported_version"
            message = f"unsupported policy format `replyguard: {value}`"
            help_text = "this version of replyguard reads format 1"
        else:
            code = "policy.bad_value"
            reason = str(error["msg"])
            for prefix in ("Value error, ", "Assertion failed, "):
                reason = reason.removeprefix(prefix)
            reason = reason[:1].lower() + reason[1:]
            message = f"`{render_path(loc)}`: {reason}"
        if where is not None:
            message = in_rule(message, where)
        problems.append(
            _problem(located, path, code, message, rule_id=rule_id, help=help_text)
        )
    return problems


# --- reading and validating one file ------------------------------------------------


@dataclass
class _Broken:
    """A rule that failed the schema, and the parts of it that can still be checked."""

    index: int
    data: dict[str, Any]
    checks: frozenset[str]


@dataclass
class _Parsed:
    located: Located
    source: str
    path: Path | None = None
    document: PolicyDocument | None = None
    """None when the file has nothing to build on: bad YAML, or not a mapping."""
    rules: list[tuple[int, RuleSpec]] = field(default_factory=list)
    """The valid rules, with their position in the file's `rules`."""
    broken: list[_Broken] = field(default_factory=list)
    problems: list[PolicyProblem] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)
    """Top-level keys left out because their values are invalid."""


def _read(
    ref: str | Path, base: Path | None, *, origin: PolicyProblem | None
) -> tuple[Path, str, str]:
    """
    Return (path, display name, text) of a policy reference.

    `origin` is where the reference was written (an `extends` entry); without one,
    the reference was given directly and the problem names it as its file.
    """
    if isinstance(ref, str) and ref.startswith(PACKAGE_PREFIX):
        try:
            path = packaged_policy_path(ref)
        except ConfigurationError as exc:
            if origin is not None:
                problem = _at(origin, "policy.extends_not_found", str(exc))
            else:
                problem = _unknown_package(ref)
            raise PolicyError([problem]) from None
    else:
        path = Path(ref)
        if base is not None and not path.is_absolute():
            path = base / path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if origin is None:
            problem = PolicyProblem(
                code="policy.not_found",
                message=f"policy file not found: `{ref}`",
                file=str(ref),
            )
        else:
            problem = _at(origin, "policy.not_found", f"no policy file `{ref}`")
        raise PolicyError([problem]) from None
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read `{ref}`: {exc}"
        problem = (
            PolicyProblem(code="policy.unreadable", message=message, file=str(ref))
            if origin is None
            else _at(origin, "policy.unreadable", message)
        )
        raise PolicyError([problem]) from None
    return path, _display(path), text


def _unknown_package(ref: str) -> PolicyProblem:
    names = packaged_policies()
    hint = did_you_mean(ref.removeprefix(PACKAGE_PREFIX), names)
    return PolicyProblem(
        code="policy.unknown_package",
        message=f"unknown packaged policy `{ref}` (available: "
        + ", ".join(f"`{PACKAGE_PREFIX}{n}`" for n in names)
        + ")",
        file=ref,
        help=hint.replace("`", f"`{PACKAGE_PREFIX}", 1) if hint else None,
    )


def _at(origin: PolicyProblem, code: str, message: str) -> PolicyProblem:
    return PolicyProblem(
        code=code,
        message=message,
        file=origin.file,
        line=origin.line,
        column=origin.column,
    )


def _parse(text: str, file: str) -> _Parsed:
    located = load_located(text, file)
    parsed = _Parsed(located, text, problems=list(located.problems))
    if located.data is None and located.problems:
        return parsed  # the YAML does not parse: nothing to build on
    if not isinstance(located.data, dict):
        parsed.problems.append(
            _problem(
                located,
                (),
                "policy.not_a_mapping",
                "a policy must be a mapping with keys such as `replyguard`, `name` "
                "and `rules`",
            )
        )
        return parsed
    data: dict[str, Any] = located.data
    errors: list[dict[str, Any]] = []
    top = data
    raw_rules = data.get("rules")
    if isinstance(raw_rules, list):
        # each rule on its own, so that a bad rule does not hide the others
        top = {k: v for k, v in data.items() if k != "rules"}
        for index, item in enumerate(raw_rules):
            try:
                parsed.rules.append((index, RuleSpec.model_validate(item)))
            except ValidationError as exc:
                rule_errors = [
                    {**e, "loc": ("rules", index, *e["loc"])}
                    for e in exc.errors(include_url=False)
                ]
                errors.extend(rule_errors)
                if isinstance(item, dict):
                    checks = _still_checked(item, rule_errors)
                    parsed.broken.append(_Broken(index, item, checks))
    document, top_errors, parsed.dropped = _validate_top(top)
    errors = [*top_errors, *errors]
    parsed.problems.extend(_schema_problems(errors, located))
    if document is not None:
        document = document.model_copy(
            update={"rules": [spec for _, spec in parsed.rules]}
        )
    parsed.document = document
    return parsed


def _validate_top(
    data: dict[str, Any],
) -> tuple[PolicyDocument | None, list[dict[str, Any]], set[str]]:
    """Validate the document; when it fails, leave out what is wrong and try again."""
    try:
        return PolicyDocument.model_validate(data), [], set()
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [dict(e) for e in exc.errors(include_url=False)]
    fixed = dict(data)
    dropped: set[str] = set()
    for error in errors:
        loc: tuple[Any, ...] = tuple(error["loc"])
        if not loc:  # pragma: no cover - a mapping is always a document to pydantic
            return None, errors, dropped
        key = loc[0]
        entries = fixed.get(key)
        if key == "replyguard":
            fixed[key] = 1
        elif key == "name":
            fixed[key] = "?"
        elif len(loc) >= 2 and isinstance(entries, dict):
            entries = dict(entries)
            if key == "thresholds" and len(loc) == 2:
                entries[loc[1]] = 0.0  # keep the name: conditions may read it
            else:
                entries.pop(loc[1], None)
            fixed[key] = entries
        else:
            fixed.pop(key, None)
            dropped.add(str(key))
    try:
        return PolicyDocument.model_validate(fixed), errors, dropped
    except ValidationError:  # pragma: no cover - everything wrong was left out
        return None, errors, dropped


def _still_checked(
    item: dict[str, Any], errors: list[dict[str, Any]]
) -> frozenset[str]:
    bad = {e["loc"][2] for e in errors if len(e["loc"]) >= 3}
    parts = {
        part
        for part in _PARTS
        if part in item
        and part not in bad
        and isinstance(item[part], (str, bool) if part == "when" else str)
    }
    if item.get("action") == "allow" and isinstance(item.get("route"), str):
        parts.add("route")
    return frozenset(parts)


def load_document(
    source: str | Path | None = None,
    *,
    text: str | None = None,
    file: str = "<string>",
    keep_going: bool = False,
) -> MergedPolicy:
    """
    Read a policy (a path, ``replyguard:NAME``, or `text`) and merge its `extends`.

    With `keep_going`, a policy with problems is still returned, as far as it could
    be read, with the problems on `MergedPolicy.problems`, so that the caller can
    check its conditions too and report everything at once (as `Policy` does). It
    still raises when the file has nothing to build on.

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
        base = path.parent
    if parsed.document is None:
        raise policy_error(parsed.problems)
    merged = _merge(parsed, base, stack=())
    if merged.problems and not keep_going:
        raise policy_error(merged.problems)
    return merged


# --- merging along `extends` --------------------------------------------------------


def _nothing(parsed: _Parsed, problems: list[PolicyProblem]) -> MergedPolicy:
    """Return what a file that cannot be read contributes: its problems."""
    return MergedPolicy(
        document=PolicyDocument.model_construct(replyguard=1, name="?"),
        rules=(),
        files=(parsed.located.file,),
        sources=(parsed.source,),
        brand=BrandSpec(),
        thresholds={},
        on_error="escalate",
        mode="enforce",
        routes={},
        problems=tuple(problems),
        complete=False,
    )


def _loaded_rule(
    spec: RuleSpec,
    located: Located,
    index: int,
    checks: frozenset[str] | None = None,
) -> LoadedRule:
    path = ("rules", index)
    line, column = located.where(path)
    where = {part: located.where((*path, part)) for part in _PARTS}
    scalars = {
        part: scalar
        for part in _PARTS
        if (scalar := located.scalar((*path, part))) is not None
    }
    return LoadedRule(
        spec=spec,
        file=located.file,
        line=line,
        column=column,
        when_line=where["when"][0],
        when_column=where["when"][1],
        template_line=where["template"][0],
        message_line=where["message"][0],
        template_column=where["template"][1],
        message_column=where["message"][1],
        scalars=scalars,
        checks=checks,
    )


def _broken_rule(broken: _Broken, located: Located) -> LoadedRule:
    """Return a rule that failed the schema as a `LoadedRule` to check, never to run."""
    data = broken.data
    fields: dict[str, Any] = {"id": str(data.get("id") or "")}
    fields.update({part: data[part] for part in broken.checks if part in _PARTS})
    if "route" in broken.checks:
        fields.update(action="allow", route=data["route"])
    spec = RuleSpec.model_construct(**fields)
    return _loaded_rule(spec, located, broken.index, broken.checks)


def _merge(parsed: _Parsed, base: Path, *, stack: tuple[str, ...]) -> MergedPolicy:
    key = str(parsed.path.resolve()) if parsed.path else parsed.located.file
    stack = (*stack, key)
    problems: list[PolicyProblem] = list(parsed.problems)
    document, located = parsed.document, parsed.located
    if document is None:
        return _nothing(parsed, problems)
    complete = "extends" not in parsed.dropped
    parents: list[MergedPolicy] = []
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
        except PolicyError as exc:
            problems.extend(exc.problems)
            complete = False
            continue
        resolved = str(path.resolve())
        if resolved in stack:
            chain = " -> ".join([*(Path(s).name for s in stack), Path(resolved).name])
            problems.append(
                _at(
                    origin,
                    "policy.extends_cycle",
                    f"`extends: {ref}` makes a cycle: {chain}",
                )
            )
            complete = False
            continue
        child = _parse(body, display)
        child.path = path
        parent = _merge(child, path.parent, stack=stack)
        problems.extend(parent.problems)
        complete = complete and parent.complete
        parents.append(parent)

    rules: list[LoadedRule] = []
    checked: list[LoadedRule] = []
    brand = BrandSpec()
    thresholds: dict[str, float] = {}
    routes: dict[str, str] = {}
    on_error, mode = "escalate", "enforce"
    lexicons: dict[str, tuple[LexiconChangeSpec, ...]] = {}
    nlp = "blank:en"
    limits: list[LoadedItem] = []
    blackouts: list[LoadedItem] = []
    storm, escalations = StormSpec(), EscalationsSpec()
    replies = RepliesSpec()
    audit = AuditSpec()
    route_slas: dict[str, str] = {}
    files: list[str] = []
    sources: list[str] = []
    for parent in parents:
        for rule in parent.rules:
            rules = [r for r in rules if r.spec.id != rule.spec.id]
            rules.append(rule)
        checked.extend(parent.checked)
        brand = _merge_brand(brand, parent.brand)
        thresholds.update(parent.thresholds)
        routes.update(parent.routes)
        on_error, mode = parent.on_error, parent.mode
        for name, changes in parent.lexicons.items():
            lexicons[name] = (*lexicons.get(name, ()), *changes)
        nlp = parent.nlp
        limits = _merge_items(limits, list(parent.limits))
        blackouts = _merge_items(blackouts, list(parent.blackouts))
        storm, escalations = parent.storm, parent.escalations
        replies = parent.replies
        audit = parent.audit
        route_slas.update(parent.route_slas)
        files.extend(f for f in parent.files if f not in files)
        sources.extend(parent.sources)

    own_ids: dict[str, int] = {}
    for index, spec in parsed.rules:
        line, _ = located.where(("rules", index))
        if spec.id in own_ids:
            problems.append(
                _problem(
                    located,
                    ("rules", index),
                    "policy.duplicate_rule",
                    f"rule id `{spec.id}` is used twice in this file",
                    rule_id=spec.id,
                    help=f"the first is at line {own_ids[spec.id]}",
                )
            )
            continue
        own_ids[spec.id] = line
        loaded = _loaded_rule(spec, located, index)
        position = next((i for i, r in enumerate(rules) if r.spec.id == spec.id), None)
        if position is None:
            rules.append(loaded)
        else:
            rules[position] = loaded  # a child rule with a parent's id overrides it
    checked.extend(_broken_rule(broken, located) for broken in parsed.broken)
    limits = _merge_items(limits, _loaded_items(document.limits, located, "limits"))
    blackouts = _merge_items(
        blackouts, _loaded_items(document.blackouts, located, "blackouts")
    )
    problems.extend(_duplicate_ids(document, located))
    ids = [
        *(r.spec.id for r in (*rules, *checked)),
        *(item.spec.id for item in (*limits, *blackouts)),
    ]
    for index, rule_id in enumerate(document.disable):
        # with a parent missing, the rule may well be there: say nothing
        if rule_id not in ids and complete:
            problems.append(
                _problem(
                    located,
                    ("disable", index),
                    "policy.unknown_rule",
                    f"`disable` names rule `{rule_id}`, which no policy in the chain "
                    "defines",
                    help=did_you_mean(rule_id, ids),
                )
            )
    disabled = set(document.disable)
    rules = [r for r in rules if r.spec.id not in disabled]
    limits = [item for item in limits if item.spec.id not in disabled]
    blackouts = [item for item in blackouts if item.spec.id not in disabled]
    # a child sets the fields it names; the others stay as inherited
    if document.storm is not None:
        storm = _merge_fields(storm, document.storm)
    if document.escalations is not None:
        inherited_sla = escalations.sla
        escalations = _merge_fields(escalations, document.escalations)
        if "sla" in document.escalations.model_fields_set:
            # one priority set here keeps the others inherited (or the defaults)
            escalations = escalations.model_copy(
                update={"sla": {**inherited_sla, **document.escalations.sla}}
            )
    if document.replies is not None:
        own = document.replies
        inherited = replies
        replies = _merge_fields(inherited, own)
        if own.links is not None and inherited.links is not None:
            links = _merge_fields(inherited.links, own.links)
            replies = replies.model_copy(update={"links": links})
    if document.audit is not None:
        own_audit = document.audit
        inherited_mask = audit.mask
        audit = _merge_fields(audit, own_audit)
        if "mask" in own_audit.model_fields_set:
            audit = audit.model_copy(
                update={"mask": _merge_fields(inherited_mask, own_audit.mask)}
            )
    if document.brand is not None:
        brand = _merge_brand(brand, document.brand)
    thresholds.update(document.thresholds)
    for route, setting in document.routes.items():
        if isinstance(setting, RouteSpec):
            routes[route] = setting.priority
            if setting.sla is not None:
                route_slas[route] = setting.sla
        else:
            routes[route] = setting
    on_error = document.on_error or on_error
    mode = document.mode or mode
    problems.extend(_lexicon_problems(document, located))
    for name, change in document.lexicons.items():
        lexicons[name] = (*lexicons.get(name, ()), change)
    if document.nlp is not None:
        nlp = document.nlp.model
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
        lexicons=lexicons,
        nlp=nlp,
        checked=tuple(checked),
        limits=tuple(limits),
        blackouts=tuple(blackouts),
        storm=storm,
        escalations=escalations,
        replies=replies,
        audit=audit,
        route_slas=route_slas,
        problems=tuple(problems),
        complete=complete,
    )


def _duplicate_ids(document: PolicyDocument, located: Located) -> list[PolicyProblem]:
    """Return a problem for every id used twice among this file's rules, limits, blackouts."""
    problems: list[PolicyProblem] = []
    seen: dict[str, str] = {spec.id: "rule" for spec in document.rules if spec.id}
    sections: tuple[tuple[str, Sequence[LimitSpec | BlackoutSpec]], ...] = (
        ("limits", document.limits),
        ("blackouts", document.blackouts),
    )
    for section, specs in sections:
        for index, spec in enumerate(specs):
            if spec.id in seen:
                problems.append(
                    _problem(
                        located,
                        (section, index),
                        "policy.duplicate_id",
                        f"id `{spec.id}` is already used by a {seen[spec.id]} in this "
                        "file; rules, limits and blackouts share one set of ids",
                        rule_id=spec.id,
                    )
                )
            seen.setdefault(spec.id, section.rstrip("s"))
    return problems


def _merge_fields(base: _M, override: _M) -> _M:
    """Return `base` with the fields `override` was given."""
    return base.model_copy(
        update={name: getattr(override, name) for name in override.model_fields_set}
    )


def _merge_brand(base: BrandSpec, override: BrandSpec) -> BrandSpec:
    fields = override.model_fields_set
    return BrandSpec(
        **{
            name: getattr(override, name) if name in fields else getattr(base, name)
            for name in BrandSpec.model_fields
        }
    )
