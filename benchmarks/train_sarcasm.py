"""
Train replyguard's shipped sarcasm model and print its cross-validated figures.

Run from the repository root, with scikit-learn installed (``pip install -e '.[train]'``):

    python benchmarks/train_sarcasm.py \\
        --data ../shared/data/isarcasmeval/train.En.csv \\
        --out src/replyguard/_data/models/sarcasm.json.gz

The shipped ``sarcasm.json.gz`` is exactly what this command writes (training is
deterministic for a given seed and scikit-learn version). ``--compare`` adds a table of
the feature variants that were tried, ``--timing`` times `LinearScorer.score`, and
``--cues module:function`` trains with rule-based cue features (the function maps a
text to ``{cue: value}``; pass the same cues to ``score`` at run time).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from replyguard.analysis.scorer import FeatureConfig, LinearScorer
from replyguard.training import Example, read_labelled_csv, train_scorer

VERSION = "sarcasm-isarcasmeval.1"
MAX_FEATURES = 5_000
"""
The shipped model keeps its 5000 largest weights: in cross-validation pruning to 2k-20k
costs nothing (it acts as extra regularisation; see ``--compare``), and the words kept
are the general ones (praise, emoji, marks) rather than the topics of this data set.
"""

METADATA = {
    "description": (
        "sarcasm in English tweets: logistic regression over word 1-2 grams, text shape "
        "and a small praise/bad-situation lexicon"
    ),
    "data": {
        "name": "iSarcasmEval (SemEval-2022 Task 6), subtask A, English training set",
        "file": "train.En.csv",
        "columns": {"text": "tweet", "label": "sarcastic"},
        "licence": "MIT, Copyright (c) 2022 Ibrahim Abu Farha; see LICENSE-isarcasmeval.txt",
    },
    "trained_by": "benchmarks/train_sarcasm.py",
}

VARIANTS: list[tuple[str, FeatureConfig, int | None]] = [
    (
        "w1",
        FeatureConfig(word_ngrams=(1, 1), shape=False, lexicon=False, boundaries=False),
        None,
    ),
    ("w12", FeatureConfig(shape=False, lexicon=False, boundaries=False), None),
    ("w12 +shape", FeatureConfig(lexicon=False, boundaries=False), None),
    ("w12 +shape +edges", FeatureConfig(lexicon=False), None),
    ("w12 +shape +edges +lexicon", FeatureConfig(), None),
    ("w13 +shape +edges +lexicon", FeatureConfig(word_ngrams=(1, 3)), None),
    ("w12 +c34 +shape +edges +lexicon", FeatureConfig(char_ngrams=(3, 4)), None),
    (
        "w1 +c34 +shape +edges +lexicon",
        FeatureConfig(word_ngrams=(1, 1), char_ngrams=(3, 4)),
        None,
    ),
    ("  pruned to 20k", FeatureConfig(), 20_000),
    ("  pruned to 5k (shipped)", FeatureConfig(), 5_000),
    ("  pruned to 2k", FeatureConfig(), 2_000),
    ("  pruned to 500", FeatureConfig(), 500),
]

TWEETS = [
    (
        "Oh great, another Monday morning stuck in traffic for two hours and a half. "
        "Just what I needed today, thanks so much @CityTransit 🙃 #commute"
    ),
    (
        "Thanks @BofA_Help, the new card arrived this morning and works fine. "
        "Appreciate the quick reply on Saturday, have a really good weekend, all of you!"
    ),
    (
        "I just LOVE waiting on hold for 45 minutes only to be disconnected... "
        'sooo helpful!! https://t.co/abc123 yeah right, "customer service" at its best'
    ),
]


def _cue_function(spec: str | None) -> Callable[[str], Mapping[str, float]] | None:
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        sys.exit(f"--cues {spec}: not a function")
    return function  # type: ignore[no-any-return]


def compare(examples: list[Example], *, folds: int, seed: int) -> None:
    print("\nvariants (out-of-fold figures; F1* at the best threshold, F1@.5 at 0.5;")
    print("F1 40% = best F1 with the positives reweighted to 40 % of the data)\n")
    print(
        f"{'variant':34} {'C':>5} {'AUC':>6} {'F1*':>6} {'F1@.5':>6} {'F1 40%':>6} {'weights':>8}"
    )
    for name, config, max_features in VARIANTS:
        _, report = train_scorer(
            examples,
            signal="sarcasm",
            config=config,
            max_features=max_features,
            folds=folds,
            seed=seed,
        )
        f1_40 = {p: f1 for p, _, f1 in report.thresholds_by_prevalence}[0.4]
        print(
            f"{name:34} {report.c:>5g} {report.auc:6.3f} {report.f1:6.3f} "
            f"{report.f1_at_half:6.3f} {f1_40:6.3f} {report.features:>8}",
            flush=True,
        )


def timing(scorer: LinearScorer, examples: list[Example]) -> None:
    print(f"\nscore() timings, {len(scorer.weights)} weights (best of 7 runs):")
    for text in TWEETS:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(20_000):
                scorer.score(text)
            runs.append((time.perf_counter() - start) / 20_000)
        print(
            f"  {len(text):4} chars  {min(runs) * 1e6:6.1f} µs "
            f"(median {statistics.median(runs) * 1e6:.1f})  "
            f"score {scorer.score(text):.3f}"
        )
    texts = [e.text for e in examples]
    groups = [
        ("every training text", texts),
        ("texts of 130-170 chars", [t for t in texts if 130 <= len(t) <= 170]),
        ("texts of 250+ chars", [t for t in texts if len(t) >= 250]),
    ]
    for name, group in groups:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            for text in group:
                scorer.score(text)
            runs.append((time.perf_counter() - start) / len(group))
        mean_length = statistics.mean(map(len, group))
        print(
            f"  {name:24} ({len(group):4}, mean {mean_length:3.0f} chars) "
            f"{min(runs) * 1e6:6.1f} µs per call"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="iSarcasmEval train.En.csv")
    parser.add_argument("--out", help="write the model here (.json or .json.gz)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-features", type=int, default=MAX_FEATURES)
    parser.add_argument("--cues", help="module:function giving rule-based cue values")
    parser.add_argument(
        "--compare", action="store_true", help="print the variant table"
    )
    parser.add_argument("--timing", action="store_true", help="time score()")
    args = parser.parse_args(argv)

    examples = read_labelled_csv(args.data)
    print(
        f"{args.data}: {len(examples)} examples ({sum(e.label for e in examples)} sarcastic)"
    )
    if args.compare:
        compare(examples, folds=args.folds, seed=args.seed)
    scorer, report = train_scorer(
        examples,
        signal="sarcasm",
        cue_features=_cue_function(args.cues),
        folds=args.folds,
        seed=args.seed,
        max_features=args.max_features,
        version=VERSION,
        metadata=METADATA,
    )
    print("\nshipped configuration:", scorer.config.to_dict())
    print(report.format())
    top = sorted(scorer.weights.items(), key=lambda item: -item[1])
    print("\nlargest weights:", ", ".join(f"{n} {w:+.2f}" for n, w in top[:15]))
    print("smallest weights:", ", ".join(f"{n} {w:+.2f}" for n, w in top[-10:]))
    if args.out:
        out = Path(args.out)
        scorer.save(out)
        print(f"\nwrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    if args.timing:
        timing(scorer, examples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
