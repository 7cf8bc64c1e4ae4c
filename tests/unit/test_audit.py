"""The decision log: records, masking, chains, verification, erasure, retention."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from replyguard import Guard, Policy
from replyguard.audit import (
    AuditRecord,
    AuditTrail,
    JsonlAuditLog,
    SqliteAuditLog,
    author_key,
    decision_record,
    erase,
    log_files,
    mask_pii,
    masker,
    prune,
    pseudonym,
    read_log,
    to_stream,
    verify_log,
)
from replyguard.audit import _envelope_hash as envelope_hash
from replyguard.errors import InvalidArgument, PolicyError
from replyguard.models import Action, Thread

CARD = "4111 1111 1111 1111"
EMAIL = "ann.lee@example.com"

COMPLAINT = {
    "platform": "x",
    "brand_handles": ["@acme"],
    "posts": [
        {
            "id": "1",
            "author": "@ann_lee",
            "author_name": "Ann Lee",
            "text": f"@acme you charged my card {CARD} twice! write to {EMAIL}",
            "kind": "original",
        }
    ],
}
RETWEET = {
    "platform": "x",
    "brand_handles": ["@acme"],
    "posts": [
        {"id": "1", "author": "@chalk", "text": "Fraud. @acme", "kind": "original"},
        {
            "id": "2",
            "author": "@bob",
            "text": "RT @chalk: Fraud. @acme",
            "kind": "retweet",
            "retweet_of": "1",
        },
    ],
}
MOCKERY = {
    "brand_handles": ["@acme"],
    "posts": [
        {
            "id": "1",
            "author": "@ann",
            "text": "Oh great, @acme lost my bag AGAIN. Best airline ever 🙄 #sarcasm",
            "kind": "original",
        }
    ],
}
SORRY = "Sorry about that @ann_lee, we are looking into the double charge."
CANNED = "We are here to help, listen, and learn from our customers!"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.packaged("default")


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8"
    )


def make_log(tmp_path: Path, policy: Policy, n: int = 5, **options: Any) -> Path:
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=JsonlAuditLog(path, **options))
    for i in range(n):
        guard.review(
            f"{SORRY} ({i})" if i % 2 else CANNED, COMPLAINT if i % 3 else RETWEET
        )
    guard.close()
    return path


# --- the record -------------------------------------------------------------------


def test_every_review_appends_one_record_explain_none(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)

    sent = guard.review(SORRY, COMPLAINT)
    dry = guard.review(CANNED, RETWEET, record=False)
    guard.explain(SORRY, COMPLAINT)
    guard.close()

    records = lines_of(path)
    assert [sent.decision_id, dry.decision_id] == [r["decision_id"] for r in records]
    assert [True, False] == [r["recorded"] for r in records]
    assert [1, 2] == [r["seq"] for r in records]
    assert [None, records[0]["hash"]] == [r["prev"] for r in records]
    for record in records:
        AuditRecord.model_validate(record)


async def test_areview_appends_a_record_too(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=[path, f"sqlite:///{tmp_path / 'd.db'}"])

    decision = await guard.areview(SORRY, COMPLAINT)
    await guard.aclose()

    assert [decision.decision_id] == [r["decision_id"] for r in lines_of(path)]
    assert [decision.decision_id] == [
        r["decision_id"] for r in read_log(f"sqlite:///{tmp_path / 'd.db'}")
    ]


def test_record_fields_describe_the_decision(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    decision = guard.review(CANNED, RETWEET)
    guard.close()

    (record,) = lines_of(path)

    assert "decision" == record["kind"]
    assert 1 == record["v"]
    assert decision.action.value == record["action"]
    assert list(decision.rules) == record["rules"]
    assert [r.rule for r in decision.reasons] == [r["rule"] for r in record["reasons"]]
    assert {"name", "version", "hash"} == set(record["policy"])
    assert decision.policy.hash == record["policy"]["hash"]
    assert ("x", "2", "retweet", "1") == (
        record["platform"],
        record["target_id"],
        record["target_kind"],
        record["crowd"],
    )
    assert author_key("@BOB") == record["author_key"]
    assert "bob" not in json.dumps({k: v for k, v in record.items() if k != "content"})
    assert {"analyze", "state", "evaluate", "output", "total"} == set(
        record["latency_us"]
    )
    assert all(isinstance(v, int) for v in record["latency_us"].values())
    assert record["latency_us"]["total"] >= record["latency_us"]["analyze"] > 0
    assert decision.signals.sarcasm.score == record["scores"]["sarcasm"]
    assert decision.signals.tone.hostility == record["scores"]["tone.hostility"]
    assert (
        decision.signals.chain.amplification == record["scores"]["chain.amplification"]
    )
    assert not any(isinstance(v, bool) for v in record["scores"].values())
    assert CANNED == record["content"]["proposed"]
    assert Thread.model_validate(RETWEET) == Thread.model_validate(
        record["content"]["thread"]
    )
    assert {r.rule: r.message for r in decision.reasons} == record["content"][
        "messages"
    ]


def test_escalation_and_errors_are_in_the_envelope(policy):
    thread = Thread.model_validate(MOCKERY)
    decision = Guard(policy).review("We love to hear it! Thanks for flying!", thread)
    assert decision.escalation is not None

    record = decision_record(decision, thread, latency_us={"total": 7})

    assert {
        "escalation_id": decision.escalation.escalation_id,
        "route": decision.escalation.route,
        "priority": decision.escalation.priority,
        "update": False,
        "occurrences": 1,
        "sla": decision.escalation.sla,
        "due": decision.escalation.due.isoformat().replace("+00:00", "Z")
        if decision.escalation.due
        else None,
    } == record["escalation"]
    assert decision.escalation.summary == record["content"]["summary"]
    assert {"analyze": 0, "state": 0, "evaluate": 0, "output": 0, "total": 7} == (
        record["latency_us"]
    )


def test_a_thread_with_an_empty_post_round_trips(policy):
    thread = Thread.model_validate(
        {"posts": [{"id": "1", "author": "@a", "text": "", "kind": "original"}]}
    )
    record = decision_record(Guard(policy).review("Hi!", thread), thread)

    assert thread == Thread.model_validate(record["content"]["thread"])


# --- masking ----------------------------------------------------------------------


def test_card_numbers_and_emails_never_reach_the_log(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    guard.review(f"{SORRY} Is {EMAIL} right? Card {CARD}?", COMPLAINT)
    guard.close()

    raw = path.read_text("utf-8")
    (record,) = lines_of(path)

    assert CARD not in raw
    assert "4111 1111 1111" not in raw
    assert EMAIL not in raw
    assert "example.com" not in raw
    text = record["content"]["thread"]["posts"][0]["text"]
    original = COMPLAINT["posts"][0]["text"]
    assert len(original) == len(text)
    assert "*" * 15 + "1111" in text  # a card keeps its last four digits
    assert "*" * len(EMAIL) in text
    assert record["content"]["proposed"].count("*") >= len(EMAIL)


def test_masked_evidence_offsets_still_point_at_the_evidence(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    guard.review(SORRY, COMPLAINT)
    guard.close()

    (record,) = lines_of(path)
    posts = {p["id"]: p["text"] for p in record["content"]["thread"]["posts"]}
    evidence = [e for e in record["content"]["evidence"] if e["post_id"] in posts]

    assert evidence
    for item in evidence:
        assert item["text"] == posts[item["post_id"]][item["start"] : item["end"]]


def test_mask_pii_keeps_lengths_and_leaves_other_text_alone():
    record = {
        "content": {
            "author": "@a",
            "text": None,
            "proposed": f"mail {EMAIL}",
            "messages": {"r": f"card {CARD}"},
            "summary": "nothing here",
            "thread": {"posts": [{"author": "@a", "text": "call +44 20 7946 0958"}]},
            "evidence": [{"text": EMAIL}],
        }
    }

    masked = mask_pii(record)["content"]

    assert "mail " + "*" * len(EMAIL) == masked["proposed"]
    assert "card " + "*" * 15 + "1111" == masked["messages"]["r"]
    assert "nothing here" == masked["summary"]
    assert "call " + "*" * 16 == masked["thread"]["posts"][0]["text"]
    assert "*" * len(EMAIL) == masked["evidence"][0]["text"]


def test_masker_handles_gives_people_a_stable_pseudonym(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(
        policy, audit=path, audit_processors=[masker(pii=False, handles=True)]
    )
    guard.review(SORRY, COMPLAINT)
    guard.close()

    raw = path.read_text("utf-8")
    (record,) = lines_of(path)
    post = record["content"]["thread"]["posts"][0]

    assert "ann_lee" not in raw.lower()
    assert "Ann Lee" not in raw
    assert pseudonym("@ann_lee") == record["content"]["author"] == post["author"]
    assert pseudonym("@ANN_LEE") == pseudonym("ann_lee")
    assert post["text"].startswith("@acme ")  # the brand's own handle stays
    assert pseudonym("@ann_lee") in record["content"]["proposed"]
    assert "*******" == post["author_name"]


def test_masker_text_drops_post_texts_keeping_lengths():
    thread = {"posts": [{"author": "@a", "text": "so sad"}], "brand_handles": []}
    record = {"content": {"proposed": "We are sorry.", "thread": thread}}

    masked = masker(pii=True, text=True)(record)["content"]

    assert "******" == masked["thread"]["posts"][0]["text"]
    assert "We are sorry." == masked["proposed"]


def test_erased_content_is_not_masked_again():
    record = {"content": {"erased": True, "reason": "r", "erased_at": "x"}}

    assert record == masker(handles=True, text=True)(dict(record))


# --- chains and verification -------------------------------------------------------


def test_a_fresh_log_verifies_and_names_its_head(tmp_path, policy):
    path = make_log(tmp_path, policy)

    report = verify_log(path)
    (record,) = lines_of(path)[-1:]

    assert report.ok, report.problems
    assert 5 == report.records
    assert {
        record["chain"]: {"first_seq": 1, "last_seq": 5, "head": record["hash"]}
    } == (report.chains)


def _tampered(path: Path, change) -> Path:
    records = lines_of(path)
    change(records)
    write_lines(path, records)
    return path


def test_an_edited_line_is_named_by_file_and_line(tmp_path, policy):
    path = make_log(tmp_path, policy)

    def edit(records):
        records[2]["target_id"] = "999"

    report = verify_log(_tampered(path, edit))

    assert not report.ok
    assert any(p.startswith(f"{path}:3: hash mismatch") for p in report.problems)


def test_an_edit_with_its_hash_recomputed_breaks_the_next_prev(tmp_path, policy):
    path = make_log(tmp_path, policy)

    def edit(records):
        records[1]["target_id"] = "999"
        records[1]["hash"] = envelope_hash(records[1])

    report = verify_log(_tampered(path, edit))

    assert [f"{path}:3"] == [p.split(": ")[0] for p in report.problems]
    assert "`prev` is not the hash of seq 2" in report.problems[0]


def test_a_removed_record_is_a_gap(tmp_path, policy):
    path = make_log(tmp_path, policy)

    report = verify_log(_tampered(path, lambda records: records.pop(2)))

    assert 1 == len(report.problems)
    assert report.problems[0].startswith(f"{path}:3: chain ")
    assert "jumps from seq 2 to 4: seq 3 removed" in report.problems[0]


def test_reordered_records_are_caught(tmp_path, policy):
    path = make_log(tmp_path, policy)

    def swap(records):
        records[1], records[2] = records[2], records[1]

    report = verify_log(_tampered(path, swap))

    assert not report.ok
    assert any(
        p.startswith(f"{path}:3: ") and "goes back" in p for p in report.problems
    )


def test_content_edited_under_a_kept_content_hash_is_caught(tmp_path, policy):
    path = make_log(tmp_path, policy)

    def edit(records):
        records[3]["content"]["proposed"] = "something else entirely"

    report = verify_log(_tampered(path, edit))

    assert [f"{path}:4"] == [p.split(": ")[0] for p in report.problems]
    assert "content_hash mismatch" in report.problems[0]


def test_a_truncated_last_line_is_a_warning(tmp_path, policy):
    path = make_log(tmp_path, policy)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 300])  # a crash in the middle of the last write

    report = verify_log(path)

    assert report.ok
    assert 4 == report.records
    assert [f"{path}:5: truncated record (a write cut short by a crash); skipped"] == (
        report.warnings
    )


def test_the_next_writer_repairs_a_truncated_line(tmp_path, policy):
    path = make_log(tmp_path, policy)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 300])

    guard = Guard(policy, audit=path)
    guard.review(SORRY, COMPLAINT)
    guard.close()
    report = verify_log(path)

    assert report.ok, report.problems
    assert 5 == report.records
    assert 2 == len(report.chains)
    assert 1 == len(report.warnings)


def test_garbage_lines_are_problems(tmp_path, policy):
    path = make_log(tmp_path, policy, n=2)
    with path.open("a") as file:
        file.write("hello\n[1, 2]\n{}\n")

    report = verify_log(path)

    assert [
        f"{path}:3: not a JSON line",
        f"{path}:4: not a decision-log record",
        f"{path}:5: not a decision-log record (no v, kind, chain, seq, hash, logged_at)",
    ] == report.problems


def test_a_chain_starting_late_without_checkpoint_is_caught(tmp_path, policy):
    path = make_log(tmp_path, policy)

    report = verify_log(_tampered(path, lambda records: records.pop(0)))

    assert 1 == len(report.problems)
    assert "starts at seq 2 and no checkpoint accounts" in report.problems[0]


def test_removing_the_last_records_needs_an_anchor(tmp_path, policy):
    path = make_log(tmp_path, policy)
    ((chain, info),) = verify_log(path).chains.items()

    _tampered(path, lambda records: records.pop())

    assert verify_log(path).ok  # nothing in the file tells
    report = verify_log(path, expect_heads={chain: info["head"]})
    assert not report.ok
    assert report.problems[0].startswith(f"chain {chain}: the anchored head")


def test_an_older_anchor_still_matches_a_grown_log(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    log = JsonlAuditLog(path)
    guard = Guard(policy, audit=log)
    guard.review(SORRY, COMPLAINT)
    anchor = {log.chain: log.head}
    guard.review(CANNED, RETWEET)
    guard.close()

    assert verify_log(path, expect_heads=anchor).ok
    assert not verify_log(path, expect_heads={"nope": "sha256:0"}).ok


# --- several writers, forks, rotation ----------------------------------------------


def _worker(guard: Guard, index: int) -> None:
    for i in range(50):
        guard.review(f"{SORRY} [{index}:{i}]", COMPLAINT)
    guard.close()


def test_four_processes_append_to_one_log(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=JsonlAuditLog(path, fsync="never"))
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_worker, args=(guard, i)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)

    assert [0, 0, 0, 0] == [w.exitcode for w in workers]
    report = verify_log(path)
    assert report.ok, report.problems
    assert 200 == report.records
    assert 4 == len(report.chains)
    assert all(
        {"first_seq": 1, "last_seq": 50} == {k: c[k] for k in ("first_seq", "last_seq")}
        for c in report.chains.values()
    )


def test_a_forked_child_starts_a_chain_of_its_own(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    log = JsonlAuditLog(path)
    guard = Guard(policy, audit=log)
    guard.review(SORRY, COMPLAINT)
    pid = os.fork()
    if pid == 0:  # the child
        try:
            guard.review(CANNED, RETWEET)
            guard.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    guard.review(CANNED, COMPLAINT)
    guard.close()

    report = verify_log(path)
    assert report.ok, report.problems
    assert {(1, 2), (1, 1)} == {
        (c["first_seq"], c["last_seq"]) for c in report.chains.values()
    }


def test_threads_share_one_chain(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    log = JsonlAuditLog(path, fsync="never")
    thread = Thread.model_validate(COMPLAINT)
    record = decision_record(Guard(policy).review(SORRY, thread), thread)

    def write() -> None:
        for _ in range(25):
            log.write(record)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()

    report = verify_log(path)
    assert report.ok, report.problems
    assert [1, 200] == [report.chains[log.chain][k] for k in ("first_seq", "last_seq")]


def test_rotation_moves_on_through_segments_and_verifies(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    log = JsonlAuditLog(path, rotate_bytes=6000)
    guard = Guard(policy, audit=log)
    for i in range(12):
        guard.review(f"{SORRY} {i}", COMPLAINT)
    guard.close()

    files = log_files(path)
    assert len(files) >= 3
    assert [
        path,
        *(tmp_path / f"decisions.{n}.jsonl" for n in range(1, len(files))),
    ] == (files)
    report = verify_log(path)
    assert report.ok, report.problems
    assert 12 == report.records == len(list(read_log(path)))
    assert [1, 12] == [report.chains[log.chain][k] for k in ("first_seq", "last_seq")]
    # a segment on its own is missing its chain's start
    assert not verify_log(files[1]).ok


def test_a_removed_segment_is_a_gap(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=JsonlAuditLog(path, rotate_bytes=6000))
    for i in range(12):
        guard.review(f"{SORRY} {i}", COMPLAINT)
    guard.close()

    log_files(path)[1].unlink()

    assert any("removed" in p for p in verify_log(path).problems)


def test_two_writers_rotate_to_the_same_segments(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    first = Guard(policy, audit=JsonlAuditLog(path, rotate_bytes=6000))
    second = Guard(policy, audit=JsonlAuditLog(path, rotate_bytes=6000))
    for i in range(10):
        first.review(f"{SORRY} {i}", COMPLAINT)
        second.review(f"{CANNED} {i}", RETWEET)
    first.close()
    second.close()

    report = verify_log(path)
    assert report.ok, report.problems
    assert 20 == report.records
    sizes = [f.stat().st_size for f in log_files(path)]
    assert all(size < 6000 + 4000 for size in sizes)


def test_a_named_chain_continues_where_the_log_left_it(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    for _ in range(2):
        guard = Guard(policy, audit=JsonlAuditLog(path, chain="worker-1"))
        guard.review(SORRY, COMPLAINT)
        guard.close()

    report = verify_log(path)
    assert report.ok, report.problems
    assert {"worker-1"} == set(report.chains)
    assert 2 == report.chains["worker-1"]["last_seq"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"fsync": "sometimes"}, "fsync must be one of", id="fsync"),
        pytest.param({"rotate_bytes": 0}, "rotate_bytes", id="rotate"),
        pytest.param({"chain": ""}, "chain", id="chain"),
    ],
)
def test_bad_log_options_are_refused(tmp_path, kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        JsonlAuditLog(tmp_path / "d.jsonl", **kwargs)


@pytest.mark.parametrize("fsync", ["always", "interval", "never"])
def test_every_fsync_mode_writes_whole_records(tmp_path, policy, fsync):
    path = make_log(tmp_path, policy, n=3, fsync=fsync)

    assert 3 == verify_log(path).records


# --- SQLite -------------------------------------------------------------------------


def test_sqlite_log_chains_verifies_and_catches_an_edit(tmp_path, policy):
    db = tmp_path / "decisions.db"
    guard = Guard(policy, audit=SqliteAuditLog(db))
    for i in range(4):
        guard.review(f"{SORRY} {i}", COMPLAINT)
    guard.close()

    report = verify_log(f"sqlite:///{db}")
    assert report.ok, report.problems
    assert 4 == report.records
    assert verify_log(db).ok  # the file itself is recognised

    with sqlite3.connect(db) as connection:
        (text,) = connection.execute(
            "SELECT record FROM decision_log WHERE seq = 2"
        ).fetchone()
        record = json.loads(text)
        record["action"] = "suppress"
        connection.execute(
            "UPDATE decision_log SET record = ? WHERE seq = 2", (json.dumps(record),)
        )
    connection.close()

    report = verify_log(db)
    assert [f"{db}:2"] == [p.split(": ")[0] for p in report.problems]


def test_sqlite_log_from_two_writers(tmp_path, policy):
    db = tmp_path / "decisions.db"
    guards = [Guard(policy, audit=f"sqlite:///{db}") for _ in range(2)]
    for i in range(5):
        for guard in guards:
            guard.review(f"{SORRY} {i}", COMPLAINT)
    for guard in guards:
        guard.close()

    report = verify_log(db)
    assert report.ok, report.problems
    assert 2 == len(report.chains)
    assert 10 == report.records


def test_sqlite_erase_and_prune_keep_it_verifiable(tmp_path, policy):
    db = tmp_path / "decisions.db"
    log = SqliteAuditLog(db)
    thread = Thread.model_validate(COMPLAINT)
    decision = Guard(policy).review(SORRY, thread)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for day in range(5):
        log.write(
            decision_record(decision, thread, logged_at=start + timedelta(days=day))
        )
    log.close()

    assert 5 == erase(db, author="@Ann_Lee", reason="GDPR art. 17 request 42")
    assert 2 == prune(f"sqlite:///{db}", before=start + timedelta(days=2))
    report = verify_log(db)

    assert report.ok, report.problems
    assert (4, 3, 1) == (report.records, report.erased, report.checkpoints)


# --- erasure and retention ---------------------------------------------------------


def test_erase_by_author_keeps_the_chain_whole(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    guard.review(SORRY, COMPLAINT)
    guard.review(CANNED, RETWEET)
    guard.review(SORRY, COMPLAINT)

    erased = erase(path, author="ann_lee", reason="erasure request #7")
    guard.review(CANNED, RETWEET)  # the writer carries on in the new file
    guard.close()

    assert 2 == erased
    records = lines_of(path)
    assert ["erasure request #7", None, "erasure request #7", None] == [
        r["content"].get("reason") for r in records
    ]
    assert "ann_lee" not in path.read_text("utf-8").replace(author_key("ann_lee"), "")
    report = verify_log(path)
    assert report.ok, report.problems
    assert (4, 2) == (report.records, report.erased)


def test_erase_finds_a_person_who_only_posted_in_the_thread(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    guard.review(CANNED, RETWEET)
    guard.close()

    assert 1 == erase(path, author="@chalk", reason="request")
    assert 0 == erase(path, author="@chalk", reason="again")  # already erased
    assert verify_log(path).ok


def test_erase_one_decision(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    first = guard.review(SORRY, COMPLAINT)
    guard.review(SORRY, COMPLAINT)
    guard.close()

    assert 1 == erase(path, decision_id=first.decision_id, reason="mistake")
    assert [True, False] == [r["content"].get("erased", False) for r in lines_of(path)]


def test_erase_needs_a_reason_and_a_target(tmp_path):
    with pytest.raises(InvalidArgument, match="reason"):
        erase(tmp_path / "d.jsonl", author="@a", reason=" ")
    with pytest.raises(InvalidArgument, match="author"):
        erase(tmp_path / "d.jsonl", reason="why")


def _dated_log(tmp_path: Path, policy: Policy, days: int = 5) -> tuple[Path, datetime]:
    path = tmp_path / "decisions.jsonl"
    log = JsonlAuditLog(path, rotate_bytes=5000)
    thread = Thread.model_validate(COMPLAINT)
    decision = Guard(policy).review(SORRY, thread)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for day in range(days):
        log.write(
            decision_record(decision, thread, logged_at=start + timedelta(days=day))
        )
    log.close()
    return path, start


def test_prune_drops_old_records_and_checkpoints_the_chain(tmp_path, policy):
    path, start = _dated_log(tmp_path, policy)

    assert 2 == prune(path, before=start + timedelta(days=2))

    report = verify_log(path)
    assert report.ok, report.problems
    assert (4, 1) == (report.records, report.checkpoints)
    checkpoint = list(read_log(path))[-1]
    assert "checkpoint" == checkpoint["kind"]
    assert 2 == checkpoint["pruned"]
    (chain,) = [c for c in report.chains if c != checkpoint["chain"]]
    assert 2 == checkpoint["pruned_through"][chain]["seq"]
    assert 3 == report.chains[chain]["first_seq"]


def test_prune_twice_and_prune_a_whole_chain(tmp_path, policy):
    path, start = _dated_log(tmp_path, policy)

    assert 2 == prune(path, before=start + timedelta(days=2))
    assert 0 == prune(path, before=start)
    # everything, the first checkpoint too
    assert 4 == prune(path, before=datetime.now(UTC) + timedelta(days=1))

    report = verify_log(path)
    assert report.ok, report.problems
    assert (1, 1) == (report.records, report.checkpoints)


def test_prune_needs_an_aware_time(tmp_path):
    with pytest.raises(InvalidArgument, match="aware"):
        prune(tmp_path / "d.jsonl", before=datetime(2026, 1, 1))  # noqa: DTZ001


# --- reading back ------------------------------------------------------------------


def test_read_log_and_to_stream_make_a_replay_stream(tmp_path, policy):
    path = make_log(tmp_path, policy, n=4)
    first = lines_of(path)[0]
    erase(path, decision_id=first["decision_id"], reason="request")

    stream = to_stream(read_log(path))
    events = list(stream)

    assert (3, 1) == (stream.events, stream.erased)
    assert [r["at"] for r in lines_of(path)[1:]] == [e["at"] for e in events]
    for event, record in zip(events, lines_of(path)[1:], strict=True):
        assert record["content"]["proposed"] == event["reply"]
        Thread.model_validate(event["thread"])


def test_read_log_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(read_log(tmp_path / "nope.jsonl"))


# --- the guard when the log fails -----------------------------------------------------


def test_a_review_that_cannot_be_logged_never_goes_out(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path, store="memory://")
    path.mkdir()  # after start-up, a directory where the log should be: every write fails

    held = guard.review(SORRY, COMPLAINT)

    assert policy.on_error == held.action
    assert held.text is None
    assert ["audit"] == [e.stage for e in held.errors]
    assert "the review decided allow" in held.errors[0].message
    assert held.escalation is not None

    path.rmdir()
    after = guard.review(CANNED, RETWEET)
    guard.close()

    records = lines_of(path)
    assert [held.decision_id, after.decision_id] == [r["decision_id"] for r in records]
    assert policy.on_error.value == records[0]["action"]
    assert [{"type": "IsADirectoryError", "stage": "audit"}] == [
        {k: e[k] for k in ("type", "stage")} for e in records[0]["errors"]
    ]
    assert verify_log(path).ok


def test_a_held_review_is_taken_back_from_the_store(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path, store="memory://")
    path.mkdir()  # the log becomes unwritable after start-up

    guard.review(SORRY, COMPLAINT)

    assert 0 == guard.analyze(COMPLAINT, SORRY).state.sent_same_text


def test_a_review_that_would_not_send_keeps_its_action(tmp_path, policy):
    path = tmp_path / "decisions.jsonl"
    guard = Guard(policy, audit=path)
    path.mkdir()  # the log becomes unwritable after start-up

    decision = guard.review(CANNED, RETWEET)

    assert Action.SUPPRESS == decision.action
    assert ["audit"] == [e.stage for e in decision.errors]


def test_a_failing_processor_holds_the_reply(tmp_path, policy):
    def broken(record):
        raise RuntimeError("boom")

    guard = Guard(policy, audit=tmp_path / "d.jsonl", audit_processors=[broken])

    decision = guard.review(SORRY, COMPLAINT)

    assert policy.on_error == decision.action
    assert ["RuntimeError"] == [e.type for e in decision.errors]


def test_the_retry_buffer_is_bounded(tmp_path, policy, caplog):
    class Refusing:
        def write(self, record):
            raise OSError("disk full")

        def flush(self):
            pass

        def close(self):
            pass

    log = Refusing()
    trail = AuditTrail([log], max_pending=2)
    for i in range(3):
        trail.keep({"decision_id": str(i)}, [log])

    assert 2 == trail.pending()
    assert "the oldest (decision 0) is dropped" in caplog.text


# --- the policy's audit section ----------------------------------------------------


def test_the_policy_names_the_log_relative_to_its_folder(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "brand.yaml").write_text(
        "replyguard: 1\n"
        "name: brand\n"
        "extends: replyguard:default\n"
        "audit:\n"
        "  log: logs/decisions.jsonl\n"
        "  fsync: always\n"
        "  mask: {handles: true}\n",
        "utf-8",
    )
    guard = Guard.from_file(folder / "brand.yaml")
    guard.review(SORRY, COMPLAINT)
    guard.close()

    path = folder / "logs" / "decisions.jsonl"
    (record,) = lines_of(path)
    assert pseudonym("@ann_lee") == record["content"]["author"]
    assert CARD not in path.read_text("utf-8")
    assert "always" == guard.policy.audit.fsync


def test_the_audit_section_is_part_of_the_policy_hash():
    base = "replyguard: 1\nname: a\n"
    plain = Policy.from_string(base)

    assert plain.hash == Policy.from_string(base + "audit: {}\n").hash
    assert plain.hash != Policy.from_string(base + "audit: {fsync: never}\n").hash


def test_a_child_policy_changes_one_mask_field():
    parent = "replyguard: 1\nname: p\naudit: {mask: {text: true}, fsync: never}\n"
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "parent.yaml").write_text(parent, "utf-8")
        (Path(folder) / "child.yaml").write_text(
            "replyguard: 1\nname: c\nextends: parent.yaml\n"
            "audit: {mask: {handles: true}}\n",
            "utf-8",
        )
        audit = Policy.from_file(Path(folder) / "child.yaml").audit

    assert (True, True, True, "never") == (
        audit.mask.pii,
        audit.mask.handles,
        audit.mask.text,
        audit.fsync,
    )


@pytest.mark.parametrize(
    ("section", "where", "message"),
    [
        pytest.param(
            "  log: decisions.txt\n",
            "4:8",
            "policy.bad_value: `audit.log`: `decisions.txt` is not a decision log",
            id="log",
        ),
        pytest.param(
            "  fsync: sometimes\n",
            "4:10",
            "policy.bad_value: `audit.fsync`: input should be 'always'",
            id="fsync",
        ),
        pytest.param(
            "  rotate_bytes: 10\n",
            "4:17",
            "policy.bad_value: `audit.rotate_bytes`: input should be greater than",
            id="rotate",
        ),
        pytest.param(
            "  mask: {pii: true, handle: true}\n",
            "4:21",
            "policy.unknown_key: unknown key `handle`",
            id="mask-key",
        ),
        pytest.param(
            "  mask: {text: 1}\n",
            "4:16",
            "policy.bad_value: `audit.mask.text`: input should be a valid boolean",
            id="mask-value",
        ),
        pytest.param(
            "  logs: decisions.jsonl\n",
            "4:3",
            "policy.unknown_key: unknown key `logs`",
            id="unknown",
        ),
    ],
)
def test_bad_audit_sections_are_located(tmp_path, section, where, message):
    path = tmp_path / "brand.yaml"
    path.write_text(f"replyguard: 1\nname: brand\naudit:\n{section}", "utf-8")

    with pytest.raises(PolicyError) as info:
        Policy.from_file(path)

    (problem,) = info.value.problems
    assert f"{problem.line}:{problem.column}" == where
    assert message in problem.format()


def test_reload_moves_to_the_new_policy_log(tmp_path):
    policy_file = tmp_path / "brand.yaml"
    text = "replyguard: 1\nname: brand\nextends: replyguard:default\naudit: {log: %s}\n"
    policy_file.write_text(text % "a.jsonl", "utf-8")
    guard = Guard.from_file(policy_file)
    guard.review(SORRY, COMPLAINT)

    policy_file.write_text(text % "b.jsonl", "utf-8")
    guard.reload()
    guard.review(SORRY, COMPLAINT)
    assert guard.flush()
    guard.close()

    assert 1 == len(lines_of(tmp_path / "a.jsonl"))
    assert 1 == len(lines_of(tmp_path / "b.jsonl"))


def test_a_bad_audit_argument_is_refused(policy):
    with pytest.raises(InvalidArgument, match="audit must be decision logs"):
        Guard(policy, audit=[42])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument, match="audit_processors"):
        Guard(policy, audit_processors=["mask"])  # type: ignore[list-item]


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_a_log_that_can_never_be_written_fails_at_start_up(tmp_path, policy, where):
    from replyguard.errors import ConfigurationError  # noqa: PLC0415

    if where == "folder":
        path = tmp_path
        expected = "is a folder"
    else:
        blocker = tmp_path / "file"
        blocker.write_text("x")
        path = blocker / "logs" / "decisions.jsonl"
        expected = "cannot create its folder"
    with pytest.raises(ConfigurationError, match=expected):
        Guard(policy, audit=path)
