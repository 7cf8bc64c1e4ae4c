"""Shared fixtures and Hypothesis profiles for replyguard's tests."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# no deadlines: speed is measured by benchmarks/, never by timing a test (a loaded
# machine, or a first call that builds the analyzer, would make them flaky)
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

DATA = Path(__file__).parent / "data"

SCENARIO_THREAD_KEYS = ("platform", "brand_handles", "posts", "target")
"""The keys of a scenario line that make up its thread (the rest are labels)."""


def _post(
    post_id: str | int,
    author: str,
    text: str,
    kind: str = "original",
    **extra: Any,
) -> dict[str, Any]:
    return {"id": post_id, "author": author, "text": text, "kind": kind, **extra}


def _thread(*posts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"posts": list(posts), **extra}


@pytest.fixture(scope="session")
def post() -> Callable[..., dict[str, Any]]:
    """Return a builder of one post dict: ``post(id, author, text, kind, **extra)``."""
    return _post


@pytest.fixture(scope="session")
def thread() -> Callable[..., dict[str, Any]]:
    """Return a builder of a thread dict: ``thread(*posts, brand_handles=..., target=...)``."""
    return _thread


@pytest.fixture(scope="session")
def scenarios() -> list[dict[str, Any]]:
    """Return the labelled scenarios of tests/data/scenarios.jsonl, one dict each."""
    lines = (DATA / "scenarios.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def scenario_thread() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Return a function giving the thread part of a scenario line."""

    def split(scenario: dict[str, Any]) -> dict[str, Any]:
        return {k: scenario[k] for k in SCENARIO_THREAD_KEYS if k in scenario}

    return split


@pytest.fixture(scope="session", autouse=True)
def _warm_analyzer() -> None:
    """Build the default analyzer (spaCy, lexicons, model) once, before any timing."""
    from replyguard.guard import analyzer_for  # noqa: PLC0415 - after collection
    from replyguard.policy.compiled import Policy  # noqa: PLC0415

    analyzer_for(Policy.packaged("default"))


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from tmp_path, so that files display as their bare names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
