"""`replyguard.replay` and `replyguard replay`: a stream through a policy, with its clock."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from replyguard import Guard
from replyguard.cli import main
from replyguard.errors import InvalidInput
from replyguard.replay import replay, replay_file
from replyguard.testing.shadow import read_stream

ROOT = Path(__file__).resolve().parents[2]
BOFA = ROOT / "examples" / "bofa_2013" / "stream.jsonl"
BUSY = ROOT / "examples" / "busy_hour" / "stream.jsonl"
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _event(
    n: int, text: str, *, at: datetime, author: str | None = None, **post: Any
) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "thread": {
            "brand_handles": ["@AcmeBank"],
            "posts": [
                {
                    "id": str(n),
                    "author": author or f"@person{n}",
                    "text": text,
                    "kind": "original",
                    **post,
                }
            ],
        },
        "reply": "Thanks for getting in touch! We're looking into it.",
    }


def _write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def test_replay_counts_what_the_guard_decides_event_by_event() -> None:
    # the same stream reviewed by hand, with the same clock and a fresh store
    now = [T0]
    guard = Guard.default(store="memory://", clock=lambda: now[0])
    expected: Counter[str] = Counter()
    for _, event in read_stream(BUSY):
        now[0] = event["at"]
        expected[guard.review(event["reply"], event["thread"]).action.value] += 1

    summary = replay_file(BUSY, policy="replyguard:default")

    assert summary.events == sum(expected.values()) == 71
    assert dict(summary.actions) == dict(expected)
    assert summary.first is not None
    assert summary.last is not None
    assert summary.first < summary.last
    assert summary.seconds > 0
    assert summary.per_second > 0


def test_the_2013_storm_is_one_crowd_held_with_one_escalation() -> None:
    summary = replay_file(BOFA, policy="replyguard:default")

    biggest = summary.top_crowds(1)[0]
    assert biggest.author == "@chalk_walker"
    assert biggest.posts == 15
    assert biggest.sent == 0
    assert summary.escalations == 1  # one packet for the crowd
    assert summary.updates == 14  # the rest fold into it
    assert summary.routes["pr"] == 15
    assert summary.rules["crowd-goes-to-a-person"] >= 10


def test_the_storm_breaker_opening_is_reported_with_its_time() -> None:
    summary = replay_file(BUSY, policy="replyguard:default")

    assert summary.storm_opened == 1
    ((at, crowd),) = summary.storm_openings
    assert crowd == "bh-019"
    assert at is not None
    assert at.hour == 8


def test_an_out_of_order_stream_is_refused_with_its_line(tmp_path: Path) -> None:
    stream = _write(
        tmp_path / "s.jsonl",
        [
            _event(1, "@AcmeBank hello", at=T0),
            _event(2, "@AcmeBank hi", at=T0 + timedelta(minutes=5)),
            _event(3, "@AcmeBank hey", at=T0 + timedelta(minutes=1)),
        ],
    )

    with pytest.raises(
        InvalidInput, match=r"s\.jsonl:3: `at` .* is before the line above"
    ):
        replay_file(stream, policy="replyguard:default")


def test_sort_replays_in_time_order_and_counts_the_late_lines(tmp_path: Path) -> None:
    times = [0, 5, 1, 7, 2]
    stream = _write(
        tmp_path / "s.jsonl",
        [
            _event(i, f"@AcmeBank question {i}", at=T0 + timedelta(minutes=m))
            for i, m in enumerate(times)
        ],
    )
    seen: list[int] = []

    summary = replay_file(
        stream,
        policy="replyguard:default",
        sort=True,
        on_decision=lambda line, event, decision: seen.append(line),
    )

    assert (
        summary.out_of_order == 2
    )  # minutes 1 and 2 came after 5 and 7... 1 after 5, 2 after 7
    assert seen == [1, 3, 5, 2, 4]  # lines in time order
    assert summary.events == 5


def test_a_bad_line_names_its_line(tmp_path: Path) -> None:
    good = json.dumps(_event(1, "@AcmeBank hi", at=T0))
    bad = _event(2, "x", at=T0 + timedelta(minutes=1))
    bad["thread"]["posts"][0]["kind"] = "boost"
    path = tmp_path / "s.jsonl"
    path.write_text(good + "\n" + json.dumps(bad) + "\n", encoding="utf-8")

    with pytest.raises(InvalidInput) as info:
        replay_file(path, policy="replyguard:default")
    assert str(info.value).startswith("line 2: posts[0].kind")


def test_diff_against_lists_the_decisions_a_new_policy_changes(tmp_path: Path) -> None:
    stream = _write(
        tmp_path / "s.jsonl",
        [
            _event(
                1,
                "@AcmeBank my card was charged twice, I'm taking this to the ombudsman",
                at=T0,
            ),
            _event(
                2,
                "@AcmeBank what time do branches open on Saturday?",
                at=T0 + timedelta(minutes=1),
            ),
        ],
    )

    summary = replay_file(
        stream, policy="replyguard:finance", against="replyguard:default"
    )

    assert summary.diff is not None
    assert summary.diff.events == 2
    assert summary.diff.changed == 1
    (change,) = summary.diff.changes
    assert change.line == 1
    assert "regulators-to-legal" in change.added


def test_tallies_stay_bounded_on_a_long_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    from replyguard import replay as module  # noqa: PLC0415

    monkeypatch.setattr(module, "MAX_CROWDS", 50)
    monkeypatch.setattr(module, "MAX_PEOPLE", 20)
    monkeypatch.setattr(module, "MAX_KEPT", 5)

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        for i in range(1, 1_201):
            at = T0 + timedelta(seconds=10 * i)
            if i % 2:  # a crowd of retweets around one post
                event = {
                    "at": at,
                    "thread": {
                        "brand_handles": ["@AcmeBank"],
                        "posts": [
                            {
                                "id": "root",
                                "author": "@loud",
                                "text": "@AcmeBank boo",
                                "kind": "original",
                            },
                            {
                                "id": f"rt{i}",
                                "author": f"@fan{i}",
                                "text": "RT @loud: @AcmeBank boo",
                                "kind": "retweet",
                                "retweet_of": "root",
                            },
                        ],
                    },
                    "reply": "Hi!",
                }
            else:  # someone on their own
                event = _event(i, "@AcmeBank hello there", at=at)
                event["at"] = at
            yield i, event

    now = [T0]
    guard = Guard.default(store="memory://", clock=lambda: now[0])
    summary = replay(events(), guard, clock=now)

    assert summary.events == 1_200
    assert len(summary.crowds) <= 100
    assert summary.crowds_dropped > 0
    assert summary.crowds["root"].posts == 600  # the biggest crowd is never dropped
    assert summary.crowds["root"].size == 20  # people remembered per crowd, capped
    assert len(summary.kept_escalations) <= 5
    assert sum(summary.actions.values()) == 1_200


# --- the command --------------------------------------------------------------------


def test_cli_prints_the_summary_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(BOFA), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "replayed" in out
    assert "16 events" in out
    assert "suppressed" in out
    assert "escalations: 1 new, 14 update(s)" in out
    assert "@chalk_walker" in out


def test_cli_json_and_a_diff_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = _write(
        tmp_path / "s.jsonl",
        [_event(1, "@AcmeBank I will report you to the ombudsman", at=T0)],
    )
    code = main(
        [
            "replay",
            str(stream),
            "--policy",
            "replyguard:finance",
            "--diff-against",
            "replyguard:default",
            "--json",
        ]
    )
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    assert data["events"] == 1
    assert data["diff"]["changed"] == 1
    assert set(data["actions"]) == {"allow", "rewrite", "escalate", "suppress"}


def test_cli_out_of_order_is_exit_2_and_sort_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = _write(
        tmp_path / "s.jsonl",
        [
            _event(1, "@AcmeBank a", at=T0 + timedelta(minutes=2)),
            _event(2, "@AcmeBank b", at=T0),
        ],
    )
    assert main(["replay", str(stream)]) == 2
    assert "s.jsonl:2:" in capsys.readouterr().err
    assert main(["replay", str(stream), "--sort"]) == 0
    assert "1 event(s) were out of time order" in capsys.readouterr().err


def test_cli_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(BOFA), "--progress"]) == 0
    captured = capsys.readouterr()
    assert "event" in captured.err  # tqdm's unit
    assert "replayed" in captured.out


def test_cli_replay_with_a_sqlite_store_keeps_what_it_recorded(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    assert (
        main(
            [
                "replay",
                str(BUSY),
                "--store",
                f"sqlite:///{db}",
                "--no-progress",
                "--json",
            ]
        )
        == 0
    )
    assert db.stat().st_size > 0


@pytest.mark.parametrize(
    ("flag", "what"),
    [("--audit", "decision log"), ("--report", "report")],
)
def test_cli_a_folder_for_a_file_is_a_clear_error(
    flag: str, what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(BOFA), flag, str(tmp_path)]) == 2
    assert f"is a folder; give the {what} a file name" in capsys.readouterr().err


def test_cli_report_into_a_folder_that_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["replay", str(BOFA), "--report", str(blocker / "sub" / "r.html")]) == 2
    assert "cannot create its folder for the report" in capsys.readouterr().err


def test_cli_replay_writes_a_log_and_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, page = tmp_path / "logs" / "d.jsonl", tmp_path / "r.html"
    assert main(["replay", str(BOFA), "--audit", str(log), "--report", str(page)]) == 0
    assert f"report: {page.resolve()}" in capsys.readouterr().out
    assert page.is_file()
    assert main(["audit", "verify", str(log)]) == 0
