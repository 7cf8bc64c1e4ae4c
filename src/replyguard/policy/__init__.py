"""
Policies: YAML documents validated, merged along `extends`, and compiled once.

Use `Policy.from_file`, `Policy.from_string` or `Policy.packaged`; the JSON Schema of
the format is `policy_json_schema()`.
"""

from __future__ import annotations

from replyguard.policy.compiled import DEFAULT_THRESHOLDS, CompiledRule, Policy
from replyguard.policy.conditions import FILTERS, FUNCTIONS, compile_condition
from replyguard.policy.loader import packaged_policies, packaged_policy_path
from replyguard.policy.schema import PolicyDocument, RuleSpec, policy_json_schema

__all__ = [
    "DEFAULT_THRESHOLDS",
    "FILTERS",
    "FUNCTIONS",
    "CompiledRule",
    "Policy",
    "PolicyDocument",
    "RuleSpec",
    "compile_condition",
    "packaged_policies",
    "packaged_policy_path",
    "policy_json_schema",
]
