"""`replyguard audit verify | erase | prune | export` on real decision logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replyguard import Guard, Policy, Thread
from replyguard.audit import JsonlAuditLog, decision_record, read_log
from replyguard.cli import main

THREAD = {
    "brand_handles": ["@acme"],
    "posts": [
        {
            "id": "1",
            "author": "@ann",
            "text": "@acme my order never arrived, mail me at ann@example.com",
            "kind": "original",
        }
    ],
}
REPLY = "Sorry @ann, we are on it."


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.packaged("default")


@pytest.fixture
def log(tmp_path, policy) -> Path:
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    for i in range(3):
        guard.review(f"{REPLY} #{i}", THREAD)
    guard.close()
    return path


def test_verify_ok_prints_the_heads(log, capsys):
    assert 0 == main(["audit", "verify", str(log)])

    out = capsys.readouterr().out
    head = json.loads(log.read_text().splitlines()[-1])["hash"]
    assert out.startswith("ok: 3 record(s) in 1 chain(s), 0 erased, 0 checkpoint(s)")
    assert f"seq 1..3 head {head}" in out


def test_verify_json(log, capsys):
    assert 0 == main(["audit", "verify", str(log), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert (True, 3, []) == (report["ok"], report["records"], report["problems"])


def test_verify_finds_an_edit_exit_1(log, capsys):
    lines = log.read_text().splitlines()
    record = json.loads(lines[1])
    record["action"] = "suppress" if record["action"] != "suppress" else "allow"
    lines[1] = json.dumps(record)
    log.write_text("\n".join(lines) + "\n")

    assert 1 == main(["audit", "verify", str(log)])

    out = capsys.readouterr().out
    assert f"problem: {log}:2: hash mismatch" in out


def test_verify_with_an_anchor(log, capsys):
    last = json.loads(log.read_text().splitlines()[-1])
    anchor = f"{last['chain']}={last['hash']}"
    assert 0 == main(["audit", "verify", str(log), "--expect-head", anchor])

    log.write_text("".join(log.read_text().splitlines(keepends=True)[:-1]))

    assert 1 == main(["audit", "verify", str(log), "--expect-head", anchor])
    assert "the anchored head" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["nope.jsonl"], "no such decision log", id="missing"),
        pytest.param(["LOG", "--expect-head", "oops"], "use CHAIN=HASH", id="anchor"),
    ],
)
def test_verify_usage_errors_exit_2(log, capsys, args, message):
    args = [
        str(log) if a == "LOG" else str(log.parent / a) if a.endswith(".jsonl") else a
        for a in args
    ]

    assert 2 == main(["audit", "verify", *args])

    assert message in capsys.readouterr().err


def test_erase_by_author_then_verify(log, capsys):
    assert 0 == main(
        ["audit", "erase", str(log), "--author", "@ANN", "--reason", "request 7"]
    )
    assert "erased the content of 3 record(s)" in capsys.readouterr().out

    assert 0 == main(["audit", "verify", str(log)])
    assert "3 erased" in capsys.readouterr().out
    assert "ann@" not in log.read_text()


def test_erase_needs_one_target(log, capsys):
    assert 2 == main(["audit", "erase", str(log), "--reason", "why"])
    assert "--author HANDLE or --decision ID" in capsys.readouterr().err


def test_erase_one_decision(log, capsys):
    first = json.loads(log.read_text().splitlines()[0])["decision_id"]

    assert 0 == main(
        ["audit", "erase", str(log), "--decision", first, "--reason", "mistake"]
    )

    assert "erased the content of 1 record(s)" in capsys.readouterr().out


def test_prune_then_verify(tmp_path, policy, capsys):
    path = tmp_path / "decisions.jsonl"
    writer = JsonlAuditLog(path)
    thread = Thread.model_validate(THREAD)
    decision = Guard(policy).review(REPLY, thread)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for day in range(4):
        writer.write(
            decision_record(decision, thread, logged_at=start + timedelta(days=day))
        )
    writer.close()

    assert 0 == main(["audit", "prune", str(path), "--before", "2026-03-03"])
    assert "pruned 2 record(s)" in capsys.readouterr().out

    assert 0 == main(["audit", "verify", str(path)])
    assert "1 checkpoint(s)" in capsys.readouterr().out


def test_prune_bad_time(log, capsys):
    assert 2 == main(["audit", "prune", str(log), "--before", "last tuesday"])
    assert "not an ISO 8601 time" in capsys.readouterr().err


def test_export_writes_a_replay_stream(log, capsys):
    first = next(read_log(log))
    main(
        [
            "audit",
            "erase",
            str(log),
            "--decision",
            first["decision_id"],
            "--reason",
            "r",
        ]
    )
    capsys.readouterr()

    assert 0 == main(["audit", "export", str(log)])

    captured = capsys.readouterr()
    events = [json.loads(line) for line in captured.out.splitlines()]
    assert 2 == len(events)
    assert {"at", "thread", "reply"} == set(events[0])
    assert REPLY + " #1" == events[0]["reply"]
    Thread.model_validate(events[0]["thread"])
    assert "exported 2 event(s); skipped 1 erased record(s)" in captured.err


def test_audit_without_an_action_prints_usage(capsys):
    assert 2 == main(["audit"])
    assert "verify" in capsys.readouterr().err
