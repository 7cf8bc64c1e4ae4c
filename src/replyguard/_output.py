"""
What a reply that would go out must pass: links, media, length, and the rewrite scan.

Run by the guard after the rules decided to send (allow or rewrite):

- links (in the text and on `Reply.links`) must be on the policy's allowlist
  (`replies.links.allow`), and are never taken from someone else's post in the thread
  (a support agent once pasted a pornographic link from another user's post);
- media built from user content is scanned like text (its `text`), and held when
  there is nothing to scan (a selfie in a video);
- the text must fit the platform, counted the platform's way (`replyguard.platforms`):
  cut at a word boundary, or held (`replies.over_length`);
- **render, then scan**: a reply the guard changed (a rule's rewrite, a cut) is analyzed
  again and must pass the scan (hostile echo, private-data ask, PII, claims,
  hostility) and every rule of the policy, else it is escalated, never sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from replyguard.analysis import Analyzer, Brand
from replyguard.models import (
    Action,
    Reason,
    Reply,
    ReplySignals,
    Signals,
    Thread,
    normalize_handle,
)
from replyguard.platforms import fits, limit_for, reply_length, truncate_to_platform
from replyguard.policy.compiled import Policy

__all__ = ["SCAN", "Held", "OutputCheck", "check_output", "links_of", "scan_rewrite"]

SCAN: tuple[tuple[str, str, float], ...] = (
    ("echoes_user_text", "echo", 0.9),
    ("asks_for_private_data", "private_data", 0.5),
    ("pii", "pii", 0.9),
    ("claims", "claims", 0.85),
    ("hostility", "hostility", 0.6),
)
"""The reply signals a rewritten reply must stay under: (signal, threshold, default)."""

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![\w@.])(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|gg|ly|me|app|dev|info|biz|us|uk|"
    r"de|fr|ca|au|in|tv|xyz|link|site|online|shop|store|help)(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""


def links_of(reply: Reply) -> list[str]:
    """Return the links a reply carries: `Reply.links` and URLs or domains in its text."""
    found = [m.group(0).rstrip(_TRAILING) for m in _URL.finditer(reply.text)]
    return list(dict.fromkeys([*reply.links, *found]))


def _canonical(url: str) -> str:
    value = url.strip().lower()
    value = value.split("://", 1)[1] if "://" in value else value
    return value.removeprefix("www.").rstrip("/")


@dataclass
class Held:
    """A check the reply failed: the reason, and who should look at it."""

    reason: Reason
    route: str


@dataclass
class OutputCheck:
    """What the output checks made of a reply: held, or the text to send."""

    text: str | None
    held: list[Held] = field(default_factory=list)
    changes: list[Reason] = field(default_factory=list)
    """Changes the checks made themselves (a cut to the platform's limit)."""


def check_output(
    policy: Policy,
    analyzer: Analyzer,
    brand: Brand,
    reply: Reply,
    thread: Thread,
    text: str,
    now: datetime,
) -> OutputCheck:
    """Check what would go out (`text`, with the reply's links and media)."""
    settings = policy.replies
    route = settings.route
    result = OutputCheck(text=text)
    sent = reply if text == reply.text else reply.model_copy(update={"text": text})
    links = links_of(sent)
    if links:
        action = Action(settings.links.action) if settings.links else Action.ESCALATE
        theirs = _thread_links(thread, brand)
        for url in links:
            if not policy.link_allowed(url):
                result.held.append(
                    Held(
                        Reason(
                            rule="link-not-allowed",
                            action=action,
                            message=f"the reply links to `{url}`, which is not on the "
                            "policy's list of allowed domains",
                        ),
                        route,
                    )
                )
            elif _canonical(url) in theirs:
                result.held.append(
                    Held(
                        Reason(
                            rule="link-from-thread",
                            action=action,
                            message=f"the reply repeats a link (`{url}`) from "
                            "someone else's post in the thread",
                        ),
                        route,
                    )
                )
    for index, media in enumerate(sent.media):
        if not media.user_content:
            continue
        action = Action(settings.user_media)
        if not (media.text or "").strip():
            result.held.append(
                Held(
                    Reason(
                        rule="user-media-unscannable",
                        action=action,
                        message=f"media {index + 1} ({media.type}) is built from user "
                        "content and has no text to scan; a person must look at it",
                    ),
                    route,
                )
            )
            continue
        scanned = analyzer.analyze(
            thread,
            Reply(text=media.text or ""),
            brand=brand,
            thresholds=policy.thresholds,
            now=now,
        )
        failures = scan_failures(policy, scanned.reply)
        if failures:
            result.held.append(
                Held(
                    Reason(
                        rule="user-media-hostile",
                        action=action,
                        message=f"the text in media {index + 1} ({media.text!r}) "
                        f"fails the scan: {'; '.join(failures)}",
                    ),
                    route,
                )
            )
    limit = limit_for(thread.platform, settings.max_length)
    if limit is not None and not fits(text, thread.platform, limit=limit):
        length = reply_length(text, thread.platform)
        cut = (
            truncate_to_platform(text, thread.platform, limit=limit)
            if settings.over_length == "truncate"
            else None
        )
        if cut is not None:
            result.text = cut
            result.changes.append(
                Reason(
                    rule="platform-length",
                    action=Action.REWRITE,
                    message=f"the reply counts {length} on {thread.platform} "
                    f"(at most {limit}); cut at a word boundary",
                )
            )
        else:
            held = (
                Action.ESCALATE
                if settings.over_length in ("truncate", "escalate")
                else Action.SUPPRESS
            )
            why = (
                "and cannot be cut at a word boundary"
                if settings.over_length == "truncate"
                else "(the policy holds long replies)"
            )
            result.held.append(
                Held(
                    Reason(
                        rule="platform-length",
                        action=held,
                        message=f"the reply counts {length} on {thread.platform}, "
                        f"over {limit}, {why}",
                    ),
                    route,
                )
            )
    if result.held:
        result.text = None
    return result


def _thread_links(thread: Thread, brand: Brand) -> set[str]:
    """Return the links posted in the thread by anyone but the brand, canonical."""
    found: set[str] = set()
    own = {normalize_handle(h) for h in thread.brand_handles} or brand.handles
    for post in thread.posts:
        if post.missing or post.handle in own:
            continue
        if post.links or "." in post.text:
            for url in links_of(Reply(text=post.text, links=post.links)):
                found.add(_canonical(url))
    return found


def scan_failures(policy: Policy, reply: ReplySignals) -> list[str]:
    """Return what a reply's signals fail of the scan (`SCAN`), one text per failure."""
    failures = []
    for signal, name, default in SCAN:
        value = float(getattr(reply, signal))
        threshold = policy.thresholds.get(name, default)
        if value >= threshold:
            failures.append(f"reply.{signal} {value:.2f} >= {threshold:.2f}")
    return failures


@dataclass
class ScanResult:
    """A rewritten reply's scan: what it failed, and the route of the first failure."""

    failures: list[str]
    route: str | None = None
    priority: str | None = None


def scan_rewrite(
    policy: Policy,
    analyzer: Analyzer,
    brand: Brand,
    rewritten: Reply,
    thread: Thread,
    signals: Signals,
    now: datetime,
) -> ScanResult:
    """
    Analyze a reply the guard changed and check it again.

    It must stay under the scan's thresholds and match no rule of the policy that
    would hold it (escalate or suppress).
    """
    again = analyzer.analyze(
        thread, rewritten, brand=brand, thresholds=policy.thresholds, now=now
    )
    again = again.model_copy(update={"state": signals.state})
    failures = scan_failures(policy, again.reply)
    if not rewritten.text.strip():
        failures.append("the rewrite is empty")
    route = priority = None
    matched, failed = policy.evaluate_safely(thread, rewritten, again)
    for rule in matched:
        if rule.action in (Action.ESCALATE, Action.SUPPRESS):
            failures.append(f"rule `{rule.id}` ({rule.action.value})")
            if route is None and rule.route:
                route, priority = rule.route, rule.priority
    for rule, exc in failed:
        failures.append(f"rule `{rule.id}` failed: {type(exc).__name__}: {exc}")
    return ScanResult(failures=failures, route=route, priority=priority)
