"""
The ``replyguard`` command: review, lint, schema and demo.

Every failure the user can cause (a missing file, bad JSON, a broken policy, a bad
thread) is printed as one clear line per problem, with exit code 2 (1 for lint
findings); never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import re
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from replyguard.analysis._text import strip_handles
from replyguard.errors import (
    ConfigurationError,
    InvalidArgument,
    InvalidInput,
    PolicyError,
)
from replyguard.models import Decision

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _UserError(Exception):
    """A problem to print without a traceback."""


def _out() -> TextIO:
    return sys.stdout


def _read_json(path: str) -> Any:
    try:
        text = (
            sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        )
    except FileNotFoundError:
        raise _UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _UserError(f"{path}: cannot read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _UserError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
        ) from None


def _guard(
    policy: str | None,
    clock: Any = None,
    store: str | None = None,
    sinks: list[Any] | None = None,
    audit: str | None = None,
) -> Any:
    from replyguard.guard import Guard  # noqa: PLC0415 - keep `--help` fast

    extra: dict[str, Any] = {"audit": audit} if audit is not None else {}
    if policy:
        return Guard.from_file(policy, clock=clock, store=store, sinks=sinks, **extra)
    return Guard.default(clock=clock, store=store, sinks=sinks, **extra)


def _at(text: str, where: str) -> datetime:
    """Return an ISO time as an aware datetime (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _UserError(f"{where}: `{text}` is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _wrap(text: str, indent: int, width: int = 100, *, hang: int = 0) -> str:
    return textwrap.fill(
        " ".join(text.split()),
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + hang),
    )


def _field(label: str, text: str, *, indent: int = 0, width: int = 11) -> str:
    """Return `text` wrapped after a label, continuation lines aligned under it."""
    return textwrap.fill(
        " ".join(text.split()) or "-",
        width=100,
        initial_indent=" " * indent + label.ljust(width),
        subsequent_indent=" " * (indent + width),
    )


def _print_decision(decision: Any, out: TextIO) -> None:
    out.write(f"action:    {decision.action.value}")
    if decision.would_have is not None:
        out.write(
            f"  (shadow mode; the policy would have: {decision.would_have.value})"
        )
    out.write("\n")
    if decision.text is not None and decision.text != decision.proposed:
        out.write(_field("before:", decision.proposed) + "\n")
        out.write(_field("after:", decision.text) + "\n")
        out.write("send:      the text after the rewrite\n")
    else:
        sent = decision.text if decision.text is not None else "(nothing)"
        out.write(_field("send:", sent) + "\n")
    held = decision.escalation.rewrite if decision.escalation is not None else None
    if held is not None:
        out.write(_field("before:", decision.proposed) + "\n")
        out.write(_field("rewrite:", f"{held}  (held: it failed its checks)") + "\n")
    out.write(
        f"policy:    {decision.policy.name} {decision.policy.version} "
        f"({decision.policy.hash})\n"
    )
    if decision.reasons:
        out.write("reasons:\n")
        width = max(len(r.rule) for r in decision.reasons)
        out.writelines(
            f"  {reason.rule.ljust(width)}  {reason.action.value.ljust(8)}  "
            f"{' '.join(reason.message.split())}\n"
            for reason in decision.reasons
        )
    else:
        out.write("reasons:   no rule matched\n")
    if decision.escalation is not None:
        esc = decision.escalation
        what = "update" if esc.update else "escalate"
        sla = f", SLA {esc.sla}" if esc.sla else ""
        out.write(f"{what + ':':<10} route {esc.route}, priority {esc.priority}{sla}\n")
        out.write(_wrap(esc.summary, 11) + "\n")
    out.writelines(
        f"error:     [{error.stage}] {error.type}: {error.message}\n"
        for error in decision.errors
    )
    chain = decision.signals.chain
    out.write(
        f"chain:     target {chain.target_kind}, addressed to brand: "
        f"{'yes' if chain.addressed_to_brand else 'no'}, original by "
        f"{chain.original_author or '?'}, amplification {chain.amplification}, "
        f"brand posts in thread {chain.brand_posts}, reply repeats a brand post "
        f"{decision.signals.reply.repeats_brand_post:.0%}\n"
    )


_GROUPS = ("sarcasm", "tone", "intent", "reply")
_SKIP = {"evidence", "cues", "mentions", "length", "pii_kinds", "detected"}


def _print_signals(decision: Any, thread: Any, out: TextIO) -> None:
    """Print every signal above zero and the posts with their evidence marked."""
    signals = decision.signals
    out.write("\nsignals:\n")
    sarcasm = signals.sarcasm
    out.write(
        f"  sarcasm   {sarcasm.score:.2f} ({'detected' if sarcasm.detected else 'not detected'}"
        f"; rules {sarcasm.rules:.2f}, model {sarcasm.model:.2f})"
        + (f"  cues: {', '.join(sarcasm.cues)}" if sarcasm.cues else "")
        + "\n"
    )
    for group in _GROUPS[1:]:
        values = getattr(signals, group).model_dump(exclude=_SKIP)
        shown = ", ".join(
            f"{name} {value:.2f}"
            for name, value in values.items()
            if isinstance(value, float) and value > 0
        )
        out.write(f"  {group.ljust(9)} {shown or '(all 0)'}\n")
    language = signals.language
    out.write(
        f"  language  {language.lang} ({language.script}; "
        f"{'covered' if language.covered else 'NOT covered'})\n"
    )
    if signals.chain.target_age is not None:
        out.write(f"  age       {signals.chain.target_age / 3600:.1f} h\n")
    evidence = [
        e
        for group in ("chain", *_GROUPS)
        for e in getattr(signals, group).evidence
        if e.start is not None and e.end is not None and e.post_id is not None
    ]
    posts = {post.id: post for post in thread.posts}
    for post_id in dict.fromkeys(e.post_id for e in evidence):
        post = posts.get(post_id)
        if post is None:
            continue
        found = sorted(
            (e for e in evidence if e.post_id == post_id),
            key=lambda e: (e.start, -e.end),
        )
        out.write(f"\nevidence in post {post.id} by {post.author}:\n")
        out.write(_wrap(_highlight(post.text, found), 4) + "\n")
        out.writelines(
            f"    [{number}] {item.signal}: {item.cue} "
            f"{item.text!r} (weight {item.weight:g})\n"
            for number, item in enumerate(found, start=1)
        )


def _print_packet(escalation: Any, out: TextIO) -> None:
    """Print everything an escalation hands a person."""
    esc = escalation
    out.write("\nescalation packet:\n")
    rows = [
        ("id", esc.escalation_id + (" (update)" if esc.update else "")),
        ("decision", esc.decision_id),
        ("route", f"{esc.route}, priority {esc.priority}"),
        ("SLA", f"{esc.sla}, due {esc.due:%Y-%m-%d %H:%M %Z}" if esc.sla else "none"),
        ("policy", esc.policy),
        ("target", f"post {esc.target_id} by {esc.author} on {esc.platform}"),
        (
            "crowd",
            (
                f"post {esc.crowd}, {esc.crowd_size} people in the storm window; "
                f"{esc.occurrences} post(s) asked for a person"
            )
            if esc.crowd_size
            else f"post {esc.crowd} (its size needs a store)",
        ),
        ("rules", ", ".join(esc.rules)),
    ]
    out.writelines(f"  {name:<9} {value}\n" for name, value in rows)
    out.write(_field("summary", esc.summary, indent=2, width=10) + "\n")
    out.write(_field("proposed", esc.proposed_reply, indent=2, width=10) + "\n")
    if esc.rewrite is not None:
        out.write(_field("rewrite", esc.rewrite, indent=2, width=10) + "\n")
    if esc.thread is not None:
        out.write(f"  thread    {len(esc.thread.posts)} post(s):\n")
        for post in esc.thread.posts:
            mark = "->" if post.id == esc.target_id else "  "
            text = "(missing)" if post.missing else " ".join(post.text.split())
            if len(text) > 80:
                text = text[:77] + "..."
            out.write(f"   {mark} {post.id} {post.kind:<8} {post.author}: {text}\n")


def _highlight(text: str, evidence: Sequence[Any]) -> str:
    """Return `text` with each evidence span marked ``[[span]]n`` (n: its number)."""
    parts: list[str] = []
    position = 0
    for number, item in enumerate(evidence, start=1):
        if item.start < position:
            continue  # overlaps a span already marked: listed, not marked again
        parts.append(text[position : item.start])
        parts.append(f"[[{text[item.start : item.end]}]]{number}")
        position = item.end
    parts.append(text[position:])
    return "".join(parts)


def _print_trace(trace: Sequence[Any], out: TextIO) -> None:
    out.write("\ntrace:\n")
    rows = [
        (
            e.op,
            e.rule or "",
            e.expr or "",
            "" if e.value is None else json.dumps(e.value),
            e.location or "",
        )
        for e in trace
    ]
    widths = [max(len(r[i]) for r in rows) if rows else 0 for i in range(2)]
    for op, rule, expr, value, location in rows:
        indent = "    " if op == "eval" else "  "
        shown = " ".join(expr.split())
        if len(shown) > 70:
            shown = shown[:67] + "..."
        line = f"{indent}{op.ljust(6)} {rule.ljust(widths[1])}  {shown}"
        if op in ("eval", "match", "fail"):
            line += f"  => {value}"
        if op == "enter":
            line += f"  [{location}]"
        out.write(line.rstrip() + "\n")


_API_HINTS = (
    (re.compile(r"pass target=(?: \(a post id\))?"), "pass --target ID"),
    (
        re.compile(r"pass platform=(?: \([^)]*\))?"),
        "pass --platform x|bluesky|mastodon",
    ),
    (
        re.compile(r"use threads_from_\w+(?:, which returns a thread for each)?"),
        "use --all",
    ),
)


def _payload_problem(source: str, exc: Exception) -> _UserError:
    """Return an adapter's error worded for the command line (flags, not arguments)."""
    text = str(exc)
    for pattern, flag in _API_HINTS:
        text = pattern.sub(flag, text)
    return _UserError(f"{source}: {text}")


def _platform_thread(
    data: Any,
    source: str,
    platform: str | None,
    brands: list[str] | None,
    target: str | None,
) -> Any:
    """Return `data` as thread data, converting a platform payload (X, Bluesky, Mastodon)."""
    from replyguard.adapters import detect_platform, from_payload  # noqa: PLC0415
    from replyguard.errors import PayloadError  # noqa: PLC0415

    if platform is None and (
        not isinstance(data, dict) or "posts" in data or detect_platform(data) is None
    ):
        return data  # replyguard's own thread format
    try:
        thread = from_payload(
            data, platform=platform, brand_handles=brands or (), target=target
        )
    except PayloadError as exc:
        raise _payload_problem(source, exc) from None
    return thread


def cmd_review(args: argparse.Namespace) -> int:
    """Review one reply against one thread file (or a platform payload)."""
    data = _read_json(args.thread)
    reply = args.reply
    if (
        isinstance(data, dict)
        and "thread" in data
        and "posts" in (data["thread"] or {})
    ):
        # a stream event or a scenario
        reply = reply if reply is not None else data.get("reply")
        data = data["thread"]
    else:
        data = _platform_thread(
            data, args.thread, args.platform, args.brand, args.target
        )
    if reply is None:
        raise _UserError("give the proposed reply with --reply TEXT")
    at = _at(args.at, "--at") if args.at else None
    guard = _guard(args.policy, clock=(lambda: at) if at is not None else None)
    try:
        if args.explain:
            explanation = guard.explain(reply, data)
            decision, trace = explanation.decision, explanation.trace
        else:
            decision, trace = guard.review(reply, data, record=False), ()
    except InvalidInput as exc:
        raise _UserError(
            "\n".join(f"{args.thread}: {p}" for p in exc.problems)
        ) from None
    out = _out()
    if args.json:
        payload = json.loads(decision.model_dump_json())
        if args.explain:
            payload["trace"] = [json.loads(e.model_dump_json()) for e in trace]
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    _print_decision(decision, out)
    if args.explain:
        from replyguard._inputs import thread_from  # noqa: PLC0415

        if decision.escalation is not None:
            _print_packet(decision.escalation, out)
        _print_signals(decision, thread_from(data), out)
        _print_trace(trace, out)
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    """Run policy case files; print failures, rule coverage; exit 1 on a failure."""
    from replyguard.policy.compiled import Policy  # noqa: PLC0415
    from replyguard.testing.cases import (  # noqa: PLC0415
        Coverage,
        find_case_files,
        junit_xml,
        load_case_file,
        run_cases,
    )

    paths = args.paths or (["policies"] if Path("policies").is_dir() else [])
    if not paths:
        raise _UserError("name case files or folders (no ./policies folder here)")
    try:
        files = [load_case_file(path) for path in find_case_files(paths)]
    except InvalidInput as exc:
        raise _UserError("\n".join(exc.problems)) from None
    if not files:
        raise _UserError(f"no case files (*.cases.yaml) under {', '.join(paths)}")
    out = _out()
    policies: dict[str, Policy] = {}
    coverages: dict[str, Coverage] = {}
    suites = []
    failed = total = 0
    for case_file in files:
        source = case_file.policy_source
        if source not in policies:
            policies[source] = Policy.from_file(source)
            coverages[source] = Coverage.for_policy(policies[source])
        policy = policies[source]
        results, coverage = run_cases(policy, case_file.cases)
        for result in results:
            coverages[source].add(result)
        suites.append((str(case_file.path), results))
        out.write(
            f"{case_file.path}  (policy {policy.name} {policy.version}, "
            f"{len(results)} cases)\n"
        )
        for result in results:
            total += 1
            if result.ok:
                if args.verbose:
                    out.write(f"  ok    {result.case.name}\n")
                continue
            failed += 1
            _print_case_failure(result, out, trace=not args.no_trace)
    for source, coverage in coverages.items():
        _print_coverage(policies[source], coverage, out, verbose=args.verbose)
    out.write(
        f"\n{total} case(s), {failed} failed"
        + (f"; JUnit report: {args.junit}" if args.junit else "")
        + "\n"
    )
    if args.junit:
        Path(args.junit).write_text(junit_xml(suites), encoding="utf-8")
    if failed:
        return EXIT_FINDINGS
    if args.min_coverage is not None and any(
        c.percent() < args.min_coverage for c in coverages.values()
    ):
        out.write(f"rule coverage is under {args.min_coverage:g}%\n")
        return EXIT_FINDINGS
    return EXIT_OK


def _print_case_failure(result: Any, out: TextIO, *, trace: bool) -> None:
    case = result.case
    out.write(f"  FAIL  {case.name}  ({case.file}:{case.line})\n")
    out.writelines(f"        {failure}\n" for failure in result.failures)
    expected, actual = result.expected_and_actual()
    out.write("        expected:\n")
    out.writelines(
        f"          {'-' if actual.get(k) != v else ' '} {k}: {json.dumps(v)}\n"
        for k, v in expected.items()
    )
    out.write("        actual:\n")
    out.writelines(
        f"          {'+' if expected.get(k) != v else ' '} {k}: {json.dumps(v)}\n"
        for k, v in actual.items()
    )
    if trace and result.trace:
        out.write(
            "        trace (rules that matched, and the operands of failed expectations):\n"
        )
        wanted = set(case.expect.rules) | set(case.expect.not_rules)
        for event in result.trace:
            if event.op == "match" or (
                event.rule in wanted and event.op in ("eval", "fail")
            ):
                shown = " ".join((event.expr or "").split())
                if len(shown) > 70:
                    shown = shown[:67] + "..."
                value = "" if event.value is None else json.dumps(event.value)
                indent = "            " if event.op == "eval" else "          "
                out.write(f"{indent}{event.op:<5} {event.rule}  {shown}  => {value}\n")


def _print_coverage(policy: Any, coverage: Any, out: TextIO, *, verbose: bool) -> None:
    fired = len(coverage.rules) - len(coverage.unfired)
    out.write(
        f"\ncoverage of policy {policy.name}: {fired}/{len(coverage.rules)} rules fired "
        f"({coverage.percent():.0f}%)\n"
    )
    if coverage.unfired:
        out.write(f"  never fired:  {', '.join(coverage.unfired)}\n")
    if coverage.never_false:
        out.write(f"  never false:  {', '.join(coverage.never_false)}\n")
    stuck = coverage.operands_stuck()
    if stuck and verbose:
        out.write("  conditions that never changed value over the cases:\n")
        out.writelines(
            f"    {rule}: {' '.join(expr.split())}  (always {str(value).lower()})\n"
            for rule, expr, value in stuck
        )
    elif stuck:
        out.write(
            f"  {len(stuck)} condition operand(s) never changed value (--verbose lists them)\n"
        )


def cmd_diff(args: argparse.Namespace) -> int:
    """Replay a stream through two policies; print every decision that changes."""
    from replyguard.policy.compiled import Policy  # noqa: PLC0415
    from replyguard.testing.shadow import diff_stream, read_stream  # noqa: PLC0415

    old, new = Policy.from_file(args.old), Policy.from_file(args.new)
    try:
        report = diff_stream(old, new, read_stream(args.stream))
    except InvalidInput as exc:
        raise _UserError("\n".join(exc.problems)) from None
    out = _out()
    if args.json:
        out.write(
            json.dumps(_diff_json(report, old, new), indent=2, ensure_ascii=False)
            + "\n"
        )
    else:
        _print_diff(report, old, new, args.stream, args.limit, out)
    return EXIT_FINDINGS if report.changed else EXIT_OK


def _diff_json(report: Any, old: Any, new: Any) -> dict[str, Any]:
    """Return a `StreamDiff` as JSON data (`replyguard diff --json`, `replay --json`)."""
    return {
        "events": report.events,
        "changed": report.changed,
        "old": {
            "policy": old.ref.model_dump(),
            "actions": dict(report.old_actions),
        },
        "new": {
            "policy": new.ref.model_dump(),
            "actions": dict(report.new_actions),
        },
        "by_rule": dict(report.by_rule()),
        "changes": [
            {
                "line": c.line,
                "target": c.target,
                "author": c.author,
                "old": {
                    "action": c.old.action.value,
                    "rules": list(c.old.rules),
                    "text": c.old.text,
                },
                "new": {
                    "action": c.new.action.value,
                    "rules": list(c.new.rules),
                    "text": c.new.text,
                },
            }
            for c in report.changes
        ],
    }


def _print_diff(
    report: Any, old: Any, new: Any, stream: str, limit: int | None, out: TextIO
) -> None:
    """Print a `StreamDiff`: counts, by rule, by decision, the changes."""
    out.write(
        f"{stream}: {report.events} events; {report.changed} decision(s) "
        f"change from {old.name} {old.version} ({old.hash}) to {new.name} "
        f"{new.version} ({new.hash})\n"
    )

    def actions(counts: Any) -> str:
        return ", ".join(
            f"{a} {counts.get(a, 0)}"
            for a in ("allow", "rewrite", "escalate", "suppress")
        )

    out.write(
        f"  old: {actions(report.old_actions)}\n  new: {actions(report.new_actions)}\n"
    )
    if report.changed:
        out.write(
            "\nby rule (+ fires only with the new policy, - only with the old):\n"
        )
        out.writelines(f"  {rule:<48} {n:>5}\n" for rule, n in report.by_rule())
        out.write("\nby decision:\n")
        out.writelines(f"  {what:<48} {n:>5}\n" for what, n in report.transitions())
        out.write("\nchanges:\n")
        shown = report.changes if limit is None else report.changes[:limit]
        for change in shown:
            rules = " ".join(
                [*(f"+{r}" for r in change.added), *(f"-{r}" for r in change.removed)]
            )
            out.write(
                f"  line {change.line:<5} post {change.target} by {change.author}: "
                f"{change.old.action.value} -> {change.new.action.value}  {rules}\n"
            )
            if change.old.text != change.new.text and change.new.text is not None:
                out.write(_field("now sends:", change.new.text, indent=12) + "\n")
        if len(shown) < report.changed:
            out.write(f"  ... {report.changed - len(shown)} more (--limit)\n")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def cmd_queue(args: argparse.Namespace) -> int:
    """List the escalations in a queue file, updates folded in."""
    from replyguard.sinks import format_queue, read_queue  # noqa: PLC0415

    path = Path(args.file)
    if not path.is_file():
        raise _UserError(f"{args.file}: no such queue file")
    try:
        read = read_queue(path, strict=not args.skip_bad)
    except InvalidInput as exc:
        raise _UserError(str(exc)) from None
    items = [
        i for i in read.items if args.route is None or i.escalation.route == args.route
    ]
    out = _out()
    if args.json:
        payload = [
            {
                "escalation": json.loads(item.escalation.model_dump_json()),
                "updates": item.updates,
                "first_at": item.first_at.isoformat(),
                "last_at": item.last_at.isoformat(),
                "line": item.line,
            }
            for item in items
        ]
        out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(format_queue(items, route=args.route) + "\n")
    for problem in read.problems:
        sys.stderr.write(f"replyguard: skipped {problem}\n")
    return EXIT_OK


def _heads(values: Sequence[str] | None) -> dict[str, str]:
    heads: dict[str, str] = {}
    for value in values or ():
        chain, sep, digest = value.partition("=")
        if not sep or not chain or not digest:
            raise _UserError(f"--expect-head `{value}`: use CHAIN=HASH")
        heads[chain] = digest
    return heads


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Verify decision logs: exit 0 when whole, 1 when problems were found."""
    import sqlite3  # noqa: PLC0415

    from replyguard.audit import verify_log  # noqa: PLC0415

    heads = _heads(args.expect_head)
    try:
        report = verify_log(args.logs, expect_heads=heads)
    except (OSError, sqlite3.Error) as exc:
        raise _UserError(f"cannot read the decision log: {exc}") from None
    out = _out()
    if args.json:
        out.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(report.format() + "\n")
    return EXIT_OK if report.ok else EXIT_FINDINGS


def cmd_audit_erase(args: argparse.Namespace) -> int:
    """Erase the content of a person's (or one decision's) records."""
    import sqlite3  # noqa: PLC0415

    from replyguard.audit import erase  # noqa: PLC0415

    if (args.author is None) == (args.decision is None):
        raise _UserError("give --author HANDLE or --decision ID (one of them)")
    try:
        count = erase(
            args.log, author=args.author, decision_id=args.decision, reason=args.reason
        )
    except (OSError, sqlite3.Error) as exc:
        raise _UserError(f"cannot rewrite the decision log: {exc}") from None
    _out().write(f"erased the content of {count} record(s) in {args.log}\n")
    return EXIT_OK


def cmd_audit_prune(args: argparse.Namespace) -> int:
    """Drop the records logged before a time; append a checkpoint."""
    import sqlite3  # noqa: PLC0415

    from replyguard.audit import prune  # noqa: PLC0415

    try:
        before = datetime.fromisoformat(args.before)
    except ValueError:
        raise _UserError(f"--before `{args.before}`: not an ISO 8601 time") from None
    if before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    try:
        count = prune(args.log, before=before)
    except (OSError, sqlite3.Error) as exc:
        raise _UserError(f"cannot rewrite the decision log: {exc}") from None
    _out().write(
        f"pruned {count} record(s) logged before {before.isoformat()} from {args.log}"
        + ("; a checkpoint records where each chain now starts\n" if count else "\n")
    )
    return EXIT_OK


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Print a decision log as a replay stream (JSON Lines of at/thread/reply)."""
    import sqlite3  # noqa: PLC0415

    from replyguard.audit import read_log, to_stream  # noqa: PLC0415

    out = _out()
    stream = to_stream(read_log(args.log))
    try:
        for event in stream:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
    except (OSError, sqlite3.Error) as exc:
        raise _UserError(f"cannot read the decision log: {exc}") from None
    sys.stderr.write(
        f"replyguard: exported {stream.events} event(s); skipped {stream.erased} "
        "erased record(s)\n"
    )
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """Train a linear scorer on a labelled CSV file and write the model."""
    from replyguard.training import read_labelled_csv, train_scorer  # noqa: PLC0415

    try:
        examples = read_labelled_csv(
            args.data, text_column=args.text_column, label_column=args.label_column
        )
    except InvalidInput as exc:
        raise _UserError("\n".join(exc.problems)) from None
    if args.with_cues and args.signal != "sarcasm":
        raise _UserError("--with-cues is for --signal sarcasm (the only rule cues)")
    out_dir = Path(args.out).resolve().parent
    if not out_dir.is_dir():
        raise _UserError(f"{args.out}: no such directory `{out_dir}`")
    cues = None
    if args.signal == "sarcasm" and args.with_cues:
        from replyguard.analysis import Analyzer  # noqa: PLC0415
        from replyguard.analysis.sarcasm import model_cues  # noqa: PLC0415

        reader = Analyzer(sarcasm_model=None, cache_size=0).reader

        def cues(text: str) -> dict[str, float]:
            return model_cues(reader.read(text))

    scorer, report = train_scorer(
        examples,
        signal=args.signal,
        cue_features=cues,
        folds=args.folds,
        seed=args.seed,
        max_features=args.max_features or None,
        metadata={"data": Path(args.data).name, "trained_by": "replyguard train"},
    )
    try:
        scorer.save(args.out)
    except OSError as exc:
        raise _UserError(f"{args.out}: cannot write the model: {exc}") from None
    out = _out()
    out.write(report.format() + "\n")
    out.write(f"wrote {args.out} ({len(scorer.weights)} weights)\n")
    return EXIT_OK


def cmd_lint(args: argparse.Namespace) -> int:
    """
    Load every policy and report all problems, then its lint warnings.

    Exit 1 when a policy has an error (or a warning, with ``--strict``).
    """
    from replyguard.policy.compiled import Policy  # noqa: PLC0415
    from replyguard.policy.lint import lint_policy  # noqa: PLC0415

    out = _out()
    failed = warned = 0
    for path in args.policies:
        try:
            policy = Policy.from_file(path)
            warnings = [] if args.no_warnings else lint_policy(path)
        except PolicyError as exc:
            failed += 1
            for problem in exc.problems:
                out.write(problem.format() + "\n")
            continue
        except ConfigurationError as exc:
            failed += 1
            out.write(f"{path}: {exc}\n")
            continue
        for problem in warnings:
            out.write(problem.format() + "\n")
        warned += bool(warnings)
        note = f", {len(warnings)} warning(s)" if warnings else ""
        out.write(
            f"ok: {path}: policy `{policy.name}` {policy.version}, "
            f"{len(policy.rules)} rules, {policy.hash}{note}\n"
        )
    if failed or (args.strict and warned):
        return EXIT_FINDINGS
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    """Print a platform payload as replyguard threads (JSON; one a line with --all)."""
    from replyguard.adapters import from_payload, threads_from_payload  # noqa: PLC0415
    from replyguard.errors import PayloadError  # noqa: PLC0415

    data = _read_json(args.payload)
    brands = args.brand or ()
    try:
        if args.all:
            threads = threads_from_payload(
                data, platform=args.platform, brand_handles=brands
            )
        else:
            threads = [
                from_payload(
                    data,
                    platform=args.platform,
                    brand_handles=brands,
                    target=args.target,
                )
            ]
    except PayloadError as exc:
        raise _payload_problem(args.payload, exc) from None
    out = _out()
    for thread in threads:
        text = thread.model_dump_json(
            exclude_defaults=True, indent=None if args.all else 2
        )
        out.write(text + "\n")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Write one self-contained HTML report of decision logs; print its path."""
    from replyguard.report import iter_records, write_report  # noqa: PLC0415

    try:
        path = write_report(iter_records(args.logs), args.out, title=args.title)
    except InvalidInput as exc:
        raise _UserError(str(exc)) from None
    except OSError as exc:
        raise _UserError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    _out().write(f"{path}\n")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a stream through a policy; print the summary (and the diff, the report)."""
    import tempfile  # noqa: PLC0415

    from replyguard.replay import count_events, replay_file  # noqa: PLC0415

    policy = _policy_of(args.policy)
    against = _policy_of(args.diff_against) if args.diff_against else None
    audit = str(_writable(args.audit, "decision log")) if args.audit else None
    if args.report:
        _writable(args.report, "report")
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if args.report and not audit:
        scratch = tempfile.TemporaryDirectory(prefix="replyguard-replay-")
        audit = str(Path(scratch.name) / "decisions.jsonl")
    bar = None
    try:
        total = count_events(args.stream) if Path(args.stream).is_file() else 0
        show = args.progress or (
            args.progress is None and sys.stderr.isatty() and total >= PROGRESS_FROM
        )
        if show:
            from tqdm import tqdm  # noqa: PLC0415

            bar = tqdm(total=total, unit="event", file=sys.stderr, leave=False)
        try:
            summary = replay_file(
                args.stream,
                policy=policy,
                store=args.store or "memory://",
                against=against,
                sort=args.sort,
                audit=audit,
                on_decision=_ticker(bar) if bar is not None else None,
            )
        except InvalidInput as exc:
            raise _UserError("\n".join(exc.problems)) from None
        finally:
            if bar is not None:
                bar.close()
        if summary.out_of_order:
            sys.stderr.write(
                f"replyguard: warning: {args.stream}: {summary.out_of_order} event(s) were "
                "out of time order; replayed sorted by `at`\n"
            )
        report_path = None
        if args.report and audit is not None:
            report_path = _write_report(
                [audit], args.report, title=f"Replay of {args.stream}"
            )
        out = _out()
        if args.json:
            payload = summary.to_json()
            if summary.diff is not None and against is not None:
                payload["diff"] = _diff_json(summary.diff, against, policy)
            if report_path is not None:
                payload["report"] = str(report_path)
            out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        else:
            _print_replay(summary, policy, args.stream, out)
            if summary.diff is not None and against is not None:
                out.write("\n")
                _print_diff(summary.diff, against, policy, args.stream, args.limit, out)
            if report_path is not None:
                out.write(f"\nreport: {report_path}\n")
    finally:
        if scratch is not None:
            scratch.cleanup()
    if summary.diff is not None and summary.diff.changed:
        return EXIT_FINDINGS
    return EXIT_OK


def _ticker(bar: Any) -> Callable[[int, dict[str, Any], Any], None]:
    def tick(_line: int, _event: dict[str, Any], _decision: Any) -> None:
        bar.update()

    return tick


PROGRESS_FROM = 2_000
"""Streams at least this long show a progress bar (on a terminal) unless --no-progress."""


def _policy_of(name: str | None) -> Any:
    from replyguard.policy.compiled import Policy  # noqa: PLC0415

    text = name or "replyguard:default"
    if text.startswith("replyguard:"):
        return Policy.packaged(text.removeprefix("replyguard:"))
    return Policy.from_file(text)


def _write_report(logs: list[str], path: str, *, title: str) -> Path:
    from replyguard.report import iter_records, write_report  # noqa: PLC0415

    try:
        return Path(write_report(iter_records(logs), path, title=title)).resolve()
    except OSError as exc:
        raise _UserError(
            f"{path}: cannot write the report: {exc.strerror or exc}"
        ) from None


def _writable(path: str | Path, what: str) -> Path:
    """Return `path` once its folder exists; a clear error if it cannot be a file."""
    file = Path(path)
    if file.is_dir():
        raise _UserError(f"{file}: is a folder; give the {what} a file name")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _UserError(
            f"{file}: cannot create its folder for the {what}: {exc.strerror or exc}"
        ) from None
    return file


def _print_replay(summary: Any, policy: Any, stream: str, out: TextIO) -> None:
    """Print a replay's summary tables."""
    span = ""
    if summary.first is not None and summary.last is not None:
        span = f", {summary.first:%Y-%m-%d %H:%M} to {summary.last:%Y-%m-%d %H:%M} UTC"
    out.write(
        f"replayed {stream}: {summary.events} events{span}\n"
        f"policy {policy.name} {policy.version} ({policy.hash}); "
        f"{summary.seconds:.2f} s, {summary.per_second:,.0f} events/s\n\n"
    )
    total = max(summary.events, 1)
    rows = [
        ("sent as proposed", summary.actions["allow"]),
        ("sent rewritten", summary.actions["rewrite"]),
        ("escalated to a person", summary.actions["escalate"]),
        ("suppressed", summary.actions["suppress"]),
    ]
    out.write(f"{'decision':<24} {'events':>7} {'share':>6}\n")
    out.writelines(
        f"{name:<24} {count:>7} {count / total:>6.0%}\n" for name, count in rows
    )
    routes = ", ".join(f"{r} {n}" for r, n in summary.routes.most_common())
    out.write(
        f"\nescalations: {summary.escalations} new, {summary.updates} update(s)"
        + (f" (by route: {routes})" if routes else "")
        + f"\nstorm breaker: opened {summary.storm_opened} time(s)\n"
    )
    for at, crowd in summary.storm_openings[:10]:
        when = f"{at:%Y-%m-%d %H:%M}" if at else "?"
        out.write(f"  {when}  around post {crowd}\n")
    if summary.errors:
        out.write("errors inside reviews (the policy's on_error was returned):\n")
        out.writelines(
            f"  {what:<40} {n:>6}\n" for what, n in summary.errors.most_common()
        )
    if summary.rules:
        out.write(f"\n{'rule':<40} {'events':>7}\n")
        out.writelines(
            f"{rule:<40} {n:>7}\n" for rule, n in summary.rules.most_common()
        )
    crowds = [t for t in summary.top_crowds(50) if t.size > 1][:10]
    if crowds:
        out.write(
            f"\n{'crowd around post':<20} {'by':<24} {'posts':>6} {'people':>7} "
            f"{'answered':>9} {'escalated':>10}\n"
        )
        out.writelines(
            f"{t.crowd[:20]:<20} {t.author[:24]:<24} {t.posts:>6} {t.size:>7} "
            f"{t.sent:>9} {t.escalated:>10}\n"
            for t in crowds
        )
    if summary.crowds_dropped:
        out.write(f"({summary.crowds_dropped} small crowds not tabled; all counted)\n")


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the policy format."""
    from replyguard.policy.schema import policy_json_schema  # noqa: PLC0415

    text = json.dumps(policy_json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        _out().write(text)
    return EXIT_OK


DEMO_EXAMPLES: dict[str, str] = {
    "bofa_2013": (
        "July 2013: a protester's photo of chalk messages outside a Bank of America branch\n"
        "spreads. A naive reply bot answers every retweet, quote and reply with one macro.\n"
    ),
    "busy_hour": (
        "An outage morning (invented): about one genuine customer a minute asks a mobile\n"
        "network for help, and at 08:20 a joke about the outage draws a pile-on of twenty\n"
        "people. The bot proposes a tailored answer to each customer and one canned line\n"
        "to everyone in the pile-on.\n"
    ),
}
"""The packaged demo streams (``replyguard demo --example NAME``) and their intros."""

DEMO_TITLES: dict[str, str] = {
    "bofa_2013": "@BofA_Help, July 2013: the chalk storm",
    "busy_hour": "An outage morning with a pile-on",
}
"""The report's title for each packaged demo stream."""


def _demo_events(
    path: str | None, example: str = "bofa_2013"
) -> Iterator[tuple[int, dict[str, Any]]]:
    if path is None:
        resource = (
            importlib.resources.files("replyguard") / "_data" / "examples" / example
        )
        text = (resource / "stream.jsonl").read_text(encoding="utf-8")
        name = f"replyguard:examples/{example}/stream.jsonl"
    else:
        name = path
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise _UserError(f"{path}: cannot read: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _UserError(
                f"{name}:{number}:{exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        if not isinstance(event, dict) or "thread" not in event or "reply" not in event:
            raise _UserError(f"{name}:{number}: an event needs `thread` and `reply`")
        yield number, event


def cmd_demo(args: argparse.Namespace) -> int:
    """Replay a reply storm through a policy, post by post, then write the report."""
    import tempfile  # noqa: PLC0415

    from replyguard.replay import replay  # noqa: PLC0415

    # the guard's clock follows the stream: each event is reviewed at its own time
    now: list[datetime] = [datetime.now(UTC)]
    sinks = []
    if args.queue:
        from replyguard.sinks import QueueFileSink  # noqa: PLC0415 - demo only

        Path(args.queue).unlink(missing_ok=True)  # this run's escalations only
        sinks.append(QueueFileSink(args.queue, fsync=False))
    # the decision log the report is drawn from: beside --report, or in a new folder
    report = Path(args.report) if args.report else None
    if report is None and not args.json and not args.no_report:
        report = Path(tempfile.mkdtemp(prefix="replyguard-demo-")) / "report.html"
    log = None
    if report is not None:
        report = _writable(report, "report")
        log = report.parent / "decisions.jsonl"
        for old in (log, *log.parent.glob("decisions.*.jsonl")):
            old.unlink(missing_ok=True)  # this run's decisions only
    guard = _guard(
        args.policy,
        clock=lambda: now[0],
        store="memory://",
        sinks=sinks,
        audit=str(log) if log is not None else None,
    )
    out = _out()
    counts: Counter[str] = Counter()
    naive: Counter[str] = Counter()
    crowds: dict[str, _CrowdTally] = {}
    records = []
    example = args.example or "bofa_2013"
    if example not in DEMO_EXAMPLES:
        known = ", ".join(sorted(DEMO_EXAMPLES))
        raise _UserError(f"unknown example `{example}`; the examples are {known}")
    if not args.json:
        intro = DEMO_EXAMPLES[example] if args.stream is None else ""
        out.write(
            intro
            + f"replyguard reviews each proposed reply with policy `{guard.policy.name}`"
            " and an in-memory store.\n\n"
        )

    def show(number: int, event: dict[str, Any], decision: Decision) -> None:
        target = decision.signals.chain
        counts[decision.action.value] += 1
        naive[strip_handles(event["reply"])] += 1
        _tally(crowds, decision, event)
        if args.json:
            records.append(
                {
                    "event": number,
                    "note": event.get("note"),
                    "decision": json.loads(decision.model_dump_json()),
                }
            )
            return
        thread = event["thread"]
        author = next(
            (
                p["author"]
                for p in thread["posts"]
                if p["id"] == thread.get("target", thread["posts"][-1]["id"])
            ),
            "?",
        )
        at = str(event.get("at", ""))[11:16]
        out.write(
            f"{at}  #{number:<2} {target.target_kind:<8} by {author}"
            f"  ({event.get('note', '')})\n"
        )
        out.write(_wrap(f"naive bot sends: {event['reply']}", 10, hang=17) + "\n")
        verdict = decision.action.value.upper()
        esc = decision.escalation
        if esc is not None and esc.update:
            verdict += (
                f" (updates the open {esc.route} escalation: "
                f"{esc.occurrences} posts so far)"
            )
        elif esc is not None and decision.action.value != "escalate":
            verdict += f" + escalate to {esc.route}"
        elif esc is not None:
            verdict += f" to {esc.route}"
        out.write(f"          replyguard: {verdict}\n")
        for reason in decision.reasons:
            out.write(_wrap(f"- {reason.rule}: {reason.message}", 12, hang=2) + "\n")
        if args.explain:
            from replyguard._inputs import thread_from  # noqa: PLC0415

            _print_signals(decision, thread_from(event["thread"]), out)
        out.write("\n")

    def timed() -> Iterator[tuple[int, dict[str, Any]]]:
        for number, event in _demo_events(args.stream, example):
            if event.get("at"):
                event["at"] = _at(str(event["at"]), f"event {number}: at")
            yield number, event

    try:
        replay(timed(), guard, clock=now, on_decision=show)
    except InvalidInput as exc:
        raise _UserError("\n".join(exc.problems)) from None
    finally:
        guard.close()
    written = None
    if report is not None and log is not None:
        title = (
            DEMO_TITLES.get(example, "replyguard demo") if args.stream is None else None
        )
        written = _write_report(
            [str(log)], str(report), title=title or f"Replay of {args.stream}"
        )
    if args.json:
        out.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    total = sum(counts.values())
    sent = counts["allow"] + counts["rewrite"]
    copies = max(naive.values(), default=0)
    out.write(
        f"Summary: {total} posts. A naive bot would have sent the same words up to "
        f"{copies} times\n(only the leading handle changing).\n"
        f"replyguard sent {sent} (allow {counts['allow']}, rewrite {counts['rewrite']}), "
        f"escalated {counts['escalate']}, suppressed {counts['suppress']}.\n"
    )
    _crowd_summary(crowds, out)
    if args.queue:
        from replyguard.sinks import read_queue  # noqa: PLC0415 - demo only

        items = read_queue(args.queue).items
        out.write(
            f"Escalations for people: {len(items)} in {args.queue} "
            f"(updates folded in); read them with `replyguard queue list {args.queue}`.\n"
        )
    if written is not None:
        out.write(
            f"\nThe decision log: {log} (check it: `replyguard audit verify {log}`)\n"
            f"The report, to open in a browser: {written}\n"
        )
    return EXIT_OK


@dataclass
class _CrowdTally:
    """What happened to the posts of one crowd in a demo."""

    author: str
    posts: int = 0
    people: set[str] = field(default_factory=set)
    sent: int = 0
    escalations: list[str] = field(default_factory=list)


def _tally(
    crowds: dict[str, _CrowdTally], decision: Decision, event: dict[str, Any]
) -> None:
    from replyguard._inputs import thread_from  # noqa: PLC0415 - demo only

    thread = thread_from(event["thread"])
    tally = crowds.setdefault(thread.crowd, _CrowdTally(author=thread.root.author))
    tally.posts += 1
    tally.people.add(thread.target_post.author)
    tally.sent += decision.sends
    if decision.escalation is not None and not decision.escalation.update:
        tally.escalations.append(decision.escalation.route)


def _crowd_summary(crowds: dict[str, _CrowdTally], out: TextIO) -> None:
    """Print the crowds of several people, and how many lone posters were answered."""
    groups = [(c, t) for c, t in crowds.items() if len(t.people) > 1]
    singles = [t for t in crowds.values() if len(t.people) <= 1]
    for crowd, tally in sorted(groups, key=lambda item: -item[1].posts):
        routes = Counter(tally.escalations)
        escalated = (
            ", ".join(f"{n}x to {route}" for route, n in sorted(routes.items()))
            or "never"
        )
        out.write(
            f"Crowd around post {crowd} by {tally.author}: {tally.posts} posts from "
            f"{len(tally.people)} people; answered automatically {tally.sent} time(s); "
            f"escalated {escalated}.\n"
        )
    if singles:
        answered = sum(1 for t in singles if t.sent)
        out.write(
            f"People writing on their own: {len(singles)}; answered automatically "
            f"{answered}.\n"
        )


def _payload_options(parser: argparse.ArgumentParser, *, target: bool) -> None:
    parser.add_argument(
        "--platform",
        choices=("x", "bluesky", "mastodon"),
        help="read the file as this platform's payload (default: told by its shape)",
    )
    parser.add_argument(
        "--brand",
        action="append",
        metavar="HANDLE",
        help="one of the brand's handles on the platform (repeat for several)",
    )
    if target:
        parser.add_argument(
            "--target",
            help="the id of the post answered, when the payload holds several",
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replyguard",
        description="Review a brand's automated replies against the thread they land in.",
    )
    parser.add_argument(
        "--version", action="store_true", help="print the version and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    review = sub.add_parser(
        "review", help="review one proposed reply against a thread file"
    )
    review.add_argument("thread", help="a thread JSON file (or - for standard input)")
    review.add_argument("--reply", help="the proposed reply text")
    review.add_argument(
        "--policy", help="a policy file or replyguard:NAME (default: default)"
    )
    review.add_argument(
        "--json", action="store_true", help="print the decision as JSON"
    )
    review.add_argument(
        "--at",
        help="review as of this ISO time (default: now); ages are measured from it",
    )
    review.add_argument(
        "--explain",
        action="store_true",
        help="show every signal with its evidence, and every rule's evaluation",
    )
    _payload_options(review, target=True)
    review.set_defaults(func=cmd_review)

    convert = sub.add_parser(
        "convert",
        help="print an X, Bluesky or Mastodon payload as replyguard thread JSON",
    )
    convert.add_argument(
        "payload", help="a payload JSON file (or - for standard input)"
    )
    _payload_options(convert, target=True)
    convert.add_argument(
        "--all",
        action="store_true",
        help="one thread per post of a page (mentions, notifications), one a line",
    )
    convert.set_defaults(func=cmd_convert)

    train = sub.add_parser(
        "train", help="train a signal's linear model on a labelled CSV file"
    )
    train.add_argument("--data", required=True, help="a CSV file with text and label")
    train.add_argument(
        "--signal", default="sarcasm", help="the signal (default sarcasm)"
    )
    train.add_argument(
        "--out", required=True, help="where to write the model (.json.gz)"
    )
    train.add_argument("--text-column", default="tweet", help="default: tweet")
    train.add_argument(
        "--label-column", default="sarcastic", help="0/1 labels (default: sarcastic)"
    )
    train.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    train.add_argument("--seed", type=int, default=0, help="fold shuffling seed")
    train.add_argument(
        "--max-features",
        type=int,
        default=5000,
        help="keep the N largest weights (0: all; the shipped model keeps 5000)",
    )
    train.add_argument(
        "--with-cues",
        action="store_true",
        help="add the rule cues as features (sarcasm only)",
    )
    train.set_defaults(func=cmd_train)

    queue = sub.add_parser("queue", help="read an escalation queue file")
    queue_sub = queue.add_subparsers(dest="queue_command", metavar="ACTION")
    queue_list = queue_sub.add_parser(
        "list", help="list the escalations, newest first, updates folded in"
    )
    queue_list.add_argument("file", help="a JSONL queue file (a `queue` sink)")
    queue_list.add_argument("--route", help="only escalations to this route")
    queue_list.add_argument("--json", action="store_true", help="print JSON")
    queue_list.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip malformed lines (a truncated last line) instead of stopping",
    )
    queue_list.set_defaults(func=cmd_queue)
    queue.set_defaults(func=lambda _args: _usage(queue))

    audit = sub.add_parser(
        "audit", help="verify, erase, prune or export a decision log"
    )
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    audit_verify = audit_sub.add_parser(
        "verify",
        help="check that no record was edited, removed or reordered "
        "(exit 1 on a problem, 2 when a log cannot be read)",
    )
    audit_verify.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="a JSONL log (its segments are read too) or sqlite:///path",
    )
    audit_verify.add_argument(
        "--expect-head",
        action="append",
        metavar="CHAIN=HASH",
        help="an anchored head: the chain must contain it (repeatable)",
    )
    audit_verify.add_argument("--json", action="store_true", help="print JSON")
    audit_verify.set_defaults(func=cmd_audit_verify)
    audit_erase = audit_sub.add_parser(
        "erase", help="erase the content of a person's records (the chain stays whole)"
    )
    audit_erase.add_argument("log", metavar="LOG")
    audit_erase.add_argument("--author", metavar="HANDLE", help="the person's handle")
    audit_erase.add_argument("--decision", metavar="ID", help="one decision id")
    audit_erase.add_argument(
        "--reason", required=True, help="why (kept in each erased record)"
    )
    audit_erase.set_defaults(func=cmd_audit_erase)
    audit_prune = audit_sub.add_parser(
        "prune", help="drop records logged before a time; append a checkpoint"
    )
    audit_prune.add_argument("log", metavar="LOG")
    audit_prune.add_argument(
        "--before", required=True, metavar="ISO", help="an ISO 8601 time (naive: UTC)"
    )
    audit_prune.set_defaults(func=cmd_audit_prune)
    audit_export = audit_sub.add_parser(
        "export",
        help="print the log as a replay stream (JSON Lines of at/thread/reply)",
    )
    audit_export.add_argument("log", metavar="LOG")
    audit_export.set_defaults(func=cmd_audit_export)
    audit.set_defaults(func=lambda _args: _usage(audit))

    test = sub.add_parser(
        "test", help="run policy case files (*.cases.yaml); print failures and coverage"
    )
    test.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="case files, folders, or policy files (their cases/NAME/ folder); "
        "default: ./policies",
    )
    test.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    test.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="list passing cases and stuck conditions",
    )
    test.add_argument(
        "--no-trace", action="store_true", help="no explain trace under a failure"
    )
    test.add_argument(
        "--min-coverage",
        type=float,
        metavar="PERCENT",
        help="exit 1 when a policy's rule coverage is below this",
    )
    test.set_defaults(func=cmd_test)

    diff = sub.add_parser(
        "diff",
        help="replay a recorded stream through two policies; show decisions that change",
    )
    diff.add_argument("stream", help="JSON Lines of {at, thread, reply} events")
    diff.add_argument(
        "--old", required=True, help="the policy in force (path or replyguard:NAME)"
    )
    diff.add_argument("--new", required=True, help="the candidate policy")
    diff.add_argument("--json", action="store_true", help="print the report as JSON")
    diff.add_argument(
        "--limit",
        type=int,
        default=50,
        help="changes listed (default 50; the counts are whole)",
    )
    diff.set_defaults(func=cmd_diff)

    lint = sub.add_parser(
        "lint",
        help="check policy files: errors, then warnings (lint.*); exit 1 on an error",
        description="Load each policy (errors: it cannot load), then report its lint "
        "warnings: shadowed rules, unreachable conditions, thresholds out of range, "
        "terms that block the brand's own name, rules without a description... "
        "(docs/policies/lint.md).",
    )
    lint.add_argument("policies", nargs="+", metavar="POLICY")
    lint.add_argument(
        "--strict", action="store_true", help="exit 1 on a warning too (for CI)"
    )
    lint.add_argument(
        "--no-warnings", action="store_true", help="report load errors only"
    )
    lint.set_defaults(func=cmd_lint)

    replay = sub.add_parser(
        "replay",
        help="replay a recorded stream through a policy, with the clock of the events",
    )
    replay.add_argument("stream", help="JSON Lines of {at, thread, reply} events")
    replay.add_argument(
        "--policy", help="a policy file or replyguard:NAME (default: default)"
    )
    replay.add_argument(
        "--store",
        help="store URL for the replay's memory (default: memory://, a fresh one)",
    )
    replay.add_argument(
        "--diff-against",
        metavar="OLD_POLICY",
        help="also list the decisions that differ from this (the current) policy",
    )
    replay.add_argument(
        "--sort",
        action="store_true",
        help="sort the events by time (with a warning) instead of refusing them",
    )
    replay.add_argument("--audit", metavar="LOG", help="write a decision log")
    replay.add_argument(
        "--report", metavar="FILE", help="write the HTML report of the replay"
    )
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument(
        "--limit", type=int, help="show at most N changed decisions (--diff-against)"
    )
    progress = replay.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show a progress bar (default: on a terminal, for 2,000 events or more)",
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    replay.set_defaults(func=cmd_replay)

    schema = sub.add_parser("schema", help="print the JSON Schema of the policy format")
    schema.add_argument("--output", "-o", help="write to this file instead")
    schema.set_defaults(func=cmd_schema)

    report = sub.add_parser(
        "report",
        help="write one HTML page of decision logs: timeline, rules, escalations, crowds",
        description="Read JSONL decision logs and write a self-contained HTML report "
        "(inline chart, no network): totals, a timeline of sent and held replies, the "
        "rules that fired, escalations, crowds and example threads with their evidence.",
    )
    report.add_argument("logs", nargs="+", metavar="LOG", help="JSONL decision logs")
    report.add_argument(
        "--out", "-o", default="report.html", help="the HTML file (default report.html)"
    )
    report.add_argument("--title", help="the page title")
    report.set_defaults(func=cmd_report)

    demo = sub.add_parser(
        "demo", help="replay the 2013 @BofA_Help retweet storm (or another example)"
    )
    demo.add_argument(
        "--example",
        choices=sorted(DEMO_EXAMPLES),
        help="a packaged example stream (default: bofa_2013)",
    )
    demo.add_argument(
        "--policy", help="a policy file or replyguard:NAME (default: default)"
    )
    demo.add_argument(
        "--stream", help="another stream file (JSON Lines of at/thread/reply)"
    )
    demo.add_argument("--json", action="store_true", help="print the decisions as JSON")
    demo.add_argument(
        "--queue",
        metavar="FILE",
        help="also write the escalations to this JSONL queue file (replaced)",
    )
    demo.add_argument(
        "--explain",
        action="store_true",
        help="also show every signal, with its evidence marked in the posts",
    )
    demo.add_argument(
        "--report",
        metavar="FILE",
        help="write the HTML report here (default: report.html in a new temporary "
        "folder, beside the decision log)",
    )
    demo.add_argument(
        "--no-report", action="store_true", help="write no decision log or report"
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from replyguard import __version__  # noqa: PLC0415

        _out().write(f"replyguard {__version__}\n")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except _UserError as exc:
        sys.stderr.write(f"replyguard: {exc}\n")
        return EXIT_USAGE
    except PolicyError as exc:
        sys.stderr.write("\n".join(p.format() for p in exc.problems) + "\n")
        return EXIT_USAGE
    except (ConfigurationError, InvalidArgument) as exc:
        sys.stderr.write(f"replyguard: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:  # pragma: no cover - `replyguard demo | head`
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
