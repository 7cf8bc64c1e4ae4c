"""
Policy case files: what a policy must decide, written beside it and run like tests.

A case file is YAML (conventionally ``*.cases.yaml`` in ``policies/cases/<policy>/``)::

    policy: ../../default.yaml          # optional: see `CaseFile.policy_source`
    cases:
      - name: a plain retweet of a protest is not answered
        thread: {brand_handles: ["@Acme"], posts: [...]}   # or a path: threads/x.json
        reply: "We're here to help!"
        at: 2013-07-08T14:05:00Z        # optional: the guard's clock
        before:                         # optional: reviews recorded first, same store
          - {thread: ..., reply: ..., at: ...}
        paused: a crisis                # optional: `guard.pause(...)` first
        expect:
          action: suppress
          rules: [no-reply-to-retweets]       # must be among the decision's rules
          not_rules: [mockery-goes-to-a-person]
          text: null                           # what to send (allow, rewrite)
          route: pr                            # the escalation's route
          priority: high

`run_cases` runs them (`guard.explain` for each case: nothing is recorded but
`before`), `CaseResult.failures` says what differs, and `Coverage` collects which
rules fired and which top-level conditions were never true or never false.
``replyguard test`` and the pytest plugin are built on these.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from replyguard.errors import InvalidInput

if TYPE_CHECKING:
    from replyguard.models import Decision, TraceEvent
    from replyguard.policy.compiled import Policy

__all__ = [
    "CASE_FILE_SUFFIX",
    "Case",
    "CaseFile",
    "CaseResult",
    "Coverage",
    "Expect",
    "find_case_files",
    "junit_xml",
    "load_case_file",
    "run_case",
    "run_cases",
]

CASE_FILE_SUFFIX = ".cases.yaml"
"""Case files end with this (``incidents.cases.yaml``)."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Expect(BaseModel):
    """What a case's decision must be; every field left out is not checked."""

    model_config = _STRICT

    action: Literal["allow", "rewrite", "escalate", "suppress"]
    rules: list[str] = Field(default_factory=list)
    not_rules: list[str] = Field(default_factory=list)
    text: str | None = None
    route: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    update: bool | None = None


class Earlier(BaseModel):
    """A review recorded before the case, in the same store."""

    model_config = _STRICT

    thread: dict[str, Any] | str
    reply: str | dict[str, Any]
    at: datetime | None = None


class Case(BaseModel):
    """One case: a thread, a reply and what the policy must decide."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    description: str | None = None
    thread: dict[str, Any] | str
    reply: str | dict[str, Any]
    at: datetime | None = None
    before: list[Earlier] = Field(default_factory=list)
    paused: str | None = None
    expect: Expect
    file: str = ""
    line: int = 0


class _CaseFileSpec(BaseModel):
    model_config = _STRICT

    policy: str | None = None
    description: str | None = None
    cases: list[dict[str, Any]] = Field(min_length=1)


@dataclass
class CaseFile:
    """A loaded case file: its cases, and where their policy comes from."""

    path: Path
    cases: list[Case]
    policy_source: str
    """A policy path or ``replyguard:NAME``: the file's ``policy:``, else the policy the
    folder is named after (``policies/cases/default/`` -> ``policies/default.yaml``)."""


def load_case_file(path: str | Path) -> CaseFile:
    """
    Read and check a case file; thread files it names are read too.

    Raises:
        InvalidInput: the file is malformed; every problem is named with file:line.
    """
    from replyguard._inputs import thread_from  # noqa: PLC0415 - models are cheap, but lazily
    from replyguard.policy._yaml import load_located  # noqa: PLC0415

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read: {exc.strerror or exc}") from None
    located = load_located(text, str(file))
    problems = [p.format() for p in located.problems]
    if problems:
        raise InvalidInput(problems[0], problems=tuple(problems))
    data = located.data
    try:
        spec = _CaseFileSpec.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, located, ()) from None
    cases: list[Case] = []
    problems = []
    for index, raw in enumerate(spec.cases):
        where = ("cases", index)
        line = located.where((*where, "name") if "name" in raw else where)[0]
        try:
            case = Case.model_validate({**raw, "file": str(file), "line": line})
        except ValidationError as exc:
            problems.extend(_invalid(exc, located, where).problems)
            continue
        loaded = _with_threads(case, file.parent)
        for label, thread in _threads_of(loaded):
            try:
                thread_from(thread)
            except InvalidInput as exc:
                problems.extend(f"{file}:{line}: {label}: {p}" for p in exc.problems)
        cases.append(loaded)
    names = [case.name for case in cases]
    for case in cases:
        if names.count(case.name) > 1:
            problems.append(
                f"{file}:{case.line}: case name `{case.name}` is used twice"
            )
    if problems:
        raise InvalidInput(problems[0], problems=tuple(dict.fromkeys(problems)))
    return CaseFile(path=file, cases=cases, policy_source=_policy_source(spec, file))


def _threads_of(case: Case) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(case.thread, dict):
        found.append((f"case `{case.name}`: thread", case.thread))
    for index, earlier in enumerate(case.before):
        if isinstance(earlier.thread, dict):
            found.append(
                (f"case `{case.name}`: before[{index}].thread", earlier.thread)
            )
    return found


def _with_threads(case: Case, folder: Path) -> Case:
    """Return `case` with the thread files it names read in."""

    def read(value: dict[str, Any] | str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        path = folder / value
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            msg = (
                f"{case.file}:{case.line}: thread file `{value}`: {exc.strerror or exc}"
            )
            raise InvalidInput(msg) from None
        except json.JSONDecodeError as exc:
            msg = f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
            raise InvalidInput(msg) from None
        if isinstance(data, dict) and "thread" in data and "posts" not in data:
            data = data["thread"]  # a stream event or a scenario line
        if not isinstance(data, dict):
            msg = f"{path}: a thread file holds one JSON object"
            raise InvalidInput(msg)
        return data

    return case.model_copy(
        update={
            "thread": read(case.thread),
            "before": [
                e.model_copy(update={"thread": read(e.thread)}) for e in case.before
            ],
        }
    )


def _invalid(
    exc: ValidationError, located: Any, prefix: tuple[int | str, ...]
) -> InvalidInput:
    problems = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if p not in ("file", "line"))
        path = (*prefix, *loc)
        line = 0
        for cut in range(len(path), 0, -1):
            if path[:cut] in located.marks:
                line = located.where(path[:cut])[0]
                break
        dotted = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path)
        message = str(error["msg"])
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(
            f"{located.file}:{line}: `{dotted.replace('.[', '[')}`: {message}"
        )
    return InvalidInput(problems[0], problems=tuple(problems))


def _policy_source(spec: _CaseFileSpec, file: Path) -> str:
    if spec.policy is not None:
        if spec.policy.startswith("replyguard:"):
            return spec.policy
        return str((file.parent / spec.policy).resolve())
    folder = file.parent
    if folder.parent.name == "cases":
        sibling = folder.parent.parent / f"{folder.name}.yaml"
        if sibling.is_file():
            return str(sibling)
        return f"replyguard:{folder.name}"
    raise InvalidInput(
        f"{file}: no `policy:` and not in a `cases/<policy>/` folder; name the policy "
        "this file tests (`policy: ../my-policy.yaml` or `policy: replyguard:default`)"
    )


def find_case_files(paths: Iterable[str | Path]) -> list[Path]:
    """
    Return the case files under `paths` (files or folders), sorted.

    A policy file (``policies/default.yaml``) stands for the case files of
    ``policies/cases/default/``.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{CASE_FILE_SUFFIX}")))
        elif path.name.endswith(CASE_FILE_SUFFIX):
            found.append(path)
        elif path.suffix in (".yaml", ".yml") and path.is_file():
            folder = path.parent / "cases" / path.stem
            found.extend(sorted(folder.glob(f"*{CASE_FILE_SUFFIX}")))
        elif not path.exists():
            msg = f"{path}: no such file or folder"
            raise InvalidInput(msg)
    return list(dict.fromkeys(found))


# -- running ----------------------------------------------------------------------------


@dataclass
class CaseResult:
    """A case run: its decision, the explain trace, and what did not match."""

    case: Case
    decision: Decision | None
    trace: tuple[TraceEvent, ...] = ()
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Return whether the decision is what the case expects."""
        return not self.failures

    def expected_and_actual(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return the expected fields and the decision's values for them, for a diff."""
        expect = self.case.expect.model_dump(exclude_defaults=True)
        expect["action"] = self.case.expect.action
        decision = self.decision
        if decision is None:
            return expect, {"error": self.failures[0] if self.failures else "?"}
        escalation = decision.escalation
        actual: dict[str, Any] = {
            "action": decision.action.value,
            "rules": list(decision.rules),
            "text": decision.text,
            "route": escalation.route if escalation else None,
            "priority": escalation.priority if escalation else None,
            "update": escalation.update if escalation else None,
        }
        if decision.errors:
            actual["errors"] = [
                f"[{e.stage}] {e.type}: {e.message}" for e in decision.errors
            ]
        return expect, {k: v for k, v in actual.items() if k in expect or k == "errors"}


def run_case(policy: Policy, case: Case) -> CaseResult:
    """Run one case against `policy`, with a fresh memory store for it."""
    from replyguard.guard import Guard  # noqa: PLC0415

    now = [case.at or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)]
    guard = Guard(policy, store="memory://", clock=lambda: now[0])
    start = time.perf_counter()
    try:
        for earlier in case.before:
            if earlier.at is not None:
                now[0] = _aware(earlier.at)
            guard.review(earlier.reply, earlier.thread)  # type: ignore[arg-type]  # read in by the loader
        now[0] = _aware(case.at) if case.at else now[0]
        if case.paused:
            guard.pause(case.paused)
        explained = guard.explain(case.reply, case.thread)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a case that cannot run is a failure
        return CaseResult(
            case=case,
            decision=None,
            failures=[f"the case could not run: {type(exc).__name__}: {exc}"],
            seconds=time.perf_counter() - start,
        )
    finally:
        guard.close()
    result = CaseResult(
        case=case,
        decision=explained.decision,
        trace=explained.trace,
        seconds=time.perf_counter() - start,
    )
    result.failures = _compare(case.expect, explained.decision)
    return result


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(expect: Expect, decision: Decision) -> list[str]:
    failures: list[str] = []
    if decision.action.value != expect.action:
        failures.append(
            f"action: expected {expect.action}, got {decision.action.value}"
        )
    fired = set(decision.rules)
    missing = [rule for rule in expect.rules if rule not in fired]
    if missing:
        failures.append(
            f"rules: expected {', '.join(missing)} to fire; fired: "
            f"{', '.join(decision.rules) or 'none'}"
        )
    unwanted = [rule for rule in expect.not_rules if rule in fired]
    if unwanted:
        failures.append(f"not_rules: {', '.join(unwanted)} fired")
    fields = expect.model_fields_set
    if "text" in fields and decision.text != expect.text:
        failures.append(f"text: expected {expect.text!r}, got {decision.text!r}")
    escalation = decision.escalation
    for name in ("route", "priority", "update"):
        if name in fields:
            wanted = getattr(expect, name)
            got = getattr(escalation, name) if escalation is not None else None
            if got != wanted:
                failures.append(f"{name}: expected {wanted!r}, got {got!r}")
    if decision.errors:
        failures.extend(
            f"error in the review: [{e.stage}] {e.type}: {e.message}"
            for e in decision.errors
        )
    return failures


@dataclass
class Coverage:
    """
    Which rules the cases fired, and which top-level conditions never changed value.

    A rule no case fired is untested; a rule (or an operand of its top-level
    ``and``/``or``) that was never false over the cases is not tested either: the
    cases cannot tell it from ``true``.
    """

    rules: list[str] = field(default_factory=list)
    fired: dict[str, int] = field(default_factory=dict)
    operands: dict[tuple[str, str], set[bool]] = field(default_factory=dict)
    conditions: dict[str, set[bool]] = field(default_factory=dict)

    @classmethod
    def for_policy(cls, policy: Policy) -> Coverage:
        """Return an empty coverage of `policy`'s enabled rules, limits and blackouts."""
        return cls(
            rules=[
                *(rule.id for rule in policy.rules),
                *(limit.id for limit in policy.limits),
                *(blackout.id for blackout in policy.blackouts),
            ]
        )

    def add(self, result: CaseResult) -> None:
        """Count what one case fired and what its conditions evaluated to."""
        if result.decision is not None:
            for rule in result.decision.rules:
                self.fired[rule] = self.fired.get(rule, 0) + 1
        for event in result.trace:
            if event.rule is None:
                continue
            if event.op in ("match", "fail"):
                self.conditions.setdefault(event.rule, set()).add(event.op == "match")
            elif event.op == "eval" and event.expr is not None:
                value = event.value
                if isinstance(value, str) and value.startswith("error:"):
                    continue
                key = (event.rule, event.expr)
                self.operands.setdefault(key, set()).add(bool(value))

    @property
    def unfired(self) -> list[str]:
        """Return the rules no case fired."""
        return [rule for rule in self.rules if rule not in self.fired]

    @property
    def never_false(self) -> list[str]:
        """Return the rules whose condition held in every case."""
        return [r for r, seen in self.conditions.items() if seen == {True}]

    def operands_stuck(self) -> list[tuple[str, str, bool]]:
        """Return ``(rule, operand, value)`` for operands that only ever had one value."""
        return [
            (rule, expr, next(iter(seen)))
            for (rule, expr), seen in self.operands.items()
            if len(seen) == 1
        ]

    def percent(self) -> float:
        """Return the share of rules fired by at least one case, in percent."""
        if not self.rules:
            return 100.0
        return 100.0 * sum(1 for r in self.rules if r in self.fired) / len(self.rules)


def run_cases(
    policy: Policy, cases: Sequence[Case]
) -> tuple[list[CaseResult], Coverage]:
    """Run `cases` against `policy`; return the results and the rule coverage."""
    coverage = Coverage.for_policy(policy)
    results = []
    for case in cases:
        result = run_case(policy, case)
        coverage.add(result)
        results.append(result)
    return results, coverage


def junit_xml(suites: Sequence[tuple[str, Sequence[CaseResult]]]) -> str:
    """Return a JUnit XML report: one test suite per case file, one test per case."""
    root = ET.Element("testsuites")
    for name, results in suites:
        failures = sum(1 for r in results if not r.ok)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(results)),
            failures=str(failures),
            errors="0",
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=name,
                name=result.case.name,
                file=result.case.file,
                line=str(result.case.line),
                time=f"{result.seconds:.3f}",
            )
            if not result.ok:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=result.failures[0][:500],
                    type="CaseFailure",
                )
                failure.text = "\n".join(result.failures)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
