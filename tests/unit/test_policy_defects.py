# (house style, STYLE.md 9: tests assert `expected == actual`)
"""Regression tests for the known defects of the policy engine, one section each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from policy_helpers import HEAD, problems, rule

from replyguard import Reply, Thread
from replyguard.errors import (
    PolicyCompileError,
    PolicyError,
    PolicySchemaError,
)
from replyguard.models import Signals
from replyguard.policy import Policy
from replyguard.policy._templates import ENVIRONMENT, TEMPLATE_FILTERS
from replyguard.policy._types import policy_type
from replyguard.policy.conditions import CompileProblem, compile_condition

# --- 1. missing values never fail a review ------------------------------------------

ROOT_POST = Thread.model_validate(
    {"posts": [{"id": "1", "author": "@a", "text": "hello", "kind": "original"}]}
)


def _holds(condition: str, thread: Thread = ROOT_POST) -> bool:
    """Evaluate a condition without the analyzers (signals at their defaults)."""
    policy = Policy.from_string(HEAD + "rules:\n" + rule("r", repr(condition)))
    signals = Signals()
    return ["r"] == [r.id for r in policy.match(thread, Reply(text="hi"), signals)]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # these raised at review time (the guard then gave on_error)
        pytest.param("thread.parent.author_followers + 1 > 0", False, id="arithmetic"),
        pytest.param(
            "(thread.parent.author_followers * 2) is none", True, id="arithmetic-none"
        ),
        pytest.param("-thread.parent.author_followers is none", True, id="negation"),
        pytest.param("thread.parent.links | length == 0", True, id="length-filter"),
        pytest.param("len(thread.parent.links) == 0", True, id="len"),
        pytest.param('"x" in thread.parent.text', False, id="in-none"),
        pytest.param("thread.parent.links[0] is none", True, id="index-of-none"),
        pytest.param("[] | max is none", True, id="max-of-empty"),
        pytest.param("[] | min is none", True, id="min-of-empty"),
        pytest.param(
            "[thread.parent.author_followers, 3] | max == 3", True, id="max-skips-none"
        ),
        # these read none as the text "none"
        pytest.param('contains(thread.parent.text, "no")', False, id="contains"),
        pytest.param(
            'contains_any(thread.parent.text, ["one"])', False, id="contains-any"
        ),
        pytest.param('starts_with(thread.parent.text, "n")', False, id="starts-with"),
        pytest.param('matches(thread.parent.text, "^none$")', False, id="matches"),
        pytest.param(
            'similarity(thread.parent.text, "none") > 0.5', False, id="similarity"
        ),
        pytest.param('thread.parent.text | lower == "none"', False, id="lower"),
        pytest.param('thread.parent.author ~ "!" == "None!"', False, id="concat"),
        # a comparison with none is false, whatever the operator
        pytest.param('thread.parent.author != "@a"', False, id="not-equal"),
        pytest.param('thread.parent.kind not in ["reply"]', False, id="not-in"),
        # ... except with the constant none, which tests for it
        pytest.param("thread.parent.author == none", True, id="eq-none"),
        pytest.param("thread.parent.author != none", False, id="ne-none"),
        pytest.param(
            'not contains(thread.parent.text, "no")', True, id="negated-function"
        ),
    ],
)
def test_a_missing_value_is_not_an_error(condition: str, expected: bool) -> None:
    assert expected == _holds(condition)


def test_a_missing_value_is_recorded_on_no_rule() -> None:
    policy = Policy.from_string(
        HEAD
        + "rules:\n"
        + rule("a", "thread.parent.links | length > 0")
        + rule("b", "'thread.parent.author_followers / 2 > 1'")
    )

    matched, failed = policy.evaluate_safely(ROOT_POST, Reply(text="hi"), Signals())

    assert ([], []) == (matched, failed)


# --- 2. disabled rules are checked ---------------------------------------------------


def test_a_disabled_rule_with_a_bad_condition_does_not_load() -> None:
    text = HEAD + "rules:\n" + rule("a", "thred.depth > 0", enabled="false")

    with pytest.raises(PolicyCompileError) as info:
        Policy.from_string(text, file="p.yaml")

    assert [("policy.unknown_name", "a", 5)] == [
        (p.code, p.rule_id, p.line) for p in info.value.problems
    ]


def test_a_disabled_rule_with_a_bad_template_does_not_load() -> None:
    text = (
        HEAD
        + "rules:\n"
        + rule("a", action="escalate", enabled="false", message="'{{ reply.txt }}'")
    )

    assert [("policy.unknown_name", 8, 14)] == problems(text)


def test_a_disabled_rule_still_never_runs() -> None:
    policy = Policy.from_string(HEAD + "rules:\n" + rule("a", enabled="false"))

    assert () == policy.rules


# --- 3. every stage reports -----------------------------------------------------------


def test_a_schema_problem_does_not_hide_a_condition_problem_in_another_rule() -> None:
    text = (
        HEAD
        + "rules:\n"
        + rule("a", action="supress")  # line 4: schema
        + rule("b", "signals.sarcsm.detected")  # line 8: condition
    )

    with pytest.raises(PolicySchemaError) as info:
        Policy.from_string(text, file="p.yaml")

    assert [
        ("policy.unknown_action", 6, "a"),
        ("policy.unknown_name", 8, "b"),
    ] == [(p.code, p.line, p.rule_id) for p in info.value.problems]


def test_a_rule_that_fails_the_schema_still_has_its_condition_checked() -> None:
    text = HEAD + "rules:\n" + rule("a", "thred.depth > 0", action="supress")

    assert [("policy.unknown_name", 5, 11), ("policy.unknown_action", 6, 13)] == (
        problems(text)
    )


def test_a_top_level_problem_does_not_hide_condition_and_template_problems() -> None:
    text = (
        HEAD
        + "on_error: allow\nthresholds: {mockery: 2}\n"
        + "rules:\n"
        + rule("a", "signals.tone.mockery > policy.thresholds.mockery")
        + rule("b", action="rewrite", template="'{{ reply.txt }}'")
    )

    assert [
        ("policy.bad_on_error", 3, 11),
        ("policy.bad_value", 4, 23),
        ("policy.unknown_name", 12, 15),
    ] == problems(text)


def test_a_missing_parent_does_not_hide_the_child_problems(in_tmp: Path) -> None:
    text = (
        HEAD
        + "extends: [gone.yaml]\ndisable: [from-the-parent]\nrules:\n"
        + rule("a", "signals.tone.mockery > policy.thresholds.mockery")
        + rule("b", "thred.depth > 0")
    )

    # the parent may define `mockery` and `from-the-parent`: no problem about those
    assert [("policy.not_found", 3, 11), ("policy.unknown_name", 10, 11)] == (
        problems(text)
    )


def test_a_syntax_problem_in_a_parent_does_not_hide_the_child_problems(
    in_tmp: Path,
) -> None:
    (in_tmp / "base.yaml").write_text("replyguard: 1\nname: [\n", encoding="utf-8")
    (in_tmp / "child.yaml").write_text(
        HEAD + "extends: base.yaml\nrules:\n" + rule("a", "thred.depth > 0"),
        encoding="utf-8",
    )

    with pytest.raises(PolicyError) as info:
        Policy.from_file("child.yaml")

    assert [("policy.syntax", "base.yaml"), ("policy.unknown_name", "child.yaml")] == [
        (p.code, p.file) for p in info.value.problems
    ]


def test_lint_sees_problems_of_every_stage(tmp_path: Path, capsys) -> None:
    from replyguard.cli import main  # noqa: PLC0415 - the CLI is what lint runs

    policy = tmp_path / "brand.yaml"
    policy.write_text(
        HEAD + "rules:\n" + rule("a", action="supress") + rule("b", "thred.x"),
        encoding="utf-8",
    )

    assert 1 == main(["lint", str(policy)])
    out = capsys.readouterr().out
    assert "brand.yaml:6:13: policy.unknown_action" in out
    assert "brand.yaml:8:11: policy.unknown_name" in out


# --- 4. templates are checked like conditions ----------------------------------------


@pytest.mark.parametrize(
    ("template", "code", "message", "help_text"),
    [
        pytest.param(
            "{{ thread.target.auhtor }}",
            "policy.unknown_name",
            "unknown name `thread.target.auhtor` in the template of rule `a`",
            "did you mean `author`?",
            id="attribute-typo",
        ),
        pytest.param(
            "{{ thread.target['auhtor'] }}",
            "policy.unknown_name",
            "unknown name `thread.target.auhtor`",
            "did you mean `author`?",
            id="item-typo",
        ),
        pytest.param(
            "{% for post in thread.posts %}{{ post.txt }}{% endfor %}",
            "policy.unknown_name",
            "unknown name `post.txt`",
            "did you mean `text`?",
            id="loop-variable",
        ),
        pytest.param(
            "{% set target = thread.target %}{{ target.kidn }}",
            "policy.unknown_name",
            "unknown name `target.kidn`",
            "did you mean `kind`?",
            id="set-variable",
        ),
        pytest.param(
            "{{ reply.__class__ }}",
            "policy.unsafe_attribute",
            "`reply.__class__` is private",
            None,
            id="private",
        ),
        pytest.param(
            "{{ thread.depth.value }}",
            "policy.type_mismatch",
            "`thread.depth` is a number and has no attribute `value`",
            None,
            id="attribute-of-number",
        ),
        pytest.param(
            "{{ reply.text | random }}",
            "policy.unknown_filter",
            "unknown filter `random`",
            None,
            id="random",
        ),
        pytest.param(
            "{% if reply.text %}{{ reply.text | lowr }}{% endif %}",
            "policy.unknown_filter",
            "unknown filter `lowr`",
            "did you mean `lower`?",
            id="filter-inside-if",
        ),
        pytest.param(
            "{{ thread.posts | map(attribute='text') | join }}",
            "policy.unknown_filter",
            "unknown filter `map`",
            None,
            id="map",
        ),
        pytest.param(
            "{{ thread.posts | join(attribute='auhtor') }}",
            "policy.unsupported_syntax",
            "filter `join` cannot read attributes by name",
            None,
            id="attribute-argument",
        ),
        pytest.param(
            "{{ range(3) | join }}",
            "policy.unsafe_call",
            "`range` cannot be called",
            None,
            id="global-call",
        ),
        pytest.param(
            "{{ lipsum }}",
            "policy.unknown_name",
            "unknown name `lipsum`",
            None,
            id="global-name",
        ),
        pytest.param(
            "{{ reply.text.upper() }}",
            "policy.unsafe_call",
            "`reply.text.upper` cannot be called",
            None,
            id="method-call",
        ),
        pytest.param(
            "{{ reply.text is stringy }}",
            "policy.unknown_test",
            "unknown test `stringy`",
            "did you mean `string`?",
            id="test",
        ),
        pytest.param(
            "{% include 'other.txt' %}",
            "policy.bad_template",
            "templates cannot include, import or extend other templates",
            None,
            id="include",
        ),
    ],
)
def test_a_template_is_checked_at_load(
    template: str, code: str, message: str, help_text: str | None
) -> None:
    text = HEAD + "rules:\n" + rule("a", action="rewrite", template=repr(template))

    with pytest.raises(PolicyCompileError, match=re.escape(message)) as info:
        Policy.from_string(text)

    [problem] = info.value.problems
    assert code == problem.code
    if help_text is not None:
        assert help_text == problem.help


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{{ reply.text | strip_exclamations | drop_emoji }}", id="own"),
        pytest.param("{{ thread.target.author }}: {{ thread.parent.text }}", id="path"),
        pytest.param(
            "{{ (signals.reply.repeats_brand_post * 100) | round | int }}%", id="math"
        ),
        pytest.param("{{ policy.thresholds.sarcasm }} {{ state.storm_level }}", id="p"),
        pytest.param(
            "{% for post in thread.posts %}{{ loop.index }} {{ post.handle }}"
            "{% endfor %}",
            id="loop",
        ),
        pytest.param("{{ thread.posts[0].text | truncate(20) | upper }}", id="index"),
        pytest.param("{{ reply.text | remove_phrase('x') | default('') }}", id="args"),
    ],
)
def test_a_good_template_loads(template: str) -> None:
    text = HEAD + "rules:\n" + rule("a", action="rewrite", template=repr(template))

    assert 1 == len(Policy.from_string(text).rules)


def test_only_the_allowlisted_filters_and_no_globals_are_reachable() -> None:
    assert set(TEMPLATE_FILTERS) == set(ENVIRONMENT.filters)
    assert "random" not in ENVIRONMENT.filters
    assert {} == ENVIRONMENT.globals


# --- 5. problems that read well -------------------------------------------------------


def test_a_missing_policy_file_names_its_path(in_tmp: Path) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_file("absent.yaml")

    [problem] = info.value.problems
    assert ("policy.not_found", "absent.yaml") == (problem.code, problem.file)
    assert "policy file not found: `absent.yaml`" == problem.message
    assert str(problem).startswith("absent.yaml:")


def test_an_unknown_packaged_policy_lists_what_exists() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_file("replyguard:nope")

    [problem] = info.value.problems
    assert "policy.unknown_package" == problem.code
    assert (
        "unknown packaged policy `replyguard:nope` "
        "(available: `replyguard:default`, `replyguard:finance`)"
    ) == problem.message


def test_an_unknown_packaged_policy_suggests_the_closest() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.packaged("defualt")

    assert "did you mean `replyguard:default`?" == info.value.problems[0].help


@pytest.mark.parametrize(
    ("when", "message"),
    [
        pytest.param(
            "thread.__class__",
            "`thread.__class__` is private in rule `a`; conditions may not read "
            "names starting with `_`",
            id="private",
        ),
        pytest.param(
            "reply.text.upper()",
            "`reply.text.upper` cannot be called in rule `a`; only the listed "
            "functions can",
            id="call",
        ),
        pytest.param(
            "user.name",
            "unknown name `user` in rule `a`; conditions read `policy`, `reply`, "
            "`signals`, `state`, `thread`",
            id="root",
        ),
        pytest.param(
            "'(thread.depth'",
            "cannot parse condition in rule `a`: unexpected end of template, "
            "expected ')'",
            id="syntax",
        ),
        pytest.param(
            "signals.sarcsm.detected",
            "unknown signal `signals.sarcsm` in rule `a`",
            id="plain",
        ),
    ],
)
def test_the_rule_is_named_after_the_subject_of_the_message(
    when: str, message: str
) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_string(HEAD + "rules:\n" + rule("a", when))

    assert [message] == [p.message for p in info.value.problems]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(
            {"template": "'{{ reply.txt }}'", "action": "rewrite"},
            [("policy.unknown_name", 7, 15)],
            id="template",
        ),
        pytest.param(
            {"message": '  "{{ reply.txt }}"', "action": "escalate"},
            [("policy.unknown_name", 7, 16)],
            id="message",
        ),
    ],
)
def test_a_template_problem_has_the_column_of_the_template(
    extra: dict[str, str], expected: list[tuple[str, int, int]]
) -> None:
    action = extra.pop("action")

    assert expected == problems(HEAD + "rules:\n" + rule("a", action=action, **extra))


def test_a_schema_path_is_written_with_brackets() -> None:
    text = HEAD + "rules:\n" + rule("a", tags="[1]")

    with pytest.raises(PolicySchemaError) as info:
        Policy.from_string(text)

    assert ["`rules[0].tags[0]` in rule `a`: input should be a valid string"] == [
        p.message for p in info.value.problems
    ]


# --- 6. the JSON Schema accepts what the loader accepts ------------------------------

AGREEMENT = [
    pytest.param(HEAD + "version: 2.5\n", True, id="version-number"),
    pytest.param(HEAD + "version: '2.5'\n", True, id="version-text"),
    pytest.param(HEAD + "version: true\n", False, id="version-bool"),
    pytest.param(HEAD + "extends: []\n", True, id="extends-list"),
    pytest.param(HEAD + "disable: one-rule\n", True, id="disable-text"),
    pytest.param(HEAD + "brand: {handles: '@brand'}\n", True, id="brand-text"),
    pytest.param(HEAD + "rules:\n" + rule(tags="billing"), True, id="tags-text"),
    pytest.param(HEAD + "rules:\n" + rule(tags="[1]"), False, id="tags-number"),
    pytest.param(HEAD + "rules:\n" + rule(enabled="'no'"), False, id="enabled-text"),
    pytest.param(HEAD + "rules:\n" + rule(enabled="1"), False, id="enabled-number"),
    pytest.param(HEAD + "thresholds: {x: 1}\n", True, id="threshold-int"),
    pytest.param(HEAD + "thresholds: {x: '0.5'}\n", False, id="threshold-text"),
    pytest.param("replyguard: true\nname: t\n", False, id="format-bool"),
    pytest.param("replyguard: '1'\nname: t\n", False, id="format-text"),
    pytest.param(HEAD + "rules:\n" + rule(when="1"), False, id="when-number"),
    pytest.param(HEAD + "rules:\n" + rule(when="true"), True, id="when-bool"),
    pytest.param(
        HEAD + "rules:\n" + rule(action="rewrite"), False, id="rewrite-no-template"
    ),
    pytest.param(
        HEAD + "rules:\n" + rule(action="rewrite", template="x"), True, id="rewrite"
    ),
    pytest.param(
        HEAD + "rules:\n" + rule(template="x"), False, id="template-not-rewrite"
    ),
    pytest.param(HEAD + "name2: x\n", False, id="unknown-key"),
]


@pytest.mark.parametrize(("text", "valid"), AGREEMENT)
def test_the_json_schema_and_the_loader_agree(text: str, valid: bool) -> None:
    import jsonschema  # noqa: PLC0415 - a dev dependency, used by this test only

    from replyguard.policy import policy_json_schema  # noqa: PLC0415

    data: Any = yaml.safe_load(text)
    errors = list(
        jsonschema.Draft202012Validator(policy_json_schema()).iter_errors(data)
    )
    try:
        Policy.from_string(text)
        loads = True
    except PolicySchemaError:
        loads = False
    except PolicyError:  # a later stage: the schema accepted it
        loads = True

    assert (valid, valid) == (not errors, loads)


def test_a_yaml_date_is_a_version() -> None:
    assert "2024-05-01" == Policy.from_string(HEAD + "version: 2024-05-01\n").version


# --- 7. function and filter arguments are type-checked --------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            "contains(1, 2)",
            "argument 1 of `contains` is a number `1`, but it needs a text",
            id="contains-numbers",
        ),
        pytest.param(
            "contains(reply.text, thread.posts)",
            "argument 2 of `contains` is a list `thread.posts`, but it needs a text",
            id="contains-list",
        ),
        pytest.param(
            'contains_any(reply.text, "refund")',
            'argument 2 of `contains_any` is a text `"refund"`, but it needs a list '
            "of texts",
            id="contains-any-text",
        ),
        pytest.param(
            "contains_any(reply.text, [1, 2])",
            "but it needs a list of texts",
            id="contains-any-numbers",
        ),
        pytest.param(
            "similarity(reply.text, thread.depth) > 0.5",
            "argument 2 of `similarity` is a number `thread.depth`",
            id="similarity-number",
        ),
        pytest.param(
            "similarity(reply.text) > 0.5",
            "`similarity` takes 2 arguments, not 1",
            id="similarity-arity",
        ),
        pytest.param(
            "matches(thread.target.metrics, 'x')",
            "argument 1 of `matches` is a metrics `thread.target.metrics`",
            id="matches-object",
        ),
        pytest.param(
            "len(thread.depth) > 1",
            "argument 1 of `len` is a number `thread.depth`, but it needs a list or "
            "a text",
            id="len-number",
        ),
        pytest.param(
            "thread.posts | lower",
            "`thread.posts` is a list, but the filter `lower` needs a text",
            id="lower-list",
        ),
        pytest.param(
            "reply.text | abs > 1",
            "`reply.text` is a text, but the filter `abs` needs a number",
            id="abs-text",
        ),
        pytest.param(
            "thread.posts | max",
            "the filter `max` needs a list of numbers, texts or times",
            id="max-posts",
        ),
        pytest.param(
            "thread.depth | length > 1",
            "the filter `length` needs a list or a text",
            id="length-number",
        ),
    ],
)
def test_function_and_filter_arguments_are_type_checked(
    source: str, message: str
) -> None:
    with pytest.raises(CompileProblem, match=re.escape(message)) as info:
        compile_condition(source, policy_type=policy_type(["sarcasm"]))

    assert "policy.bad_arguments" == info.value.code


def test_a_bad_argument_has_the_signature_as_help() -> None:
    with pytest.raises(CompileProblem) as info:
        compile_condition("contains(1, 2)", policy_type=policy_type([]))

    assert (
        "`contains(text, phrase)`: whether text contains a phrase, ignoring case"
        == info.value.help
    )


def test_only_a_text_is_in_a_text() -> None:
    with pytest.raises(CompileProblem, match="only a text can be `in` a text") as info:
        compile_condition("1 in reply.text", policy_type=policy_type([]))

    assert "policy.type_mismatch" == info.value.code


# --- 9. problems inside folded and multi-line values ----------------------------------


@pytest.mark.parametrize(
    ("when", "line"),
    [
        pytest.param(">-\n      thread.depth > 0\n      and thred.x", 7, id="folded"),
        pytest.param(
            ">-\n      thread.depth > 0\n      and thread.depth > 1\n      and thred.x",
            8,
            id="folded-third-line",
        ),
        pytest.param("thread.depth > 0\n      and thred.x", 6, id="plain"),
        pytest.param('"thread.depth > 0\n      and thred.x"', 6, id="double-quoted"),
        pytest.param("|\n\n      thred.x", 7, id="literal-leading-blank-line"),
        pytest.param(
            "|\n      thread.depth > 0\n      and thred.x", 7, id="literal-second-line"
        ),
    ],
)
def test_a_condition_problem_points_at_its_line(when: str, line: int) -> None:
    [(code, problem_line, _)] = problems(HEAD + "rules:\n" + rule("a", when))

    assert ("policy.unknown_name", line) == (code, problem_line)


def test_a_template_problem_in_a_folded_message_points_at_its_line() -> None:
    text = HEAD + (
        "rules:\n"
        "  - id: a\n"
        "    when: 'true'\n"
        "    action: escalate\n"
        "    message: >-\n"  # line 7
        "      the original by {{ signals.chain.original_author }}\n"
        "      was retweeted {{ signals.chain.amplificaton }} times\n"  # line 9
    )

    assert [("policy.unknown_name", 9, 14)] == problems(text)
