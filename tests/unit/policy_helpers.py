"""Helpers shared by the policy tests: build policy text, collect its problems."""

from __future__ import annotations

import pytest

from replyguard.errors import PolicyError
from replyguard.policy import Policy

HEAD = "replyguard: 1\nname: test\n"


def rule(
    rule_id: str = "r", when: str = "'true'", action: str = "suppress", **extra: str
) -> str:
    """Return one rule of a policy's `rules:` list, as YAML text."""
    text = f"  - id: {rule_id}\n    when: {when}\n    action: {action}\n"
    for key, value in extra.items():
        text += f"    {key}: {value}\n"
    return text


def problems(text: str, *, file: str = "p.yaml") -> list[tuple[str, int, int]]:
    """Return (code, line, column) of every problem loading `text` reports."""
    with pytest.raises(PolicyError) as info:
        Policy.from_string(text, file=file)
    return [(p.code, p.line, p.column) for p in info.value.problems]
