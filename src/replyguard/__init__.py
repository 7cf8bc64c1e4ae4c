"""
replyguard: review a brand's automated replies against the thread they land in.

>>> from replyguard import Guard
>>> guard = Guard.default()
>>> thread = {"brand_handles": ["@BofA_Help"], "posts": [
...     {"id": "1", "author": "@chalk", "text": "Chalk art outside @BofA_Help", "kind": "original"},
...     {"id": "2", "author": "@fan", "text": "RT @chalk: Chalk art outside @BofA_Help",
...      "kind": "retweet", "retweet_of": "1"}]}
>>> guard.review("We are here to help!", thread).action
<Action.SUPPRESS: 'suppress'>

`import replyguard` is cheap: `Guard` and `Policy` (which bring in jinja2 and the
analyzers) load on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from replyguard.errors import (
    ConfigurationError,
    InvalidArgument,
    InvalidInput,
    LimitError,
    PolicyError,
    PolicyProblem,
    ReplyGuardError,
    StoreError,
)
from replyguard.models import (
    Action,
    Decision,
    Escalation,
    Evidence,
    Post,
    Reason,
    Reply,
    Signals,
    Thread,
)

if TYPE_CHECKING:
    from replyguard.guard import Explanation, Guard
    from replyguard.policy.compiled import Policy

try:
    __version__ = version("replyguard")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Action",
    "ConfigurationError",
    "Decision",
    "Escalation",
    "Evidence",
    "Explanation",
    "Guard",
    "InvalidArgument",
    "InvalidInput",
    "LimitError",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "Post",
    "Reason",
    "Reply",
    "ReplyGuardError",
    "Signals",
    "StoreError",
    "Thread",
    "__version__",
]

_LAZY = {
    "Guard": "replyguard.guard",
    "Explanation": "replyguard.guard",
    "Policy": "replyguard.policy.compiled",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'replyguard' has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - lazy on purpose: keeps `import replyguard` light

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
