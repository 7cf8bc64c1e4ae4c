from __future__ import annotations

import itertools
import json
import re
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_records import (
    BOFA_2013,
    BUSY_HOUR,
    stream_decisions,
    stream_records,
    write_log,
)

from replyguard.cli import main
from replyguard.errors import InvalidArgument, InvalidInput
from replyguard.report import (
    MAX_BARS,
    MAX_CROWDS,
    MAX_ESCALATIONS,
    Segment,
    build_report,
    highlight,
    iter_records,
    render_html,
    write_report,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def bofa() -> list[dict[str, Any]]:
    return stream_records(BOFA_2013)


@pytest.fixture(scope="module")
def busy() -> list[dict[str, Any]]:
    return stream_records(BUSY_HOUR)


def record(
    n: int,
    *,
    at: datetime = T0,
    action: str = "allow",
    crowd: str | None = None,
    author: str | None = None,
    text: str = "hello",
    escalation: dict[str, Any] | None = None,
    evidence: list[dict[str, Any]] | None = None,
    rules: list[str] | None = None,
    erased: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A synthetic decision-log record: one original post, answered or not."""
    post_id = f"p{n}"
    author = author or f"@user{n}"
    rules = rules or []
    content: dict[str, Any] = (
        {"erased": True, "reason": "gdpr request", "erased_at": at.isoformat()}
        if erased
        else {
            "author": author,
            "text": "thanks!" if action in ("allow", "rewrite") else None,
            "proposed": f"{author} thanks!",
            "messages": {rule: f"because of {rule}" for rule in rules},
            "summary": "a person should look" if escalation else None,
            "thread": {
                "platform": "x",
                "brand_handles": ["@brand"],
                "posts": [
                    {"id": post_id, "author": author, "text": text, "kind": "original"}
                ],
                "target": post_id,
            },
            "evidence": evidence or [],
        }
    )
    return {
        "v": 1,
        "kind": "decision",
        "seq": n,
        "decision_id": f"d{n}",
        "at": at.isoformat(),
        "action": action,
        "would_have": None,
        "rules": rules,
        "reasons": [
            {"rule": rule, "action": action, "route": None, "priority": None}
            for rule in rules
        ],
        "escalation": escalation,
        "policy": {"name": "default", "version": "1.0", "hash": "sha256:abc"},
        "platform": "x",
        "target_id": post_id,
        "target_kind": "original",
        "crowd": crowd or post_id,
        "author_key": author,
        "storm_open": False,
        "paused": False,
        "scores": {},
        "errors": [],
        "content": content,
        **extra,
    }


class Tags(HTMLParser):
    """Collect (tag, attrs) of a page and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


# -- aggregation against the real guard -------------------------------------------


def test_2013_counts_are_what_the_guard_decided(bofa):
    decided = Counter(str(d.action) for d, _ in stream_decisions(BOFA_2013))
    data = build_report(bofa)
    assert data.decisions == 16 == sum(decided.values())
    assert dict(data.actions) == {a: decided.get(a, 0) for a in data.actions}
    assert data.sent == decided["allow"] == 1
    assert data.held == decided["escalate"] + decided["suppress"] == 15
    assert sum(b.total for b in data.timeline) == 16
    assert sum(b.sent for b in data.timeline) == 1


def test_2013_escalation_folds_its_updates(bofa):
    data = build_report(bofa)
    new = sum(1 for r in bofa if r["escalation"] and not r["escalation"]["update"])
    updates = sum(1 for r in bofa if r["escalation"] and r["escalation"]["update"])
    assert (data.packets_new, data.packets_updates) == (new, updates)
    assert len(data.escalations) == new == 1
    (row,) = data.escalations
    assert row.route == "pr"
    assert row.updates == updates
    assert row.occurrences == new + updates
    assert row.summary
    assert row.crowd_author == "@chalk_walker"
    assert data.routes == {"pr": 1}


def test_2013_crowd_and_sentence(bofa):
    data = build_report(bofa)
    largest = data.crowds[0]
    assert (largest.author, largest.posts, largest.answered) == ("@chalk_walker", 15, 0)
    assert largest.escalated == 15
    assert not largest.approximate
    assert data.sentence == (
        "Of 16 posts, 1 was answered; 15 were held; 1 escalation reached people "
        "(pr), updated 14 times as crowds grew."
    )
    assert data.policies[0].name == "default"
    assert data.policies[0].decisions == 16


def test_2013_rules_table(bofa):
    data = build_report(bofa)
    fired = Counter(rule for r in bofa for rule in r["rules"])
    assert {r.rule: r.times for r in data.rules} == dict(fired)
    top = data.rules[0]
    assert top.share == pytest.approx(top.times / 16)
    assert [r.times for r in data.rules] == sorted(
        (r.times for r in data.rules), reverse=True
    )


def test_2013_examples_show_evidence(bofa):
    data = build_report(bofa)
    assert 1 <= len(data.examples) <= 6
    first = data.examples[0]
    assert "largest crowd" in first.why
    marked = [s for p in first.posts for s in p.segments if s.title]
    assert marked
    assert any(p.target for p in first.posts)
    assert any(e.action == "allow" for e in data.examples)


def test_busy_hour_marks_the_storm_breaker_and_two_routes(busy):
    data = build_report(busy)
    assert data.storm_openings_total == 1
    assert data.storm_openings[0].label == "storm breaker opens: @dry_wit_daily"
    assert set(data.routes) == {"pr", "social-care"}
    assert "2 escalations reached people (pr, social-care)" in data.sentence
    html = render_html(data)
    assert 'class="storm-marker"' in html
    assert "crowd around @dry_wit_daily: 21 posts" in html


def test_2013_page_has_every_section(bofa):
    html = render_html(build_report(bofa, title="The 2013 storm"))
    page = parse(html)
    assert ("meta", {"charset": "utf-8"}) in page.tags
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"timeline", "rules", "escalations", "crowds", "examples"} <= ids
    svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert svgs[0]["role"] == "img"
    assert "16 decisions" in (svgs[0]["aria-label"] or "")
    bars = [a for t, a in page.tags if t == "rect" and "bar" in (a.get("class") or "")]
    assert sum(int(a["data-count"] or 0) for a in bars) == 16
    assert "The 2013 storm" in "".join(page.text)
    # nothing loaded from elsewhere: no scripts, no stylesheets, no remote src
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe")]
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)


# -- bounded memory ------------------------------------------------------------------


def synthetic(n: int) -> Iterator[dict[str, Any]]:
    """A storm-shaped log: many one-off customers and a few growing crowds."""
    for i in range(n):
        at = T0 + timedelta(seconds=3 * i)
        if i % 3 == 0:
            crowd = f"storm{i % 7}"
            escalation = {
                "escalation_id": f"e{i // 30}",
                "route": "pr",
                "priority": "high",
                "update": i % 30 != 0,
                "occurrences": i % 30 + 1,
                "sla": "1h",
                "due": (at + timedelta(hours=1)).isoformat(),
            }
            yield record(
                i,
                at=at,
                action="suppress",
                crowd=crowd,
                escalation=escalation,
                rules=["crowd-goes-to-a-person", f"rule-{i % 1500}"],
                evidence=[
                    {
                        "signal": "tone.mockery",
                        "cue": "lol",
                        "post_id": f"p{i}",
                        "start": 0,
                        "end": 5,
                        "text": "hello",
                    }
                ],
                storm_open=i % 2 == 0,
            )
        else:
            yield record(i, at=at, action="allow" if i % 5 else "rewrite")


def test_100k_records_stay_bounded():
    data = build_report(synthetic(100_000))
    assert data.decisions == 100_000
    assert len(data.crowds) == MAX_CROWDS
    assert data.crowds_seen > MAX_CROWDS
    assert data.crowds[0].crowd.startswith("storm")
    assert len(data.examples) <= 6
    assert len(data.escalations) == MAX_ESCALATIONS
    assert data.escalations_untabled > 0
    assert data.packets_new + data.packets_updates == 33_334
    assert len(data.timeline) <= MAX_BARS
    assert sum(b.total for b in data.timeline) == 100_000
    assert len(data.rules) <= 30
    assert data.rules_other > 0
    assert len(data.storm_openings) <= 50
    html = render_html(data)
    assert html.count('class="escalation"') == MAX_ESCALATIONS


def test_memory_does_not_grow_with_the_log():
    # tracemalloc slows Python down; 5,000 and 20,000 records show the trend
    peaks = []
    for n in (5_000, 20_000):
        tracemalloc.start()
        build_report(synthetic(n))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # holding 20,000 such records would take tens of megabytes
    assert peaks[1] < 8 * 2**20, peaks
    assert peaks[1] < 2 * peaks[0], peaks


# -- escaping, evidence, erasure -------------------------------------------------------


def test_user_text_is_escaped():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    data = build_report(
        [
            record(
                1,
                action="escalate",
                author='@"><b>bold',
                text=evil,
                escalation={
                    "escalation_id": "e1",
                    "route": "<i>pr</i>",
                    "update": False,
                },
                evidence=[
                    {
                        "signal": "x<y",
                        "cue": '"q"',
                        "post_id": "p1",
                        "start": 0,
                        "end": 8,
                        "text": "<script>",
                    }
                ],
                rules=["r<1>"],
            )
        ],
        title="<title>oops</title>",
    )
    html = render_html(data)
    assert "<script" not in html
    assert "<img" not in html
    assert "<i>pr</i>" not in html
    assert "<b>bold" not in html
    assert "&lt;script&gt;" in html
    assert '<mark title="x&lt;y: &#34;q&#34;">&lt;script&gt;</mark>' in html
    assert "&lt;title&gt;oops&lt;/title&gt;" in html


def test_overlapping_evidence_splits_without_nesting():
    text = "what a great bank, really great"
    evidence = [
        {"signal": "sarcasm", "cue": "great", "start": 7, "end": 12, "text": "great"},
        {"signal": "tone.mockery", "cue": "a great bank", "start": 5, "end": 17},
        {"signal": "sarcasm", "cue": "really", "start": 19, "end": 25},
    ]
    assert highlight(text, evidence) == (
        Segment("what "),
        Segment("a ", "tone.mockery: a great bank"),
        Segment("great", "sarcasm: great; tone.mockery: a great bank"),
        Segment(" bank", "tone.mockery: a great bank"),
        Segment(", "),
        Segment("really", "sarcasm: really"),
        Segment(" great"),
    )


def test_evidence_with_offsets_that_do_not_fit_is_moved_or_dropped():
    text = "RT @a: lol nice bank"
    evidence = [
        {"signal": "s", "cue": "lol", "start": 0, "end": 3, "text": "lol"},  # moved
        {"signal": "s", "cue": "gone", "start": 50, "end": 60},  # dropped
        {"signal": "s", "cue": "neg", "start": 5, "end": 2},  # dropped
    ]
    assert highlight(text, evidence) == (
        Segment("RT @a: "),
        Segment("lol", "s: lol"),
        Segment(" nice bank"),
    )


def test_evidence_in_a_rendered_page_keeps_the_text_whole():
    text = "ok <b> fine"
    html = render_html(
        build_report(
            [
                record(
                    1,
                    action="escalate",
                    text=text,
                    escalation={"escalation_id": "e1", "route": "pr", "update": False},
                    evidence=[
                        {
                            "signal": "a",
                            "cue": "1",
                            "post_id": "p1",
                            "start": 0,
                            "end": 6,
                        },
                        {
                            "signal": "b",
                            "cue": "2",
                            "post_id": "p1",
                            "start": 3,
                            "end": 11,
                        },
                    ],
                )
            ]
        )
    )
    assert (
        '<mark title="a: 1">ok </mark><mark title="a: 1; b: 2">&lt;b&gt;</mark>'
        '<mark title="b: 2"> fine</mark>'
    ) in html


def test_erased_records_count_but_show_no_content(bofa):
    erased = [
        {**r, "content": {"erased": True, "reason": "request", "erased_at": r["at"]}}
        for r in bofa
    ]
    data = build_report(erased)
    assert data.decisions == 16
    assert data.erased == 16
    assert data.sent == 1
    assert data.escalations[0].erased
    assert data.escalations[0].summary is None
    html = render_html(data)
    assert "(erased)" in html
    assert "chalk" not in html.lower()
    assert "16 records erased" in html


def test_erased_example_shows_erased():
    data = build_report(
        [record(1, crowd="c", erased=True), record(2, crowd="c", erased=True)]
    )
    assert [e.erased for e in data.examples] == [True]
    assert "(erased)" in render_html(data)


def test_empty_log_renders():
    data = build_report([])
    assert data.decisions == 0
    assert data.timeline == ()
    assert data.sentence == "The log holds no decisions."
    html = render_html(data)
    assert "No decisions with a time to chart." in html
    assert "<svg" not in html


def test_checkpoints_and_junk_are_skipped(bofa):
    checkpoint = {"v": 1, "kind": "checkpoint", "chain": "test", "seq": 99}
    data = build_report([checkpoint, *bofa, {"kind": "decision", "action": "maybe"}, 3])  # type: ignore[list-item]
    assert data.decisions == 16
    assert data.skipped == 3


def test_shadow_mode_is_told():
    records = [record(i, would_have="suppress") for i in range(3)]
    data = build_report(records)
    assert data.shadow == 3
    assert data.sentence.endswith(
        "3 reviews ran in shadow mode: the reply went out, and the policy would have held 3."
    )


def test_examples_must_be_a_count():
    with pytest.raises(InvalidArgument, match="examples must be a whole number"):
        build_report([], examples=-1)
    assert build_report([record(1)], examples=0).examples == ()


# -- time buckets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "minutes"),
    [
        pytest.param(timedelta(minutes=30), 1, id="half-hour"),
        pytest.param(timedelta(hours=3, minutes=59), 1, id="under-four-hours"),
        pytest.param(timedelta(hours=10), 5, id="ten-hours"),
        pytest.param(timedelta(days=3), 30, id="three-days"),
        pytest.param(timedelta(days=9), 60, id="nine-days"),
        pytest.param(timedelta(days=120), 1440, id="four-months"),
    ],
)
def test_long_spans_get_wider_bars(span, minutes):
    steps = 500
    records = (record(i, at=T0 + span * i / steps) for i in range(steps + 1))
    data = build_report(records)
    assert data.bucket_minutes == minutes
    assert len(data.timeline) <= MAX_BARS
    assert sum(b.total for b in data.timeline) == steps + 1
    starts = [b.start for b in data.timeline]
    assert starts == sorted(starts)
    assert all(
        b - a == timedelta(minutes=minutes) for a, b in itertools.pairwise(starts)
    )


def test_days_long_timeline_labels_dates():
    records = [record(i, at=T0 + timedelta(days=i)) for i in range(10)]
    html = render_html(build_report(records))
    assert "one bar per 1 hour" in html
    ticks = re.findall(
        r'<text x="[\d.]+" y="\d+" text-anchor="middle">([^<]+)</text>', html
    )
    assert ticks[:-1] == ["May 03", "May 05", "May 07", "May 09"]  # every 2 days
    assert ticks[-1] == "time (UTC), one bar per 1 hour"


def test_live_buckets_widen_in_one_pass():
    # a log far longer than the live bucket budget: minutes over a year
    records = (record(i, at=T0 + timedelta(minutes=97 * i)) for i in range(6000))
    data = build_report(records)
    assert data.bucket_minutes == 10080
    assert len(data.timeline) <= MAX_BARS
    assert sum(b.total for b in data.timeline) == 6000


# -- files and the command line ----------------------------------------------------------


def test_iter_records_skips_a_truncated_last_line(tmp_path, bofa, capsys):
    log = write_log(bofa, tmp_path / "decisions.jsonl")
    with log.open("a", encoding="utf-8") as handle:
        handle.write("\n\n" + json.dumps(bofa[0])[:40])
    records = list(iter_records([log]))
    assert len(records) == 16
    err = capsys.readouterr().err
    assert f"{log}:19: skipped a line that is not JSON" in err


def test_iter_records_names_a_missing_file(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        list(iter_records([tmp_path / "nope.jsonl"]))


def test_write_report_writes_one_file(tmp_path, bofa):
    path = write_report(bofa, tmp_path / "r.html", title="storm")
    assert path == tmp_path / "r.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_report_writes_the_file_and_prints_its_path(tmp_path, bofa, busy, capsys):
    first = write_log(bofa, tmp_path / "a.jsonl")
    second = write_log(busy, tmp_path / "b.jsonl")
    out = tmp_path / "out" / "report.html"
    code = main(
        ["report", str(first), str(second), "--out", str(out), "--title", "Two logs"]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text(encoding="utf-8")
    assert "Two logs" in html
    assert "Of 87 posts" in html


def test_cli_report_missing_log_is_a_usage_error(tmp_path, capsys):
    code = main(
        ["report", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r.html")]
    )
    assert code == 2
    assert "missing.jsonl: cannot read" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_cli_report_default_path(tmp_path, bofa, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = write_log(bofa, Path("decisions.jsonl"))
    assert main(["report", str(log)]) == 0
    assert capsys.readouterr().out.strip() == "report.html"
    assert Path("report.html").is_file()


def test_iter_records_skips_lines_that_are_not_objects(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    log.write_text('[1, 2]\n{"kind": "checkpoint"}\n', encoding="utf-8")
    assert list(iter_records([log])) == [{"kind": "checkpoint"}]
    assert f"{log}:1: skipped a line that is not a record" in capsys.readouterr().err


def test_a_rewrite_is_shown_with_what_was_sent():
    rewrite = record(1, action="rewrite", rules=["soften"])
    rewrite["content"]["text"] = "a kinder reply"
    data = build_report([record(0), rewrite])
    assert [e.why for e in data.examples] == [
        "a reply the guard rewrote",
        "a reply the guard let through",
    ]
    html = render_html(data)
    assert (
        '<strong>Sent instead:</strong> <span class="text">a kinder reply</span>'
        in html
    )
    assert "The guard rewrote it before sending." in html
    assert "1 was answered after a rewrite" in data.sentence


def test_updates_of_an_escalation_opened_before_the_log():
    update = {"escalation_id": "old", "route": "pr", "update": True, "occurrences": 7}
    records = [
        record(1, action="suppress", crowd="c", escalation=update, erased=True),
        record(
            2, action="suppress", crowd="c", escalation={**update, "occurrences": 8}
        ),
    ]
    data = build_report(records)
    (row,) = data.escalations
    assert (row.opened_in_log, row.updates, row.occurrences) == (False, 2, 8)
    assert row.summary == "a person should look"
    assert not row.erased
    assert data.sentence.endswith("2 updates went to open escalations.")
    assert "opened before this log" in render_html(data)


def test_long_threads_keep_the_original_and_the_latest_posts():
    long = record(1)
    posts = [
        {"id": f"q{i}", "author": f"@u{i}", "text": f"post {i}", "kind": "original"}
        for i in range(30)
    ]
    long["content"]["thread"] = {"posts": posts}  # an unknown target: the last post
    (example,) = build_report([long]).examples
    assert example.hidden_posts == 10
    assert [p.id for p in example.posts][:2] == ["q0", "q11"]
    assert len(example.posts) == 20
    assert example.posts[-1].target
