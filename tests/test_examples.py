"""The shipped examples run and say what their docs say they say."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_read_a_thread_holds_what_it_should(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "read_a_thread.py"), run_name="__main__")

    out = capsys.readouterr().out
    blocks = {block.split(":", 1)[0]: block for block in out.split("--- ")[1:]}
    assert "action escalate" in blocks["sarcasm"]
    assert "grief-needs-a-person" in blocks["grief"]
    assert "hostility-goes-to-a-person" in blocks["evasion"]
    assert "activism-to-pr" in blocks["their own words"]  # added by the policy
    assert "no-taking-instructions" in blocks["instructions"]
    assert "action allow" in blocks["a real question"]
