"""Policy case files, `replyguard test`, the pytest plugin and `replyguard diff`."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET  # our own reports, not untrusted data

import pytest

from replyguard.cli import main
from replyguard.errors import InvalidInput
from replyguard.policy import Policy
from replyguard.testing.cases import (
    Coverage,
    find_case_files,
    load_case_file,
    run_cases,
)
from replyguard.testing.shadow import diff_stream, read_stream

pytest_plugins = ["pytester"]

POLICY = """\
replyguard: 1
name: shop
rules:
  - id: no-retweets
    description: never answer a retweet
    when: thread.target.kind == "retweet"
    action: suppress
  - id: refunds-to-care
    description: refunds go to a person
    when: "'refund' in thread.target.text and thread.target.kind != 'retweet'"
    action: escalate
    route: care
    priority: high
  - id: calm-down
    description: no shouting
    when: "'!!' in reply.text"
    action: rewrite
    template: "{{ reply.text | strip_exclamations }}"
limits:
  - id: one-per-author
    key: thread.target.author
    max: 1
    per: 1h
    action: escalate
"""

THREAD = {
    "brand_handles": ["@Shop"],
    "posts": [{"id": "1", "author": "@ann", "kind": "original", "text": "@Shop hi"}],
}


def _write_cases(folder: Path, body: str, *, name: str = "shop.cases.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A policies/ folder with shop.yaml and its cases/shop/ folder."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "shop.yaml").write_text(POLICY)
    (policies / "cases" / "shop" / "threads").mkdir(parents=True)
    (policies / "cases" / "shop" / "threads" / "rt.json").write_text(
        json.dumps(
            {
                "brand_handles": ["@Shop"],
                "posts": [
                    {
                        "id": "1",
                        "author": "@x",
                        "kind": "original",
                        "text": "refund? @Shop",
                    },
                    {
                        "id": "2",
                        "author": "@y",
                        "kind": "retweet",
                        "retweet_of": "1",
                        "text": "RT @x: refund? @Shop",
                    },
                ],
            }
        )
    )
    _write_cases(
        policies / "cases" / "shop",
        """\
        cases:
          - name: retweets are not answered
            thread: threads/rt.json
            reply: hello
            expect: {action: suppress, rules: [no-retweets], not_rules: [refunds-to-care]}
          - name: refunds go to care
            thread:
              brand_handles: ["@Shop"]
              posts: [{id: "1", author: "@ann", kind: original, text: "@Shop refund please"}]
            reply: Sure
            expect: {action: escalate, rules: [refunds-to-care], route: care, priority: high}
          - name: shouting is calmed
            thread:
              brand_handles: ["@Shop"]
              posts: [{id: "1", author: "@ann", kind: original, text: "@Shop hi"}]
            reply: "Hello!!"
            expect: {action: rewrite, text: "Hello."}
          - name: a second reply to one author within the hour goes to a person
            at: 2026-03-02T10:30:00Z
            before:
              - thread:
                  brand_handles: ["@Shop"]
                  posts: [{id: "1", author: "@ann", kind: original, text: "@Shop hi"}]
                reply: Hello
                at: 2026-03-02T10:00:00Z
            thread:
              brand_handles: ["@Shop"]
              posts: [{id: "2", author: "@ann", kind: original, text: "@Shop me again"}]
            reply: Hello again
            expect: {action: escalate, rules: [one-per-author]}
        """,
    )
    return policies


# -- loading ------------------------------------------------------------------------


def test_a_case_file_loads_with_its_policy_and_thread_files(project: Path) -> None:
    files = find_case_files([project])
    loaded = load_case_file(files[0])

    assert [project / "cases" / "shop" / "shop.cases.yaml"] == files
    assert str(project / "shop.yaml") == loaded.policy_source
    assert 4 == len(loaded.cases)
    assert "2" == loaded.cases[0].thread["posts"][1]["id"]  # type: ignore[index]
    assert [2, 6, 12, 18] == [case.line for case in loaded.cases]
    # a policy file stands for its cases folder
    assert files == find_case_files([project / "shop.yaml"])


HEAD_X = "cases:\n  - name: x\n    thread: {posts: []}\n    reply: hi\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            HEAD_X + "    expect: {action: allow}\n",
            "x.cases.yaml:3: case `x`: thread: posts: a thread needs at least one post",
        ),
        (
            "cases:\n  - name: x\n    thread: t.json\n    reply: hi\n    expect: {action: allow}\n",
            "x.cases.yaml:3: thread file `t.json`",
        ),
        (
            HEAD_X + "    expect: {action: maybe}\n",
            "x.cases.yaml:6: `cases[0].expect.action`",
        ),
        (
            "cases:\n  - name: x\n    thread: {posts: []}\n    reply: hi\n    expct: {}\n",
            "x.cases.yaml:6: `cases[0].expct`: unknown key",
        ),
        ("cases: [\n", "x.cases.yaml:3"),
        ("policy: p.yaml\n", "x.cases.yaml:0: `cases`: Field required"),
    ],
)
def test_a_bad_case_file_names_file_and_line(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = tmp_path / "x.cases.yaml"
    path.write_text(
        "policy: replyguard:default\n" + body if "policy" not in body else body
    )

    with pytest.raises(InvalidInput) as info:
        load_case_file(path)

    shown = "\n".join(info.value.problems)
    assert expected.replace("x.cases.yaml:", f"{path}:") in shown


def test_a_case_file_outside_a_cases_folder_must_name_its_policy(
    tmp_path: Path,
) -> None:
    path = _write_cases(
        tmp_path,
        "cases:\n  - {name: x, thread: {posts: [{id: '1', author: '@a', kind: original, "
        "text: hi}]}, reply: hi, expect: {action: allow}}\n",
    )

    with pytest.raises(InvalidInput, match="no `policy:`"):
        load_case_file(path)


# -- running and coverage -----------------------------------------------------------------


def test_cases_run_and_coverage_counts_rules_and_limits(project: Path) -> None:
    loaded = load_case_file(find_case_files([project])[0])
    policy = Policy.from_file(loaded.policy_source)

    results, coverage = run_cases(policy, loaded.cases)

    assert [[]] * 4 == [r.failures for r in results]
    assert [] == coverage.unfired
    assert 100.0 == coverage.percent()
    assert {"no-retweets", "refunds-to-care", "calm-down", "one-per-author"} == set(
        coverage.fired
    )


def test_a_failing_case_says_what_differs(project: Path) -> None:
    path = _write_cases(
        project / "cases" / "shop",
        """\
        cases:
          - name: wrong on purpose
            thread:
              brand_handles: ["@Shop"]
              posts: [{id: "1", author: "@ann", kind: original, text: "@Shop refund please"}]
            reply: "Sure!!"
            expect:
              action: allow
              rules: [no-retweets]
              not_rules: [refunds-to-care]
              text: "Sure!!"
              route: pr
        """,
        name="wrong.cases.yaml",
    )
    loaded = load_case_file(path)

    (result,), coverage = run_cases(
        Policy.from_file(loaded.policy_source), loaded.cases
    )

    assert not result.ok
    assert [
        "action: expected allow, got escalate",
        "rules: expected no-retweets to fire; fired: refunds-to-care, calm-down",
        "not_rules: refunds-to-care fired",
        "text: expected 'Sure!!', got None",
        "route: expected 'pr', got 'care'",
    ] == result.failures
    expected, actual = result.expected_and_actual()
    assert ("allow", "escalate") == (expected["action"], actual["action"])
    assert coverage.unfired == ["no-retweets", "one-per-author"]


def test_coverage_reports_conditions_that_never_change() -> None:
    coverage = Coverage(rules=["a", "b"])
    coverage.conditions = {"a": {True}, "b": {True, False}}
    coverage.operands = {("b", "x > 1"): {False}, ("b", "y"): {True, False}}

    assert ["a"] == coverage.never_false
    assert [("b", "x > 1", False)] == coverage.operands_stuck()


# -- replyguard test ------------------------------------------------------------------------


def test_replyguard_test_passes_and_writes_junit(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.xml"

    assert 0 == main(["test", str(project), "--junit", str(report), "-v"])
    out = capsys.readouterr().out

    assert "  ok    refunds go to care" in out
    assert "coverage of policy shop: 4/4 rules fired (100%)" in out
    assert "4 case(s), 0 failed" in out
    root = ET.parse(report).getroot()  # noqa: S314 - a report this test wrote
    suite = root.find("testsuite")
    assert suite is not None
    assert ("4", "0") == (suite.get("tests"), suite.get("failures"))


def test_replyguard_test_fails_with_a_diff_and_the_trace(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "shop.yaml").write_text(
        POLICY.replace("priority: high", "priority: low")
    )
    report = tmp_path / "report.xml"

    assert 1 == main(["test", str(project / "shop.yaml"), "--junit", str(report)])
    out = capsys.readouterr().out

    assert "FAIL  refunds go to care" in out
    assert "priority: expected 'high', got 'low'" in out
    assert '- priority: "high"' in out
    assert '+ priority: "low"' in out
    assert "match refunds-to-care" in out
    assert "4 case(s), 1 failed" in out
    root = ET.parse(report).getroot()  # noqa: S314 - a report this test wrote
    failure = root.find(".//failure")
    assert failure is not None
    assert "priority" in (failure.get("message") or "")


def test_replyguard_test_reports_lost_coverage(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a threshold change that makes a rule unreachable: its case fails, coverage drops
    (project / "shop.yaml").write_text(
        POLICY.replace(
            "'refund' in thread.target.text", "'refundx' in thread.target.text"
        )
    )

    assert 1 == main(["test", str(project), "--min-coverage", "100"])
    out = capsys.readouterr().out

    assert "never fired:  refunds-to-care" in out
    assert "3/4 rules fired (75%)" in out


def test_replyguard_test_names_a_bad_case_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_cases(project / "cases" / "shop", "cases: nope\n", name="bad.cases.yaml")

    assert 2 == main(["test", str(project)])
    assert "bad.cases.yaml:1" in capsys.readouterr().err


def test_the_shipped_policies_pass_their_cases(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = Path(__file__).resolve().parents[2] / "policies"

    assert 0 == main(["test", str(root)])
    out = capsys.readouterr().out
    assert ", 0 failed" in out


# -- the pytest plugin ---------------------------------------------------------------------


def test_the_plugin_collects_case_files_and_reports_failures(
    pytester: pytest.Pytester, project: Path
) -> None:
    (project / "shop.yaml").write_text(POLICY.replace("route: care", "route: pr"))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    target = pytester.path / "policies"
    shutil.copytree(project, target)

    # the plugin comes in by its pytest11 entry point, as for any user
    result = pytester.runpytest(str(target))

    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*case `refunds go to care`*",
            "*route: expected 'care', got 'pr'*",
            "*reason refunds-to-care (escalate)*",
        ]
    )


def test_the_plugin_fixtures(pytester: pytest.Pytester, tmp_path: Path) -> None:
    policy = tmp_path / "shop.yaml"
    policy.write_text(POLICY)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "replyguard_policy = replyguard:default\n"
    )
    pytester.makepyfile(
        f"""
        import pytest

        def test_default(policy, guard):
            assert policy.name == "default"
            assert guard.policy is policy

        @pytest.mark.replyguard_policy({str(policy)!r})
        def test_marked(guard):
            thread = {json.dumps(THREAD)}
            assert guard.review("Hello!!", thread).text == "Hello."
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=2)


# -- replyguard diff --------------------------------------------------------------------------


def _stream(tmp_path: Path, events: list[dict[str, object]]) -> Path:
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return path


def test_diff_reports_decisions_that_change_grouped_by_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(POLICY)
    new.write_text(POLICY.replace("'!!' in reply.text", "'!' in reply.text"))
    events = [
        {
            "at": f"2026-03-02T10:0{i}:00Z",
            "thread": {
                **THREAD,
                "posts": [
                    {
                        "id": str(i),
                        "author": f"@p{i}",
                        "kind": "original",
                        "text": "@Shop hi",
                    }
                ],
            },
            "reply": reply,
        }
        for i, reply in enumerate(["Hello!", "Hello!!", "Hello"])
    ]
    stream = _stream(tmp_path, events)

    report = diff_stream(
        Policy.from_file(old), Policy.from_file(new), read_stream(stream)
    )

    assert (3, [1]) == (report.events, [c.line for c in report.changes])
    assert [("+calm-down", 1)] == report.by_rule()
    assert 1 == main(["diff", str(stream), "--old", str(old), "--new", str(new)])
    out = capsys.readouterr().out
    assert "3 events; 1 decision(s) change" in out
    assert "line 1     post 0 by @p0: allow -> rewrite  +calm-down" in out
    assert 0 == main(["diff", str(stream), "--old", str(old), "--new", str(old)])


def test_a_stream_out_of_order_is_refused_with_its_line(tmp_path: Path) -> None:
    stream = _stream(
        tmp_path,
        [
            {"at": "2026-03-02T10:05:00Z", "thread": THREAD, "reply": "a"},
            {"at": "2026-03-02T10:01:00Z", "thread": THREAD, "reply": "b"},
        ],
    )

    with pytest.raises(
        InvalidInput, match=r"stream.jsonl:2: `at` .* is before the line above"
    ):
        list(read_stream(stream))


def test_the_plugin_imports_nothing_heavy() -> None:
    import subprocess  # noqa: PLC0415 - a fresh interpreter sees what an import loads
    import sys  # noqa: PLC0415

    code = (
        "import sys, replyguard.testing.pytest_plugin\n"
        "heavy = [m for m in ('spacy', 'jinja2', 'hypothesis', 'redis', 'rapidfuzz',"
        " 'replyguard.guard', 'replyguard.analysis') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert "[]" == result.stdout.strip()
