"""
A compliance officer's month-end, in one script: log, verify, catch an edit, replay, report.

1. A bot reviews the outage morning (examples/busy_hour) with a decision log.
2. The log verifies; a copy with one edited line does not, and says which line.
3. A person asks to be forgotten: their records' content is erased; the log still verifies.
4. The log becomes a replay stream, and a stricter candidate policy is replayed against
   the current one: which decisions would change?
5. One HTML page shows the morning to people who will not read JSON.

Run: ``python examples/compliance_review.py [FOLDER]`` (default: a new temporary folder).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from replyguard import Guard
from replyguard.audit import erase, read_log, to_stream, verify_log
from replyguard.replay import replay_file
from replyguard.report import iter_records, write_report
from replyguard.testing.shadow import read_stream

HERE = Path(__file__).resolve().parent
STREAM = HERE / "busy_hour" / "stream.jsonl"
CANDIDATE = """
replyguard: 1
name: acme-next
version: "2"
extends: [replyguard:default]
rules:
  - id: outage-questions-to-people
    description: During the outage, anything about the app being down goes to a person.
    when: contains_any(thread.target.text, ["down", "outage", "not working", "crash"])
    action: escalate
    route: social-care
"""


def main(folder: Path) -> int:
    """Run the five steps in `folder`; return 0."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "decisions.jsonl"
    log.unlink(missing_ok=True)

    # 1. the bot, with a decision log (personal data masked before it is written)
    now = [None]
    guard = Guard.default(store="memory://", clock=lambda: now[0], audit=str(log))
    for _, event in read_stream(STREAM):
        now[0] = event["at"]
        guard.review(event["reply"], event["thread"])
    guard.close()
    print(f"1. {log}: {sum(1 for _ in read_log(log))} decision records")

    # 2. verify, then tamper with a copy and verify again
    report = verify_log([log])
    print(f"2. verify: {'ok' if report.ok else 'PROBLEMS'} ({report.records} records)")
    tampered = folder / "tampered.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    held = next(i for i, line in enumerate(lines) if '"action":"suppress"' in line)
    # someone makes a held reply look sent
    lines[held] = lines[held].replace('"action":"suppress"', '"action":"allow"', 1)
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    caught = verify_log([tampered])
    print(
        f"   the tampered copy: {'ok' if caught.ok else 'caught'}: {caught.problems[0]}"
    )

    # 3. an erasure request: the person's records lose their content, the chain holds
    who = json.loads(lines[0])["content"]["author"]
    erased = erase(log, author=who, reason="erasure request #118")
    after = verify_log([log])
    print(
        f"3. erased {erased} record(s) of {who}; verify: {'ok' if after.ok else 'PROBLEMS'}"
    )

    # 4. the log as a stream, replayed through a candidate policy against the current one
    stream = folder / "stream.jsonl"
    exported = to_stream(read_log(log))
    with stream.open("w", encoding="utf-8") as out:
        for event in exported:
            out.write(json.dumps(event, default=str) + "\n")
    candidate = folder / "acme-next.yaml"
    candidate.write_text(CANDIDATE, encoding="utf-8")
    summary = replay_file(stream, policy=candidate, against="replyguard:default")
    if summary.diff is None:  # replay_file fills it whenever `against` is given
        return 1
    print(
        f"4. replayed {summary.events} events ({exported.erased} erased left out): "
        f"{summary.diff.changed} decision(s) would change with acme-next"
    )
    for rule, count in summary.diff.by_rule()[:3]:
        print(f"   {rule}: {count}")

    # 5. the page for people
    page = write_report(
        iter_records([str(log)]), folder / "report.html", title="Outage morning"
    )
    print(f"5. report: {page}")
    return 0


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(tempfile.mkdtemp(prefix="replyguard-"))
    )
    try:
        sys.exit(main(target))
    finally:
        if len(sys.argv) == 1:
            print(f"(files in {target}: open report.html, remove the folder when done)")
