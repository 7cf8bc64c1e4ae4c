# (house style, STYLE.md 9: tests assert `expected == actual`)
"""Training: reading labelled CSV files, and fitting a LinearScorer with cross-validation."""

from __future__ import annotations

import json
import random
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from replyguard.analysis.scorer import FeatureConfig, LinearScorer
from replyguard.errors import ConfigurationError, InvalidArgument, InvalidInput
from replyguard.training import (
    Example,
    TrainingReport,
    read_labelled_csv,
    strip_label_markers,
    train_scorer,
)

# --- read_labelled_csv -----------------------------------------------------------------


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_examples_and_skips_empty_texts(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        ",tweet,sarcastic,rephrase\n"
        "0,I love Mondays,1,I hate Mondays\n"
        "\n"
        '1,"two\nlines, one text",0,\n'
        "2,,0,\n"
        "3,   ,1,\n"
        "4,Nice weather, 0 ,\n",
    )

    assert [
        Example("I love Mondays", 1),
        Example("two\nlines, one text", 0),
        Example("Nice weather", 0),
    ] == read_labelled_csv(path)


def test_reads_other_columns_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhello,1\n".encode())

    assert [Example("hello", 1)] == read_labelled_csv(
        path, text_column="text", label_column="label"
    )


def test_bad_label_names_file_line_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'tweet,sarcastic\n"a\nb",1\nfine,yes\n')

    with pytest.raises(InvalidInput) as info:
        read_labelled_csv(path)

    # the quoted text spans lines 2-3, so the bad row starts on line 4
    expected = f"{path}:4: column `sarcastic` must be 0 or 1, found `yes`"
    assert (expected,) == info.value.problems
    assert f"1 bad row, first: {expected}" == str(info.value)


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path, "tweet,sarcastic\na,2\nb\nc,1\nd,\n")

    with pytest.raises(InvalidInput, match="3 bad rows") as info:
        read_labelled_csv(path)

    assert (
        f"{path}:2: column `sarcastic` must be 0 or 1, found `2`",
        f"{path}:3: column `sarcastic` is missing (the row has 1 fields)",
        f"{path}:5: column `sarcastic` must be 0 or 1, found ``",
    ) == info.value.problems


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    path = _csv(tmp_path, "tweet,sarcastic\n" + "x,9\n" * 25)

    with pytest.raises(InvalidInput, match="25 bad rows") as info:
        read_labelled_csv(path)

    assert 21 == len(info.value.problems)
    assert f"{path}: and 5 more" == info.value.problems[-1]


def test_missing_column_is_named_with_the_available_ones(tmp_path: Path) -> None:
    path = _csv(tmp_path, "text,label\nhello,1\n")

    with pytest.raises(
        InvalidInput,
        match=r"data\.csv:1: no column `tweet` in the header; columns: `text`, `label`",
    ):
        read_labelled_csv(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"nope\.csv: no such file"):
        read_labelled_csv(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"empty\.csv: the file is empty"):
        read_labelled_csv(_csv(tmp_path, "", "empty.csv"))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"tweet,sarcastic\ncaf\xe9,1\n")

    with pytest.raises(InvalidInput, match=r"latin\.csv: not UTF-8 text"):
        read_labelled_csv(path)


def test_csv_error_names_the_line(tmp_path: Path) -> None:
    # a field longer than csv.field_size_limit() (128 KiB)
    path = _csv(tmp_path, f"tweet,sarcastic\nok,1\n{'x' * 200_000},0\n", "huge.csv")

    with pytest.raises(
        InvalidInput, match=r"huge\.csv:3: not a valid csv row: field larger"
    ):
        read_labelled_csv(path)


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        read_labelled_csv(tmp_path)


# --- label markers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Great, more rain #sarcasm", "Great, more rain", id="hashtag"),
        pytest.param("love it #not #Irony", "love it", id="not"),
        pytest.param(
            "I'm not being sarcastic, I love it", "I'm not being , I love it", id="word"
        ),
        pytest.param(
            "not bad, notably #nothing", "not bad, notably #nothing", id="kept"
        ),
    ],
)
def test_strip_label_markers(text: str, expected: str) -> None:
    assert expected == strip_label_markers(text)


# --- train_scorer ----------------------------------------------------------------------

FILLER = [
    "the", "a", "my", "our", "today", "again", "this", "morning", "really", "just", "so",
    "and", "then", "with",
]  # fmt: skip
SARCASTIC = [
    "love waiting",
    "great another delay",
    "oh fantastic",
    "thanks for nothing",
]
SINCERE = ["meeting moved", "package arrived", "office opens", "form attached"]


def _synthetic(n: int = 40, seed: int = 0) -> list[Example]:
    """Return n sarcastic and n sincere texts: a marker phrase among filler words."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    examples = []
    for label, phrases in ((1, SARCASTIC), (0, SINCERE)):
        for _ in range(n):
            words = rng.sample(FILLER, 4)
            words.insert(rng.randrange(5), rng.choice(phrases))
            examples.append(Example(" ".join(words), label))
    rng.shuffle(examples)
    return examples


@pytest.fixture(scope="module")
def trained() -> tuple[LinearScorer, TrainingReport]:
    return train_scorer(_synthetic(), signal="sarcasm", folds=4, version="t.1")


def test_separable_data_is_learned(
    trained: tuple[LinearScorer, TrainingReport],
) -> None:
    scorer, report = trained

    assert report.f1 >= 0.95
    assert report.f1_at_half >= 0.9
    assert report.auc >= 0.98
    assert (80, 40, 4) == (report.n, report.positives, report.folds)
    assert 4 == len(report.per_fold)
    assert 80 == sum(fold.n for fold in report.per_fold)
    assert (
        scorer.score("so love waiting today")
        > 0.5
        > scorer.score("our package arrived")
    )


def test_trained_model_metadata(trained: tuple[LinearScorer, TrainingReport]) -> None:
    scorer, report = trained

    assert ("sarcasm", "t.1") == (scorer.signal, scorer.version)
    assert FeatureConfig().to_dict() == scorer.metadata["features"]
    assert report.threshold == scorer.metadata["threshold"] == scorer.threshold
    assert report.to_dict() == scorer.metadata["cv"]
    assert [] == scorer.metadata["cues"]
    assert report.features == len(scorer.weights)
    assert report.c in {c for c, _, _ in report.grid}
    json.dumps(dict(scorer.metadata))  # JSON-ready


def test_trained_model_survives_a_round_trip(
    tmp_path: Path, trained: tuple[LinearScorer, TrainingReport]
) -> None:
    scorer, _ = trained
    scorer.save(tmp_path / "m.json.gz")
    loaded = LinearScorer.load(tmp_path / "m.json.gz")

    for text in ["love waiting", "package arrived", ""]:
        assert scorer.score(text) == loaded.score(text)


def test_report_format(trained: tuple[LinearScorer, TrainingReport]) -> None:
    _, report = trained
    text = report.format()

    assert text.startswith(
        "80 examples, 40 positive, 4-fold stratified cross-validation"
    )
    assert "ROC AUC" in text
    assert "at threshold 0.500" in text
    assert "40%:" in text


def test_training_is_deterministic() -> None:
    first, _ = train_scorer(_synthetic(20), signal="s", folds=3, c_grid=(0.3,))
    second, _ = train_scorer(_synthetic(20), signal="s", folds=3, c_grid=(0.3,))

    assert dict(first.weights) == dict(second.weights)
    assert first.bias == second.bias


def test_max_features_prunes_the_smallest_weights() -> None:
    full, _ = train_scorer(_synthetic(20), signal="s", folds=3, c_grid=(1.0,))
    pruned, report = train_scorer(
        _synthetic(20), signal="s", folds=3, c_grid=(1.0,), max_features=5
    )

    assert 5 == len(pruned.weights) == report.features
    largest = sorted(full.weights, key=lambda n: -abs(full.weights[n]))[:5]
    assert set(largest) == set(pruned.weights)
    assert 5 == pruned.metadata["training"]["max_features"]


def test_without_calibration_weights_are_the_fitted_ones() -> None:
    scorer, _ = train_scorer(
        _synthetic(20), signal="s", folds=3, c_grid=(1.0,), calibrate=False
    )

    assert {"scale": 1.0, "shift": 0.0} == scorer.metadata["training"]["calibration"]


def _eye_roll_cue(text: str) -> Mapping[str, float]:
    """A stand-in for the rule-based cues: an eye-roll emoji, and nothing else."""
    return {"eye_roll": 1.0, "never": 0.0} if "🙄" in text else {}


def test_cue_features_are_learned() -> None:
    rng = random.Random(1)  # noqa: S311 - synthetic data, not secrets
    examples = []
    for label in (0, 1) * 30:
        words = rng.sample(FILLER, 5)
        if label:
            words.append("🙄")
        examples.append(Example(" ".join(words), label))
    seen: list[str] = []

    def cues(text: str) -> Mapping[str, float]:
        seen.append(text)
        return _eye_roll_cue(text)

    scorer, report = train_scorer(examples, signal="s", cue_features=cues, folds=3)

    assert len(examples) == len(seen)
    assert scorer.weights["cue:eye_roll"] > 0
    assert ["eye_roll", "never"] == scorer.metadata["cues"]
    assert report.auc >= 0.98
    text = "the my so 🙄"
    assert scorer.score(text, _eye_roll_cue(text)) > scorer.score(text)
    explained = dict(scorer.explain(text, _eye_roll_cue(text), top=5))
    assert scorer.weights["cue:eye_roll"] == explained["cue:eye_roll"]


def test_label_markers_are_stripped_before_training() -> None:
    examples = [Example(f"{w} #sarcasm", 1) for w in FILLER[:8]] + [
        Example(w, 0) for w in FILLER[:8]
    ]
    seen: list[str] = []

    def cues(text: str) -> Mapping[str, float]:
        seen.append(text)
        return {}

    scorer, _ = train_scorer(examples, signal="s", cue_features=cues, folds=2)

    assert not any("sarcasm" in name for name in scorer.weights)
    assert not any("#" in text for text in seen)


def test_label_markers_can_be_kept() -> None:
    examples = [Example(f"{w} #sarcasm", 1) for w in FILLER[:8]] + [
        Example(w, 0) for w in FILLER[:8]
    ]

    scorer, _ = train_scorer(examples, signal="s", folds=2, strip_markers=False)

    assert scorer.weights["w:sarcasm"] > 0


def test_extra_metadata_is_stored() -> None:
    scorer, _ = train_scorer(
        _synthetic(10), signal="s", folds=2, metadata={"data": {"name": "synthetic"}}
    )

    assert {"name": "synthetic"} == scorer.metadata["data"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(
            {"folds": 1},
            "`folds` must be an integer of at least 2, not `1`",
            id="folds",
        ),
        pytest.param({"folds": True}, "`folds` must be an integer", id="folds-bool"),
        pytest.param(
            {"folds": 50},
            "40 examples labelled 0, need at least `folds` \\(50\\)",
            id="too-few",
        ),
        pytest.param(
            {"c_grid": ()}, "`c_grid` must hold positive numbers", id="empty-grid"
        ),
        pytest.param(
            {"c_grid": (0.1, -1)},
            "`c_grid` must hold positive numbers",
            id="negative-c",
        ),
        pytest.param(
            {"max_features": 0},
            "`max_features` must be a positive integer",
            id="max-features",
        ),
    ],
)
def test_argument_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        train_scorer(_synthetic(), signal="s", **kwargs)


def test_examples_must_be_labelled_zero_or_one() -> None:
    with pytest.raises(
        InvalidArgument, match="examples must be `Example`s labelled 0 or 1"
    ):
        train_scorer([*_synthetic(10), Example("x", 2)], signal="s")


def test_a_solver_that_does_not_converge_is_noted_not_warned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fit = LogisticRegression.fit

    def fit_and_warn(self: Any, *args: Any, **kwargs: Any) -> Any:
        warnings.warn("lbfgs failed to converge", ConvergenceWarning, stacklevel=2)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", fit_and_warn)

    _, report = train_scorer(_synthetic(10), signal="s", folds=2, c_grid=(0.5,))

    assert (
        "the calibration did not converge",
        "the solver did not converge at C=0.5",
    ) == report.notes
    assert "note: the solver did not converge at C=0.5" in report.format()


def test_missing_scikit_learn_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "sklearn", None)

    with pytest.raises(ConfigurationError, match=r"install `replyguard\[train\]`"):
        train_scorer(_synthetic(10), signal="s", folds=2)
