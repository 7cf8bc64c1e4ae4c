# (house style, STYLE.md 9: tests assert `expected == actual`)
"""LinearScorer: featurisation, scoring, explanation, model files and the shipped model."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replyguard.analysis import scorer as scorer_module
from replyguard.analysis._text import HANDLE
from replyguard.analysis.scorer import (
    FORMAT,
    FeatureConfig,
    LinearScorer,
    available_models,
    text_features,
)
from replyguard.errors import ConfigurationError, InvalidArgument

TINY = LinearScorer(
    signal="sarcasm",
    version="test.1",
    bias=-1.0,
    weights={
        "w:love": 2.0,
        "w:<s> oh": 0.5,
        "w:http": -1.0,
        "s:contrast": 0.75,
        "cue:eye_roll": 1.5,
    },
    metadata={"threshold": 0.6, "note": "hand-made"},
)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _words(text: str, config: FeatureConfig | None = None) -> set[str]:
    return {name for name in text_features(text, config) if name.startswith("w:")}


# --- featurisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("hi @BofA_Help", id="x"),
        pytest.param("hi @alice@mastodon.social", id="mastodon"),
        pytest.param("hi @alice.bsky.social", id="bluesky"),
    ],
)
def test_handles_become_user(text: str) -> None:
    assert {"w:hi", "w:@user", "w:<s> hi", "w:hi @user", "w:@user </s>"} == _words(text)


def test_links_become_http() -> None:
    assert {"w:see", "w:http", "w:<s> see", "w:see http", "w:http </s>"} == _words(
        "see https://t.co/Ab12?x=1"
    )


def test_digit_runs_become_zero() -> None:
    words = _words("on hold for 45 minutes, ticket 2024")

    assert {"w:0", "w:0 minutes", "w:ticket 0"} <= words
    assert not any(ch.isdigit() and ch != "0" for name in words for ch in name)


def test_text_is_lowercased_and_capitals_are_a_shape() -> None:
    features = text_features("I just LOVE it")

    assert "w:love" in features
    assert "w:LOVE" not in features
    assert 1.0 == features["s:allcaps"]


def test_capitals_in_handles_and_links_are_no_shouting() -> None:
    assert "s:allcaps" not in text_features("thanks @BBCNews see https://x.co/ABCDEF")


def test_elongation_is_cut_to_two_letters() -> None:
    features = text_features("sooooo helpful")

    assert {"w:soo", "w:soo helpful"} <= set(features)
    assert 1.0 == features["s:elongated"]


@pytest.mark.parametrize(
    ("text", "token"),
    [
        pytest.param("what?!?!", "w:?!", id="mixed"),
        pytest.param("what!!!", "w:!!", id="bangs"),
        pytest.param("what???", "w:??", id="queries"),
        pytest.param("what…", "w:...", id="ellipsis-char"),
        pytest.param("what.....", "w:...", id="dots"),
        pytest.param("what :)", "w::)", id="emoticon"),
    ],
)
def test_runs_of_marks_are_canonical_tokens(text: str, token: str) -> None:
    assert token in _words(text)


def test_emoji_are_tokens_without_skin_tones_or_selectors() -> None:
    words = _words("great 👍🏽 ☺️ 🙃")

    assert {"w:👍", "w:☺", "w:🙃", "w:great 👍", "w:👍 ☺"} <= words


def test_typographic_apostrophes_are_plain_ones() -> None:
    assert _words("don\u2019t") == _words("don't")


def test_html_entities_are_decoded() -> None:
    assert "w:amp" not in text_features("salt &amp; pepper")


def test_boundaries_mark_the_start_and_end_but_never_alone() -> None:
    words = _words("Oh great, yeah right")

    assert {"w:<s> oh", "w:right </s>"} <= words
    assert "w:<s>" not in words
    assert "w:</s>" not in words


def test_boundaries_can_be_turned_off() -> None:
    words = _words("oh great", FeatureConfig(boundaries=False))

    assert {"w:oh", "w:great", "w:oh great"} == words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("our “service” again", True, id="curly-double"),
        pytest.param('the "fast" lane', True, id="double"),
        pytest.param("the 'help desk' said", True, id="single"),
        pytest.param("don't and won't", False, id="apostrophes"),
        pytest.param('he said "this is a long quoted sentence here"', False, id="long"),
    ],
)
def test_scare_quotes(text: str, expected: bool) -> None:
    assert expected == ("s:scare_quote" in text_features(text))


def test_lexicon_features() -> None:
    assert {
        "s:positive",
        "s:positive_opening",
        "s:negative",
        "s:contrast",
    } <= set(text_features("Love waiting on hold for an hour"))
    assert {"s:positive"} == {
        n for n in text_features("the food was great") if n.startswith("s:")
    }
    assert {"s:negative"} == {
        n for n in text_features("stuck in traffic") if n.startswith("s:")
    }


def test_shape_and_lexicon_can_be_turned_off() -> None:
    config = FeatureConfig(shape=False, lexicon=False)

    assert not any(
        n.startswith("s:") for n in text_features("I LOVE “waiting” sooo", config)
    )


def test_cues_are_prefixed_and_zero_cues_left_out() -> None:
    features = text_features("yeah right", cues={"eye_roll": 0.6, "stock_phrase": 0.0})

    assert 0.6 == features["cue:eye_roll"]
    assert "cue:stock_phrase" not in features


def test_char_ngrams_stay_inside_words() -> None:
    features = text_features("love it", FeatureConfig(char_ngrams=(3, 4)))
    chars = {n for n in features if n.startswith("c:")}

    assert {
        "c: lo",
        "c:lov",
        "c:ove",
        "c:ve ",
        "c: lov",
        "c:love",
        "c:ove ",
        "c: it",
        "c:it ",
        "c: it ",
    } == chars


def test_empty_text_has_only_the_boundary_bigram() -> None:
    assert {"w:<s> </s>": 1.0} == text_features("")


@given(st.text())
def test_fast_handle_pattern_matches_the_shared_one(text: str) -> None:
    assert HANDLE.sub("@user", text) == scorer_module._HANDLE.sub("@user", text)


# --- feature configuration -----------------------------------------------------------


def test_feature_config_round_trips() -> None:
    config = FeatureConfig(word_ngrams=(1, 3), char_ngrams=(2, 4), lexicon=False)

    assert config == FeatureConfig.from_dict(config.to_dict())
    assert FeatureConfig() == FeatureConfig.from_dict({})


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(
            {"word_ngrams": [2, 1]}, "`word_ngrams` must be a range", id="reversed"
        ),
        pytest.param({"word_ngrams": None}, "`word_ngrams` must be a range", id="none"),
        pytest.param(
            {"char_ngrams": [0, 3]}, "`char_ngrams` must be a range", id="zero"
        ),
        pytest.param(
            {"char_ngrams": "3-4"}, "`char_ngrams` must be a range", id="string"
        ),
        pytest.param({"shape": "yes"}, "`shape` must be true or false", id="shape"),
        pytest.param(
            {"hashing": True}, "unknown feature setting `hashing`", id="unknown"
        ),
    ],
)
def test_feature_config_errors(data: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        FeatureConfig.from_dict(data)


# --- scoring ---------------------------------------------------------------------------


def test_score_is_the_sigmoid_of_the_weighted_sum() -> None:
    # w:love (2.0) + w:<s> oh (0.5) + bias (-1.0); nothing else is known to the model
    assert _sigmoid(1.5) == pytest.approx(TINY.score("Oh I love it"))


def test_score_weighs_cues() -> None:
    plain = TINY.score("I love it")

    assert _sigmoid(1.0) == pytest.approx(plain)
    assert _sigmoid(1.0 + 1.5 * 0.5) == pytest.approx(
        TINY.score("I love it", cues={"eye_roll": 0.5, "unknown": 1.0})
    )


def test_unknown_features_weigh_nothing() -> None:
    assert _sigmoid(-1.0) == pytest.approx(TINY.score("the meeting is on Thursday"))


def test_explain_returns_the_biggest_positive_contributions() -> None:
    text = "Oh I love waiting https://x.co"

    assert [("w:love", 2.0), ("s:contrast", 0.75), ("w:<s> oh", 0.5)] == TINY.explain(
        text
    )
    assert [("w:love", 2.0)] == TINY.explain(text, top=1)
    assert [("w:love", 2.0), ("cue:eye_roll", 1.5)] == TINY.explain(
        "I love it", cues={"eye_roll": 1.0}, top=2
    )


def test_explain_leaves_out_negative_contributions() -> None:
    assert [] == TINY.explain("see https://x.co")


def test_features_of_a_scorer_follow_its_configuration() -> None:
    assert text_features("love it", FeatureConfig()) == TINY.features("love it")


def test_constructor_keeps_only_non_zero_weights() -> None:
    scorer = LinearScorer(
        signal="s", version="1", bias=0, weights={"w:a": 0.0, "w:b": 1}
    )

    assert {"w:b": 1.0} == dict(scorer.weights)
    assert 0.5 == scorer.threshold


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(
            {"weights": {"w:a": math.nan}},
            "weight of `w:a` must be a finite number",
            id="nan",
        ),
        pytest.param(
            {"weights": {"w:a": "1"}},
            "weight of `w:a` must be a finite number",
            id="string",
        ),
        pytest.param(
            {"weights": {"hash:12": 1.0}},
            "feature `hash:12` must start with",
            id="prefix",
        ),
        pytest.param({"bias": math.inf}, "`bias` must be a finite number", id="bias"),
        pytest.param(
            {"metadata": {"features": [1, 2]}},
            "`metadata.features` must be a mapping",
            id="features",
        ),
    ],
)
def test_constructor_errors(kwargs: dict[str, Any], match: str) -> None:
    arguments: dict[str, Any] = {
        "signal": "s",
        "version": "1",
        "bias": 0.0,
        "weights": {},
    }
    arguments |= kwargs
    with pytest.raises(InvalidArgument, match=match):
        LinearScorer(**arguments)


@given(st.text(), st.dictionaries(st.text(max_size=5), st.floats(0, 1), max_size=3))
def test_packaged_score_is_a_probability_for_any_text(
    text: str, cues: dict[str, float]
) -> None:
    scorer = LinearScorer.packaged("sarcasm")
    score = scorer.score(text, cues)

    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(
        _sigmoid(
            scorer.bias
            + sum(
                scorer.weights.get(n, 0.0) * v
                for n, v in scorer.features(text, cues).items()
            )
        )
    )


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(FeatureConfig(word_ngrams=(1, 3)), id="trigrams"),
        pytest.param(FeatureConfig(boundaries=False), id="no-boundaries"),
        pytest.param(FeatureConfig(char_ngrams=(3, 4)), id="char-ngrams"),
    ],
)
def test_score_agrees_with_features_in_every_configuration(
    config: FeatureConfig,
) -> None:
    text = "Oh I LOVE waiting, sooo fun!! @x https://x.co 🙃"
    features = text_features(text, config, {"eye_roll": 0.5})
    weights = {name: (i % 7 - 3) / 10 for i, name in enumerate(sorted(features))}
    scorer = LinearScorer(
        signal="s",
        version="1",
        bias=0.1,
        weights=weights,
        metadata={"features": config.to_dict()},
    )

    assert {"w:i love waiting"} <= set(features) or config.word_ngrams != (1, 3)
    assert _sigmoid(
        0.1 + sum(weights.get(n, 0.0) * v for n, v in features.items())
    ) == pytest.approx(scorer.score(text, {"eye_roll": 0.5}))


def test_extreme_weights_still_give_a_probability() -> None:
    scorer = LinearScorer(
        signal="s", version="1", bias=0.0, weights={"w:a": 1e6, "w:b": -1e6}
    )

    assert 1.0 == scorer.score("a")
    assert 0.0 == scorer.score("b")


# --- model files -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["model.json", "model.json.gz"])
def test_save_load_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    TINY.save(path)
    loaded = LinearScorer.load(path)

    assert dict(TINY.weights) == dict(loaded.weights)
    assert TINY.bias == loaded.bias
    assert dict(TINY.metadata) == dict(loaded.metadata)
    assert (TINY.signal, TINY.version) == (loaded.signal, loaded.version)
    for text in ["Oh I love waiting", "see https://x.co", ""]:
        assert TINY.score(text, {"eye_roll": 1.0}) == loaded.score(
            text, {"eye_roll": 1.0}
        )


def test_save_is_deterministic(tmp_path: Path) -> None:
    TINY.save(tmp_path / "a.json.gz")
    TINY.save(tmp_path / "b.json.gz")

    assert (tmp_path / "a.json.gz").read_bytes() == (
        tmp_path / "b.json.gz"
    ).read_bytes()
    assert (
        FORMAT
        == json.loads(gzip.decompress((tmp_path / "a.json.gz").read_bytes()))["format"]
    )


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json.gz"
    with pytest.raises(
        ConfigurationError, match=r"nope\.json\.gz: scorer model not found"
    ):
        LinearScorer.load(path)


def test_load_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read scorer model"):
        LinearScorer.load(tmp_path)


def test_load_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": \n  oops}', encoding="utf-8")

    with pytest.raises(
        ConfigurationError, match=r"bad\.json:2:3: scorer model is not valid json"
    ):
        LinearScorer.load(path)


def test_load_bad_gzip(tmp_path: Path) -> None:
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(b'{"format": 1}')[:12])

    with pytest.raises(
        ConfigurationError,
        match=r"bad\.json\.gz: scorer model is not a valid gzip file",
    ):
        LinearScorer.load(path)


def test_load_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"signal": "caf\xe9"}')

    with pytest.raises(
        ConfigurationError, match=r"latin\.json: scorer model is not UTF-8"
    ):
        LinearScorer.load(path)


GOOD = {
    "format": FORMAT,
    "signal": "sarcasm",
    "version": "1",
    "bias": 0.0,
    "metadata": {},
    "weights": {"w:love": 1.0},
}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param(
            {"format": "sklearn"},
            "`format` must be `replyguard.linear_scorer.v1`, found `sklearn`",
            id="format",
        ),
        pytest.param({"signal": 3}, "`signal` must be a string", id="signal"),
        pytest.param({"bias": "0"}, "`bias` must be a number", id="bias"),
        pytest.param({"bias": True}, "`bias` must be a number", id="bias-bool"),
        pytest.param(
            {"weights": [["w:love", 1.0]]},
            "`weights` must map feature names to numbers",
            id="weights",
        ),
        pytest.param(
            {"weights": {"w:love": None}},
            "weight of `w:love` must be a finite number",
            id="weight",
        ),
        pytest.param({"metadata": []}, "`metadata` must be an object", id="metadata"),
        pytest.param(
            {"metadata": {"features": {"word_ngrams": [3, 1]}}},
            "`word_ngrams` must be a range",
            id="config",
        ),
    ],
)
def test_load_wrong_schema(tmp_path: Path, change: dict[str, Any], match: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(GOOD | change), encoding="utf-8")

    with pytest.raises(
        ConfigurationError, match=r"model\.json: not a scorer model: "
    ) as info:
        LinearScorer.load(path)
    assert match in str(info.value)


def test_load_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")

    with pytest.raises(
        ConfigurationError,
        match=r"list\.json: not a scorer model: the document must be an object",
    ):
        LinearScorer.load(path)


def test_load_error_is_a_lookup_error(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        LinearScorer.load(tmp_path / "missing.json")


# --- the shipped model -----------------------------------------------------------------


def test_packaged_models_are_listed() -> None:
    assert "sarcasm" in available_models()


def test_packaged_model_loads_once() -> None:
    scorer = LinearScorer.packaged("sarcasm")

    assert scorer is LinearScorer.packaged("sarcasm")
    assert "sarcasm" == scorer.signal
    assert FeatureConfig() == scorer.config
    assert 0.0 < scorer.threshold < 1.0
    assert "iSarcasmEval" in scorer.metadata["data"]["name"]
    assert "MIT" in scorer.metadata["data"]["licence"]
    assert {"auc", "f1", "precision", "recall", "threshold"} <= set(
        scorer.metadata["cv"]
    )
    assert 0 < len(scorer.weights) <= 5000


def test_packaged_model_file_is_small() -> None:
    path = (
        Path(scorer_module.__file__).parent.parent
        / "_data"
        / "models"
        / "sarcasm.json.gz"
    )

    assert path.stat().st_size < 1_500_000


@pytest.mark.parametrize(
    ("sarcastic", "sincere"),
    [
        pytest.param(
            "Oh great, my flight got cancelled again. I just love spending my whole weekend waiting at the airport 🙄",
            "The meeting was moved to Thursday because the room was booked.",
            id="flight",
        ),
        pytest.param(
            "Wow, thanks so much for losing my bag. Fantastic service as always 🙃",
            "Please send me the form for the refund, my account number changed last month.",
            id="bag",
        ),
    ],
)
def test_packaged_model_scores_sarcasm_higher(sarcastic: str, sincere: str) -> None:
    scorer = LinearScorer.packaged("sarcasm")

    assert scorer.score(sarcastic) > scorer.score(sincere) + 0.2


def test_unknown_packaged_model_lists_the_available_ones() -> None:
    with pytest.raises(
        ConfigurationError,
        match="no packaged scorer model `irony`; available: `sarcasm`",
    ):
        LinearScorer.packaged("irony")


@pytest.mark.parametrize("name", ["../sarcasm", "Sarcasm", "", 3])
def test_packaged_model_name_is_checked(name: object) -> None:
    with pytest.raises(InvalidArgument, match="model name must be"):
        LinearScorer.packaged(name)  # type: ignore[arg-type]


def test_repr_names_the_model() -> None:
    assert "LinearScorer(signal='sarcasm', version='test.1', features=5)" == repr(TINY)
