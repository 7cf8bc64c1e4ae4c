"""The `>>>` examples in the docs run and print what the pages say they print."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
# every page with examples that stand alone (writing.md's need the policy file its
# shell steps write first; cli.md and reference.md have no Python examples)
PAGES = [
    "adapters.md",
    "audit-and-replay.md",
    "concepts.md",
    "errors.md",
    "escalations.md",
    "getting-started.md",
    "index.md",
    "lexicons.md",
    "rewrites.md",
    "signals.md",
    "state-and-deployment.md",
    "threads.md",
    "training.md",
    "policies/conditions.md",
]


@pytest.mark.parametrize("page", PAGES)
def test_the_examples_of_a_page_print_what_it_says(page: str) -> None:
    result = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
        report=False,
    )

    assert 0 == result.failed, f"{result.failed} of {result.attempted} examples failed"
