"""`lint_policy`: warnings about rules that load but cannot do what they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replyguard.errors import PolicyError, PolicyProblem
from replyguard.policy._types import ROOTS, Type
from replyguard.policy.lint import (
    LINT_CODES,
    NOT_SCORES,
    READ_BY_REPLYGUARD,
    lint_policy,
)

REPO = Path(__file__).resolve().parents[2]
HEAD = "replyguard: 1\nname: t\n"


def rule(
    rule_id: str,
    when: str,
    action: str = "suppress",
    *,
    description: str | None = "what it is for",
    **extra: str,
) -> str:
    """Return one rule of `rules:` as YAML text (the `- id:` line is its first)."""
    text = f"  - id: {rule_id}\n"
    if description is not None:
        text += f"    description: {description}\n"
    text += f"    when: {when}\n    action: {action}\n"
    if action == "rewrite" and "template" not in extra:
        extra["template"] = "'{{ reply.text }}'"
    for key, value in extra.items():
        text += f"    {key}: {value}\n"
    return text


def policy(*rules: str, top: str = "") -> str:
    return HEAD + top + "rules:\n" + "".join(rules)


def lint(tmp_path: Path, text: str, name: str = "p.yaml") -> list[PolicyProblem]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return lint_policy(path)


def found(tmp_path: Path, text: str, code: str | None = None) -> list[tuple[str, int]]:
    """Return (code, line) of the warnings, only of `code` when given."""
    return [
        (p.code, p.line) for p in lint(tmp_path, text) if code is None or p.code == code
    ]


def line_of(text: str, needle: str) -> int:
    """Return the 1-based line of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


# --- shipped policies -------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "replyguard:default",
        "replyguard:finance",
        REPO / "policies" / "default.yaml",
        REPO / "policies" / "finance.yaml",
    ],
)
def test_the_shipped_policies_lint_without_warnings(source: str | Path) -> None:
    assert [] == [p.format() for p in lint_policy(source)]


def test_a_policy_that_does_not_load_raises_as_loading_does(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        lint(tmp_path, policy(rule("r", "signals.tone.hostilty >= 0.5")))

    assert ["policy.unknown_name"] == [p.code for p in info.value.problems]


def test_every_problem_is_a_located_warning_with_a_known_code_and_help(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("b", "signals.tone.mockery > 1", "escalate"),
        rule("a", "signals.tone.hostility >= 60", "escalate", description=None),
    )

    problems = lint(tmp_path, text)

    assert [
        ("lint.unreachable_condition", line_of(text, "mockery > 1")),
        ("lint.no_description", line_of(text, "id: a")),
        ("lint.threshold_out_of_range", line_of(text, ">= 60")),
    ] == [(p.code, p.line) for p in problems]
    for problem in problems:
        assert "warning" == problem.severity
        assert problem.code in LINT_CODES
        assert problem.file.endswith("p.yaml")
        assert problem.column > 0
        assert problem.help
        assert problem.rule_id in ("a", "b")


# --- lint.shadowed_rule -----------------------------------------------------------


def test_a_rewrite_implied_by_a_broader_suppress_is_shadowed(tmp_path: Path) -> None:
    text = policy(
        rule("hostile", "signals.tone.hostility >= 0.6"),
        rule("soften", "signals.tone.hostility >= 0.9", "rewrite"),
    )

    problems = lint(tmp_path, text)

    assert [("lint.shadowed_rule", line_of(text, "id: soften"))] == [
        (p.code, p.line) for p in problems
    ]
    assert "`hostile`" in problems[0].message
    assert "never change a decision" in problems[0].message


def test_a_narrower_suppress_does_not_shadow_a_broader_rewrite(tmp_path: Path) -> None:
    text = policy(
        rule("hostile", "signals.tone.hostility >= 0.6"),
        rule("soften", "signals.tone.hostility >= 0.5", "rewrite"),
    )

    assert [] == found(tmp_path, text)


def test_a_rule_whose_conjuncts_include_a_stricter_rules_is_shadowed(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("cheer", "signals.reply.cheer >= 0.5 and state.paused", "rewrite"),
        rule("paused", "signals.state.paused", "escalate", route="social-care"),
    )

    assert [("lint.shadowed_rule", line_of(text, "id: cheer"))] == found(tmp_path, text)


def test_a_stricter_rule_with_an_extra_conjunct_shadows_nothing(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("cheer", "signals.reply.cheer >= 0.5 and state.paused", "rewrite"),
        rule("paused", "state.paused and state.storm_open", "escalate"),
    )

    assert [] == found(tmp_path, text)


def test_a_stricter_rule_with_alternatives_shadows_each_one(tmp_path: Path) -> None:
    text = policy(
        rule("either", "signals.tone.grief >= 0.5 or signals.tone.crisis >= 0.5"),
        rule("grief", "signals.tone.grief >= 0.7", "rewrite"),
    )

    assert [("lint.shadowed_rule", line_of(text, "id: grief"))] == found(tmp_path, text)


def test_a_rule_that_always_holds_shadows_every_milder_rule(tmp_path: Path) -> None:
    text = policy(
        rule("everything", "true"),
        rule("soften", "signals.reply.cheer >= 0.5", "rewrite"),
    )

    assert [("lint.shadowed_rule", line_of(text, "id: soften"))] == found(
        tmp_path, text
    )


def test_an_escalation_under_a_suppress_that_asks_nobody_still_counts(
    tmp_path: Path,
) -> None:
    # the suppress holds the reply silently; the escalate rule still pages a person
    text = policy(
        rule("hostile", "signals.tone.hostility >= 0.6"),
        rule("to-a-person", "signals.tone.hostility >= 0.8", "escalate", route="legal"),
    )

    assert [] == found(tmp_path, text)


def test_an_escalation_led_by_a_stricter_rules_escalation_is_shadowed(
    tmp_path: Path,
) -> None:
    text = policy(
        rule(
            "hostile",
            "signals.tone.hostility >= 0.6",
            route="social-care",
            priority="high",
        ),
        rule("to-a-person", "signals.tone.hostility >= 0.8", "escalate"),
    )

    problems = lint(tmp_path, text)

    assert [("lint.shadowed_rule", line_of(text, "id: to-a-person"))] == [
        (p.code, p.line) for p in problems
    ]
    assert "escalation" in problems[0].message


def test_an_escalation_of_higher_priority_is_not_shadowed(tmp_path: Path) -> None:
    text = policy(
        rule("hostile", "signals.tone.hostility >= 0.6", route="social-care"),
        rule(
            "crisis",
            "signals.tone.hostility >= 0.8",
            "escalate",
            route="crisis",
            priority="urgent",
        ),
    )

    assert [] == found(tmp_path, text)


def test_disabled_rules_shadow_nothing(tmp_path: Path) -> None:
    text = policy(
        "  # off until the store is deployed\n"
        + rule("hostile", "signals.tone.hostility >= 0.6", enabled="false"),
        rule("soften", "signals.tone.hostility >= 0.9", "rewrite"),
    )

    assert [] == found(tmp_path, text)


def test_thresholds_are_read_as_their_values(tmp_path: Path) -> None:
    text = policy(
        rule("hostile", "signals.tone.hostility >= policy.thresholds.hostility"),
        rule("soften", "signals.tone.hostility > 0.7", "rewrite"),
        top="thresholds: {hostility: 0.6}\n",
    )

    assert [("lint.shadowed_rule", line_of(text, "id: soften"))] == found(
        tmp_path, text
    )
    raised = text.replace("hostility: 0.6", "hostility: 0.8")
    assert [] == found(tmp_path, raised)


# --- lint.duplicate_condition ---------------------------------------------------------


def test_the_same_condition_written_another_way_is_a_duplicate(tmp_path: Path) -> None:
    text = policy(
        rule(
            "first",
            'signals.tone.legal >= 0.5 and thread.target.kind == "reply"',
            "escalate",
        ),
        rule(
            "second",
            "thread.target.kind == 'reply' and 0.5 <= signals.tone.legal",
            "escalate",
        ),
    )

    problems = lint(tmp_path, text)

    assert [("lint.duplicate_condition", line_of(text, "id: second"))] == [
        (p.code, p.line) for p in problems
    ]
    assert "`first`" in problems[0].message


def test_a_different_threshold_is_no_duplicate(tmp_path: Path) -> None:
    text = policy(
        rule("first", "signals.tone.legal >= 0.5", "escalate"),
        rule("second", "signals.tone.legal >= 0.6", "escalate", route="legal"),
    )

    assert [] == found(tmp_path, text)


# --- lint.unreachable_condition and lint.always_true ----------------------------------


@pytest.mark.parametrize(
    "when",
    [
        "signals.tone.mockery > 1",
        "signals.tone.mockery >= 1.01",
        "signals.tone.mockery < 0",
        "signals.tone.mockery <= -0.1",
        "similarity(reply.text, thread.target.text) > 1",
        "state.sent_to_author < 0",
        "len(thread.posts) <= -1",
        "signals.chain.amplification == 0.5",
        "signals.chain.target_is_brand == 2",
        "signals.chain.target_is_brand > 1",
        "0 > signals.tone.grief",
    ],
)
def test_a_comparison_outside_what_the_value_can_be_never_holds(
    tmp_path: Path, when: str
) -> None:
    text = policy(rule("r", when, "escalate"))

    assert [("lint.unreachable_condition", line_of(text, "when:"))] == found(
        tmp_path, text
    )


@pytest.mark.parametrize(
    "when",
    [
        "signals.tone.mockery >= 1",
        "signals.tone.mockery > 0",
        "signals.tone.mockery <= 0",
        "state.sent_to_author > 0",
        "state.sent_to_author == 0",
        "signals.chain.target_is_brand == 1",
        "signals.sarcasm.detected >= 0.45",
        "signals.chain.target_age > 604800",
        "signals.chain.target_age < 0",
        "signals.state.brand_baseline > 5",
    ],
)
def test_a_comparison_the_value_can_meet_is_fine(tmp_path: Path, when: str) -> None:
    assert [] == found(tmp_path, policy(rule("r", when, "escalate")))


@pytest.mark.parametrize(
    "when",
    [
        "signals.tone.grief >= 0.8 and signals.tone.grief < 0.5",
        "signals.tone.grief > 0.5 and state.paused and signals.tone.grief <= 0.5",
        "signals.tone.grief >= policy.thresholds.high and signals.tone.grief < 0.3",
        "state.sent_to_author > 2 and state.sent_to_author < 3",
        "state.paused and not state.paused",
        'thread.target.kind == "reply" and thread.target.kind == "quote"',
        'thread.target.kind == "reply" and thread.target.kind != "reply"',
    ],
)
def test_contradictory_conjuncts_never_hold(tmp_path: Path, when: str) -> None:
    text = policy(rule("r", when, "escalate"), top="thresholds: {high: 0.6}\n")

    assert [("lint.unreachable_condition", line_of(text, "when:"))] == found(
        tmp_path, text, "lint.unreachable_condition"
    )


@pytest.mark.parametrize(
    "when",
    [
        "signals.tone.grief >= 0.5 and signals.tone.grief < 0.8",
        "signals.tone.grief >= 0.5 and signals.tone.grief <= 0.5",
        "signals.tone.grief >= 0.8 or signals.tone.grief < 0.5",
        "state.sent_to_author > 2 and state.sent_to_author < 4",
        'thread.target.kind != "reply" and thread.target.kind != "quote"',
        "signals.tone.grief >= policy.thresholds.high and signals.tone.grief < 0.9",
    ],
)
def test_conjuncts_that_can_hold_together_are_fine(tmp_path: Path, when: str) -> None:
    text = policy(rule("r", when, "escalate"), top="thresholds: {high: 0.6}\n")

    assert [] == found(tmp_path, text, "lint.unreachable_condition")


def test_a_contradiction_on_a_later_line_of_a_folded_condition_points_there(
    tmp_path: Path,
) -> None:
    text = policy(
        "  - id: r\n"
        "    description: band\n"
        "    when: >-\n"
        "      signals.tone.grief >= 0.8\n"
        "      and signals.tone.grief < 0.5\n"
        "    action: escalate\n"
    )

    assert [("lint.unreachable_condition", line_of(text, "grief < 0.5"))] == found(
        tmp_path, text
    )


@pytest.mark.parametrize(
    "when",
    [
        "signals.tone.mockery >= 0",
        "signals.tone.mockery <= 1",
        "state.sent_to_author >= 0",
        "thread.posts | length > -1",
        "signals.chain.target_is_brand < 2",
    ],
)
def test_a_comparison_every_value_meets_always_holds(tmp_path: Path, when: str) -> None:
    text = policy(rule("r", when, "escalate"))

    assert [("lint.always_true", line_of(text, "when:"))] == found(tmp_path, text)


def test_a_comparison_of_a_value_that_may_be_missing_is_not_always_true(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("r", "thread.target.author_followers >= 0", "escalate"),
        rule("s", "similarity(reply.text, thread.target.text) >= 0", "escalate"),
    )

    assert [] == found(tmp_path, text)


def test_limit_conditions_are_checked_too(tmp_path: Path) -> None:
    text = (
        HEAD + "limits:\n"
        "  - id: cap\n"
        "    max: 1\n"
        "    per: 1h\n"
        "    when: signals.tone.hostility > 1\n"
    )

    problems = lint(tmp_path, text)

    assert [("lint.unreachable_condition", line_of(text, "when:"))] == [
        (p.code, p.line) for p in problems
    ]
    assert "limit `cap`" in problems[0].message


# --- lint.threshold_out_of_range ------------------------------------------------------


def test_a_score_compared_with_a_percentage_is_out_of_range(tmp_path: Path) -> None:
    text = policy(rule("r", "signals.tone.hostility >= 60", "escalate"))

    problems = lint(tmp_path, text)

    assert [("lint.threshold_out_of_range", line_of(text, "when:"))] == [
        (p.code, p.line) for p in problems
    ]
    assert problems[0].help is not None
    assert "`0.6`" in problems[0].help


def test_a_score_compared_within_its_range_is_fine(tmp_path: Path) -> None:
    text = policy(rule("r", "signals.tone.hostility >= 0.6", "escalate"))

    assert [] == found(tmp_path, text)


def test_a_count_compared_with_a_large_number_is_fine(tmp_path: Path) -> None:
    text = policy(rule("r", "signals.chain.amplification >= 100", "escalate"))

    assert [] == found(tmp_path, text)


# --- lint.unused_threshold ----------------------------------------------------------


def test_a_threshold_nothing_reads_is_unused(tmp_path: Path) -> None:
    text = policy(
        rule("r", "signals.tone.grief >= policy.thresholds.grief_level", "escalate"),
        top="thresholds:\n  grief_level: 0.5\n  forgotten: 0.3\n",
    )

    problems = lint(tmp_path, text)

    assert [("lint.unused_threshold", line_of(text, "forgotten"))] == [
        (p.code, p.line) for p in problems
    ]
    assert "`forgotten`" in problems[0].message


def test_a_threshold_read_by_a_template_a_limit_or_replyguard_is_used(
    tmp_path: Path,
) -> None:
    text = policy(
        rule(
            "r",
            "signals.tone.grief >= 0.5",
            "escalate",
            message="'over {{ policy.thresholds[\"shown\"] }}'",
        ),
        top="thresholds:\n  shown: 0.5\n  capped: 0.3\n  pii: 0.8\n"
        "limits:\n"
        "  - {id: cap, max: 1, per: 1h, when: signals.tone.crisis >= "
        "policy.thresholds.capped}\n",
    )

    assert [] == found(tmp_path, text)


def test_thresholds_replyguard_reads_are_the_ones_its_code_reads() -> None:
    from replyguard import _output, _packets  # noqa: PLC0415

    read = {name for _, name, _ in _output.SCAN}
    read |= {name for name, _ in _packets._TONE}
    source = (REPO / "src" / "replyguard").rglob("*.py")
    for path in source:
        text = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"thresholds\.get\(\"(\w+)\"", text))

    assert set(READ_BY_REPLYGUARD) == read


# --- lint.blocks_own_brand ----------------------------------------------------------

BRAND = (
    "brand:\n"
    "  names: [Virgin Money]\n"
    "  products: [ISA, Cash ISA]\n"
    "  handles: ['@VirginMoneyUK']\n"
)


def test_a_blocklist_term_that_is_the_brands_product_blocks_the_brand(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("r", 'contains_any(reply.text, ["fraud", "ISA"])', "suppress"),
        top=BRAND,
    )

    problems = lint(tmp_path, text)

    assert [("lint.blocks_own_brand", line_of(text, "when:"))] == [
        (p.code, p.line) for p in problems
    ]
    assert "`ISA`" in problems[0].message


@pytest.mark.parametrize(
    "when",
    [
        'matches(thread.target.text, "\\\\bvirgin\\\\b")',
        'contains(reply.text, "virgin")',
        "'\"money\" in reply.text'",
        'thread.target.author in ["virginmoneyuk", "spam"]',
    ],
)
def test_other_ways_of_blocking_the_brand_are_found(tmp_path: Path, when: str) -> None:
    text = policy(rule("r", when, "escalate"), top=BRAND)

    assert [("lint.blocks_own_brand", line_of(text, "when:"))] == found(tmp_path, text)


@pytest.mark.parametrize(
    ("when", "action"),
    [
        ('contains_any(reply.text, ["ISA"])', "rewrite"),
        ('not contains_any(reply.text, ["ISA"]) and state.paused', "suppress"),
        ('contains_any(reply.text, ["isabel", "virgin money scam"])', "suppress"),
        ('matches(reply.text, "virgin(?! money)")', "suppress"),
    ],
)
def test_terms_that_leave_the_brand_alone_are_fine(
    tmp_path: Path, when: str, action: str
) -> None:
    assert [] == found(tmp_path, policy(rule("r", when, action), top=BRAND))


def test_a_blocklist_term_is_fine_for_another_brand(tmp_path: Path) -> None:
    text = policy(
        rule("r", 'contains_any(reply.text, ["ISA"])', "suppress"),
        top="brand:\n  names: [Northwind]\n",
    )

    assert [] == found(tmp_path, text)


def test_a_lexicon_addition_that_is_the_brands_name_blocks_the_brand(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("r", "signals.tone.hostility >= 0.6", "escalate"),
        top=BRAND + "lexicons:\n  hostility:\n    add:\n      - absolute scam\n"
        "      - virgin\n",
    )

    problems = lint(tmp_path, text)

    assert [("lint.blocks_own_brand", line_of(text, "- virgin"))] == [
        (p.code, p.line) for p in problems
    ]


def test_lexicon_additions_that_leave_the_brand_alone_are_fine(
    tmp_path: Path,
) -> None:
    text = policy(
        rule("r", "signals.tone.hostility >= 0.6", "escalate"),
        top=BRAND + "lexicons:\n"
        "  hostility: {add: {strong: [virgin territory]}}\n"
        "  positive: {add: [virgin money]}\n",
    )

    assert [] == found(tmp_path, text)


def test_an_inherited_rule_that_blocks_a_childs_brand_is_found_in_its_file(
    tmp_path: Path,
) -> None:
    parent = policy(rule("r", 'contains_any(reply.text, ["isa"])', "escalate"))
    (tmp_path / "base.yaml").write_text(parent, encoding="utf-8")
    child = HEAD + "extends: base.yaml\n" + BRAND

    problems = lint(tmp_path, child, name="child.yaml")

    assert [("base.yaml", "lint.blocks_own_brand", line_of(parent, "when:"))] == [
        (Path(p.file).name, p.code, p.line) for p in problems
    ]


# --- lint.no_description and lint.disabled_rule ---------------------------------------


def test_a_rule_without_a_description_is_reported(tmp_path: Path) -> None:
    text = policy(
        rule("described", "state.paused", "escalate"),
        rule("bare", "state.storm_open", "escalate", description=None),
    )

    assert [("lint.no_description", line_of(text, "id: bare"))] == found(tmp_path, text)


def test_a_disabled_rule_without_a_note_is_reported(tmp_path: Path) -> None:
    text = policy(rule("old", "state.paused", "escalate", enabled="false"))

    assert [("lint.disabled_rule", line_of(text, "id: old"))] == found(tmp_path, text)


@pytest.mark.parametrize(
    "text",
    [
        policy(
            "  # on once the store is deployed\n"
            + rule("old", "state.paused", "escalate", enabled="false")
        ),
        policy(
            rule(
                "old",
                "state.paused",
                "escalate",
                enabled="false  # until the store is deployed",
            )
        ),
        policy(
            rule("old", "state.paused", "escalate", enabled="false"),
            rule("new", "state.storm_open", "escalate", description="replaces old"),
        ),
    ],
)
def test_a_disabled_rule_with_a_note_or_a_mention_is_fine(
    tmp_path: Path, text: str
) -> None:
    assert [] == found(tmp_path, text)


# --- docs -----------------------------------------------------------------------------


def test_every_code_has_a_section_in_the_lint_docs() -> None:
    page = (REPO / "docs" / "policies" / "lint.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## `(lint\.\w+)`", page, flags=re.MULTILINE)

    anchors = re.findall(r'^<a id="(lint\.\w+)"></a>$', page, flags=re.MULTILINE)

    assert list(LINT_CODES) == headings
    assert list(LINT_CODES) == anchors
    assert "```python" not in page


# --- what the linter knows of signals -------------------------------------------------


def _numbers(kind: Type, path: str, seen: frozenset[int]) -> set[str]:
    if kind.kind == "obj" and id(kind) not in seen:
        found: set[str] = set()
        for name, attr in kind.attrs.items():
            found |= _numbers(attr.type, f"{path}.{name}", seen | {id(kind)})
        return found
    return {path} if kind.kind == "float" else set()


def test_every_float_signal_is_a_score_unless_listed() -> None:
    floats = _numbers(ROOTS["signals"], "signals", frozenset())
    scores = floats - NOT_SCORES

    # a new float signal must be classified here: a 0..1 score, or in NOT_SCORES
    assert NOT_SCORES <= floats
    assert {
        *(f"signals.sarcasm.{n}" for n in ("score", "rules", "model")),
        *(
            f"signals.tone.{n}"
            for n in ("hostility", "mockery", "grief", "crisis", "activism")
        ),
        "signals.tone.legal",
        "signals.tone.trend",
        *(
            f"signals.intent.{n}"
            for n in ("service_request", "complaint", "praise", "opt_out")
        ),
        "signals.intent.instructions",
        *(
            f"signals.reply.{n}"
            for n in (
                "repeats_brand_post",
                "generic",
                "cheer",
                "asks_for_private_data",
                "pii",
                "echoes_user_text",
                "claims",
                "off_topic",
                "hostility",
            )
        ),
        "signals.language.confidence",
        "signals.state.storm_level",
        "signals.state.brand_storm_level",
    } == scores


def test_the_examples_of_the_lint_docs_print_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (REPO / "docs" / "policies" / "lint.md").read_text(encoding="utf-8")
    examples = re.findall(r"```yaml\n(.*?)```\n\n```text\n(.*?)```", page, re.DOTALL)
    monkeypatch.chdir(tmp_path)

    assert len(LINT_CODES) == len(examples)
    for text, shown in examples:
        (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
        printed = "".join(p.format() + "\n" for p in lint_policy("p.yaml"))
        assert shown == printed
