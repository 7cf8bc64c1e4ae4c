"""Escalation packets, and the guard delivering them to sinks (queue, callback, webhook)."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from replyguard import Action, Escalation, Guard
from replyguard._packets import snapshot
from replyguard.cli import main
from replyguard.errors import ConfigurationError
from replyguard.models import Thread
from replyguard.policy import Policy
from replyguard.sinks import QueueFileSink, read_queue

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

POLICY = """\
replyguard: 1
name: esc
routes:
  pr: {priority: high, sla: 30m}
  care: low
rules:
  - id: to-pr
    when: "'protest' in thread.target.text"
    action: escalate
    route: pr
  - id: to-care
    when: "'help' in thread.target.text"
    action: escalate
    route: care
escalations:
  once_per: crowd
  per: 4h
"""


def _guard(tmp_path: Path, extra: str = "", **options: Any) -> Guard:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY + extra)
    return Guard.from_file(path, clock=lambda: AT, **options)


def _post(post_id: str, author: str, text: str, **refs: str) -> dict[str, Any]:
    kind = "retweet" if "retweet_of" in refs else "reply" if refs else "original"
    return {"id": post_id, "author": author, "text": text, "kind": kind, **refs}


def _crowd(target: str, author: str, text: str = "@Acme protest!") -> dict[str, Any]:
    root = _post("root", "@organiser", "Protest outside @Acme today")
    return {
        "brand_handles": ["@Acme"],
        "posts": [root, _post(target, author, text, in_reply_to="root")],
        "target": target,
    }


# -- the packet ------------------------------------------------------------------------


def test_the_packet_carries_what_a_person_needs(tmp_path: Path) -> None:
    guard = _guard(tmp_path)

    decision = guard.review("We are here to help!", _crowd("p1", "@ann"))
    esc = decision.escalation

    assert esc is not None
    assert (esc.escalation_id, esc.decision_id) == (
        decision.decision_id,
        decision.decision_id,
    )
    assert ("pr", "high", "30m") == (esc.route, esc.priority, esc.sla)
    assert (AT, AT + timedelta(minutes=30)) == (esc.at, esc.due)
    assert ("esc", "x", "@ann", "p1") == (
        esc.policy,
        esc.platform,
        esc.author,
        esc.target_id,
    )
    assert decision.reasons == esc.reasons
    assert "We are here to help!" == esc.proposed_reply
    assert esc.thread is not None
    assert ["root", "p1"] == [p.id for p in esc.thread.posts]
    assert esc.summary.startswith("Reply p1 by @ann to a post by @organiser.")
    assert "Held by to-pr" in esc.summary
    # the packet is plain JSON for queues and webhooks, and reads back the same
    assert esc == Escalation.model_validate_json(esc.model_dump_json())


def test_the_sla_comes_from_the_route_or_the_priority(tmp_path: Path) -> None:
    guard = _guard(tmp_path, "  sla: {low: 2d}\n")

    care = guard.review("Hi", _crowd("p1", "@ann", "@Acme help me please"))

    # one priority set, the others keep their defaults
    assert "1h" == guard.policy.sla_for("other", "high")
    assert ("care", "low", "2d") == (
        care.escalation.route,  # type: ignore[union-attr]
        care.escalation.priority,  # type: ignore[union-attr]
        care.escalation.sla,  # type: ignore[union-attr]
    )
    assert AT + timedelta(days=2) == care.escalation.due  # type: ignore[union-attr]


def test_the_snapshot_keeps_the_chain_and_stays_small() -> None:
    posts = [_post("0", "@a", "start")]
    posts += [
        _post(str(i), f"@p{i}", f"reply {i}", in_reply_to=str(i - 1))
        for i in range(1, 40)
    ]
    posts += [_post("x", "@other", "unrelated")]
    thread = Thread.model_validate({"posts": posts, "target": "39"})

    small = snapshot(thread)

    assert 21 == len(small.posts)  # the root, a placeholder, the last 19
    assert ["0", "20"] == [p.id for p in small.posts[:2]]
    assert small.posts[1].missing
    assert "39" == small.target_post.id
    assert "x" not in {p.id for p in small.posts}


def test_an_error_escalation_is_a_full_packet_too(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        POLICY.replace(
            "rules:\n",
            "rules:\n  - id: broken\n    when: thread.target.metrics.likes > 1\n"
            "    action: suppress\n",
        )
    )
    guard = Guard.from_file(path, clock=lambda: AT)
    thread = _crowd("p1", "@ann")
    thread["posts"][1]["metrics"] = {"retweets": 1}  # likes missing: the rule fails

    decision = guard.review("hi", thread)

    assert Action.ESCALATE == decision.action
    esc = decision.escalation
    assert esc is not None
    assert (decision.decision_id, "esc") == (esc.escalation_id, esc.policy)
    assert esc.thread is not None


# -- delivery ------------------------------------------------------------------------------


def test_a_crowd_is_delivered_once_then_updated(tmp_path: Path) -> None:
    seen: list[Escalation] = []
    now = [AT]
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    guard = Guard.from_file(
        path, clock=lambda: now[0], store="memory://", sinks=[seen.append]
    )

    decisions = []
    for i in range(5):
        now[0] = AT + timedelta(minutes=i)
        decisions.append(guard.review("Hi", _crowd(f"p{i}", f"@u{i}")))

    assert [Action.ESCALATE] + [Action.SUPPRESS] * 4 == [d.action for d in decisions]
    assert [False, True, True, True, True] == [e.update for e in seen]
    assert {decisions[0].decision_id} == {e.escalation_id for e in seen}
    assert [1, 2, 3, 4, 5] == [e.occurrences for e in seen]
    assert "5 posts of this crowd asked for pr within 4h." in seen[-1].summary
    # an update does not restart the SLA clock
    assert {AT} == {e.opened_at for e in seen}
    assert {AT + timedelta(minutes=30)} == {e.due for e in seen}


def test_dry_runs_and_explain_deliver_nothing(tmp_path: Path) -> None:
    seen: list[Escalation] = []
    guard = _guard(tmp_path, sinks=[seen.append])

    guard.review("Hi", _crowd("p1", "@ann"), record=False)
    guard.explain("Hi", _crowd("p1", "@ann"))

    assert [] == seen


def test_the_policy_queue_sink_lives_beside_the_policy(tmp_path: Path) -> None:
    guard = _guard(
        tmp_path,
        "  sinks:\n    - {type: queue, path: queue/escalations.jsonl, fsync: false}\n",
        store="memory://",
    )
    for i in range(3):
        guard.review("Hi", _crowd(f"p{i}", f"@u{i}"))
    guard.close()

    read = read_queue(tmp_path / "queue" / "escalations.jsonl")

    assert 1 == len(read.items)
    assert (2, 3) == (read.items[0].updates, read.items[0].escalation.occurrences)


def test_a_failing_sink_never_fails_the_review(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def deliver(self, escalation: Escalation) -> None:
            raise RuntimeError("the queue is down")

        def close(self) -> None:
            pass

    seen: list[Escalation] = []
    guard = _guard(tmp_path, sinks=[Broken(), seen.append])

    decision = guard.review("Hi", _crowd("p1", "@ann"))

    assert Action.ESCALATE == decision.action
    assert 1 == len(seen)  # the next sink still got it
    assert "the queue is down" in caplog.text


def test_a_reload_whose_sink_cannot_be_built_keeps_the_old_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RG_TEST_HOOK", raising=False)
    guard = _guard(tmp_path)
    good = guard.policy
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        POLICY + "  sinks:\n    - {type: webhook, url: 'https://${RG_TEST_HOOK}/x'}\n"
    )

    with pytest.raises(ConfigurationError, match="RG_TEST_HOOK"):
        guard.reload(bad)

    assert guard.policy is good
    assert () == guard.sinks


def test_areview_delivers_too(tmp_path: Path) -> None:
    queue = tmp_path / "q.jsonl"
    guard = _guard(tmp_path, store="memory://", sinks=[QueueFileSink(queue)])

    async def run() -> None:
        for i in range(2):
            await guard.areview("Hi", _crowd(f"p{i}", f"@u{i}"))
        await guard.aclose()

    asyncio.run(run())

    assert [False, True] == [
        json.loads(line)["escalation"]["update"]
        for line in queue.read_text().splitlines()
    ]


class _Hook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_a_slack_webhook_in_the_policy_gets_new_escalations_only(
    tmp_path: Path,
) -> None:
    _Hook.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        guard = _guard(
            tmp_path,
            f"  sinks:\n    - {{type: webhook, url: 'http://127.0.0.1:{port}/hook', "
            "format: slack, routes: [pr]}\n",
            store="memory://",
        )
        for i in range(3):
            guard.review("Hi", _crowd(f"p{i}", f"@u{i}"))
        guard.review("Hi", _crowd("c", "@c", "@Acme help"))  # route care: filtered
        assert guard.flush(timeout=10)
        guard.close()
    finally:
        server.shutdown()
        server.server_close()

    assert 1 == len(_Hook.bodies)
    body = _Hook.bodies[0]
    assert "pr" in body["text"]
    assert body["blocks"]


# -- the command line ---------------------------------------------------------------------


def test_review_explain_shows_before_after_and_the_packet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    thread = tmp_path / "t.json"
    thread.write_text(
        json.dumps(
            {
                "brand_handles": ["@Acme"],
                "posts": [
                    _post("1", "@ann", "@Acme my card was charged twice, awful service")
                ],
            }
        )
    )

    assert 0 == main(
        ["review", str(thread), "--reply", "Reply with your card number!!", "--explain"]
    )
    out = capsys.readouterr().out

    assert "before:    Reply with your card number!!" in out
    assert "after:     Please send us a direct message" in out

    assert 0 == main(
        [
            "review",
            str(thread),
            "--reply",
            "So sorry! We'll refund you in full today.",
            "--explain",
        ]
    )
    out = capsys.readouterr().out
    assert "escalation packet:" in out
    assert "SLA       4h, due" in out
    assert "-> 1 original @ann" in out


def test_queue_list_folds_updates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = tmp_path / "q.jsonl"
    guard = _guard(
        tmp_path, store="memory://", sinks=[QueueFileSink(queue, fsync=False)]
    )
    for i in range(4):
        guard.review("Hi", _crowd(f"p{i}", f"@u{i}"))
    guard.review("Hi", _crowd("c", "@c", "@Acme help"))
    guard.close()

    assert 0 == main(["queue", "list", str(queue)])
    listing = capsys.readouterr().out
    assert 0 == main(["queue", "list", str(queue), "--route", "pr", "--json"])
    items = json.loads(capsys.readouterr().out)

    assert "+3 updates" in listing
    assert "care" in listing
    assert [("pr", 3)] == [(i["escalation"]["route"], i["updates"]) for i in items]


def test_queue_list_names_a_broken_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = tmp_path / "q.jsonl"
    guard = _guard(tmp_path, sinks=[QueueFileSink(queue, fsync=False)])
    guard.review("Hi", _crowd("p1", "@u1"))
    guard.close()
    with queue.open("a") as file:
        file.write('{"type": "escalation", "trunc')

    assert 2 == main(["queue", "list", str(queue)])
    assert f"{queue}:2" in capsys.readouterr().err
    assert 0 == main(["queue", "list", str(queue), "--skip-bad"])
    captured = capsys.readouterr()
    assert "to-pr" in captured.out or "pr" in captured.out
    assert "skipped" in captured.err


def test_policy_sinks_are_checked_at_load_with_file_and_line() -> None:
    text = POLICY + "  sinks:\n    - {type: queue}\n    - {type: pager, to: x}\n"

    with pytest.raises(Exception) as info:
        Policy.from_string(text, file="p.yaml")

    rendered = str(info.value)
    assert "p.yaml:19:7: policy.missing_key: missing required key `path`" in rendered
    assert "p.yaml:20" in rendered
    assert "'queue', 'webhook'" in rendered
