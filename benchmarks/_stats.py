"""Helpers the benchmark scripts share: percentiles, durations and tables."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence


def p50(values: Sequence[float]) -> float:
    """Return the median."""
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    """Return the nearest-rank 95th percentile."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


def fmt(ns: float) -> str:
    """Return nanoseconds as µs, ms or s (negative differences keep their sign)."""
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000:
        return f"{sign}{ns / 1_000:.1f} µs"
    if ns < 1_000_000_000:
        return f"{sign}{ns / 1_000_000:.2f} ms"
    return f"{sign}{ns / 1_000_000_000:.2f} s"


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]
) -> None:
    """Print a table: the first column left-aligned, the others right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]
    rule = "  ".join("-" * w for w in widths)

    def line(cells: Sequence[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = (f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    print(f"\n{title}" if title else "")
    print(rule)
    print(line(headers))
    print(rule)
    for row in rows:
        print(line(row))
    print(rule)


def per_call_us(fn: Callable[[], object], n: int, repeats: int) -> float:
    """Return the median over `repeats` runs of the µs one call of `fn` takes."""
    fn()  # warm up (first calls import and compile)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)
