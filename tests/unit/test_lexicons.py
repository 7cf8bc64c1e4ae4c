# (house style, STYLE.md 9: tests assert `expected == actual`)
"""The cue lexicons: the packaged set, the notations, and a policy's changes."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from replyguard import Action, Guard, PolicyError
from replyguard.analysis.lexicons import (
    MAX_EXPANSION,
    STRENGTHS,
    Lexicon,
    LexiconChange,
    LexiconSet,
    expand,
    packaged_lexicons,
    parse_lexicon,
)
from replyguard.analysis.reader import Reader
from replyguard.errors import ConfigurationError
from replyguard.policy import Policy

FOLDER = resources.files("replyguard") / "_data" / "lexicons"
FILES = sorted(
    (entry for entry in FOLDER.iterdir() if entry.name.endswith(".yaml")),
    key=lambda entry: entry.name,
)

BRAND = ["@Acme"]


@pytest.fixture(scope="module")
def reader() -> Reader:
    """Return a reader of the packaged lexicons that keeps no cache."""
    return Reader(cache_size=0)


def _one_post(text: str) -> dict[str, Any]:
    return {
        "brand_handles": BRAND,
        "posts": [{"id": "1", "author": "@mourner", "text": text, "kind": "original"}],
    }


# --- the packaged set ---------------------------------------------------------------


def test_there_are_lexicon_files() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("entry", FILES, ids=[entry.name for entry in FILES])
def test_every_packaged_file_parses_into_a_lexicon_named_after_it(entry: Any) -> None:
    data = yaml.safe_load(entry.read_text(encoding="utf-8"))

    lexicon = parse_lexicon(entry.name, data)

    assert entry.name.removesuffix(".yaml") == lexicon.name
    assert lexicon.terms or lexicon.patterns
    assert lexicon.description
    assert lexicon.signal


def test_lexicon_names_are_unique_and_every_file_is_loaded() -> None:
    names = [yaml.safe_load(e.read_text(encoding="utf-8"))["name"] for e in FILES]

    assert len(names) == len(set(names))
    assert tuple(sorted(names)) == packaged_lexicons().names


def test_every_weight_is_in_zero_to_one() -> None:
    outside = [
        (lexicon.name, term, weight)
        for lexicon in packaged_lexicons()
        for term, weight in lexicon.terms.items()
        if not 0.0 < weight <= 1.0
    ]
    outside += [
        (lexicon.name, pattern.cue, pattern.weight)
        for lexicon in packaged_lexicons()
        for pattern in lexicon.patterns
        if not 0.0 < pattern.weight <= 1.0
    ]

    assert [] == outside


def test_packaged_terms_are_expanded_casefolded_and_single_spaced() -> None:
    odd = [
        (lexicon.name, term)
        for lexicon in packaged_lexicons()
        for term in lexicon.terms
        if term != term.casefold()
        or term != " ".join(term.split())
        or "{" in term
        or "|" in term
        or not term
    ]

    assert [] == odd


def test_hashtag_prefixes_and_sentence_starts_are_well_formed() -> None:
    terms = [t for lexicon in packaged_lexicons() for t in lexicon.terms]
    prefixes = [t for t in terms if t.startswith("#") and t.endswith("*")]
    starts = [t for t in terms if t.startswith("^")]

    assert prefixes
    assert starts
    assert all(t.startswith("#") and len(t) > 2 for t in prefixes)
    assert all(t[1:].strip() for t in starts)


def test_the_grief_alternatives_are_expanded() -> None:
    grief = packaged_lexicons()["grief"].terms

    assert 0.9 == grief["my dad passed away"]
    assert 0.9 == grief["our beloved dog died"]
    assert 0.9 == grief["she passed away"]


def test_the_vocabulary_holds_the_words_of_the_terms() -> None:
    vocabulary = packaged_lexicons().vocabulary

    assert {"fraud", "scam", "idiots", "boycott", "funeral"} <= vocabulary
    assert all(len(word) >= 3 for word in vocabulary)


def test_every_packaged_term_is_found_when_read_alone(reader: Reader) -> None:
    unreachable = []
    for lexicon in packaged_lexicons():
        for term in lexicon.terms:
            text = term
            if term.startswith("#") and term.endswith("*"):
                text = term[:-1] + "acme"
            elif term.startswith("^"):
                text = term[1:].strip()
            hits = reader.read(text).get(lexicon.name)
            if not any((0, len(text)) == (h.start, h.end) for h in hits):
                unreachable.append((lexicon.name, term))

    assert [] == unreachable


# --- expansion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        pytest.param("plain words", ["plain words"], id="no-alternatives"),
        pytest.param(
            "{my|our} {mom|dad} died",
            ["my mom died", "my dad died", "our mom died", "our dad died"],
            id="two-groups",
        ),
        pytest.param("{|big }dog", ["dog", "big dog"], id="empty-alternative"),
        pytest.param("a {b|} c", ["a b c", "a c"], id="spaces-folded"),
        pytest.param("{x|y}", ["x", "y"], id="whole-term"),
    ],
)
def test_expand(term: str, expected: list[str]) -> None:
    assert expected == expand("here", term)


def test_expand_folds_spaces_of_a_plain_term() -> None:
    assert ["lost my nan"] == expand("here", "lost  my nan")


def test_expand_refuses_more_than_the_limit_and_names_where() -> None:
    term = "{a|b|c|d|e|f|g|h|i|j}" * 5  # 100 000 phrases

    with pytest.raises(
        ConfigurationError, match=r"^grief\.yaml: terms\.strong\[3\]: "
    ) as info:
        expand("grief.yaml: terms.strong[3]", term)

    assert f"more than {MAX_EXPANSION} phrases" in str(info.value)


def test_expand_accepts_exactly_the_limit() -> None:
    term = "{a|b|c|d|e|f|g|h|i|j}" * 4  # 10 000 phrases

    assert 10_000 == len(expand("here", term))


# --- parsing a lexicon document ------------------------------------------------------


def test_parse_lexicon_reads_strengths_numbers_and_patterns() -> None:
    lexicon = parse_lexicon(
        "x.yaml",
        {
            "name": "x",
            "signal": "tone.x",
            "description": "one\n  two",
            "terms": {"strong": ["A B"], "weak": "c", 0.45: ["d"]},
            "patterns": [{"cue": "p", "weight": "weak", "tokens": [{"LOWER": "e"}]}],
        },
    )

    assert {"a b": 0.9, "c": 0.3, "d": 0.45} == dict(lexicon.terms)
    assert "one two" == lexicon.description
    assert [("p", 0.3)] == [(p.cue, p.weight) for p in lexicon.patterns]


def test_parse_lexicon_keeps_the_strongest_weight_of_a_repeated_term() -> None:
    lexicon = parse_lexicon(
        "x.yaml", {"name": "x", "terms": {"weak": ["dup"], "strong": ["dup"]}}
    )

    assert {"dup": 0.9} == dict(lexicon.terms)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param([], r"^x\.yaml: a lexicon is a mapping with a `name`$", id="list"),
        pytest.param({"terms": []}, r"^x\.yaml: a lexicon is a mapping", id="no-name"),
        pytest.param(
            {"name": "x", "colour": "red"}, r"^x\.yaml: unknown key `colour`$", id="key"
        ),
        pytest.param(
            {"name": "x", "terms": {"huge": ["a"]}},
            r"^x\.yaml: terms\.huge: unknown strength `huge`",
            id="strength",
        ),
        pytest.param(
            {"name": "x", "terms": {1.5: ["a"]}},
            r"^x\.yaml: terms\.1\.5: weight 1\.5 is outside 0\.\.1$",
            id="weight",
        ),
        pytest.param(
            {"name": "x", "patterns": [{"cue": "p"}]},
            r"^x\.yaml: patterns\[0\]: expected a mapping with `tokens`",
            id="pattern-without-tokens",
        ),
        pytest.param(
            {"name": "x", "patterns": [{"tokens": []}]},
            r"^x\.yaml: patterns\[0\]\.tokens: expected a non-empty list",
            id="pattern-empty",
        ),
    ],
)
def test_parse_lexicon_errors_name_where(data: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        parse_lexicon("x.yaml", data)


# --- LexiconChange.parse -------------------------------------------------------------


def test_change_parse_list_is_strong_and_mapping_takes_strengths() -> None:
    change = LexiconChange.parse(
        "p.yaml: lexicons.grief",
        {"add": {"strong": ["Lost My Nan"], "weak": "sad day"}, "remove": "rip"},
    )

    assert {"lost my nan": 0.9, "sad day": 0.3} == dict(change.add)
    assert ("rip",) == change.remove
    assert {"a": STRENGTHS["strong"]} == dict(
        LexiconChange.parse("w", {"add": ["a"]}).add
    )


def test_change_parse_expands_alternatives_in_additions() -> None:
    change = LexiconChange.parse("w", {"add": ["lost my {nan|nana}"]})

    assert {"lost my nan": 0.9, "lost my nana": 0.9} == dict(change.add)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(
            None, r"^p\.yaml: lexicons\.grief: expected a mapping with", id="none"
        ),
        pytest.param(
            ["a"], r"^p\.yaml: lexicons\.grief: expected a mapping with", id="list"
        ),
        pytest.param(
            {"add": ["a"], "drop": ["b"]},
            r"^p\.yaml: lexicons\.grief: unknown key `drop` \(expected `add` or `remove`\)$",
            id="unknown-key",
        ),
        pytest.param(
            {"add": 3},
            r"^p\.yaml: lexicons\.grief\.add: expected a list of phrases or a mapping",
            id="add-number",
        ),
        pytest.param(
            {"add": {"huge": ["a"]}},
            r"^p\.yaml: lexicons\.grief\.add\.huge: unknown strength `huge` "
            r"\(expected one of strong, medium, weak or a number in 0\.\.1\)$",
            id="unknown-strength",
        ),
        pytest.param(
            {"add": {"strong": 3}},
            r"^p\.yaml: lexicons\.grief\.add\.strong: expected a list of phrases$",
            id="strength-not-list",
        ),
        pytest.param(
            {"add": ["ok", "  "]},
            r"^p\.yaml: lexicons\.grief\.add\.strong\[1\]: expected a non-empty phrase",
            id="blank-phrase",
        ),
        pytest.param(
            {"add": [3]},
            r"^p\.yaml: lexicons\.grief\.add\.strong\[0\]: expected a non-empty phrase",
            id="number-phrase",
        ),
        pytest.param(
            {"remove": [3]},
            r"^p\.yaml: lexicons\.grief\.remove: expected a list of phrases$",
            id="remove-number",
        ),
        pytest.param(
            {"remove": {"a": 1}},
            r"^p\.yaml: lexicons\.grief\.remove: expected a list of phrases$",
            id="remove-mapping",
        ),
        pytest.param(
            {"add": ["{a|b|c|d|e|f|g|h|i|j}" * 5]},
            r"^p\.yaml: lexicons\.grief\.add\.strong\[0\]: .* expands into more than",
            id="expansion-limit",
        ),
    ],
)
def test_change_parse_errors_name_where(data: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        LexiconChange.parse("p.yaml: lexicons.grief", data)


# --- LexiconSet.changed --------------------------------------------------------------


def test_changed_adds_and_removes_without_touching_the_packaged_set() -> None:
    packaged = packaged_lexicons()
    change = LexiconChange.parse(
        "w", {"add": {"strong": ["lost my nan"]}, "remove": ["rip", "{my|our} late"]}
    )

    changed = packaged.changed({"grief": change})

    assert 0.9 == changed["grief"].terms["lost my nan"]
    assert "rip" not in changed["grief"].terms
    assert "my late" not in changed["grief"].terms
    assert "our late" not in changed["grief"].terms
    assert "his late" in changed["grief"].terms
    assert "lost my nan" not in packaged["grief"].terms
    assert "rip" in packaged["grief"].terms
    assert changed["hostility"] is packaged["hostility"]
    assert changed.fingerprint != packaged.fingerprint


def test_changed_removal_is_case_insensitive_and_addition_wins() -> None:
    lexicon = Lexicon(name="x", terms={"rip": 0.6, "funeral": 0.9})

    changed = lexicon.changed(
        LexiconChange(add={"funeral": 0.3}, remove=("RIP", "funeral"))
    )

    assert {"funeral": 0.3} == dict(changed.terms)


def test_no_changes_return_the_same_set() -> None:
    packaged = packaged_lexicons()

    assert packaged is packaged.changed({})


def test_unknown_lexicon_error_lists_the_known_ones() -> None:
    known = ", ".join(packaged_lexicons().names)

    with pytest.raises(ConfigurationError) as info:
        packaged_lexicons().changed({"gref": LexiconChange(add={"x": 0.6})})

    assert f"unknown lexicon `gref` (known: {known})" == str(info.value)
    assert isinstance(info.value, LookupError)


def test_lookup_of_an_unknown_lexicon_lists_the_known_ones() -> None:
    lexicons = LexiconSet({"a": Lexicon("a", {}), "b": Lexicon("b", {})})

    with pytest.raises(
        ConfigurationError, match=r"^unknown lexicon `c` \(known: a, b\)$"
    ):
        lexicons["c"]


def test_added_words_join_the_leetspeak_vocabulary() -> None:
    change = LexiconChange.parse("w", {"add": {"strong": ["grifters"]}})

    changed = packaged_lexicons().changed({"hostility": change})

    assert "grifters" not in packaged_lexicons().vocabulary
    assert "grifters" in changed.vocabulary
    hits = Reader(changed, cache_size=0).read("you gr1ft3rs").get("hostility")
    assert [("grifters", "gr1ft3rs")] == [(h.cue, h.text) for h in hits]


# --- the notations, as the reader applies them ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("#BoycottAcme today", ["#boycottacme"], id="prefix-camel"),
        pytest.param("join #unionizeNOW", ["#unionizenow"], id="prefix-upper"),
        pytest.param("#boycott", ["#boycott"], id="bare-tag-is-a-term"),
        pytest.param("no#BoycottAcme", [], id="not-a-hashtag"),
        pytest.param("##BoycottAcme", [], id="double-hash"),
        pytest.param("boycottacme", [], id="no-hash"),
    ],
)
def test_hashtag_prefix_terms(reader: Reader, text: str, expected: list[str]) -> None:
    assert expected == [h.cue for h in reader.read(text).get("activism")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Admit it, you lost my bag", ["admit it"], id="text-start"),
        pytest.param("@Acme @bo admit it.", ["admit it"], id="after-handles"),
        pytest.param("Fine. Admit it!", ["admit it"], id="after-full-stop"),
        pytest.param("ok\nadmit it", ["admit it"], id="after-newline"),
        pytest.param("I admit it was my fault", [], id="mid-sentence"),
        pytest.param("we all admit it", [], id="mid-sentence-2"),
    ],
)
def test_sentence_start_terms(reader: Reader, text: str, expected: list[str]) -> None:
    assert expected == [h.cue for h in reader.read(text).get("instructions")]


# --- a policy's `lexicons:` ----------------------------------------------------------

NAN = "@Acme lost my nan on Sunday. Please close her account"
CHEERFUL = "Great news! We'd love to help 🎉"

EXTENDS = 'replyguard: 1\nname: nan\nextends: ["replyguard:default"]\n'


@pytest.fixture(scope="module")
def strong_nan_guard() -> Guard:
    policy = Policy.from_string(
        EXTENDS + "lexicons:\n  grief: {add: {strong: [lost my nan]}}\n"
    )
    return Guard(policy)


def test_a_policy_addition_changes_what_the_guard_sees(
    strong_nan_guard: Guard,
) -> None:
    default = Guard.default()

    before = default.analyze(_one_post(NAN), CHEERFUL)
    after = strong_nan_guard.analyze(_one_post(NAN), CHEERFUL)

    assert 0.0 == before.tone.grief
    assert after.tone.grief >= strong_nan_guard.policy.thresholds["grief"]
    assert [("grief:lost my nan", "1", 6, 17, "lost my nan")] == [
        (e.cue, e.post_id, e.start, e.end, e.text) for e in after.tone.evidence
    ]
    assert Action.ALLOW != default.review(CHEERFUL, _one_post(NAN)).action
    decision = strong_nan_guard.review(CHEERFUL, _one_post(NAN))
    assert Action.ESCALATE == decision.action
    assert "grief-needs-a-person" in decision.rules


def test_a_policy_list_addition_counts_like_a_strong_one(
    strong_nan_guard: Guard,
) -> None:
    guard = Guard(
        Policy.from_string(EXTENDS + "lexicons:\n  grief: {add: [lost my nan]}\n")
    )
    weak = Guard(
        Policy.from_string(
            EXTENDS + "lexicons:\n  grief: {add: {weak: [lost my nan]}}\n"
        )
    )

    listed = guard.analyze(_one_post(NAN)).tone.grief
    strong = strong_nan_guard.analyze(_one_post(NAN)).tone.grief

    assert 0.0 < weak.analyze(_one_post(NAN)).tone.grief < listed == strong


def test_a_policy_removal_changes_what_the_guard_sees() -> None:
    text = "@Acme rip to my weekend plans, the app crashed again"
    guard = Guard(Policy.from_string(EXTENDS + "lexicons:\n  grief: {remove: [rip]}\n"))

    assert Guard.default().analyze(_one_post(text)).tone.grief > 0
    assert 0.0 == guard.analyze(_one_post(text)).tone.grief


def test_a_policy_with_an_unknown_lexicon_is_a_policy_error() -> None:
    text = "replyguard: 1\nname: t\nlexicons:\n  gref: {add: [lost my nan]}\n"

    with pytest.raises(PolicyError) as info:
        Policy.from_string(text, file="brand.yaml")

    assert [("policy.unknown_lexicon", "brand.yaml")] == [
        (p.code, p.file) for p in info.value.problems
    ]
    problem = info.value.problems[0]
    assert "`gref`" in problem.message
    assert "did you mean `grief`?" == problem.help


def test_the_unknown_lexicon_problem_has_a_location() -> None:
    text = "replyguard: 1\nname: t\nlexicons:\n  gref: {add: [lost my nan]}\n"

    with pytest.raises(PolicyError) as info:
        Policy.from_string(text, file="brand.yaml")

    assert (4, 3) == (info.value.problems[0].line, info.value.problems[0].column)


@pytest.mark.parametrize(
    "add",
    [
        pytest.param('["  "]', id="blank-phrase"),
        pytest.param("['" + "{a|b|c|d|e|f|g|h|i|j}" * 5 + "']", id="expansion-limit"),
    ],
)
def test_a_bad_phrase_in_a_policy_is_a_policy_error(add: str) -> None:
    text = f"replyguard: 1\nname: t\nlexicons:\n  grief: {{add: {add}}}\n"

    with pytest.raises(PolicyError) as info:
        Policy.from_string(text, file="brand.yaml")

    assert ["brand.yaml"] == [p.file for p in info.value.problems]


def test_lexicon_changes_change_the_policy_hash() -> None:
    plain = Policy.from_string("replyguard: 1\nname: t\n")
    changed = Policy.from_string(
        "replyguard: 1\nname: t\nlexicons:\n  grief: {add: [lost my nan]}\n"
    )

    assert plain.hash != changed.hash


def test_a_trained_pipeline_named_in_the_policy_runs_and_its_tags_are_used(
    tmp_path: Path,
) -> None:
    import spacy  # noqa: PLC0415 - building a tiny "trained" pipeline on disk

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "give"}]], {"TAG": "VB", "POS": "VERB"})
    nlp.to_disk(tmp_path / "pipeline")
    policy = Policy.from_string(
        EXTENDS + f"nlp: {{model: {json.dumps(str(tmp_path / 'pipeline'))}}}\n"
    )
    text = "@Acme Give me something nice about your fees"

    tagged = Guard(policy).analyze(_one_post(text)).intent
    blank = Guard.default().analyze(_one_post(text)).intent

    assert 0.0 == blank.instructions
    assert 0.0 < tagged.instructions
    reading = Reader(pipeline=str(tmp_path / "pipeline"), cache_size=0).read(text)
    assert [("imperative", "Give me")] == [
        (hit.cue, hit.text) for hit in reading.get("instructions")
    ]


def test_an_uninstalled_pipeline_is_a_clear_configuration_error() -> None:
    policy = Policy.from_string(EXTENDS + "nlp: {model: en_core_web_nope}\n")

    with pytest.raises(ConfigurationError, match="`en_core_web_nope` is not installed"):
        Guard(policy)
