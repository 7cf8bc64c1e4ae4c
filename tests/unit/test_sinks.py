# (house style, STYLE.md 9: tests assert `expected == actual`)
"""Escalation sinks: callbacks, the JSONL queue file, webhooks and sink specs."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import threading
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from replyguard.errors import ConfigurationError, InvalidInput
from replyguard.models import Action, Escalation, Reason
from replyguard.sinks import (
    CallbackSink,
    EscalationSink,
    QueueFileSink,
    RoutedSink,
    WebhookSink,
    format_queue,
    read_queue,
    sink_from_spec,
)

T0 = datetime(2026, 3, 2, 14, 20, tzinfo=UTC)


def esc(
    escalation_id: str = "e1a2b3c4d5",
    *,
    route: str = "pr",
    update: bool = False,
    occurrences: int = 1,
    summary: str = "Protests about the brand are PR's to answer, not a bot's.",
    **extra: Any,
) -> Escalation:
    values: dict[str, Any] = {
        "route": route,
        "priority": "high",
        "summary": summary,
        "proposed_reply": "We are here to help!",
        "escalation_id": escalation_id,
        "decision_id": f"d-{escalation_id}-{occurrences}",
        "update": update,
        "occurrences": occurrences,
        "at": T0,
        "sla": "15m",
        "due": T0 + timedelta(minutes=15),
        "author": "@chalk_walker",
        "target_id": "42",
        "crowd_size": 40,
        "policy": "default",
        "reasons": (
            Reason(
                rule="activism-to-pr",
                action=Action.ESCALATE,
                message="activism",
                route=route,
            ),
        ),
    }
    values.update(extra)
    return Escalation(**values)


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


# ---------------------------------------------------------------------------
# CallbackSink


def test_callback_sink_calls_the_function_with_the_escalation() -> None:
    seen: list[Escalation] = []
    sink = CallbackSink(seen.append)
    escalation = esc()

    sink.deliver(escalation)

    assert [escalation] == seen
    assert isinstance(sink, EscalationSink)


def test_a_raising_callback_is_logged_and_dead_lettered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(_: Escalation) -> None:
        raise RuntimeError("pager is down")

    dead = tmp_path / "dead.jsonl"
    sink = CallbackSink(explode, dead_letter=dead)

    with caplog.at_level(logging.WARNING, logger="replyguard.sinks"):
        sink.deliver(esc("cb-1"))
    sink.close()

    [line] = lines_of(dead)
    assert ("cb-1", "RuntimeError: pager is down", 1) == (
        line["escalation"]["escalation_id"],
        line["error"],
        line["attempts"],
    )
    assert any(
        "cb-1" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records
    )


def test_a_raising_callback_without_dead_letter_logs_the_packet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = CallbackSink(lambda _: 1 / 0)

    with caplog.at_level(logging.ERROR, logger="replyguard.sinks"):
        sink.deliver(esc("cb-2", summary="only copy of this summary"))

    assert any("only copy of this summary" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------
# QueueFileSink and read_queue


def test_queue_file_has_one_json_line_per_delivery(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "queue.jsonl"
    sink = QueueFileSink(path, fsync=False)
    first, update = esc("q-1"), esc("q-1", update=True, occurrences=2)

    sink.deliver(first)
    sink.deliver(update)
    sink.close()

    lines = lines_of(path)
    assert 2 == len(lines)
    assert [first.model_dump(mode="json"), update.model_dump(mode="json")] == [
        line["escalation"] for line in lines
    ]
    assert [("escalation", 1)] * 2 == [(x["type"], x["version"]) for x in lines]
    for line in lines:
        assert datetime.fromisoformat(line["delivered_at"]).tzinfo is not None


def test_queue_file_with_fsync_writes_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "queue.jsonl"
    with QueueFileSink(path, fsync=True) as sink:
        for number in range(3):
            sink.deliver(esc(f"f-{number}"))

    items = read_queue(path).items

    assert ["f-0", "f-1", "f-2"] == [item.escalation.escalation_id for item in items]


def _append_from_process(path: str, worker: int, count: int, start: Any) -> None:
    sink = QueueFileSink(path, fsync=False)
    filler = f"worker {worker} " * 7000  # ~63 KB lines: interleaving would show
    start.wait(60)  # all four write at the same time
    for number in range(count):
        sink.deliver(esc(f"w{worker}-{number}", summary=filler))
    sink.close()


def test_processes_appending_to_one_queue_never_interleave_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.jsonl"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    processes = [
        context.Process(
            target=_append_from_process, args=(str(path), worker, 50, start)
        )
        for worker in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)

    assert [0, 0, 0, 0] == [process.exitcode for process in processes]
    result = read_queue(path)
    assert [] == result.problems
    assert 200 == len(result.items)
    ids = {item.escalation.escalation_id for item in result.items}
    assert {f"w{w}-{n}" for w in range(4) for n in range(50)} == ids
    for item in result.items:
        worker = item.escalation.escalation_id[1]
        assert item.escalation.summary == f"worker {worker} " * 7000


def test_read_queue_folds_updates_into_their_escalation(tmp_path: Path) -> None:
    path = tmp_path / "queue.jsonl"
    sink = QueueFileSink(path, fsync=False)
    sink.deliver(esc("fold-1", occurrences=1))
    sink.deliver(esc("other", route="legal"))
    for occurrences in (2, 3, 4):
        sink.deliver(esc("fold-1", update=True, occurrences=occurrences))
    sink.close()

    items = read_queue(path).items

    assert ["fold-1", "other"] == [item.escalation.escalation_id for item in items]
    fold = items[0]
    assert (3, 4, 1, False, 1) == (
        fold.updates,
        fold.escalation.occurrences,
        fold.first.occurrences,
        fold.first.update,
        fold.line,
    )
    assert fold.first_at <= fold.last_at
    assert (0, 2) == (items[1].updates, items[1].line)


def test_a_truncated_last_line_is_an_error_naming_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue.jsonl"
    with QueueFileSink(path, fsync=False) as sink:
        sink.deliver(esc("ok-1"))
        sink.deliver(esc("ok-2"))
        sink.deliver(esc("cut"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # a crash mid-line

    with pytest.raises(InvalidInput, match=rf"{path}:3: not valid JSON") as caught:
        read_queue(path)
    lenient = read_queue(path, strict=False)

    assert (f"{path}:3:",) == tuple(
        p[: len(f"{path}:3:")] for p in caught.value.problems
    )
    assert ["ok-1", "ok-2"] == [i.escalation.escalation_id for i in lenient.items]
    assert 1 == len(lenient.problems)
    assert lenient.problems[0].startswith(f"{path}:3: ")


def test_a_sink_reopening_a_cut_queue_starts_on_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "queue.jsonl"
    path.write_text('{"type": "escalation", "vers', encoding="utf-8")

    with QueueFileSink(path, fsync=False) as sink:
        sink.deliver(esc("after-crash"))
    result = read_queue(path, strict=False)

    assert ["after-crash"] == [i.escalation.escalation_id for i in result.items]
    assert [f"{path}:1"] == [p.split(": ", 1)[0] for p in result.problems]


def test_read_queue_reports_lines_that_are_not_escalations(tmp_path: Path) -> None:
    path = tmp_path / "queue.jsonl"
    good = json.dumps(
        {
            "type": "escalation",
            "version": 1,
            "delivered_at": "2026-03-02T14:20:00Z",
            "escalation": esc("good").model_dump(mode="json"),
        }
    )
    path.write_text(
        "\n".join(
            [
                good,
                "[1, 2]",
                json.dumps({"type": "escalation", "version": 9}),
                json.dumps(
                    {
                        "type": "escalation",
                        "version": 1,
                        "delivered_at": "2026-03-02T14:20:00Z",
                        "escalation": {"summary": "no reply"},
                    }
                ),
                "",
            ]
        ),
        encoding="utf-8",
    )

    result = read_queue(path, strict=False)

    assert ["good"] == [i.escalation.escalation_id for i in result.items]
    assert [2, 3, 4] == [int(p.split(":")[1]) for p in result.problems]
    assert "proposed_reply" in result.problems[2]


def test_an_unwritable_queue_logs_instead_of_raising(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    dead = tmp_path / "dead.jsonl"
    sink = QueueFileSink(blocker / "queue.jsonl", dead_letter=dead)

    with caplog.at_level(logging.ERROR, logger="replyguard.sinks"):
        sink.deliver(esc("io-1"))
    sink.close()

    assert any("io-1" in r.getMessage() for r in caplog.records)
    assert ["io-1"] == [x["escalation"]["escalation_id"] for x in lines_of(dead)]


def test_a_queue_renamed_away_is_started_again(tmp_path: Path) -> None:
    path = tmp_path / "queue.jsonl"
    claimed = tmp_path / "claimed.jsonl"
    sink = QueueFileSink(path, fsync=False)
    sink.deliver(esc("before"))

    path.rename(claimed)
    sink.deliver(esc("after"))
    sink.close()

    assert ["before"] == [i.escalation.escalation_id for i in read_queue(claimed).items]
    assert ["after"] == [i.escalation.escalation_id for i in read_queue(path).items]


def test_format_queue_lists_newest_first_with_updates_and_route_filter(
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue.jsonl"
    with QueueFileSink(path, fsync=False) as sink:
        sink.deliver(esc("aaaaaaaa-old", summary="word " * 60))
        sink.deliver(esc("bbbbbbbb-legal", route="legal"))
        for occurrences in (2, 3):
            sink.deliver(esc("aaaaaaaa-old", update=True, occurrences=occurrences))
        sink.deliver(esc("cccccccc-new", proposed_reply="bad \x1b[31mred\x1b[0m"))
    items = read_queue(path).items

    listing = format_queue(items)
    only_legal = format_queue(items, route="legal")

    heads = [block.splitlines()[0] for block in listing.split("\n\n")]
    assert [
        "[HIGH] pr  due 14:35  cccccccc",
        "[HIGH] pr  due 14:35  aaaaaaaa  (+2 updates)",
        "[HIGH] legal  due 14:35  bbbbbbbb",
    ] == heads
    assert all(len(line) <= 88 for line in listing.splitlines())
    assert "\x1b" not in listing
    assert "  > We are here to help!" in listing
    assert "author @chalk_walker" in listing
    assert ["[HIGH] legal  due 14:35  bbbbbbbb"] == [
        block.splitlines()[0] for block in only_legal.split("\n\n")
    ]
    assert "no escalations to route nope" == format_queue(items, route="nope")


# ---------------------------------------------------------------------------
# WebhookSink, against a real HTTP server on loopback


@dataclass
class Endpoint:
    """What the loopback server saw, and what it will answer next."""

    url: str
    script: deque[Any] = field(default_factory=deque)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        endpoint = self.server.endpoint
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with endpoint.lock:
            endpoint.requests.append((self.path, dict(self.headers.items()), body))
            step = endpoint.script.popleft() if endpoint.script else 200
        status, headers = 200, {}
        if step == "hold":  # answer only when the test releases the request
            endpoint.arrived.set()
            endpoint.release.wait(10)
        elif step == "slow":  # answer after the client gave up
            endpoint.release.wait(2)
        elif isinstance(step, tuple):
            status, headers = step
        else:
            status = step
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except OSError:
            pass
        endpoint.answered.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    endpoint: Endpoint


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = _Server(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    server.endpoint = Endpoint(url=f"http://127.0.0.1:{port}/hooks/SECRET-TOKEN")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.endpoint
    server.endpoint.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_posts_the_json_body(endpoint: Endpoint) -> None:
    sink = WebhookSink(endpoint.url, headers={"X-Team": "pr"}, backoff=0.01)
    escalation = esc("wh-1")

    sink.deliver(escalation)
    assert sink.flush(10)
    sink.close()

    [(path, headers, _)] = endpoint.requests
    assert [
        {
            "type": "escalation",
            "version": 1,
            "escalation": escalation.model_dump(mode="json"),
        }
    ] == endpoint.bodies()
    assert ("/hooks/SECRET-TOKEN", "pr") == (path, headers["X-Team"])
    assert headers["Content-Type"].startswith("application/json")
    assert (1, 0) == (sink.sent, sink.dead_lettered)


def test_webhook_posts_a_slack_body_within_slack_limits(endpoint: Endpoint) -> None:
    summary = "<!channel> " + "a very long summary " * 600
    sink = WebhookSink(endpoint.url, format="slack", backoff=0.01)

    sink.deliver(esc("slack-1", summary=summary, proposed_reply="x" * 5000))
    sink.close()

    [body] = endpoint.bodies()
    blocks = body["blocks"]
    header, section = blocks[0], blocks[1]
    assert ["header", "section", "section", "section", "context"] == [
        b["type"] for b in blocks
    ]
    assert body["text"].startswith("[HIGH] pr: &lt;!channel&gt; a very long")
    mrkdwn = [body["text"], *(b["text"]["text"] for b in blocks[1:4:2])]
    assert all("<!channel>" not in text for text in mrkdwn)  # it would ping everyone
    assert len(header["text"]["text"]) <= 150
    assert len(section["text"]["text"]) <= 3000
    assert section["text"]["text"].endswith("…")
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert "*Route*\npr" in fields
    assert "*Target*\n@chalk_walker (post 42)" in fields
    assert "*Crowd size*\n40" in fields
    assert blocks[3]["text"]["text"].startswith("*Proposed reply*\n>xxx")
    context = blocks[4]["elements"][0]["text"]
    assert "`activism-to-pr`" in context
    assert "`slack-1`" in context


def test_webhook_retries_5xx_then_succeeds(endpoint: Endpoint, tmp_path: Path) -> None:
    endpoint.script.extend([500, 503])
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(endpoint.url, retries=3, backoff=0.01, dead_letter=dead)

    sink.deliver(esc("retry-1"))
    assert sink.flush(10)
    sink.close()

    assert 3 == len(endpoint.requests)
    assert (1, 0) == (sink.sent, sink.dead_lettered)
    assert not dead.exists()


def test_webhook_honours_retry_after_on_429(endpoint: Endpoint) -> None:
    endpoint.script.append((429, {"Retry-After": "0"}))
    sink = WebhookSink(endpoint.url, retries=1, backoff=30.0)  # Retry-After wins

    sink.deliver(esc("slow-down"))
    assert sink.flush(10)
    sink.close()

    assert (2, 1) == (len(endpoint.requests), sink.sent)


def test_webhook_does_not_retry_a_400(endpoint: Endpoint, tmp_path: Path) -> None:
    endpoint.script.append(400)
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(endpoint.url, retries=3, backoff=0.01, dead_letter=dead)

    sink.deliver(esc("bad-request"))
    assert sink.flush(10)
    sink.close()

    assert 1 == len(endpoint.requests)
    [line] = lines_of(dead)
    assert ("bad-request", "HTTP 400", 1) == (
        line["escalation"]["escalation_id"],
        line["error"],
        line["attempts"],
    )
    assert "SECRET-TOKEN" not in line["sink"]


def test_webhook_server_down_dead_letters_after_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/services/SECRET-TOKEN?key=SECRET-KEY"
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(url, retries=2, backoff=0.01, dead_letter=dead)

    with caplog.at_level(logging.DEBUG, logger="replyguard.sinks"):
        sink.deliver(esc("down-1"))
        assert sink.flush(10)
        sink.close()

    [line] = lines_of(dead)
    assert ("down-1", 3) == (line["escalation"]["escalation_id"], line["attempts"])
    assert "connection failed" in line["error"]
    assert f"webhook http://127.0.0.1:{port}" == line["sink"]
    assert (0, 1) == (sink.sent, sink.dead_lettered)
    assert "SECRET" not in caplog.text
    assert "SECRET" not in json.dumps(
        {k: v for k, v in line.items() if k != "escalation"}
    )


def test_webhook_timeout_is_retried_then_dead_lettered(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    endpoint.script.extend(["slow", "slow"])
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(
        endpoint.url, timeout=0.2, retries=1, backoff=0.01, dead_letter=dead
    )

    sink.deliver(esc("timeout-1"))
    assert sink.flush(10)
    sink.close()

    [line] = lines_of(dead)
    assert 2 == line["attempts"]
    assert "timed out" in line["error"]


def test_webhook_skips_updates_unless_asked(endpoint: Endpoint) -> None:
    quiet = WebhookSink(endpoint.url, backoff=0.01)
    chatty = WebhookSink(endpoint.url, format="slack", send_updates=True, backoff=0.01)

    quiet.deliver(esc("u-1", update=True, occurrences=2))
    quiet.close()
    assert [] == endpoint.requests
    chatty.deliver(esc("u-1", update=True, occurrences=2))
    chatty.close()

    [body] = endpoint.bodies()
    assert body["text"].startswith("Update: [HIGH] pr:")
    assert body["blocks"][0]["text"]["text"].startswith("Update:")


def test_deliver_returns_before_the_server_answers(endpoint: Endpoint) -> None:
    endpoint.script.append("hold")
    sink = WebhookSink(endpoint.url, backoff=0.01)

    sink.deliver(esc("fast-1"))
    # deliver has returned; the request reaches the server but is not answered yet
    assert endpoint.arrived.wait(10)
    assert not endpoint.answered.is_set()
    assert not sink.flush(0.05)
    endpoint.release.set()
    assert sink.flush(10)
    sink.close()

    assert 1 == sink.sent


def test_a_full_webhook_queue_dead_letters_at_once(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    endpoint.script.append("hold")
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(endpoint.url, max_queue=1, backoff=0.01, dead_letter=dead)

    sink.deliver(esc("first"))
    assert endpoint.arrived.wait(10)  # first is in flight: the queue is empty
    sink.deliver(esc("second"))  # waits in the queue
    sink.deliver(esc("third"))  # no room
    overflow = lines_of(dead)
    endpoint.release.set()
    sink.close()

    assert [("third", 0)] == [
        (x["escalation"]["escalation_id"], x["attempts"]) for x in overflow
    ]
    assert overflow[0]["error"].startswith("queue full")
    assert (2, 1) == (sink.sent, sink.dead_lettered)


def test_deliver_after_close_dead_letters(endpoint: Endpoint, tmp_path: Path) -> None:
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(endpoint.url, backoff=0.01, dead_letter=dead)
    sink.close()

    sink.deliver(esc("late"))

    assert [("late", "sink closed")] == [
        (x["escalation"]["escalation_id"], x["error"]) for x in lines_of(dead)
    ]
    assert [] == endpoint.requests


def test_close_dead_letters_what_it_could_not_send_in_time(
    endpoint: Endpoint, tmp_path: Path
) -> None:
    endpoint.script.append("hold")  # never answered within the sink's timeout
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(
        endpoint.url, timeout=0.5, retries=3, backoff=0.01, dead_letter=dead
    )
    sink.deliver(esc("in-flight"))
    assert endpoint.arrived.wait(10)
    sink.deliver(esc("waiting"))

    sink.close(timeout=0.05)

    errors = {
        x["escalation"]["escalation_id"]: (x["error"], x["attempts"])
        for x in lines_of(dead)
    }
    assert ("sink closed before delivery", 0) == errors["waiting"]
    assert ("sink closed while retrying (TimeoutError: timed out)", 1) == errors[
        "in-flight"
    ]
    assert (0, 2) == (sink.sent, sink.dead_lettered)


def test_a_forked_child_sends_with_its_own_thread(endpoint: Endpoint) -> None:
    endpoint.script.append("hold")
    sink = WebhookSink(endpoint.url, backoff=0.01)
    sink.deliver(esc("from-parent"))
    assert endpoint.arrived.wait(10)  # the parent's worker is mid-request

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork + threads
        pid = os.fork()
    if pid == 0:  # the child: its inherited sink has no worker thread of its own
        code = 1
        try:
            sink.deliver(esc("from-child"))
            code = 0 if sink.flush(10) and sink.sent == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    endpoint.release.set()
    assert sink.flush(10)
    sink.close()

    assert 0 == os.waitstatus_to_exitcode(status)
    ids = sorted(body["escalation"]["escalation_id"] for body in endpoint.bodies())
    assert ["from-child", "from-parent"] == ids


# ---------------------------------------------------------------------------
# sink_from_spec


def test_spec_substitutes_environment_variables(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = endpoint.url.rsplit("/hooks/", 1)[0]
    monkeypatch.setenv("RG_TEST_HOOK", "hooks/from-env")
    monkeypatch.setenv("RG_TEST_TOKEN", "s3cret")
    sink = sink_from_spec(
        {
            "type": "webhook",
            "url": base + "/${RG_TEST_HOOK}",
            "headers": {"Authorization": "Bearer ${RG_TEST_TOKEN}"},
            "retries": 0,
            "timeout": 5,
        }
    )

    sink.deliver(esc("env-1"))
    sink.close()

    [(path, headers, _)] = endpoint.requests
    assert ("/hooks/from-env", "Bearer s3cret") == (path, headers["Authorization"])


def test_spec_names_an_unset_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RG_TEST_UNSET", raising=False)

    with pytest.raises(ConfigurationError, match="`RG_TEST_UNSET` is not set"):
        sink_from_spec(
            {"type": "webhook", "url": "https://example.com/${RG_TEST_UNSET}"}
        )
    with pytest.raises(ConfigurationError, match="`RG_TEST_UNSET` is not set"):
        sink_from_spec(
            {
                "type": "webhook",
                "url": "https://example.com/",
                "headers": {"X-Key": "${RG_TEST_UNSET}"},
            }
        )


def test_spec_resolves_relative_paths_against_base_dir(tmp_path: Path) -> None:
    sink = sink_from_spec(
        {"type": "queue", "path": "var/queue.jsonl", "fsync": False},
        base_dir=tmp_path,
    )

    sink.deliver(esc("rel-1"))
    sink.close()

    assert isinstance(sink, QueueFileSink)
    assert tmp_path / "var" / "queue.jsonl" == sink.path
    assert ["rel-1"] == [
        i.escalation.escalation_id for i in read_queue(sink.path).items
    ]


def test_spec_routes_filter_escalations(tmp_path: Path) -> None:
    path = tmp_path / "pr-legal.jsonl"
    sink = sink_from_spec(
        {"type": "queue", "path": str(path), "routes": ["pr", "legal"]}
    )

    for route in ("pr", "social-care", "legal"):
        sink.deliver(esc(f"to-{route}", route=route))
    sink.close()

    assert isinstance(sink, RoutedSink)
    assert isinstance(sink, EscalationSink)
    assert ["to-pr", "to-legal"] == [
        i.escalation.escalation_id for i in read_queue(path).items
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "pager", "to": "x"}, "unknown sink type 'pager'"),
        ({"path": "q.jsonl"}, "unknown sink type None"),
        ({"type": "queue"}, "needs a `path`"),
        ({"type": "queue", "path": "q.jsonl", "fsnyc": True}, "unknown key.*fsnyc"),
        ({"type": "webhook", "url": "ftp://host/x"}, "http:// or https://"),
        (
            {"type": "webhook", "url": "https://h/", "retries": "3"},
            "`retries` must be an integer",
        ),
        (
            {"type": "webhook", "url": "https://h/", "timeout": 0},
            "timeout must be more than 0",
        ),
        (
            {"type": "webhook", "url": "https://h/", "format": "teams"},
            "`format` must be",
        ),
        ({"type": "queue", "path": "q.jsonl", "routes": "pr"}, "`routes` must be"),
    ],
)
def test_spec_problems_are_configuration_errors(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        sink_from_spec(spec)
