"""End-to-end tests of the `replyguard` command, in-process and as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replyguard.analysis.scorer import LinearScorer
from replyguard.cli import main

ROOT = Path(__file__).resolve().parents[1]
STREAM = ROOT / "examples" / "bofa_2013" / "stream.jsonl"

THREAD = {
    "platform": "x",
    "brand_handles": ["@BankofAmerica", "@BofA_Help"],
    "posts": [
        {
            "id": "1",
            "author": "@occupy_chalk",
            "text": "Chalk art outside @BankofAmerica today",
            "kind": "original",
            "created_at": "2013-07-10T14:00:00Z",
        },
        {
            "id": "2",
            "author": "@someone",
            "text": "RT @occupy_chalk: Chalk art outside @BankofAmerica today",
            "kind": "retweet",
            "retweet_of": "1",
            "created_at": "2013-07-10T14:03:00Z",
        },
    ],
    "target": "2",
}


@pytest.fixture
def thread_file(tmp_path: Path) -> Path:
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(THREAD), encoding="utf-8")
    return path


def test_review_prints_a_readable_decision(thread_file, capsys):
    code = main(["review", str(thread_file), "--reply", "We are here to help!"])

    out = capsys.readouterr().out
    assert 0 == code
    assert "action:    suppress" in out
    assert "no-reply-to-retweets" in out
    assert "send:      (nothing)" in out


def test_review_json_round_trips(thread_file, capsys):
    code = main(
        ["review", str(thread_file), "--reply", "We are here to help!", "--json"]
    )

    payload = json.loads(capsys.readouterr().out)
    assert 0 == code
    assert "suppress" == payload["action"]
    assert ["no-reply-to-retweets"] == [r["rule"] for r in payload["reasons"]]
    assert payload["policy"]["name"] == "default"


def test_review_explain_shows_every_rule(thread_file, capsys):
    from replyguard import Guard  # noqa: PLC0415 - the import is what is tested

    code = main(["review", str(thread_file), "--reply", "hi", "--explain"])

    out = capsys.readouterr().out
    assert 0 == code
    for rule in Guard.default().policy.rules:
        assert rule.id in out
    assert "match  no-reply-to-retweets" in out
    assert "replyguard:default:" in out  # rule locations


def test_review_explain_json_has_trace(thread_file, capsys):
    main(["review", str(thread_file), "--reply", "hi", "--explain", "--json"])

    payload = json.loads(capsys.readouterr().out)
    ops = {event["op"] for event in payload["trace"]}
    assert {"enter", "match", "fail"} <= ops


def test_review_accepts_an_event_with_its_reply(tmp_path, capsys):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"thread": THREAD, "reply": "hello"}), encoding="utf-8")

    assert 0 == main(["review", str(path), "--json"])
    assert "hello" == json.loads(capsys.readouterr().out)["proposed"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("{not json", "thread.json:1:2: invalid JSON", id="bad-json"),
        pytest.param(
            json.dumps(
                {
                    **THREAD,
                    "posts": [{**THREAD["posts"][0], "retweet_off": "1"}],
                    "target": None,
                }
            ),
            "thread.json: posts[0].retweet_off: unknown key",
            id="typo-key",
        ),
        pytest.param(
            json.dumps({**THREAD, "posts": [THREAD["posts"][1]], "target": None}),
            "thread.json: posts[0].retweet_of: unknown post id `1`",
            id="dangling-reference",
        ),
        pytest.param(json.dumps({**THREAD, "posts": []}), "posts: ", id="empty-posts"),
    ],
)
def test_review_bad_thread_is_one_clear_line(tmp_path, capsys, content, expected):
    path = tmp_path / "thread.json"
    path.write_text(content, encoding="utf-8")

    code = main(["review", str(path), "--reply", "hi"])

    err = capsys.readouterr().err
    assert 2 == code
    assert expected in err
    assert "Traceback" not in err


def test_review_missing_file(capsys):
    assert 2 == main(["review", "nope.json", "--reply", "hi"])
    assert "nope.json: no such file" in capsys.readouterr().err


def test_review_needs_a_reply(thread_file, capsys):
    assert 2 == main(["review", str(thread_file)])
    assert "--reply" in capsys.readouterr().err


def test_review_with_a_broken_policy_lists_problems(thread_file, tmp_path, capsys):
    policy = tmp_path / "broken.yaml"
    policy.write_text(
        "replyguard: 1\nname: x\nrules:\n  - id: a\n    when: signals.sarcsm\n"
        "    action: suppress\n",
        encoding="utf-8",
    )

    code = main(["review", str(thread_file), "--reply", "hi", "--policy", str(policy)])

    err = capsys.readouterr().err
    assert 2 == code
    assert (
        "broken.yaml:5:11: policy.unknown_name: unknown signal `signals.sarcsm`" in err
    )


def test_lint_ok_on_shipped_policies(capsys):
    code = main(
        [
            "lint",
            str(ROOT / "policies" / "default.yaml"),
            str(ROOT / "policies" / "finance.yaml"),
            "replyguard:finance",
        ]
    )

    out = capsys.readouterr().out
    assert 0 == code
    assert 3 == out.count("ok: ")


def test_lint_reports_every_problem_with_location(tmp_path, capsys):
    policy = tmp_path / "brand.yaml"
    policy.write_text(
        "replyguard: 1\n"
        "name: brand\n"
        "rules:\n"
        "  - id: one\n"
        '    when: thread.target.kind == "retweat"\n'
        "    action: suppress\n"
        "  - id: two\n"
        "    when: signals.sarcsm.detected\n"
        "    action: escalate\n"
        "  - id: three\n"
        "    when: true\n"
        "    action: supress\n",
        encoding="utf-8",
    )

    code = main(["lint", str(policy)])

    out = capsys.readouterr().out
    assert 1 == code
    # schema problems stop compilation, so the first pass reports the bad action
    assert "brand.yaml:12:13: policy.unknown_action" in out
    assert "did you mean `suppress`?" in out


def test_lint_reports_all_compile_problems_at_once(tmp_path, capsys):
    policy = tmp_path / "brand.yaml"
    policy.write_text(
        "replyguard: 1\nname: brand\nrules:\n"
        '  - id: one\n    when: thread.target.kind == "retweat"\n    action: suppress\n'
        "  - id: two\n    when: signals.sarcsm.detected\n    action: escalate\n",
        encoding="utf-8",
    )

    assert 1 == main(["lint", str(policy)])
    out = capsys.readouterr().out
    assert "brand.yaml:5:11: policy.unknown_value" in out
    assert "brand.yaml:8:11: policy.unknown_name" in out


def test_lint_missing_file(capsys):
    assert 1 == main(["lint", "missing.yaml"])
    assert "policy.not_found" in capsys.readouterr().out


def test_lint_unknown_packaged_policy(capsys):
    assert 1 == main(["lint", "replyguard:nope"])
    out = capsys.readouterr().out
    assert "replyguard:default" in out  # lists what exists


def test_schema_prints_json_schema(capsys):
    assert 0 == main(["schema"])
    schema = json.loads(capsys.readouterr().out)
    assert {"replyguard", "name", "rules"} <= set(schema["properties"])


def test_schema_to_file(tmp_path):
    target = tmp_path / "schema.json"
    assert 0 == main(["schema", "-o", str(target)])
    assert "properties" in json.loads(target.read_text(encoding="utf-8"))


def test_demo_holds_the_storm_and_answers_the_customer(capsys):
    assert 0 == main(["demo", "--json"])
    records = json.loads(capsys.readouterr().out)
    by_note = {r["note"]: r["decision"] for r in records}
    kinds = [r["decision"]["signals"]["chain"]["target_kind"] for r in records]

    customer = [d for note, d in by_note.items() if "genuine customer" in note]
    assert 1 == len(customer)
    assert "allow" == customer[0]["action"]
    for record, kind in zip(records, kinds, strict=True):
        if kind in ("retweet", "quote"):
            assert "suppress" == record["decision"]["action"], record["note"]


def test_demo_text_has_summary(capsys):
    assert 0 == main(["demo", "--no-report"])
    out = capsys.readouterr().out
    assert "Summary: 16 posts" in out
    assert "same words up to 16 times" in out
    assert "Crowd around post 1 by @chalk_walker: 15 posts from 13 people" in out


def test_demo_answers_the_storm_at_most_once_and_escalates_it_once(capsys):
    assert 0 == main(["demo", "--json"])
    records = json.loads(capsys.readouterr().out)
    storm = [
        r["decision"] for r in records if "genuine customer" not in (r["note"] or "")
    ]

    sent = [d for d in storm if d["text"] is not None]
    escalated = [d for d in storm if d["escalation"] and not d["escalation"]["update"]]
    updates = [d for d in storm if d["escalation"] and d["escalation"]["update"]]
    assert len(sent) <= 1
    assert 1 == len(escalated)
    assert {"1"} == {d["escalation"]["crowd"] for d in escalated}
    # every later post of the crowd updates the one escalation instead of paging
    assert updates
    assert {escalated[0]["decision_id"]} == {
        d["escalation"]["escalation_id"] for d in updates
    }
    assert all("escalated-once" in [r["rule"] for r in d["reasons"]] for d in updates)


def test_the_busy_hour_answers_its_customers_and_not_the_pile_on(capsys):
    assert 0 == main(["demo", "--example", "busy_hour", "--json"])
    records = json.loads(capsys.readouterr().out)
    customers = [r["decision"] for r in records if r["note"].startswith("customer")]
    pile_on = [r["decision"] for r in records if r["note"].startswith("pile-on")]

    answered = sum(d["text"] is not None for d in customers)
    print(f"busy hour: {answered} of {len(customers)} customer posts answered")  # noqa: T201
    assert answered >= 0.9 * len(customers)
    assert sum(d["text"] is not None for d in pile_on) <= 1
    assert all(not d["signals"]["state"]["storm_open"] for d in customers)
    assert any(d["signals"]["state"]["storm_open"] for d in pile_on)


def test_an_unknown_demo_example_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--example", "nope"])

    assert 2 == exit_info.value.code
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_demo_bad_stream(tmp_path, capsys):
    stream = tmp_path / "s.jsonl"
    stream.write_text('{"thread": {}}\n', encoding="utf-8")
    assert 2 == main(["demo", "--stream", str(stream)])
    assert "s.jsonl:1: an event needs `thread` and `reply`" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert 2 == main([])
    assert "usage: replyguard" in capsys.readouterr().out


def test_version(capsys):
    assert 0 == main(["--version"])
    assert capsys.readouterr().out.startswith("replyguard ")


def test_console_script_runs_from_elsewhere(tmp_path):
    """The installed entry point works outside the checkout (packaged data)."""
    result = subprocess.run(
        [sys.executable, "-m", "replyguard.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert 0 == result.returncode, result.stderr
    assert "Summary:" in result.stdout
    # the demo replays into a decision log and says where its report is
    report = Path(
        result.stdout.rsplit("The report, to open in a browser: ", 1)[1].strip()
    )
    try:
        assert report.is_file()
        assert "@BofA_Help, July 2013: the chalk storm" in report.read_text(
            encoding="utf-8"
        )
        log = report.parent / "decisions.jsonl"
        assert 0 == main(["audit", "verify", str(log)])
    finally:
        shutil.rmtree(report.parent, ignore_errors=True)


def test_demo_report_goes_where_asked_and_the_log_beside_it(tmp_path, capsys):
    report = tmp_path / "out" / "storm.html"

    assert 0 == main(["demo", "--report", str(report)])
    out = capsys.readouterr().out

    assert f"The report, to open in a browser: {report.resolve()}" in out
    assert report.is_file()
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html
    assert "Of 16 posts, 1 was answered; 15 were held" in html
    assert (tmp_path / "out" / "decisions.jsonl").is_file()
    assert 0 == main(["audit", "verify", str(tmp_path / "out" / "decisions.jsonl")])


GRIEF = {
    "brand_handles": ["@AcmeBankHelp"],
    "posts": [
        {
            "id": "7",
            "author": "@june",
            "kind": "original",
            "text": "@AcmeBankHelp my mom passed away in March and you still send her promos 🙄",
        }
    ],
}


def test_review_explain_shows_signals_with_evidence_marked(tmp_path, capsys):
    path = tmp_path / "grief.json"
    path.write_text(json.dumps(GRIEF), encoding="utf-8")

    code = main(["review", str(path), "--reply", "Glad to help! 😊", "--explain"])

    out = capsys.readouterr().out
    assert 0 == code
    assert "grief-needs-a-person" in out
    assert "evidence in post 7 by @june:" in out
    assert "[[my mom passed away]]" in out
    assert "tone.grief: grief:my mom passed away" in out
    assert "[[🙄]]" in out
    assert "language  en" in out


def test_train_writes_a_model_that_scores(tmp_path, capsys):
    rows = ["tweet,sarcastic"]
    for i in range(40):
        rows.append(f'"oh great another delay number {i} 🙄 love waiting",1')
        rows.append(f'"my order {i} arrived on time, thank you",0')
    data = tmp_path / "labelled.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = tmp_path / "model.json.gz"

    code = main(["train", "--data", str(data), "--out", str(model), "--folds", "3"])

    out = capsys.readouterr().out
    assert 0 == code
    assert f"wrote {model}" in out
    scorer = LinearScorer.load(model)
    assert scorer.score("oh great a delay 🙄") > scorer.score(
        "arrived on time, thank you"
    )


def test_train_bad_csv_names_the_line(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    data.write_text("tweet,sarcastic\nfine,0\nbroken,maybe\n", encoding="utf-8")

    code = main(["train", "--data", str(data), "--out", str(tmp_path / "m.json")])

    err = capsys.readouterr().err
    assert 2 == code
    assert "bad.csv:3" in err


def test_demo_reviews_each_event_at_its_own_time(capsys):
    code = main(["demo", "--json"])

    out = capsys.readouterr().out
    assert 0 == code
    ages = [
        record["decision"]["signals"]["chain"]["target_age"]
        for record in json.loads(out)
    ]
    assert 16 == len(ages)
    assert all(age is None or 0 <= age < 7 * 24 * 3600 for age in ages)


def test_review_at_a_given_time_measures_the_age_from_it(thread_file, capsys):
    code = main(
        [
            "review",
            str(thread_file),
            "--reply",
            "hi",
            "--json",
            "--at",
            "2013-07-10T15:03:00Z",
        ]
    )

    out = capsys.readouterr().out
    assert 0 == code
    assert 3600.0 == json.loads(out)["signals"]["chain"]["target_age"]


def test_review_at_a_bad_time_is_one_clear_line(thread_file, capsys):
    code = main(["review", str(thread_file), "--reply", "hi", "--at", "yesterday"])

    assert 2 == code
    assert "--at: `yesterday` is not an ISO 8601 time" in capsys.readouterr().err


def test_train_into_a_missing_directory_is_one_clear_line(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("tweet,sarcastic\nok,0\n", encoding="utf-8")

    code = main(
        ["train", "--data", str(data), "--out", str(tmp_path / "no" / "m.json")]
    )

    assert 2 == code
    assert "no such directory" in capsys.readouterr().err


def test_demo_explain_marks_the_evidence_of_each_event(capsys):
    code = main(["demo", "--explain", "--no-report"])

    out = capsys.readouterr().out
    assert 0 == code
    assert 16 == out.count("\nsignals:\n")
    assert "evidence in post 1 by @chalk_walker:" in out
    assert "[[foreclosures]]" in out
    assert "tone.activism: activism:foreclosures" in out


def test_demo_writes_its_escalations_to_a_queue_file(tmp_path, capsys):
    queue = tmp_path / "escalations.jsonl"
    queue.write_text("an older run\n")

    assert 0 == main(["demo", "--queue", str(queue), "--no-report"])
    out = capsys.readouterr().out

    assert f"Escalations for people: 1 in {queue}" in out
    assert 0 == main(["queue", "list", str(queue)])
    listing = capsys.readouterr().out
    assert "[HIGH] pr" in listing
    assert "updates)" in listing
