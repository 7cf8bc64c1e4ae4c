"""`replyguard convert` and `replyguard review` on platform payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replyguard import Thread
from replyguard.cli import main

FIXTURES = Path(__file__).parents[1] / "data" / "payloads"
STORM = str(FIXTURES / "x" / "v2_storm_page.json")


def test_convert_all_prints_one_valid_thread_a_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["convert", STORM, "--all", "--brand", "@AcmeBank"]) == 0
    lines = capsys.readouterr().out.splitlines()
    threads = [Thread.model_validate(json.loads(line)) for line in lines]
    assert [t.target_post.kind for t in threads] == ["retweet", "quote", "reply"]
    assert all(t.brand_handles == ("@AcmeBank",) for t in threads)


def test_convert_one_post_by_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", STORM, "--target", "1811000000000000103"]) == 0
    thread = Thread.model_validate_json(capsys.readouterr().out)
    assert thread.target == "1811000000000000103"


def test_convert_a_page_without_target_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["convert", STORM]) == 2
    err = capsys.readouterr().err
    assert (
        "x payload: $: the payload holds 3 posts: pass --target ID or use --all" in err
    )
    assert STORM in err


def test_convert_a_payload_of_another_platform(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "status.json"
    path.write_text(
        json.dumps({"id": "1", "content": "<p>hi</p>", "account": {"acct": "a"}})
    )
    assert main(["convert", str(path), "--platform", "x"]) == 2
    assert "looks like a Mastodon payload" in capsys.readouterr().err


def test_review_reads_a_payload_by_its_shape(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "review",
            STORM,
            "--target",
            "1811000000000000101",
            "--brand",
            "@AcmeBank",
            "--reply",
            "We are here to help!",
            "--json",
        ]
    )
    assert code == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["action"] == "suppress"
    assert "no-reply-to-retweets" in [r["rule"] for r in decision["reasons"]]


def test_review_of_a_damaged_payload_names_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = json.loads(Path(STORM).read_text(encoding="utf-8"))
    del payload["data"][0]["author_id"]
    path = tmp_path / "page.json"
    path.write_text(json.dumps(payload))
    assert (
        main(["review", str(path), "--target", "1811000000000000101", "--reply", "hi"])
        == 2
    )
    assert "x payload: $.data[0].author_id: missing" in capsys.readouterr().err
