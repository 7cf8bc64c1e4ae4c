"""
How well do the signals read real threads? Precision, recall and F1, measured.

1. The labelled scenarios (``scenarios-dev.jsonl``): the default policy's decisions
   (send = allow or rewrite, hold = escalate or suppress) overall and per category,
   and each signal against the categories it should fire on.
2. iSarcasmEval (``train.En.csv``): the sarcasm signal, rules alone (no training
   involved) and blended with the learned model under k-fold cross-validation (the
   model of each fold never saw the tweets it scores; hashtags such as #sarcasm are
   stripped before scoring, as in the public test sets).

Run: ``python benchmarks/bench_signals.py [--scenarios PATH] [--isarcasm PATH]``
(defaults: ``../shared/data/`` beside the repository). ``--quick`` skips the
cross-validation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from replyguard import Guard
from replyguard.analysis import Analyzer
from replyguard.models import Signals

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"

# signal -> (test on the signals, categories where it should fire)
SIGNALS: dict[str, tuple[Callable[[Signals], bool], set[str]]] = {
    "sarcasm.detected": (lambda s: s.sarcasm.detected, {"sarcastic-complaint"}),
    "sarcasm.rules>=0.6": (lambda s: s.sarcasm.rules >= 0.6, {"sarcastic-complaint"}),
    "tone.grief>=0.5": (lambda s: s.tone.grief >= 0.5, {"grief-bereavement"}),
    "tone.crisis>=0.5": (lambda s: s.tone.crisis >= 0.5, {"safety-crisis"}),
    "tone.hostility>=0.6": (lambda s: s.tone.hostility >= 0.6, {"hostile-abuse"}),
    "tone.legal>=0.5": (lambda s: s.tone.legal >= 0.5, {"legal-regulator-media"}),
    "tone.activism>=0.6": (lambda s: s.tone.activism >= 0.6, {"activist-political"}),
    "intent.instructions>=0.6": (
        lambda s: s.intent.instructions >= 0.6,
        {"template-injection-bait"},
    ),
    "intent.praise>=0.5": (lambda s: s.intent.praise >= 0.5, {"sincere-praise"}),
    "intent.service_request>=0.5": (
        lambda s: s.intent.service_request >= 0.5,
        {"genuine-service-request", "neutral-question", "mild-sincere-complaint"},
    ),
    "intent.complaint>=0.5": (
        lambda s: s.intent.complaint >= 0.5,
        {"sarcastic-complaint", "mild-sincere-complaint", "hostile-abuse"},
    ),
}


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Return precision, recall and F1 (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Return the ROC AUC (the chance a positive outranks a negative; ties half)."""
    ranked = sorted(zip(scores, labels, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average = (i + j + 1) / 2.0
        rank_sum += average * sum(label for _, label in ranked[i:j])
        i = j
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return 0.0
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def scenarios(path: Path) -> None:
    """Print the decision and per-signal figures on the labelled scenarios."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    guard = Guard.default()
    tp = fp = fn = tn = 0
    per_category: dict[str, Counter[str]] = defaultdict(Counter)
    per_signal = {name: Counter[str]() for name in SIGNALS}
    misses = []
    for row in rows:
        thread = {
            k: row[k]
            for k in ("platform", "brand_handles", "posts", "target")
            if row.get(k) is not None
        }
        decision = guard.review(row["reply"], thread)
        hold = decision.action.value in ("escalate", "suppress")
        expected = row["expected"] == "hold"
        category = row["category"]
        per_category[category]["right" if hold == expected else "wrong"] += 1
        per_category[category][decision.action.value] += 1
        if expected and hold:
            tp += 1
        elif expected:
            fn += 1
            misses.append((row["id"], category, "sent", decision.rules))
        elif hold:
            fp += 1
            misses.append((row["id"], category, "held", decision.rules))
        else:
            tn += 1
        for name, (test, categories) in SIGNALS.items():
            fired = test(decision.signals)
            positive = category in categories
            key = (
                ("tp" if positive else "fp") if fired else ("fn" if positive else "tn")
            )
            per_signal[name][key] += 1
    total = len(rows)
    print(f"## Scenarios: {path.name} ({total} threads, default policy)\n")
    print(
        f"hold recall {tp / max(tp + fn, 1):.3f}   (held / should hold: {tp}/{tp + fn})"
    )
    print(
        f"send rate   {tn / max(tn + fp, 1):.3f}   (sent / should send: {tn}/{tn + fp})"
    )
    precision, recall, f1 = prf(tp, fp, fn)
    print(f"hold P/R/F1 {precision:.3f} / {recall:.3f} / {f1:.3f}\n")
    print(f"{'category':28} {'right':>5} {'n':>4}  actions")
    for category, counts in sorted(per_category.items()):
        n = counts["right"] + counts["wrong"]
        actions = ", ".join(
            f"{a} {counts[a]}"
            for a in ("allow", "rewrite", "escalate", "suppress")
            if counts[a]
        )
        print(f"{category:28} {counts['right']:>5} {n:>4}  {actions}")
    print(f"\n{'signal':30} {'P':>6} {'R':>6} {'F1':>6}   positives = categories")
    for name, counts in per_signal.items():
        precision, recall, f1 = prf(counts["tp"], counts["fp"], counts["fn"])
        cats = ", ".join(sorted(SIGNALS[name][1]))
        print(f"{name:30} {precision:6.3f} {recall:6.3f} {f1:6.3f}   {cats}")
    if misses:
        print("\nwrong decisions:")
        for row_id, category, what, rules in misses:
            print(f"  {row_id} {category}: {what} {', '.join(rules) or '(no rule)'}")
    print()


def _sarcasm_rows(path: Path) -> list[Any]:
    from replyguard.training import read_labelled_csv  # noqa: PLC0415

    return read_labelled_csv(path)


def _thread(text: str) -> dict[str, Any]:
    return {
        "posts": [{"id": "1", "author": "@someone", "text": text, "kind": "original"}]
    }


def _report(
    name: str, labels: list[int], scores: list[float], threshold: float
) -> None:
    tp = sum(1 for y, s in zip(labels, scores, strict=True) if y and s >= threshold)
    fp = sum(1 for y, s in zip(labels, scores, strict=True) if not y and s >= threshold)
    fn = sum(1 for y, s in zip(labels, scores, strict=True) if y and s < threshold)
    precision, recall, f1 = prf(tp, fp, fn)
    flagged = (tp + fp) / len(labels)
    print(
        f"{name:34} P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}  "
        f"AUC {auc(labels, scores):.3f}  flagged {flagged:.0%} (at {threshold})"
    )


def best_f1_at(
    labels: list[int], scores: list[float], prevalence: float
) -> tuple[float, float]:
    """
    Return the best F1 and its threshold with positives reweighted to `prevalence`.

    For a test set with another share of positives (the public irony set is ~40%
    ironic): each positive counts as if there were that share of them.
    """
    positives = sum(labels)
    negatives = len(labels) - positives
    weight = prevalence / (1 - prevalence) * negatives / positives
    best = (0.0, 0.5)
    for step in range(5, 96):
        threshold = step / 100
        tp = sum(
            weight for y, s in zip(labels, scores, strict=True) if y and s >= threshold
        )
        fn = sum(
            weight for y, s in zip(labels, scores, strict=True) if y and s < threshold
        )
        fp = sum(
            1 for y, s in zip(labels, scores, strict=True) if not y and s >= threshold
        )
        f1 = prf(round(tp), fp, round(fn))[2]
        best = max(best, (f1, threshold))
    return best


def sarcasm(path: Path, *, folds: int, quick: bool) -> None:
    """Print the sarcasm signal's figures on iSarcasmEval, rules and blended."""
    from replyguard.analysis.sarcasm import blend, model_cues, rule_score  # noqa: PLC0415
    from replyguard.training import strip_label_markers  # noqa: PLC0415

    examples = [e for e in _sarcasm_rows(path) if e.text.strip()]
    labels = [e.label for e in examples]
    analyzer = Analyzer(sarcasm_model=None, cache_size=0)
    reader = analyzer.reader
    texts = [strip_label_markers(e.text) for e in examples]
    readings = [reader.read(t) for t in texts]
    rules = [rule_score(r) for r in readings]
    base = sum(labels) / len(labels)
    print(f"## Sarcasm: {path.name} ({len(labels)} tweets, {base:.0%} sarcastic)\n")
    _report("everything sarcastic", labels, [1.0] * len(labels), 0.5)
    _report("rules alone", labels, rules, 0.6)
    _report("rules alone", labels, rules, 0.3)
    if quick:
        print()
        return
    from replyguard.training import Example, train_scorer  # noqa: PLC0415

    def cues(text: str) -> dict[str, float]:
        return model_cues(reader.read(text))

    blended = [0.0] * len(labels)
    model_only = [0.0] * len(labels)
    for fold in range(folds):
        train = [
            Example(text=e.text, label=e.label)
            for i, e in enumerate(examples)
            if i % folds != fold
        ]
        scorer, _ = train_scorer(train, signal="sarcasm", cue_features=cues, folds=3)
        for i in range(fold, len(examples), folds):
            reading = readings[i]
            model = scorer.score(reading.normalized.text, model_cues(reading))
            model_only[i] = model
            blended[i] = blend(rules[i], model)
    _report(f"model alone ({folds}-fold CV)", labels, model_only, 0.5)
    _report(f"rules + model ({folds}-fold CV)", labels, blended, 0.6)
    _report(f"rules + model ({folds}-fold CV)", labels, blended, 0.5)
    for name, scores in (("model alone", model_only), ("rules + model", blended)):
        f1, threshold = best_f1_at(labels, scores, 0.4)
        print(
            f"{name:34} best F1 {f1:.3f} at {threshold:.2f} with positives reweighted "
            "to 40% (flagging everything: 0.571)"
        )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--scenarios", type=Path, default=DATA / "scenarios-dev.jsonl")
    parser.add_argument(
        "--isarcasm", type=Path, default=DATA / "isarcasmeval" / "train.En.csv"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="skip cross-validation")
    args = parser.parse_args(argv)
    found = False
    if args.scenarios.exists():
        scenarios(args.scenarios)
        found = True
    else:
        print(f"(no scenarios at {args.scenarios})")
    if args.isarcasm.exists():
        sarcasm(args.isarcasm, folds=args.folds, quick=args.quick)
        found = True
    else:
        print(f"(no iSarcasmEval data at {args.isarcasm})")
    if not found:
        print("no data found: pass --scenarios and --isarcasm (figures need data)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
