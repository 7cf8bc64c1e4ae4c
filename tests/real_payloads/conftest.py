"""
Checks against real platform payloads, run when the folder holding them is present.

The payloads come from public repositories (see their SOURCES.md) and stay out of this
repository: set ``REPLYGUARD_PAYLOADS`` to their folder, or keep them at
``../shared/data/payloads`` beside the project. Without them these modules are not
collected (nothing is skipped).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "payloads"
PAYLOADS = Path(os.environ.get("REPLYGUARD_PAYLOADS", _DEFAULT))

if not PAYLOADS.is_dir():
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def payloads() -> Path:
    """The folder of real payloads (with x/, bluesky/, mastodon/)."""
    return PAYLOADS
