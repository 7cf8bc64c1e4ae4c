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


def test_the_escalation_queue_bot_sends_customers_and_queues_crowds_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = runpy.run_path(str(EXAMPLES / "escalation_queue_bot.py"))
    queue = tmp_path / "escalations.jsonl"

    assert 0 == namespace["main"]([str(queue)])

    out = capsys.readouterr().out
    items = namespace["read_queue"](queue).items
    # the 2013 protest crowd and the busy hour's pile-on: each with a person once,
    # every later post of the crowd an update of that one item
    crowds = {(item.escalation.route, item.escalation.crowd) for item in items}
    assert {("pr", "1"), ("pr", "bh-019")} <= crowds
    assert all(item.first.update is False for item in items)
    assert sum(item.updates for item in items) >= 20
    assert "SENT to bh-" in out
    assert f"{queue}: {len(items)} escalation(s) for people" in out


def test_the_policy_tests_example_runs_under_pytest() -> None:
    import subprocess  # noqa: PLC0415 - only this test runs a process
    import sys  # noqa: PLC0415

    folder = EXAMPLES / "policy_tests"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # 5 tests in the module and 2 cases of its case file, collected by the plugin
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "7 passed" in result.stdout


def test_the_compliance_review_catches_the_edit_and_keeps_the_erased_log_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = runpy.run_path(str(EXAMPLES / "compliance_review.py"))

    assert 0 == namespace["main"](tmp_path)

    out = capsys.readouterr().out
    assert "2. verify: ok (71 records)" in out
    assert "the tampered copy: caught: " in out
    assert "hash mismatch: the record was edited" in out
    assert "; verify: ok" in out.split("3. erased", 1)[1].splitlines()[0]
    assert "decision(s) would change with acme-next" in out
    assert "+outage-questions-to-people" in out
    assert (tmp_path / "report.html").is_file()
