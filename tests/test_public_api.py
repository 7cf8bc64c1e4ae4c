# (house style, STYLE.md 9: tests assert `expected == actual`)
"""The public surface: a sorted, complete `__all__`, and a light `import replyguard`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import replyguard

HEAVY = ("hypothesis", "jinja2", "redis", "spacy")


def test_all_is_sorted() -> None:
    assert sorted(replyguard.__all__) == replyguard.__all__


def test_all_has_no_duplicates() -> None:
    assert len(set(replyguard.__all__)) == len(replyguard.__all__)


@pytest.mark.parametrize("name", replyguard.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(replyguard, name) is not None


def test_dir_lists_the_public_names() -> None:
    assert sorted(replyguard.__all__) == dir(replyguard)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = replyguard.Nope


def test_lazy_names_are_the_real_classes() -> None:
    from replyguard.guard import Explanation, Guard  # noqa: PLC0415
    from replyguard.policy.compiled import Policy  # noqa: PLC0415

    assert (Guard, Explanation, Policy) == (
        replyguard.Guard,
        replyguard.Explanation,
        replyguard.Policy,
    )


def test_import_leaves_heavy_dependencies_unloaded() -> None:
    code = (
        "import sys, replyguard\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert "" == result.stdout.strip()


def test_the_check_above_can_see_a_loaded_module() -> None:
    code = (
        "import sys, replyguard\n"
        "replyguard.Guard\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert "jinja2" in result.stdout.strip().split(",")
