"""
Train a `LinearScorer` from labelled texts, with cross-validated figures.

Training needs scikit-learn, an optional dependency (``pip install replyguard[train]``);
it is imported inside the functions that use it, so that importing this module, and
scoring with a trained model, never needs it.

>>> examples = read_labelled_csv("train.csv")  # doctest: +SKIP
>>> scorer, report = train_scorer(examples, signal="sarcasm")  # doctest: +SKIP
>>> print(report.format())  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple, TypeGuard

from replyguard.analysis.scorer import FeatureConfig, LinearScorer, text_features
from replyguard.errors import ConfigurationError, InvalidArgument, InvalidInput

__all__ = [
    "LABEL_MARKERS",
    "Example",
    "FoldReport",
    "TrainingReport",
    "read_labelled_csv",
    "strip_label_markers",
    "train_scorer",
]

CueFunction = Callable[[str], Mapping[str, float]]
"""A rule-based cue detector: text -> cue name -> value 0..1."""

LABEL_MARKERS = re.compile(
    r"#(?:sarcasm|sarcastic|sarcastictweet|irony|ironic|not|justsaying|joke|jk)\b"
    r"|\b(?:sarcasm|sarcastic|sarcastically|irony|ironic|ironically)\b",
    re.IGNORECASE,
)
"""
Words that name the label: the hashtags tweets were collected by, and the words
sarcasm and irony themselves. They are cut from training texts so that a model does not
learn to lean on them (other data sets remove them, and rule-based cues see them).
"""

_SPACES = re.compile(r"\s+")
_MAX_PROBLEMS = 20


def strip_label_markers(text: str) -> str:
    """
    Return the text without the words that name the label (`LABEL_MARKERS`).

    Args:
        text: a training text.
    """
    return _SPACES.sub(" ", LABEL_MARKERS.sub(" ", text)).strip()


@dataclass(frozen=True, slots=True)
class Example:
    """
    One labelled text.

    Attributes:
        text: the text.
        label: 1 when the text carries the signal, else 0.
    """

    text: str
    label: int


@dataclass(frozen=True, slots=True)
class FoldReport:
    """
    The held-out figures of one cross-validation fold.

    Attributes:
        fold: the fold's number, from 1.
        n: how many examples the fold held out.
        positives: how many of them are labelled 1.
        auc: ROC AUC of the held-out scores.
        f1: F1 at the report's chosen threshold.
    """

    fold: int
    n: int
    positives: int
    auc: float
    f1: float


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """
    Out-of-fold figures of a training run, at the chosen regularisation ``c``.

    Every example is scored once, by the model of the fold that held it out; the
    figures are computed over those scores. ``c`` and the threshold are chosen on the
    same scores, so the figures lean slightly optimistic.

    Attributes:
        folds: the number of stratified folds.
        precision: precision at ``threshold``.
        recall: recall at ``threshold``.
        f1: F1 at ``threshold``.
        auc: ROC AUC.
        threshold: the score threshold that maximises out-of-fold F1.
        n: how many examples were used.
        positives: how many of them are labelled 1.
        per_fold: the figures of each fold.
        precision_at_half: precision at the threshold 0.5.
        recall_at_half: recall at 0.5.
        f1_at_half: F1 at 0.5.
        c: the inverse regularisation strength chosen (by out-of-fold AUC).
        grid: ``(c, auc, best f1)`` for every value of ``c`` tried.
        thresholds_by_prevalence: ``(share of positives, best threshold, its F1)``
            estimated by reweighting the out-of-fold scores to that share.
        features: how many non-zero weights the final model keeps.
        notes: anything worth knowing, such as a solver that did not converge.
    """

    folds: int
    precision: float
    recall: float
    f1: float
    auc: float
    threshold: float
    n: int
    positives: int
    per_fold: tuple[FoldReport, ...]
    precision_at_half: float
    recall_at_half: float
    f1_at_half: float
    c: float
    grid: tuple[tuple[float, float, float], ...]
    thresholds_by_prevalence: tuple[tuple[float, float, float], ...]
    features: int
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (stored in a model's metadata)."""
        data = asdict(self)
        data["per_fold"] = [asdict(f) for f in self.per_fold]
        data["grid"] = [list(row) for row in self.grid]
        data["thresholds_by_prevalence"] = [
            list(row) for row in self.thresholds_by_prevalence
        ]
        data["notes"] = list(self.notes)
        return data

    def format(self) -> str:
        """Return the report as a few lines of text for a terminal."""
        lines = [
            (
                f"{self.n} examples, {self.positives} positive, "
                f"{self.folds}-fold stratified cross-validation, C={self.c:g}, "
                f"{self.features} features kept"
            ),
            f"  ROC AUC            {self.auc:.3f}",
            (
                f"  at threshold {self.threshold:.3f}  precision {self.precision:.3f}  "
                f"recall {self.recall:.3f}  F1 {self.f1:.3f}"
            ),
            (
                f"  at threshold 0.500  precision {self.precision_at_half:.3f}  "
                f"recall {self.recall_at_half:.3f}  F1 {self.f1_at_half:.3f}"
            ),
            "  C grid (AUC, best F1): "
            + ", ".join(f"{c:g} ({auc:.3f}, {f1:.3f})" for c, auc, f1 in self.grid),
            "  best threshold by share of positives (reweighted): "
            + ", ".join(
                f"{p:.0%}: {t:.3f} (F1 {f1:.3f})"
                for p, t, f1 in self.thresholds_by_prevalence
            ),
            "  per fold (AUC, F1): "
            + ", ".join(f"{f.auc:.3f}/{f.f1:.3f}" for f in self.per_fold),
        ]
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def read_labelled_csv(
    path: str | Path,
    *,
    text_column: str = "tweet",
    label_column: str = "sarcastic",
) -> list[Example]:
    """
    Read labelled texts from a CSV file with a header row.

    Rows whose text is empty are skipped. Every other problem is collected and
    reported at once, by ``file:line`` (the header is line 1).

    Args:
        path: the CSV file (UTF-8).
        text_column: the column holding the text.
        label_column: the column holding the label, ``0`` or ``1``.

    Raises:
        InvalidInput: the file cannot be read, a column is missing, or a label is not
            ``0`` or ``1``; ``problems`` lists every bad line.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_rows(csv.reader(handle), str(path), text_column, label_column)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded)"
        ) from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror or exc}") from None


def _rows(reader: Any, where: str) -> Iterator[list[str]]:
    """Yield the rows of a csv reader, naming the line of a csv error."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(
                f"{where}:{reader.line_num}: not a valid csv row: {exc}"
            ) from None
        yield row


def _read_rows(
    reader: Any, where: str, text_column: str, label_column: str
) -> list[Example]:
    header = next(reader, None)
    if header is None:
        raise InvalidInput(f"{where}: the file is empty, expected a header row")
    columns = {name.strip(): i for i, name in reversed(list(enumerate(header)))}
    for wanted in (text_column, label_column):
        if wanted not in columns:
            available = ", ".join(f"`{c}`" for c in header if c.strip()) or "none"
            raise InvalidInput(
                f"{where}:1: no column `{wanted}` in the header; columns: {available}"
            )
    text_at, label_at = columns[text_column], columns[label_column]
    examples: list[Example] = []
    problems: list[str] = []
    # A quoted text may span lines: a row starts one line after the previous ended.
    line = reader.line_num + 1
    for row in _rows(reader, where):
        start, line = line, reader.line_num + 1
        if not row:
            continue
        if len(row) <= max(text_at, label_at):
            missing = label_column if label_at >= len(row) else text_column
            problems.append(
                f"{where}:{start}: column `{missing}` is missing "
                f"(the row has {len(row)} fields)"
            )
            continue
        text = row[text_at]
        if not text.strip():
            continue
        label = row[label_at].strip()
        if label not in {"0", "1"}:
            problems.append(
                f"{where}:{start}: column `{label_column}` must be 0 or 1, found `{label}`"
            )
            continue
        examples.append(Example(text=text, label=int(label)))
    if problems:
        shown = problems[:_MAX_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"{where}: and {len(problems) - len(shown)} more")
        count = len(problems)
        raise InvalidInput(
            f"{count} bad row{'s' if count != 1 else ''}, first: {problems[0]}",
            problems=tuple(shown),
        )
    return examples


class _Metrics(NamedTuple):
    precision: float
    recall: float
    f1: float


def _metrics(sk: Any, labels: Sequence[int], scores: Any, threshold: float) -> _Metrics:
    """Return precision, recall and F1 of ``score >= threshold``."""
    predicted = [int(s >= threshold) for s in scores]
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        labels, predicted, average="binary", zero_division=0
    )
    return _Metrics(float(precision), float(recall), float(f1))


def _best_threshold(
    sk: Any, labels: Sequence[int], scores: Any, weights: Any = None
) -> tuple[float, float]:
    """Return the threshold that maximises F1 (positives weighted), and that F1."""
    precision, recall, thresholds = sk.precision_recall_curve(
        labels, scores, sample_weight=weights
    )
    best_f1, best = 0.0, 0.5
    for p, r, t in zip(precision[:-1], recall[:-1], thresholds, strict=True):
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best_f1:
            best_f1, best = float(f1), float(t)
    return best, best_f1


def _prune(coef: Any, max_features: int | None) -> Any:
    """Return a copy of a weight vector with all but the largest weights zeroed."""
    coef = coef.copy()
    if max_features is not None and len(coef) > max_features:
        # A stable sort breaks ties by feature name (the vectorizer sorts names).
        order = (-abs(coef)).argsort(kind="stable")
        coef[order[max_features:]] = 0.0
    return coef


def _round(value: float, digits: int = 5) -> float:
    """Round to a few significant digits: smaller files, the same scores in practice."""
    return float(f"{value:.{digits}g}")


def _import_sklearn() -> Any:
    """Return the scikit-learn names training uses, or say how to install them."""
    try:
        import numpy as np  # noqa: PLC0415 - comes with scikit-learn, imported on use
        import sklearn  # type: ignore[import-untyped]  # noqa: PLC0415 - optional dependency
        from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]  # noqa: PLC0415 - optional dependency
        from sklearn.feature_extraction import DictVectorizer  # type: ignore[import-untyped]  # noqa: PLC0415 - optional dependency
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]  # noqa: PLC0415 - optional dependency
        from sklearn.metrics import (  # type: ignore[import-untyped]  # noqa: PLC0415 - optional dependency
            precision_recall_curve,
            precision_recall_fscore_support,
            roc_auc_score,
        )
        from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise ConfigurationError(
            "training a scorer needs scikit-learn: install `replyguard[train]`"
        ) from None
    return SimpleNamespace(
        np=np,
        version=str(sklearn.__version__),
        ConvergenceWarning=ConvergenceWarning,
        DictVectorizer=DictVectorizer,
        LogisticRegression=LogisticRegression,
        precision_recall_curve=precision_recall_curve,
        precision_recall_fscore_support=precision_recall_fscore_support,
        roc_auc_score=roc_auc_score,
        StratifiedKFold=StratifiedKFold,
    )


PREVALENCES = (0.4, 0.5)
"""
Shares of positives at which `TrainingReport.thresholds_by_prevalence` estimates the
best threshold, by reweighting the out-of-fold scores (data sets differ in how many of
their texts carry the signal, and the best threshold moves with it).
"""


def train_scorer(
    examples: Sequence[Example],
    *,
    signal: str,
    cue_features: CueFunction | None = None,
    folds: int = 5,
    seed: int = 0,
    c_grid: Sequence[float] = (0.03, 0.1, 0.3),
    config: FeatureConfig | None = None,
    max_features: int | None = None,
    calibrate: bool = True,
    strip_markers: bool = True,
    version: str = "1",
    metadata: Mapping[str, Any] | None = None,
) -> tuple[LinearScorer, TrainingReport]:
    """
    Fit a `LinearScorer` and measure it by stratified k-fold cross-validation.

    A logistic regression (liblinear, L2, balanced class weights) is fitted for every
    value of ``c_grid`` in every fold, and the value with the best out-of-fold ROC AUC
    is kept (the smallest, that is the most regularised, on a tie).

    With ``calibrate`` the out-of-fold margins are then rescaled (Platt scaling with
    balanced classes): a score is the probability of the signal were signal and no
    signal equally common, so 0.5 is an even chance whatever the share of positives
    in the training data (without it the strong regularisation crowds every score
    near 0.5). The F1-maximising threshold is read off the out-of-fold scores, and
    the model is refitted on every example. Stored weights are rounded to five
    significant digits.

    Args:
        examples: the labelled texts; each label needs at least ``folds`` examples.
        signal: the signal the model scores, such as ``sarcasm``.
        cue_features: rule-based cue detectors, text -> cue name -> value 0..1; their
            values become ``cue:<name>`` features. Pass the same cues to
            `LinearScorer.score` at run time.
        folds: the number of folds (at least 2).
        seed: the seed of the fold shuffle; the same seed gives the same model.
        c_grid: the inverse regularisation strengths to try.
        config: which features to extract; the `FeatureConfig` defaults when None.
        max_features: keep only this many weights, the largest by magnitude, in every
            fold model and in the final one (so the figures are those of the pruned
            model); None keeps all.
        calibrate: rescale the scores by Platt scaling (see above).
        strip_markers: cut the words that name the label (`LABEL_MARKERS`) from the
            texts, before the cues and the features see them.
        version: the model's version string.
        metadata: extra metadata to store, such as the training data and its licence.

    Raises:
        InvalidArgument: the examples, folds, grid or limits are unusable.
        ConfigurationError: scikit-learn is not installed.
    """
    examples = list(examples)
    _check_arguments(examples, folds, c_grid, max_features)
    sk = _import_sklearn()
    config = config or FeatureConfig()
    labels = [e.label for e in examples]
    cue_names: set[str] = set()
    rows: list[dict[str, float]] = []
    for example in examples:
        text = strip_label_markers(example.text) if strip_markers else example.text
        cues = dict(cue_features(text)) if cue_features is not None else None
        cue_names.update(cues or ())
        rows.append(text_features(text, config, cues))
    vectorizer = sk.DictVectorizer(dtype=float, sort=True)
    matrix = vectorizer.fit_transform(rows).tocsr()
    names = [str(n) for n in vectorizer.get_feature_names_out()]
    splitter = sk.StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(matrix, labels))
    notes: set[str] = set()

    def fit(c: float, at: Any) -> tuple[Any, float]:
        model = sk.LogisticRegression(
            C=c,
            solver="liblinear",
            class_weight="balanced",
            intercept_scaling=10.0,  # liblinear penalises the intercept: make it cheap
            max_iter=2000,
            random_state=seed,
        )
        if not _fit(sk, model, matrix[at], [labels[i] for i in at]):
            notes.add(f"the solver did not converge at C={c:g}")
        return _prune(model.coef_[0], max_features), float(model.intercept_[0])

    def held_out_margins(c: float) -> Any:
        margins = sk.np.zeros(len(labels))
        for train_at, test_at in splits:
            coef, intercept = fit(c, train_at)
            margins[test_at] = matrix[test_at] @ coef + intercept
        return margins

    grid: list[tuple[float, float, float]] = []
    best: tuple[float, float, Any] | None = None
    for c in sorted(c_grid):
        margins = held_out_margins(c)
        auc = float(sk.roc_auc_score(labels, margins))
        grid.append((float(c), auc, _best_threshold(sk, labels, margins)[1]))
        if best is None or auc > best[1]:
            best = (float(c), auc, margins)
    if best is None:  # pragma: no cover - _check_arguments rejects an empty grid
        raise InvalidArgument("`c_grid` must not be empty")
    chosen_c, auc, margins = best
    scale, shift = _platt(sk, labels, margins, notes) if calibrate else (1.0, 0.0)
    if scale <= 0:
        notes.add("calibration skipped: the scores do not rank positives higher")
        scale, shift = 1.0, 0.0
    scores = 1.0 / (1.0 + sk.np.exp(-(scale * margins + shift)))
    threshold, _ = _best_threshold(sk, labels, scores)
    # round down: a threshold rounded up past an example's score would lose it
    threshold = math.floor(threshold * 10_000) / 10_000
    at_threshold = _metrics(sk, labels, scores, threshold)
    at_half = _metrics(sk, labels, scores, 0.5)
    positives = sum(labels)
    by_prevalence = []
    for prevalence in PREVALENCES:
        # Weight the positives so that they make up `prevalence` of the total weight.
        weight = prevalence / (1 - prevalence) * (len(labels) - positives) / positives
        weights = [weight if label else 1.0 for label in labels]
        t, f1 = _best_threshold(sk, labels, scores, weights)
        by_prevalence.append((prevalence, _round(t, 4), f1))
    per_fold = []
    for k, (_, test_at) in enumerate(splits, start=1):
        fold_labels = [labels[i] for i in test_at]
        fold_scores = scores[test_at]
        per_fold.append(
            FoldReport(
                fold=k,
                n=len(test_at),
                positives=sum(fold_labels),
                auc=float(sk.roc_auc_score(fold_labels, fold_scores)),
                f1=_metrics(sk, fold_labels, fold_scores, threshold).f1,
            )
        )
    coef, intercept = fit(chosen_c, sk.np.arange(len(labels)))
    weights_by_name = {
        name: _round(scale * w)
        for name, w in zip(names, coef.tolist(), strict=True)
        if w
    }
    report = TrainingReport(
        folds=folds,
        precision=at_threshold.precision,
        recall=at_threshold.recall,
        f1=at_threshold.f1,
        auc=auc,
        threshold=threshold,
        n=len(labels),
        positives=positives,
        per_fold=tuple(per_fold),
        precision_at_half=at_half.precision,
        recall_at_half=at_half.recall,
        f1_at_half=at_half.f1,
        c=chosen_c,
        grid=tuple(grid),
        thresholds_by_prevalence=tuple(by_prevalence),
        features=len(weights_by_name),
        notes=tuple(sorted(notes)),
    )
    scorer = LinearScorer(
        signal=signal,
        version=version,
        bias=_round(scale * intercept + shift),
        weights=weights_by_name,
        metadata={
            **(metadata or {}),
            "features": config.to_dict(),
            "threshold": threshold,
            "cues": sorted(cue_names),
            "training": {
                "scikit_learn": sk.version,
                "solver": "liblinear",
                "class_weight": "balanced",
                "c": chosen_c,
                "folds": folds,
                "seed": seed,
                "max_features": max_features,
                "calibration": {"scale": _round(scale), "shift": _round(shift)},
                "strip_label_markers": strip_markers,
            },
            "cv": report.to_dict(),
        },
    )
    return scorer, report


def _fit(sk: Any, model: Any, matrix: Any, labels: Sequence[int]) -> bool:
    """Fit a model; return False when the solver warned that it did not converge."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sk.ConvergenceWarning)
        model.fit(matrix, labels)
    return not any(issubclass(w.category, sk.ConvergenceWarning) for w in caught)


def _platt(
    sk: Any, labels: Sequence[int], margins: Any, notes: set[str]
) -> tuple[float, float]:
    """Return ``(scale, shift)`` fitting ``sigmoid(scale * margin + shift)``."""
    model = sk.LogisticRegression(C=1e4, class_weight="balanced", max_iter=1000)
    if not _fit(sk, model, margins.reshape(-1, 1), labels):
        notes.add("the calibration did not converge")
    return float(model.coef_[0][0]), float(model.intercept_[0])


def _check_arguments(
    examples: Sequence[object],
    folds: object,
    c_grid: Sequence[object],
    max_features: object,
) -> None:
    if not _is_int(folds) or folds < 2:
        raise InvalidArgument(
            f"`folds` must be an integer of at least 2, not `{folds}`"
        )
    labels: list[int] = []
    for example in examples:
        if not isinstance(example, Example) or example.label not in {0, 1}:
            raise InvalidArgument(
                f"examples must be `Example`s labelled 0 or 1, found `{example!r}`"
            )
        labels.append(example.label)
    for label in (0, 1):
        count = labels.count(label)
        if count < folds:
            raise InvalidArgument(
                f"{count} examples labelled {label}, need at least `folds` ({folds})"
            )
    if not c_grid or not all(_is_positive(c) for c in c_grid):
        raise InvalidArgument("`c_grid` must hold positive numbers")
    if max_features is not None and (not _is_int(max_features) or max_features < 1):
        raise InvalidArgument("`max_features` must be a positive integer or None")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
