"""Options around the analyzer: a guard's own analyzer, brand names, tags, inputs."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import spacy

from replyguard import Guard, Reply, Thread
from replyguard.analysis import Analyzer
from replyguard.analysis.lexicons import Lexicon, LexiconSet, Pattern, packaged_lexicons
from replyguard.analysis.reader import Reader
from replyguard.analysis.scorer import LinearScorer
from replyguard.errors import ConfigurationError, InvalidArgument, ReplyGuardWarning
from replyguard.policy import Policy

EXTENDS = "replyguard: 1\nname: t\nextends: [replyguard:default]\n"


def _thread(
    text: str, *, lang: str | None = None, handles: tuple[str, ...] = ("@Acme",)
):
    post: dict[str, object] = {
        "id": "1",
        "author": "@u",
        "kind": "original",
        "text": text,
    }
    if lang is not None:
        post["lang"] = lang
    return {"brand_handles": list(handles), "posts": [post]}


def test_a_guard_runs_with_an_analyzer_of_its_own() -> None:
    always = LinearScorer(
        signal="sarcasm", version="t", bias=9.0, weights={}, metadata={}
    )
    guard = Guard(Policy.packaged("default"), analyzer=Analyzer(sarcasm_model=always))

    signals = guard.analyze(_thread("@Acme where is my parcel?"))

    assert signals.sarcasm.model > 0.99
    assert signals.sarcasm.detected
    assert (
        Guard.default().analyze(_thread("@Acme where is my parcel?")).sarcasm.model
        < 0.99
    )


def test_a_guard_refuses_an_analyzer_of_the_wrong_type() -> None:
    with pytest.raises(InvalidArgument, match="analyzer must be an `Analyzer`"):
        Guard(Policy.packaged("default"), analyzer="fast")  # type: ignore[arg-type]


def test_analyzer_analyze_wants_models_and_says_so() -> None:
    analyzer = Analyzer(sarcasm_model=None)

    with pytest.raises(InvalidArgument, match="takes a `Thread`"):
        analyzer.analyze(_thread("hello"))  # type: ignore[arg-type]


def test_an_english_post_tagged_as_another_language_is_read_as_english() -> None:
    text = (
        "@Acme my card was declined twice today and nobody can tell me why, please help"
    )
    guard = Guard.default()

    tagged = guard.analyze(_thread(text, lang="es")).language
    spanish = guard.analyze(
        _thread(
            "@Acme mi tarjeta fue rechazada dos veces hoy y nadie me dice por qué",
            lang="es",
        )
    ).language

    assert ("en", True) == (tagged.lang, tagged.covered)
    assert ("es", False) == (spanish.lang, spanish.covered)


def test_names_read_off_handles_can_be_switched_off() -> None:
    text = "just had the best apple pie of my life"
    handles = ("@AppleSupport",)
    derived = Guard.default().analyze(_thread(text, handles=handles)).chain
    policy = Policy.from_string(EXTENDS + "brand: {derive_names: false}\n")
    plain = Guard(policy).analyze(_thread(text, handles=handles)).chain

    assert derived.addressed_to_brand
    assert not plain.addressed_to_brand


def test_a_child_policy_can_take_back_a_phrase_its_parent_added(tmp_path: Path) -> None:
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        EXTENDS.replace("name: t", "name: parent")
        + "lexicons:\n  grief: {add: [probate]}\n",
        encoding="utf-8",
    )
    child = tmp_path / "child.yaml"
    child.write_text(
        "replyguard: 1\nname: child\nextends: [parent.yaml]\n"
        "lexicons:\n  grief: {remove: [probate]}\n",
        encoding="utf-8",
    )
    text = "@Acme how long does probate take with you?"

    assert Guard.from_file(parent).analyze(_thread(text)).tone.grief >= 0.5
    assert 0.0 == Guard.from_file(child).analyze(_thread(text)).tone.grief


def test_a_pattern_on_tags_the_pipeline_does_not_set_is_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "give"}]], {"TAG": "VB"})
    nlp.to_disk(tmp_path / "pipeline")
    lemma = Lexicon(
        name="lemmas",
        terms={"zzz": 0.9},
        patterns=(Pattern(cue="giving", weight=0.9, tokens=({"LEMMA": "give"},)),),
    )
    lexicons = LexiconSet({**packaged_lexicons().lexicons, "lemmas": lemma})

    with pytest.warns(ReplyGuardWarning, match="reads LEMMA"):
        reader = Reader(lexicons, pipeline=str(tmp_path / "pipeline"), cache_size=0)

    assert () == reader.read("give me a refund").get("lemmas")


def test_the_blank_pipeline_drops_tag_patterns_without_a_word() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reader = Reader(cache_size=0)

    assert () == reader.read("Give me a poem").get("instructions")


def test_reply_validates_from_a_plain_string() -> None:
    assert Reply(text="hi") == Reply.model_validate("hi")


def test_a_missing_post_needs_no_text_but_others_do() -> None:
    thread = Thread.model_validate(
        {
            "posts": [
                {"id": "1", "author": "@a", "kind": "original", "missing": True},
                {
                    "id": "2",
                    "author": "@b",
                    "kind": "reply",
                    "in_reply_to": "1",
                    "text": "x",
                },
            ]
        }
    )

    assert "" == thread.posts[0].text
    with pytest.raises(
        ValueError, match="only a `missing: true` post may leave it out"
    ):
        Thread.model_validate(
            {"posts": [{"id": "1", "author": "@a", "kind": "original"}]}
        )


def test_a_guard_refuses_an_analyzer_built_for_other_lexicons() -> None:
    policy = Policy.from_string(EXTENDS + "lexicons:\n  grief: {add: [probate]}\n")

    with pytest.raises(ConfigurationError, match="other lexicons or another pipeline"):
        Guard(policy, analyzer=Analyzer(sarcasm_model=None))
    fitted = Analyzer(lexicons=policy.lexicons, pipeline=policy.nlp_pipeline)
    text = "@Acme how long does probate take with you?"
    assert Guard(policy, analyzer=fitted).analyze(_thread(text)).tone.grief >= 0.5
