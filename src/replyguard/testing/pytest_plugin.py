"""
replyguard's pytest plugin: policy case files as tests, and `policy` / `guard` fixtures.

Installed with replyguard (entry point ``pytest11``), so nothing needs enabling:

- every file named ``*.cases.yaml`` under the paths pytest collects is a test file,
  each case one test (`replyguard.testing.cases`); a failure shows what the decision
  got against what the case expects, and the rules that matched;
- the ``policy`` fixture is the compiled policy named by the ``replyguard_policy`` ini
  option (default ``replyguard:default``) or by ``@pytest.mark.replyguard_policy(PATH)``
  on a test, module or class; each policy is compiled once per session;
- the ``guard`` fixture is a `Guard` over that policy with a fresh ``memory://`` store
  and a fixed clock (2026-01-05 12:00 UTC), closed after the test.

Importing this module imports only pytest: replyguard's analyzers and policies are
loaded when a case file is collected or a fixture is used.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from replyguard.guard import Guard
    from replyguard.policy.compiled import Policy
    from replyguard.testing.cases import Case, CaseResult

__all__ = [
    "FIXED_NOW",
    "CaseFileCollector",
    "CaseItem",
    "guard",
    "policy",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
]

FIXED_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
"""The clock of the ``guard`` fixture."""

_POLICIES: dict[str, Policy] = {}


def _policy(source: str) -> Policy:
    """Return the compiled policy at `source`, compiled once per session."""
    found = _POLICIES.get(source)
    if found is None:
        from replyguard.policy.compiled import Policy  # noqa: PLC0415 - heavy, lazily

        found = _POLICIES[source] = Policy.from_file(source)
    return found


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ini options ``replyguard_policy`` and ``replyguard_case_files``."""
    parser.addini(
        "replyguard_policy",
        "the policy of the `policy` and `guard` fixtures (a path or replyguard:NAME)",
        default="replyguard:default",
    )
    parser.addini(
        "replyguard_case_files",
        "file name patterns collected as policy case files",
        type="args",
        default=["*.cases.yaml"],
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``replyguard_policy`` marker."""
    config.addinivalue_line(
        "markers",
        "replyguard_policy(source): the policy of the `policy` and `guard` fixtures",
    )


def pytest_collect_file(
    file_path: Any, parent: pytest.Collector
) -> CaseFileCollector | None:
    """Collect policy case files (``*.cases.yaml``) as tests."""
    patterns = parent.config.getini("replyguard_case_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        collector: CaseFileCollector = CaseFileCollector.from_parent(
            parent, path=file_path
        )
        return collector
    return None


class CaseFileCollector(pytest.File):
    """A policy case file: one test per case."""

    def collect(self) -> Iterator[CaseItem]:
        """Load the case file; a malformed one fails collection with file:line."""
        from replyguard.errors import InvalidInput  # noqa: PLC0415
        from replyguard.testing.cases import load_case_file  # noqa: PLC0415

        try:
            loaded = load_case_file(self.path)
        except InvalidInput as exc:
            raise self.CollectError("\n".join(exc.problems)) from None
        for case in loaded.cases:
            yield CaseItem.from_parent(
                self, name=case.name, case=case, source=loaded.policy_source
            )


class CaseFailedError(Exception):
    """A case's decision differs from what it expects."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__("\n".join(result.failures))
        self.result = result


class CaseItem(pytest.Item):
    """One case of a case file, run against its policy."""

    def __init__(self, *, case: Case, source: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.source = source

    def runtest(self) -> None:
        """Review the case's reply (after its `before` reviews) and compare."""
        from replyguard.testing.cases import run_case  # noqa: PLC0415

        result = run_case(_policy(self.source), self.case)
        if not result.ok:
            raise CaseFailedError(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        """Show what differs, expected against actual, and the rules that matched."""
        if not isinstance(excinfo.value, CaseFailedError):
            return super().repr_failure(excinfo, style=style)
        result = excinfo.value.result
        expected, actual = result.expected_and_actual()
        lines = [f"case `{self.case.name}` ({self.case.file}:{self.case.line})"]
        lines += [f"  {failure}" for failure in result.failures]
        lines.append(
            "  expected: " + ", ".join(f"{k}={v!r}" for k, v in expected.items())
        )
        lines.append(
            "  actual:   " + ", ".join(f"{k}={v!r}" for k, v in actual.items())
        )
        if result.decision is not None:
            lines += [
                f"  reason {reason.rule} ({reason.action.value}): {reason.message}"
                for reason in result.decision.reasons
            ]
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Any, int, str]:
        """Point at the case's line in its file."""
        return self.path, max(self.case.line - 1, 0), f"case: {self.case.name}"


@pytest.fixture
def policy(request: pytest.FixtureRequest) -> Policy:
    """The compiled policy: ``@pytest.mark.replyguard_policy(PATH)`` or the ini option."""
    marker = request.node.get_closest_marker("replyguard_policy")
    if marker is not None and marker.args:
        source = str(marker.args[0])
    else:
        source = str(request.config.getini("replyguard_policy"))
    return _policy(source)


@pytest.fixture
def guard(policy: Policy) -> Iterator[Guard]:
    """A guard over ``policy`` with a fresh memory store and a fixed clock."""
    from replyguard.guard import Guard  # noqa: PLC0415

    made = Guard(policy, store="memory://", clock=lambda: FIXED_NOW)
    try:
        yield made
    finally:
        made.close()
