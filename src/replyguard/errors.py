"""
The exceptions and warnings replyguard raises.

The tree::

    ReplyGuardError(Exception)
    ├── InvalidArgument(ReplyGuardError, TypeError)   misuse of the Python API
    ├── InvalidInput(ReplyGuardError, ValueError)     bad thread / reply data, with its path
    │   └── PayloadError(InvalidInput, InvalidArgument)   a platform payload an adapter cannot read
    ├── PolicyError                                   a policy cannot be loaded; .problems
    │   ├── PolicySyntaxError                         the YAML cannot be parsed
    │   ├── PolicySchemaError                         the document fails the policy schema
    │   └── PolicyCompileError                        unknown name, unsafe attribute, bad template
    ├── ConfigurationError(ReplyGuardError, LookupError)  unknown registry name or store
    ├── StoreError                                    a state backend failed
    ├── AnalyzerError                                 an analyzer crashed during a review
    └── RewriteError                                  a rewrite template failed to render
    ReplyGuardWarning(UserWarning)
    └── ReplyGuardDeprecationWarning(ReplyGuardWarning, FutureWarning)

Runtime failures inside `Guard.review` never escape it: they are recorded on
`Decision.errors` and the policy's `on_error` action is returned. Only misuse of the
API (`InvalidArgument`, `InvalidInput`) and load-time problems (`PolicyError`,
`ConfigurationError`) raise.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AnalyzerError",
    "ConfigurationError",
    "InvalidArgument",
    "InvalidInput",
    "LimitError",
    "PayloadError",
    "PolicyCompileError",
    "PolicyError",
    "PolicyProblem",
    "PolicySchemaError",
    "PolicySyntaxError",
    "ReplyGuardDeprecationWarning",
    "ReplyGuardError",
    "ReplyGuardWarning",
    "RewriteError",
    "StoreError",
]


class ReplyGuardError(Exception):
    """
    Base class of every error replyguard raises.

    Catch it to handle any replyguard failure in one place.
    """


class InvalidArgument(ReplyGuardError, TypeError):
    """
    The Python API was called with an argument of the wrong type or value.

    This is a programming error in the calling code: fix the call rather than catch it.
    """


class InvalidInput(ReplyGuardError, ValueError):
    """
    Thread or reply data is malformed; the message names the path of the bad field.

    Catch it where threads come from outside (files, payloads) to report bad data.

    Attributes:
        problems: one ``path: message`` line per problem found.
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class PayloadError(InvalidInput, InvalidArgument):
    """
    A platform payload (X, Bluesky, Mastodon) cannot be turned into a thread.

    The message names the platform and the JSON path of the problem, for example
    ``x payload: $.data[0].referenced_tweets[0].id: expected a string or an integer``.
    It is both an `InvalidInput` (bad data) and an `InvalidArgument` (the wrong thing
    passed to an adapter), so either ``except`` catches it.

    Attributes:
        platform: ``"x"``, ``"bluesky"`` or ``"mastodon"``.
        path: the JSON path of the problem (``$`` is the payload itself).
    """

    def __init__(self, platform: str, path: str, message: str) -> None:
        super().__init__(
            f"{platform} payload: {path}: {message}", problems=(f"{path}: {message}",)
        )
        self.platform = platform
        self.path = path


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """
    One problem found in a policy, located by file, line and column.

    Attributes:
        code: a stable dotted code such as ``policy.unknown_name``
            (``docs/errors.md`` lists every one).
        message: what is wrong, lowercase, user input in backticks.
        file: the policy file, or ``<string>``.
        line: 1-based line, 0 when unknown.
        column: 1-based column, 0 when unknown.
        rule_id: the rule the problem is in, when there is one.
        help: a suggestion, such as a did-you-mean.
        severity: ``error`` (the policy cannot load) or ``warning`` (lint only).
    """

    code: str
    message: str
    file: str = "<string>"
    line: int = 0
    column: int = 0
    rule_id: str | None = None
    help: str | None = None
    severity: str = "error"

    def sort_key(self) -> tuple[str, int, int, str]:
        """Return the key problems are sorted by: file, line, column, code."""
        return (self.file, self.line, self.column, self.code)

    def format(self) -> str:
        """Return ``file:line:col: code: message`` plus the help, on one line each."""
        where = f"{self.file}:{self.line}:{self.column}"
        text = f"{where}: {self.code}: {self.message}"
        if self.help:
            text += f"\n    help: {self.help}"
        return text

    def __str__(self) -> str:
        return self.format()


class PolicyError(ReplyGuardError):
    """
    A policy could not be loaded or compiled.

    Catch it around `Guard.from_file` and `Guard.reload`; a guard that fails to reload
    keeps its previous policy.

    Attributes:
        problems: every problem found, sorted by file, line and column.
    """

    def __init__(
        self, problems: list[PolicyProblem] | tuple[PolicyProblem, ...]
    ) -> None:
        self.problems = tuple(sorted(problems, key=PolicyProblem.sort_key))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in policy"
        super().__init__("\n".join([head, *(p.format() for p in self.problems)]))


class PolicySyntaxError(PolicyError):
    """The policy's YAML cannot be parsed."""


class PolicySchemaError(PolicyError):
    """The policy document does not match the policy schema."""


class PolicyCompileError(PolicyError):
    """A condition or template names something unknown, unsafe or of the wrong type."""


class ConfigurationError(ReplyGuardError, LookupError):
    """
    An unknown registry name, store URL scheme or packaged policy was asked for.

    The message lists what is available.
    """


class StoreError(ReplyGuardError):
    """
    A state backend failed; the original error is the ``__cause__``.

    Attributes:
        backend: the store's scheme, such as ``redis``.
    """

    def __init__(self, message: str, *, backend: str) -> None:
        super().__init__(message)
        self.backend = backend


class AnalyzerError(ReplyGuardError):
    """
    An analyzer crashed during a review; recorded on ``Decision.errors``.

    Attributes:
        analyzer: the registered name of the analyzer, such as ``chain.v1``.
    """

    def __init__(self, message: str, *, analyzer: str) -> None:
        super().__init__(message)
        self.analyzer = analyzer


class RewriteError(ReplyGuardError):
    """A rewrite template failed to render or tried to leave its sandbox."""


class LimitError(ReplyGuardError):
    """
    A policy limit's key or condition failed on a review or a `Guard.record`.

    A review records it on ``Decision.errors`` (stage ``evaluate``) and returns the
    policy's ``on_error`` action; ``record`` raises it (nothing was recorded).
    """


class ReplyGuardWarning(UserWarning):
    """Base class of replyguard's warnings."""


class ReplyGuardDeprecationWarning(ReplyGuardWarning, FutureWarning):
    """A feature is deprecated and will be removed; visible by default."""
