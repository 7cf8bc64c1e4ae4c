# (house style, STYLE.md 9: tests assert `expected == actual`)
"""Loading policies: located problems, every code, extends, hashing and the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from policy_helpers import HEAD, problems, rule

from replyguard import Action, PolicyError
from replyguard.errors import (
    PolicyCompileError,
    PolicySchemaError,
    PolicySyntaxError,
)
from replyguard.policy import Policy, packaged_policies, policy_json_schema

# --- a good policy ------------------------------------------------------------------


def test_minimal_policy_loads() -> None:
    policy = Policy.from_string(
        HEAD + "rules:\n" + rule("no-retweets", "thread.depth > 0")
    )

    assert "test" == policy.name
    assert "0" == policy.version
    assert Action.ESCALATE == policy.on_error
    assert "enforce" == policy.mode
    assert ["no-retweets"] == [r.id for r in policy.rules]
    assert Action.SUPPRESS == policy.rules[0].action
    assert "<string>:5:11" == policy.rules[0].location
    assert {"sarcasm": 0.45} == policy.thresholds


def test_numeric_version_becomes_text() -> None:
    assert "2.5" == Policy.from_string(HEAD + "version: 2.5\n").version


def test_disabled_rule_does_not_run() -> None:
    policy = Policy.from_string(
        HEAD + "rules:\n" + rule("a") + rule("b", enabled="false")
    )

    assert ["a"] == [r.id for r in policy.rules]


def test_escalate_rule_defaults_to_social_care_and_route_priority() -> None:
    policy = Policy.from_string(
        HEAD
        + "routes: {pr: urgent}\nrules:\n"
        + rule("a", action="escalate")
        + rule("b", action="suppress", route="pr")
    )

    a, b = policy.rules
    assert ("social-care", None, True) == (a.route, a.priority, a.asks_person)
    assert ("pr", "urgent", True) == (b.route, b.priority, b.asks_person)


# --- every problem, located ---------------------------------------------------------

THREE_PROBLEMS = """\
replyguard: 1
name: three-problems
on_error: allow
rules:
  - id: first
    when: 'true'
    action: supress
  - id: second
    when: 'true'
    action: suppress
    colour: red
"""


def test_every_problem_is_reported_at_once_with_file_line_col(in_tmp: Path) -> None:
    (in_tmp / "three.yaml").write_text(THREE_PROBLEMS, encoding="utf-8")

    with pytest.raises(PolicySchemaError) as info:
        Policy.from_file(in_tmp / "three.yaml")

    problems = info.value.problems
    assert [
        ("policy.bad_on_error", "three.yaml", 3, 11),
        ("policy.unknown_action", "three.yaml", 7, 13),
        ("policy.unknown_key", "three.yaml", 11, 5),
    ] == [(p.code, p.file, p.line, p.column) for p in problems]
    assert [None, "first", "second"] == [p.rule_id for p in problems]
    message = str(info.value)
    assert message.startswith("3 problems in policy\n")
    assert "three.yaml:3:11: policy.bad_on_error: " in message
    assert "three.yaml:7:13: policy.unknown_action: " in message
    assert (
        "three.yaml:11:5: policy.unknown_key: unknown key `colour` in rule `second`"
        in message
    )


def test_compile_problems_are_all_reported_with_their_lines(in_tmp: Path) -> None:
    text = (
        HEAD
        + "rules:\n"
        + rule("a", "thred.depth > 0")  # line 5
        + rule("b", "thread.__class__")  # line 8
        + rule("c", action="allow", route="pr")  # rule at line 10
    )
    (in_tmp / "compile.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(PolicyCompileError) as info:
        Policy.from_file("compile.yaml")

    assert [
        ("policy.unknown_name", "compile.yaml", 5, 11, "a"),
        ("policy.unsafe_attribute", "compile.yaml", 8, 11, "b"),
        ("policy.route_on_allow", "compile.yaml", 10, 5, "c"),
    ] == [(p.code, p.file, p.line, p.column, p.rule_id) for p in info.value.problems]


def test_problem_in_a_literal_block_condition_points_at_its_line() -> None:
    text = HEAD + (
        "rules:\n"
        "  - id: a\n"
        "    when: |\n"
        "      thread.depth > 0\n"
        "      and thred.x\n"  # line 7
        "    action: suppress\n"
    )

    assert [("policy.unknown_name", 7, 11)] == problems(text)


def test_problem_in_a_multi_line_template_points_at_its_line() -> None:
    # (the xfail this replaces counted HEAD as three lines: `{{ user }}` is on line 9;
    # what was wrong was the column, always 0)
    text = HEAD + (
        "rules:\n"
        "  - id: a\n"
        "    when: 'true'\n"
        "    action: escalate\n"
        "    message: |\n"  # line 7: the value starts at column 14
        "      the post by\n"
        "      {{ user }}\n"  # line 9
    )

    assert [("policy.unknown_name", 9, 14)] == problems(text)


@pytest.mark.parametrize(
    ("text", "error", "expected", "match"),
    [
        pytest.param(
            HEAD + "rules: [\n",
            PolicySyntaxError,
            [("policy.syntax", 4, 1)],
            "yaml: ",
            id="syntax",
        ),
        pytest.param(
            HEAD + "name: again\n",
            PolicySyntaxError,
            [("policy.duplicate_key", 3, 1)],
            "key `name` appears twice in the same mapping",
            id="duplicate-key",
        ),
        pytest.param(
            HEAD + "rules:\n  - id: a\n    when: 'true'\n    acton: suppress\n",
            PolicySchemaError,
            [("policy.missing_key", 4, 5), ("policy.unknown_key", 6, 5)],
            "unknown key `acton` in rule `a`",
            id="unknown-key",
        ),
        pytest.param(
            HEAD + "rules:\n  - id: a\n    action: suppress\n",
            PolicySchemaError,
            [("policy.missing_key", 4, 5)],
            "missing required key `when` in rule `a`",
            id="missing-key",
        ),
        pytest.param(
            "replyguard: 1\nrules: []\n",
            PolicySchemaError,
            [("policy.missing_key", 1, 1)],
            "missing required key `name`",
            id="missing-name",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", action="supress"),
            PolicySchemaError,
            [("policy.unknown_action", 6, 13)],
            "`supress` is not an action in rule `a`; use allow, rewrite, escalate or suppress",
            id="unknown-action",
        ),
        pytest.param(
            HEAD + "on_error: allow\n",
            PolicySchemaError,
            [("policy.bad_on_error", 3, 11)],
            "`on_error: allow` is not allowed; use escalate or suppress",
            id="on-error-allow",
        ),
        pytest.param(
            "replyguard: 2\nname: x\n",
            PolicySchemaError,
            [("policy.unsupported_version", 1, 13)],
            "unsupported policy format `replyguard: 2`",
            id="unsupported-version",
        ),
        pytest.param(
            "- replyguard: 1\n",
            PolicySchemaError,
            [("policy.not_a_mapping", 1, 1)],
            "a policy must be a mapping",
            id="list",
        ),
        pytest.param(
            "",
            PolicySchemaError,
            [("policy.not_a_mapping", 1, 1)],
            "a policy must be a mapping",
            id="empty",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a") + rule("a"),
            PolicyError,
            [("policy.duplicate_rule", 7, 5)],
            "rule id `a` is used twice in this file",
            id="duplicate-rule",
        ),
        pytest.param(
            HEAD + "disable: [nope]\n",
            PolicyError,
            [("policy.unknown_rule", 3, 11)],
            "`disable` names rule `nope`, which no policy in the chain defines",
            id="unknown-rule",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", action="rewrite"),
            PolicySchemaError,
            [("policy.bad_value", 4, 5)],
            "a rule with action `rewrite` needs a `template`",
            id="rewrite-without-template",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", template="hi"),
            PolicySchemaError,
            [("policy.bad_value", 4, 5)],
            "`template` is only for action `rewrite`",
            id="template-without-rewrite",
        ),
        pytest.param(
            HEAD + "thresholds: {sarcasm: 2}\n",
            PolicySchemaError,
            [("policy.bad_value", 3, 23)],
            "`thresholds.sarcasm`",
            id="threshold-over-one",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("Bad_Id"),
            PolicySchemaError,
            [("policy.bad_value", 4, 9)],
            "`rules[0].id` in rule `Bad_Id`: string should match pattern",
            id="bad-rule-id",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", action="rewrite", template="'{{ reply.text'"),
            PolicyCompileError,
            [("policy.bad_template", 7, 15)],
            "syntax error in the template of rule `a`: unexpected end of template",
            id="bad-template",
        ),
        pytest.param(
            HEAD
            + "rules:\n"
            + rule("a", action="rewrite", template="'{{ user.name }}'"),
            PolicyCompileError,
            [("policy.unknown_name", 7, 15)],
            "unknown name `user` in the template of rule `a`; templates read",
            id="template-unknown-name",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", action="escalate", message="'{{ secret }}'"),
            PolicyCompileError,
            [("policy.unknown_name", 7, 14)],
            "unknown name `secret` in the message of rule `a`; templates read "
            "`policy`, `reply`, `signals`, `state`, `thread`",
            id="message-unknown-name",
        ),
        pytest.param(
            HEAD
            + "rules:\n"
            + rule("a", action="rewrite", template="'{{ reply.text | x }}'"),
            PolicyCompileError,
            [("policy.unknown_filter", 7, 15)],
            "unknown filter `x` in the template of rule `a`",
            id="template-unknown-filter",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", action="allow", route="pr"),
            PolicyCompileError,
            [("policy.route_on_allow", 4, 5)],
            "rule `a` allows, so it cannot route to `pr`",
            id="route-on-allow",
        ),
        pytest.param(
            HEAD + "extends: [nope.yaml]\n",
            PolicyError,
            [("policy.not_found", 3, 11)],
            "no policy file `nope.yaml`",
            id="extends-missing-file",
        ),
        pytest.param(
            HEAD + "extends: replyguard:nope\n",
            PolicyError,
            [("policy.extends_not_found", 3, 10)],
            "no packaged policy `replyguard:nope`; available: `replyguard:default`",
            id="extends-missing-package",
        ),
    ],
)
def test_problem_code(
    in_tmp: Path, text: str, error: type[PolicyError], expected: list, match: str
) -> None:
    with pytest.raises(error, match=re.escape(match)) as info:
        Policy.from_string(text, file="p.yaml")

    assert expected == [(p.code, p.line, p.column) for p in info.value.problems]
    assert all("p.yaml" == p.file for p in info.value.problems)


@pytest.mark.parametrize(
    ("text", "help_text"),
    [
        pytest.param(
            HEAD + "rules:\n  - id: a\n    when: 'true'\n    acton: suppress\n",
            "did you mean `action`?",
            id="unknown-key",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", action="supress"),
            "did you mean `suppress`?",
            id="unknown-action",
        ),
        pytest.param(
            HEAD + "on_error: allow\n",
            "a failed review must never let a reply out silently",
            id="on-error-allow",
        ),
        pytest.param(
            HEAD + "brand: {handle: ['@x']}\n",
            "did you mean `handles`?",
            id="brand-key",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", "signals.sarcsm.detected"),
            "did you mean `sarcasm`?",
            id="unknown-signal",
        ),
        pytest.param(
            HEAD + "rules:\n" + rule("a", "'thread.target.kind == \"retweat\"'"),
            "did you mean `retweet`?",
            id="unknown-value",
        ),
    ],
)
def test_problem_help(text: str, help_text: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_string(text)

    assert help_text in [p.help for p in info.value.problems]


def test_template_unknown_filter_message_follows_the_house_style() -> None:
    text = (
        HEAD
        + "rules:\n"
        + rule("a", action="rewrite", template="'{{ reply.text | lowr }}'")
    )

    with pytest.raises(PolicyCompileError) as info:
        Policy.from_string(text)

    [problem] = info.value.problems
    assert "unknown filter `lowr` in the template of rule `a`" == problem.message
    assert "did you mean `lower`?" == problem.help


def test_problem_format_has_help_on_its_own_line() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_string(
            HEAD + "rules:\n" + rule("a", action="supress"), file="b.yaml"
        )

    [problem] = info.value.problems
    assert (
        "b.yaml:6:13: policy.unknown_action: `supress` is not an action in rule `a`; "
        "use allow, rewrite, escalate or suppress\n    help: did you mean `suppress`?"
    ) == str(problem)


def test_missing_top_level_file(in_tmp: Path) -> None:
    with pytest.raises(
        PolicyError, match=re.escape("policy file not found: `absent.yaml`")
    ) as info:
        Policy.from_file("absent.yaml")

    assert [("policy.not_found", "absent.yaml")] == [
        (p.code, p.file) for p in info.value.problems
    ]


# --- extends ------------------------------------------------------------------------


def test_extends_cycle(in_tmp: Path) -> None:
    (in_tmp / "a.yaml").write_text("replyguard: 1\nname: a\nextends: [b.yaml]\n")
    (in_tmp / "b.yaml").write_text("replyguard: 1\nname: b\nextends: a.yaml\n")

    with pytest.raises(
        PolicyError, match=re.escape("a.yaml -> b.yaml -> a.yaml")
    ) as info:
        Policy.from_file("a.yaml")

    assert [("policy.extends_cycle", "b.yaml", 3, 10)] == [
        (p.code, p.file, p.line, p.column) for p in info.value.problems
    ]


def test_extends_self_is_a_cycle(in_tmp: Path) -> None:
    (in_tmp / "a.yaml").write_text("replyguard: 1\nname: a\nextends: [a.yaml]\n")

    with pytest.raises(PolicyError) as info:
        Policy.from_file("a.yaml")

    assert ["policy.extends_cycle"] == [p.code for p in info.value.problems]


def test_problem_in_a_parent_names_the_parent_file(in_tmp: Path) -> None:
    (in_tmp / "base.yaml").write_text(HEAD + "rules:\n" + rule("a", action="supress"))
    (in_tmp / "child.yaml").write_text("replyguard: 1\nname: c\nextends: base.yaml\n")

    with pytest.raises(PolicyError) as info:
        Policy.from_file("child.yaml")

    assert [("policy.unknown_action", "base.yaml", 6, 13)] == [
        (p.code, p.file, p.line, p.column) for p in info.value.problems
    ]


PARENT = """\
replyguard: 1
name: parent
on_error: suppress
thresholds: {sarcasm: 0.7, mockery: 0.4}
brand: {handles: ["@parent"], names: [Parent Co]}
routes: {pr: high}
rules:
  - id: one
    when: thread.target.kind == "retweet"
    action: suppress
  - id: two
    when: signals.chain.depth > 0
    action: escalate
  - id: three
    when: 'false'
    action: escalate
"""

CHILD = """\
replyguard: 1
name: child
extends: ../parent.yaml
thresholds: {mockery: 0.9}
routes: {legal: urgent}
disable: [three]
rules:
  - id: two
    when: signals.chain.depth > 5
    action: suppress
  - id: four
    when: policy.thresholds.mockery > 0.5
    action: escalate
"""


def test_extends_merges_parent_and_child(in_tmp: Path) -> None:
    (in_tmp / "parent.yaml").write_text(PARENT)
    (in_tmp / "sub").mkdir()
    (in_tmp / "sub" / "child.yaml").write_text(CHILD)

    policy = Policy.from_file(in_tmp / "sub" / "child.yaml")

    assert "child" == policy.name
    assert [
        ("one", Action.SUPPRESS, "parent.yaml:9:11"),
        ("two", Action.SUPPRESS, "sub/child.yaml:9:11"),
        ("four", Action.ESCALATE, "sub/child.yaml:12:11"),
    ] == [(r.id, r.action, r.location) for r in policy.rules]
    assert {"sarcasm": 0.7, "mockery": 0.9} == policy.thresholds
    assert Action.SUPPRESS == policy.on_error
    assert ["@parent"] == policy.brand.handles
    assert ["Parent Co"] == policy.brand.names
    assert {"pr": "high", "legal": "urgent"} == policy.routes
    assert ("parent.yaml", "sub/child.yaml") == policy.files


def test_extends_packaged_default_by_name() -> None:
    default = Policy.packaged("default")

    policy = Policy.from_string(
        HEAD + "extends: replyguard:default\nthresholds: {repeat: 0.5}\n"
        "disable: [no-reply-to-retweets]\nrules:\n"
        + rule(
            "crowd-goes-to-a-person", "signals.chain.amplification >= 10", "suppress"
        )
        + rule("extra")
    )

    expected_ids = [r.id for r in default.rules if r.id != "no-reply-to-retweets"]
    assert [*expected_ids, "extra"] == [r.id for r in policy.rules]
    crowd = next(r for r in policy.rules if r.id == "crowd-goes-to-a-person")
    assert "signals.chain.amplification >= 10" == crowd.condition.source
    assert Action.SUPPRESS == crowd.action
    assert {**default.thresholds, "repeat": 0.5} == policy.thresholds
    assert ("replyguard:default", "<string>") == policy.files


def test_extends_relative_path_from_string_resolves_from_cwd(in_tmp: Path) -> None:
    (in_tmp / "parent.yaml").write_text(PARENT)

    policy = Policy.from_string("replyguard: 1\nname: c\nextends: parent.yaml\n")

    assert ["one", "two", "three"] == [r.id for r in policy.rules]


def test_packaged_policies() -> None:
    assert ["default", "finance"] == packaged_policies()
    finance = Policy.packaged("finance")
    assert ("replyguard:default", "replyguard:finance") == finance.files
    assert "no-private-data-in-public" in [r.id for r in finance.rules]
    assert "no-reply-to-retweets" in [r.id for r in finance.rules]


def test_packaged_policy_by_prefixed_name_through_from_file() -> None:
    assert (
        Policy.packaged("default").hash == Policy.from_file("replyguard:default").hash
    )


# --- content hash -------------------------------------------------------------------

HASHED = HEAD + "rules:\n" + rule("a", "thread.depth > 0")


def test_content_hash_is_stable() -> None:
    first = Policy.from_string(HASHED)
    second = Policy.from_string(HASHED, file="other.yaml")

    assert first.hash == second.hash
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", first.hash)
    assert first.hash == first.ref.hash
    assert ("test", "0") == (first.ref.name, first.ref.version)


def test_content_hash_ignores_comments_and_layout() -> None:
    commented = (
        "# a comment\n"
        + HEAD
        + "rules:\n  -   id: a   # the rule\n"
        + ("      when: thread.depth > 0\n      action: suppress\n")
    )

    assert Policy.from_string(HASHED).hash == Policy.from_string(commented).hash


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(HASHED.replace("> 0", "> 1"), id="condition"),
        pytest.param(HASHED.replace("suppress", "escalate"), id="action"),
        pytest.param(HASHED.replace("id: a", "id: b"), id="rule-id"),
        pytest.param(HASHED + "    description: why\n", id="description"),
        pytest.param(HASHED + "thresholds: {sarcasm: 0.9}\n", id="threshold"),
        pytest.param(HASHED.replace("name: test", "name: other"), id="name"),
        pytest.param(HASHED + "on_error: suppress\n", id="on-error"),
        pytest.param(HASHED + "audit: {mask: {handles: true}}\n", id="audit"),
    ],
)
def test_content_hash_changes_when_the_policy_changes(changed: str) -> None:
    assert Policy.from_string(HASHED).hash != Policy.from_string(changed).hash


# --- JSON schema --------------------------------------------------------------------


def test_policy_json_schema_is_valid_json_with_the_top_level_keys() -> None:
    schema = policy_json_schema()

    assert schema == json.loads(json.dumps(schema))
    assert "https://json-schema.org/draft/2020-12/schema" == schema["$schema"]
    assert "https://replyguard.dev/schema/policy-1.json" == schema["$id"]
    assert "object" == schema["type"]
    assert ["name", "replyguard"] == sorted(schema["required"])
    assert {
        "replyguard",
        "name",
        "version",
        "description",
        "extends",
        "brand",
        "on_error",
        "mode",
        "thresholds",
        "disable",
        "routes",
        "lexicons",
        "nlp",
        "rules",
        "limits",
        "storm",
        "escalations",
        "blackouts",
        "replies",
        "audit",
    } == set(schema["properties"])
    assert schema["additionalProperties"] is False
    assert {"RuleSpec", "BrandSpec"} <= set(schema["$defs"])
