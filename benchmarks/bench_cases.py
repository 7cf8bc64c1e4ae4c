"""
Time policy tests: the shipped case files, and a shadow replay of a stream.

Run from the repository root (replyguard must be importable):

    python benchmarks/bench_cases.py           # full run, about half a minute
    python benchmarks/bench_cases.py --quick   # CI smoke run, a few seconds

Printed, never asserted.

- every case of ``policies/cases/`` run against its policy (each case: a fresh guard
  with a memory store, its ``before`` reviews, then ``explain``): total, p50 and p95
  per case, and the share spent loading the policies;
- ``diff_stream`` of the busy-hour example through two versions of the default
  policy (two guards, two stores): events per second.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from _stats import p95  # benchmarks/_stats.py

from replyguard.policy import Policy
from replyguard.testing.cases import find_case_files, load_case_file, run_case
from replyguard.testing.shadow import diff_stream, read_stream

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="one round instead of five"
    )
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else 5

    start = time.perf_counter()
    files = [load_case_file(path) for path in find_case_files([ROOT / "policies"])]
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    policies = {f.policy_source: Policy.from_file(f.policy_source) for f in files}
    compiled = time.perf_counter() - start
    cases = [(policies[f.policy_source], case) for f in files for case in f.cases]
    for policy, case in cases[:5]:
        run_case(policy, case)  # warm the analyzer
    times: list[float] = []
    failed = 0
    for _ in range(rounds):
        for policy, case in cases:
            result = run_case(policy, case)
            times.append(result.seconds)
            failed += not result.ok
    print(f"case files: {len(files)}, cases: {len(cases)}, policies: {len(policies)}")
    print(f"  read and check the case files      {loaded * 1000:8.1f} ms")
    print(f"  compile their policies              {compiled * 1000:8.1f} ms")
    print(
        f"  one case (guard + before + explain) p50 {statistics.median(times) * 1e3:6.2f} ms"
        f"   p95 {p95(times) * 1e3:6.2f} ms   max {max(times) * 1e3:6.2f} ms"
    )
    print(
        f"  all cases, one round               {sum(times) / rounds * 1000:8.1f} ms"
        f"   ({failed // rounds} failed)"
    )

    stream = Path(
        str(
            resources.files("replyguard")
            / "_data"
            / "examples"
            / "busy_hour"
            / "stream.jsonl"
        )
    )
    old = Policy.packaged("default")
    text = (
        (ROOT / "policies" / "default.yaml")
        .read_text()
        .replace("  cheer: 0.5", "  cheer: 0.3")
    )
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / "candidate.yaml"
        candidate.write_text(text)
        new = Policy.from_file(candidate)
        events = list(read_stream(stream))
        best = math.inf
        for _ in range(rounds):
            start = time.perf_counter()
            report = diff_stream(old, new, events)
            best = min(best, time.perf_counter() - start)
    print(
        f"\ndiff of {stream.name} ({report.events} events, {len(report.changes)} changed) "
        f"through default and default with cheer 0.3:"
    )
    print(
        f"  {best * 1000:.1f} ms, {report.events / best:,.0f} events/s "
        "(each event reviewed twice)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
