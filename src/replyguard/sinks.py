"""
Escalation sinks: where the escalations a review asks for are delivered.

A sink receives every `Escalation` packet, new ones and updates (``update`` true: the
crowd grew, the open item should change rather than page someone again)::

    sink = QueueFileSink("var/escalations.jsonl")
    sink.deliver(decision.escalation)

Every sink follows the `EscalationSink` contract: `deliver` returns fast and never
raises because a delivery failed; a failure is logged on the ``replyguard.sinks``
logger and, when the sink has a dead-letter file, written there as one JSON line
(the queue line plus ``error``, ``attempts`` and ``sink``), so no escalation is lost
silently.

- `CallbackSink` calls a function inline.
- `QueueFileSink` appends one JSON line per delivery to a file that several
  processes may share; `read_queue` reads it back, folding updates into their
  escalation, and `format_queue` lists it for people.
- `WebhookSink` POSTs from a background thread (JSON or a Slack incoming-webhook
  body), with retries and backoff.
- `RoutedSink` passes on only the escalations to some routes; `sink_from_spec` builds
  any of these from a policy's YAML mapping.
"""

from __future__ import annotations

import atexit
import contextlib
import email.message
import http.client
import json
import logging
import math
import os
import re
import textwrap
import threading
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, Self, runtime_checkable

from pydantic import ValidationError

from replyguard.errors import ConfigurationError, InvalidArgument, InvalidInput
from replyguard.models import Escalation

__all__ = [
    "CallbackSink",
    "EscalationSink",
    "QueueFileSink",
    "QueueItem",
    "QueueRead",
    "RoutedSink",
    "WebhookSink",
    "format_queue",
    "read_queue",
    "sink_from_spec",
    "slack_body",
]

_LOG = logging.getLogger("replyguard.sinks")

QUEUE_VERSION = 1
"""The ``version`` of the queue, dead-letter and webhook JSON lines this module writes."""

MAX_RETRY_DELAY = 60.0
"""The longest wait between two webhook attempts, in seconds (``Retry-After`` too)."""

SLACK_HEADER_LIMIT = 150
SLACK_TEXT_LIMIT = 3000
SLACK_FIELD_LIMIT = 2000


# ---------------------------------------------------------------------------
# The contract


@runtime_checkable
class EscalationSink(Protocol):
    """
    Where escalations are delivered.

    `deliver` must return fast (a review waits on it) and must never raise because a
    delivery failed: failures are logged on the ``replyguard.sinks`` logger and, when
    the sink has one, written to its dead-letter file. `close` releases the sink's
    resources, delivering what it still holds first where it can.
    """

    def deliver(self, escalation: Escalation) -> None:
        """Deliver one escalation packet (new or update); never raise for a failure."""
        ...

    def close(self) -> None:
        """Deliver what is still held, if anything, and release the sink's resources."""
        ...


class _Closing:
    """`with sink:` closes the sink on the way out."""

    def close(self) -> None:
        """Release the sink's resources."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------
# JSON lines


class _ForkAware(Protocol):
    def _after_fork(self) -> None: ...


_FORK_AWARE: weakref.WeakSet[_ForkAware] = weakref.WeakSet()
"""Sinks and files whose locks and threads must start over in a forked child."""


def _after_fork_in_child() -> None:
    for thing in list(_FORK_AWARE):
        thing._after_fork()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _packet(escalation: Escalation, delivered_at: datetime) -> dict[str, Any]:
    return {
        "type": "escalation",
        "version": QUEUE_VERSION,
        "delivered_at": _iso(delivered_at),
        "escalation": escalation.model_dump(mode="json"),
    }


def _encode_line(record: Mapping[str, Any]) -> bytes:
    # Lone surrogates cannot be UTF-8: `backslashreplace` writes them as the JSON
    # escape `\udc80`, which reads back as the same string.
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8", "backslashreplace")


class _Appender:
    """
    Append whole lines to a file that other threads and processes may append to.

    The file is opened with ``O_APPEND`` and each line goes out in one `os.write`, so
    concurrent appenders never interleave lines. The file is (re)opened lazily: on
    first use, after an error, after a fork, and when the path no longer names the
    open file (it was renamed or removed: the next line starts a new file there).
    """

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._inode: tuple[int, int] | None = None
        _FORK_AWARE.add(self)

    def _after_fork(self) -> None:
        # In a forked child the lock may be held by a thread that no longer exists;
        # the inherited descriptor still works, but the child opens its own.
        self._lock = threading.Lock()
        self._fd = None
        self._inode = None

    def append(self, data: bytes) -> None:
        """Write `data` (one or more whole lines); raise OSError on failure."""
        with self._lock:
            fd = self._open()
            try:
                written = os.write(fd, data)
                # A regular file takes the whole buffer unless the disk fills up or a
                # signal lands mid-write; finish the line rather than leave half.
                while written < len(data):
                    written += os.write(fd, data[written:])
                if self.fsync:
                    os.fsync(fd)
            except OSError:
                self._close_fd()
                raise

    def _open(self) -> int:
        fd = self._fd
        if fd is not None:
            try:
                stat = self.path.stat()
            except OSError:
                stat = None
            if stat is not None and (stat.st_dev, stat.st_ino) == self._inode:
                return fd
            self._close_fd()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(
            self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640
        )
        try:
            stat = os.fstat(fd)
            if stat.st_size and _last_byte(self.path) != b"\n":
                # A crash cut the last line short: end it, so that our lines stay
                # whole (`read_queue` reports the cut line itself).
                os.write(fd, b"\n")
            if created and self.fsync:
                _fsync_dir(self.path.parent)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self._inode = (stat.st_dev, stat.st_ino)
        return fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self._inode = None

    def close(self) -> None:
        """Close the file (the next `append` reopens it)."""
        with self._lock:
            self._close_fd()


def _last_byte(path: Path) -> bytes:
    with path.open("rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse a directory fsync
        pass
    finally:
        os.close(fd)


class _DeadLetter:
    """Write undeliverable escalations somewhere a person will find them."""

    def __init__(self, path: str | Path | None, sink: str) -> None:
        self.path = None if path is None else Path(path)
        self.sink = sink
        self._appender = None if self.path is None else _Appender(self.path, fsync=True)

    def write(self, escalation: Escalation, error: str, attempts: int) -> None:
        """Record one failed delivery; log it; never raise."""
        ident = _ident(escalation)
        try:
            record = _packet(escalation, _now())
            record |= {"error": error, "attempts": attempts, "sink": self.sink}
            line = _encode_line(record)
        except Exception as exc:  # noqa: BLE001 - a dead letter must never raise
            _LOG.error(
                "escalation %s not delivered by %s (%s), and cannot be serialized: %s",
                ident,
                self.sink,
                error,
                exc,
            )
            return
        if self._appender is None:
            _LOG.error(
                "escalation %s not delivered by %s after %d attempt(s): %s; "
                "no dead-letter file, the packet follows: %s",
                ident,
                self.sink,
                attempts,
                error,
                line.decode("utf-8", "replace").rstrip("\n"),
            )
            return
        try:
            self._appender.append(line)
        except OSError as exc:
            _LOG.error(
                "escalation %s not delivered by %s (%s), and the dead-letter file "
                "%s cannot be written (%s); the packet follows: %s",
                ident,
                self.sink,
                error,
                self.path,
                exc,
                line.decode("utf-8", "replace").rstrip("\n"),
            )
            return
        _LOG.warning(
            "escalation %s not delivered by %s after %d attempt(s): %s; "
            "written to the dead-letter file %s",
            ident,
            self.sink,
            attempts,
            error,
            self.path,
        )

    def close(self) -> None:
        """Close the dead-letter file."""
        if self._appender is not None:
            self._appender.close()


def _ident(escalation: Escalation) -> str:
    return escalation.escalation_id or escalation.decision_id or "-"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---------------------------------------------------------------------------
# Callback


class CallbackSink(_Closing):
    """
    Call a function with each escalation, inline.

    The callback runs on the reviewing thread, so it should be quick (hand the packet
    to your own queue). An exception from it is logged with the escalation id and
    written to `dead_letter` when one is given; it never reaches the caller.
    ``KeyboardInterrupt`` and ``SystemExit`` are not caught.
    """

    def __init__(
        self,
        callback: Callable[[Escalation], object],
        *,
        dead_letter: str | Path | None = None,
    ) -> None:
        if not callable(callback):
            raise InvalidArgument(
                f"CallbackSink needs a callable, not {type(callback).__name__}"
            )
        self.callback = callback
        name = getattr(callback, "__qualname__", type(callback).__name__)
        self._dead = _DeadLetter(dead_letter, f"callback {name}")

    def deliver(self, escalation: Escalation) -> None:
        """Call the callback; log and dead-letter an exception instead of raising."""
        try:
            self.callback(escalation)
        except Exception as exc:  # noqa: BLE001 - the contract: deliver never raises
            _LOG.error(
                "escalation %s: the callback %s raised %s",
                _ident(escalation),
                self._dead.sink.removeprefix("callback "),
                _describe(exc),
                exc_info=True,
            )
            self._dead.write(escalation, _describe(exc), 1)

    def flush(self, timeout: float | None = None) -> bool:  # noqa: ARG002
        """Return True: the callback already ran."""
        return True

    def close(self) -> None:
        """Close the dead-letter file, if any (the callback is left alone)."""
        self._dead.close()


# ---------------------------------------------------------------------------
# Queue file


class QueueFileSink(_Closing):
    """
    Append each escalation to a JSON-lines queue file.

    One line per delivery, new escalation or update::

        {"type": "escalation", "version": 1, "delivered_at": "2026-03-02T09:00:00Z",
         "escalation": {...Escalation.model_dump(mode="json")...}}

    The file is opened with ``O_APPEND`` and each line is written with a single
    `os.write`, so several threads and processes can share one queue file without
    interleaving lines; with `fsync` (the default) each line is on disk before
    `deliver` returns. Parent directories are created. If the file is renamed away
    (a consumer claiming it, log rotation), the next delivery starts a new file at
    `path`. `read_queue` reads the file back.

    An I/O error (disk full, permissions) is logged and, when `dead_letter` is set,
    the escalation is written there instead; it never reaches the caller.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fsync: bool = True,
        dead_letter: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._appender = _Appender(self.path, fsync=fsync)
        self._dead = _DeadLetter(dead_letter, f"queue {self.path}")

    def deliver(self, escalation: Escalation) -> None:
        """Append one line for `escalation`; log and dead-letter an I/O error."""
        try:
            line = _encode_line(_packet(escalation, _now()))
            self._appender.append(line)
        except Exception as exc:  # noqa: BLE001 - the contract: deliver never raises
            _LOG.error(
                "escalation %s: cannot append to the queue file %s: %s",
                _ident(escalation),
                self.path,
                _describe(exc),
            )
            self._dead.write(escalation, _describe(exc), 1)

    def flush(self, timeout: float | None = None) -> bool:  # noqa: ARG002
        """Return True: every line is written when `deliver` returns."""
        return True

    def close(self) -> None:
        """Close the file; a later `deliver` opens it again."""
        self._appender.close()
        self._dead.close()


@dataclass(frozen=True, slots=True)
class QueueItem:
    """
    One escalation of a queue file, with its updates folded in.

    Attributes:
        escalation: the latest packet of this escalation (the last line in the file).
        first: the first packet (the line that opened it, normally not an update).
        updates: how many of its lines are updates (``update`` true).
        first_at: when the first line was delivered (its ``delivered_at``).
        last_at: when the latest line was delivered.
        line: the 1-based line number of the first line.
    """

    escalation: Escalation
    first: Escalation
    updates: int
    first_at: datetime
    last_at: datetime
    line: int


@dataclass(frozen=True, slots=True)
class QueueRead:
    """
    What `read_queue` found in a queue file.

    Attributes:
        items: one item per escalation id, in the order the escalations first appear.
        problems: one ``file:line: reason`` string per line that could not be read
            (only with ``strict=False``; strict reading raises instead).
    """

    items: list[QueueItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Fold:
    first: Escalation
    latest: Escalation
    updates: int
    first_at: datetime
    last_at: datetime
    line: int


class _BadLine(Exception):
    """A queue line that cannot be read; the message says why."""


def _parse_line(raw: bytes) -> tuple[Escalation, datetime]:
    """Return the escalation and delivery time of one queue line; raise `_BadLine`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise _BadLine(f"expected a JSON object, found {type(record).__name__}")
    if record.get("type") != "escalation":
        raise _BadLine(f"`type` is {record.get('type')!r}, expected 'escalation'")
    if record.get("version") != QUEUE_VERSION:
        raise _BadLine(
            f"unsupported `version` {record.get('version')!r} "
            f"(this replyguard reads version {QUEUE_VERSION})"
        )
    delivered = record.get("delivered_at")
    if not isinstance(delivered, str):
        raise _BadLine("`delivered_at` is missing")
    try:
        delivered_at = datetime.fromisoformat(delivered)
    except ValueError:
        raise _BadLine(
            f"`delivered_at` is not a date and time: {delivered!r}"
        ) from None
    if delivered_at.tzinfo is None:
        delivered_at = delivered_at.replace(tzinfo=UTC)
    try:
        escalation = Escalation.model_validate(record.get("escalation"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "escalation"
        raise _BadLine(
            f"`escalation` is not a valid escalation: {where}: {first['msg']}"
            + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
        ) from None
    return escalation, delivered_at


def read_queue(path: str | Path, *, strict: bool = True) -> QueueRead:
    """
    Read a queue file (or a dead-letter file) and fold updates into escalations.

    Lines that share an ``escalation_id`` make one `QueueItem`: its `escalation` is
    the latest line's packet (file order is delivery order), `first` the first one's,
    `updates` the number of update lines. A line without an escalation id is an
    item of its own. Blank lines are skipped; extra keys (a dead letter's ``error``,
    ``attempts`` and ``sink``) are ignored.

    Args:
        path: the JSON-lines file `QueueFileSink` writes.
        strict: raise on the first malformed line; with False, malformed lines (such
            as a last line a crash cut short) are skipped and listed in `problems`.

    Raises:
        InvalidInput: `strict` and a line is malformed; the message names
            ``file:line``.
        OSError: the file cannot be read.
    """
    source = Path(path)
    data = source.read_bytes()
    folds: dict[str, _Fold] = {}
    problems: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            escalation, delivered_at = _parse_line(raw)
        except _BadLine as exc:
            problem = f"{source}:{number}: {exc}"
            if strict:
                raise InvalidInput(problem, problems=(problem,)) from None
            problems.append(problem)
            continue
        key = escalation.escalation_id or f"\0line {number}"
        fold = folds.get(key)
        if fold is None:
            folds[key] = _Fold(
                first=escalation,
                latest=escalation,
                updates=int(escalation.update),
                first_at=delivered_at,
                last_at=delivered_at,
                line=number,
            )
        else:
            fold.latest = escalation
            fold.updates += int(escalation.update)
            fold.last_at = delivered_at
    items = [
        QueueItem(
            escalation=fold.latest,
            first=fold.first,
            updates=fold.updates,
            first_at=fold.first_at,
            last_at=fold.last_at,
            line=fold.line,
        )
        for fold in folds.values()
    ]
    return QueueRead(items=items, problems=problems)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e]")


def _printable(text: str) -> str:
    """Return `text` safe for a terminal: control characters (ANSI escapes) replaced."""
    return _CONTROL.sub("\ufffd", text)


def _wrap(text: str, indent: str, width: int = 88) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(
            textwrap.wrap(
                paragraph,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=True,
                break_on_hyphens=False,
            )
            or [indent.rstrip()]
        )
    return lines


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _format_item(item: QueueItem) -> str:
    esc = item.escalation
    head = [f"[{esc.priority.upper()}] {_printable(esc.route)}"]
    if esc.due is not None:
        head.append(f"due {esc.due.astimezone(UTC):%H:%M}")
    head.append(_printable(esc.escalation_id[:8]) or "-")
    if item.updates:
        head.append(f"(+{item.updates} update{'s' if item.updates != 1 else ''})")
    lines = ["  ".join(head)]
    lines.extend(_wrap(_printable(esc.summary), "  "))
    who = []
    if esc.author:
        who.append(f"author {_printable(esc.author)}")
    if esc.target_id:
        who.append(f"target post {_printable(esc.target_id)}")
    if esc.crowd_size:
        who.append(f"crowd of {esc.crowd_size}")
    if esc.occurrences > 1:
        who.append(f"{esc.occurrences} occurrences")
    if who:
        lines.extend(_wrap(", ".join(who), "  "))
    when = f"first {_clock(item.first_at)}"
    if item.last_at != item.first_at:
        when += f", last {_clock(item.last_at)}"
    lines.append(f"  {when}")
    if esc.due is not None or esc.sla:
        due = [f"sla {_printable(esc.sla)}"] if esc.sla else []
        due += [f"due {_clock(esc.due)}"] if esc.due is not None else []
        lines.extend(_wrap(", ".join(due), "  "))
    lines.append("  proposed reply:")
    lines.extend(_wrap(_printable(esc.proposed_reply), "  > "))
    if esc.rewrite:
        lines.append("  held rewrite:")
        lines.extend(_wrap(_printable(esc.rewrite), "  > "))
    return "\n".join(lines)


def format_queue(items: Iterable[QueueItem], *, route: str | None = None) -> str:
    """
    Return a listing of queue items for people, newest first.

    One block per escalation, the most recently delivered first::

        [HIGH] pr  due 14:35  1f3a9c0e  (+12 updates)
          The original by @chalk_walker was retweeted or quoted 188 times ...
          author @chalk_walker, target post 1, crowd of 188, 13 occurrences
          first 2026-03-02 14:20:00Z, last 2026-03-02 14:31:10Z
          sla 15m, due 2026-03-02 14:35:00Z
          proposed reply:
          > We are here to help!

    Times are UTC. Control characters in the texts (terminal escapes from posts) are
    replaced. Returns ``no escalations`` when nothing is left to list.

    Args:
        items: what `read_queue` returned (``read_queue(path).items``).
        route: list only the escalations to this route.
    """
    chosen = [item for item in items if route is None or item.escalation.route == route]
    chosen.sort(key=lambda item: (item.last_at, item.line), reverse=True)
    if not chosen:
        return "no escalations" + (f" to route {_printable(route)}" if route else "")
    return "\n\n".join(_format_item(item) for item in chosen)


# ---------------------------------------------------------------------------
# Webhook


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads <...> as links and mentions (<!channel>): escape them, so
    # that text from posts can never ping a channel or hide a link.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> str:
    """Return `text` cut to `limit` characters with an ellipsis, entities kept whole."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _mrkdwn(text: str, limit: int) -> str:
    return _fit(_slack_escape(text), limit)


def _quote(text: str, limit: int) -> str:
    lines = _slack_escape(text).splitlines() or [""]
    return _fit("\n".join(f">{line}" for line in lines), limit)


def _slack_date(moment: datetime) -> str:
    fallback = _clock(moment)
    return (
        f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    )


def _rule_ids(escalation: Escalation) -> list[str]:
    seen: dict[str, None] = {}
    for rule in (*(r.rule for r in escalation.reasons), *escalation.rules):
        seen.setdefault(rule, None)
    return list(seen)


def slack_body(escalation: Escalation) -> dict[str, Any]:
    """
    Return a Slack incoming-webhook body (``text`` and ``blocks``) for an escalation.

    Every text is cut to Slack's limits (header 150 characters, section text 3000,
    a field 2000) and text from posts is escaped, so it cannot mention a channel.
    """
    esc = escalation
    prefix = "Update: " if esc.update else ""
    summary = " ".join(esc.summary.split())
    line = f"{prefix}[{esc.priority.upper()}] {esc.route}: {summary}"
    sla = esc.sla or "none"
    if esc.due is not None:
        sla += f", due {_slack_date(esc.due)}"
    target = esc.author or "unknown author"
    if esc.target_id:
        target += f" (post {esc.target_id})"
    fields = [
        f"*Route*\n{_slack_escape(esc.route)}",
        f"*Priority*\n{esc.priority.upper()}",
        f"*SLA*\n{sla}",
        f"*Target*\n{_slack_escape(target)}",
        f"*Crowd size*\n{esc.crowd_size}",
        f"*Occurrences*\n{esc.occurrences}",
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _fit(line, SLACK_HEADER_LIMIT),
                "emoji": True,
            },
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _mrkdwn(esc.summary, SLACK_TEXT_LIMIT)},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _fit(text, SLACK_FIELD_LIMIT)}
                for text in fields
            ],
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Proposed reply*\n"
                + _quote(esc.proposed_reply, SLACK_TEXT_LIMIT - 20),
            },
        },
    ]
    if esc.rewrite:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Held rewrite*\n"
                    + _quote(esc.rewrite, SLACK_TEXT_LIMIT - 20),
                },
            }
        )
    rules = ", ".join(f"`{_slack_escape(rule)}`" for rule in _rule_ids(esc)) or "none"
    context = f"rules: {rules} · escalation `{_slack_escape(_ident(esc))}`"
    if esc.policy:
        context += f" · policy {_slack_escape(esc.policy)}"
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _fit(context, SLACK_FIELD_LIMIT)}],
        }
    )
    return {"text": _mrkdwn(line, SLACK_TEXT_LIMIT), "blocks": blocks}


def _json_body(escalation: Escalation) -> dict[str, Any]:
    return {
        "type": "escalation",
        "version": QUEUE_VERSION,
        "escalation": escalation.model_dump(mode="json"),
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would turn the POST into a GET and drop the body."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        """Refuse: the 3xx answer becomes an `HTTPError` (not retried)."""


class _Retry(Exception):
    """A failed attempt that may be tried again after `delay` seconds (None: backoff)."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class _GiveUp(Exception):
    """A failed attempt that must not be tried again."""


def _retry_after(headers: email.message.Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:  # an HTTP date: use the backoff
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_DELAY)


class WebhookSink(_Closing):
    """
    POST escalations to an HTTP endpoint from a background thread.

    `deliver` only puts the packet on an in-memory queue (a review never waits on
    HTTP); a daemon thread, started on the first delivery, sends the packets one at
    a time with the standard library's `urllib.request`.

    Bodies: with ``format="json"``, ``{"type": "escalation", "version": 1,
    "escalation": <Escalation.model_dump(mode="json")>}``; with ``format="slack"``, a
    Slack incoming-webhook body (``text`` plus ``blocks``, see `slack_body`). Updates
    of an open escalation are sent only with `send_updates` (Slack text then starts
    with ``Update:``).

    Connection errors, timeouts, HTTP 429 and 5xx are retried up to `retries` times,
    waiting ``backoff * 2**attempt`` seconds (or a numeric ``Retry-After``), at most
    60 s; other 4xx and redirects are not retried. An escalation that still fails,
    arrives when `max_queue` packets are waiting, or arrives after `close`, goes to
    the `dead_letter` JSON-lines file (the queue line plus ``error``, ``attempts`` and
    ``sink``), or is logged at ERROR when there is none.

    The URL may hold a secret (a Slack webhook's path): logs and dead letters name
    only its scheme, host and port. Proxies come from the usual environment
    variables. The sink is thread-safe. In a forked child, the sink starts over with
    an empty queue of its own (what the parent had queued is the parent's to send).
    At interpreter exit an open sink is closed (see `close`).
    """

    def __init__(
        self,
        url: str,
        *,
        format: Literal["json", "slack"] = "json",
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        dead_letter: str | Path | None = None,
        send_updates: bool = False,
        max_queue: int = 1000,
    ) -> None:
        self._url = url
        self.endpoint = _endpoint(url)
        if format not in ("json", "slack"):
            raise InvalidArgument(f"format must be 'json' or 'slack', not {format!r}")
        _check_number("timeout", timeout, minimum=0.0, inclusive=False)
        _check_number("backoff", backoff, minimum=0.0)
        _check_int("retries", retries, minimum=0)
        _check_int("max_queue", max_queue, minimum=1)
        self.headers = _check_headers(headers or {})
        self.format = format
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = float(backoff)
        self.send_updates = send_updates
        self.max_queue = max_queue
        self._dead = _DeadLetter(dead_letter, f"webhook {self.endpoint}")
        self._opener = urllib.request.build_opener(_NoRedirect())
        self._sent = 0
        self._failed = 0
        self._reset()
        self._closed = False
        _FORK_AWARE.add(self)
        ref = weakref.ref(self)

        def close_at_exit() -> None:
            sink = ref()
            if sink is not None:
                sink.close()

        self._at_exit = close_at_exit
        atexit.register(close_at_exit)

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._pending: deque[Escalation] = deque()
        self._inflight = 0
        self._abort = threading.Event()
        self._thread: threading.Thread | None = None

    def _after_fork(self) -> None:
        # The child has no worker thread, and what the parent had queued is the
        # parent's to send: start over with an empty queue and fresh locks.
        self._reset()

    @property
    def sent(self) -> int:
        """Return how many escalations the endpoint accepted so far."""
        return self._sent

    @property
    def dead_lettered(self) -> int:
        """Return how many escalations went to the dead letter so far."""
        return self._failed

    def deliver(self, escalation: Escalation) -> None:
        """Queue `escalation` for the background thread; never block on HTTP."""
        if escalation.update and not self.send_updates:
            return
        reason = None
        with self._cond:
            if self._closed:
                reason = "sink closed"
            elif len(self._pending) >= self.max_queue:
                reason = f"queue full ({self.max_queue} escalations waiting)"
            else:
                self._pending.append(escalation)
                if self._thread is None:
                    self._start()
                self._cond.notify()
        if reason is not None:
            self._dead_letter(escalation, reason, 0)

    def _start(self) -> None:
        thread = threading.Thread(
            target=self._run, name=f"replyguard-webhook {self.endpoint}", daemon=True
        )
        self._thread = thread
        thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """
        Wait until every queued escalation is delivered or dead-lettered.

        Returns:
            True when nothing is left, False when `timeout` seconds passed first.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._pending and not self._inflight, timeout
            )

    def close(self, timeout: float = 10.0) -> None:
        """
        Deliver what is queued (waiting up to `timeout` s), then stop the thread.

        What is still queued after `timeout` is dead-lettered, and a request under
        way is given up after its attempt (at most the sink's `timeout` more).
        Deliveries after `close` are dead-lettered. Closing twice does nothing.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        atexit.unregister(self._at_exit)
        if not self.flush(timeout):
            self._abort.set()
            with self._cond:
                left = list(self._pending)
                self._pending.clear()
                self._cond.notify_all()
            for escalation in left:
                self._dead_letter(escalation, "sink closed before delivery", 0)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 1.0)
        self._dead.close()

    def _dead_letter(self, escalation: Escalation, error: str, attempts: int) -> None:
        with self._cond:
            self._failed += 1
        self._dead.write(escalation, error, attempts)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                escalation = self._pending.popleft()
                self._inflight += 1
            try:
                self._send(escalation)
            except Exception as exc:  # noqa: BLE001 - keep the thread alive
                self._dead_letter(escalation, f"internal error: {_describe(exc)}", 0)
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._cond.notify_all()

    def body(self, escalation: Escalation) -> bytes:
        """Return the request body this sink sends for `escalation`."""
        slack = self.format == "slack"
        payload = slack_body(escalation) if slack else _json_body(escalation)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "backslashreplace"
        )

    def _send(self, escalation: Escalation) -> None:
        data = self.body(escalation)
        attempts = 0
        error = ""
        for attempt in range(self.retries + 1):
            attempts = attempt + 1
            try:
                self._post(data)
            except _GiveUp as exc:
                self._dead_letter(escalation, str(exc), attempts)
                return
            except _Retry as exc:
                error = str(exc)
                if attempt == self.retries:
                    break
                delay = exc.delay
                if delay is None:
                    delay = min(self.backoff * 2**attempt, MAX_RETRY_DELAY)
                _LOG.info(
                    "escalation %s: %s answered %s; retrying in %.2f s",
                    _ident(escalation),
                    self.endpoint,
                    error,
                    delay,
                )
                if self._abort.wait(delay):
                    error = f"sink closed while retrying ({error})"
                    break
            else:
                with self._cond:
                    self._sent += 1
                _LOG.debug(
                    "escalation %s delivered to %s", _ident(escalation), self.endpoint
                )
                return
        self._dead_letter(escalation, error, attempts)

    def _post(self, data: bytes) -> None:
        """Make one attempt; raise `_Retry` or `_GiveUp` when it fails."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http(s)
            self._url,
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "replyguard-webhook",
                **self.headers,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            status = exc.code
            headers = exc.headers
            exc.close()
            message = f"HTTP {status}"
            if status == 429 or status >= 500:
                raise _Retry(message, _retry_after(headers)) from None
            raise _GiveUp(message) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            text = _describe(reason) if isinstance(reason, BaseException) else reason
            raise _Retry(self._scrub(f"connection failed: {text}")) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise _Retry(self._scrub(_describe(exc))) from None

    def _scrub(self, text: str) -> str:
        # Belt and braces: exception texts should not carry the URL, but never let a
        # secret path or query reach a log or a dead letter if one does.
        parts = urllib.parse.urlsplit(self._url)
        for secret in (self._url, parts.path, parts.query):
            if len(secret) > 1:
                text = text.replace(secret, "…")
        return text


def _endpoint(url: str) -> str:
    """Return the loggable part of `url` (scheme, host, port); check it is http(s)."""
    if not isinstance(url, str):
        raise InvalidArgument(
            f"the webhook url must be a string, not {type(url).__name__}"
        )
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgument("the webhook url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            "the webhook url must be an http:// or https:// URL with a host "
            f"(scheme {parts.scheme or 'missing'!r})"
        )
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _check_number(
    name: str, value: object, *, minimum: float, inclusive: bool = True
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"{name} must be a number, not {type(value).__name__}")
    ok = value >= minimum if inclusive else value > minimum
    if not ok or not math.isfinite(value):
        relation = "at least" if inclusive else "more than"
        raise InvalidArgument(f"{name} must be {relation} {minimum:g}, not {value!r}")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an integer, not {type(value).__name__}")
    if value < minimum:
        raise InvalidArgument(f"{name} must be at least {minimum}, not {value!r}")


def _check_headers(headers: Mapping[Any, Any]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidArgument("webhook headers must map strings to strings")
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
            raise InvalidArgument(f"invalid webhook header name {name!r}")
        if any(char in value for char in "\r\n\0"):
            # the value may be a secret: name the header only
            raise InvalidArgument(
                f"the value of webhook header {name!r} has a line break"
            )
        checked[name] = value
    return checked


# ---------------------------------------------------------------------------
# Routing and configuration


class RoutedSink(_Closing):
    """Pass on to `sink` only the escalations whose route is one of `routes`."""

    def __init__(self, sink: EscalationSink, routes: Iterable[str]) -> None:
        self.sink = sink
        self.routes = frozenset(routes)
        if not self.routes:
            raise InvalidArgument("RoutedSink needs at least one route")

    def deliver(self, escalation: Escalation) -> None:
        """Deliver `escalation` to the wrapped sink if its route is one of ours."""
        if escalation.route in self.routes:
            self.sink.deliver(escalation)

    def flush(self, timeout: float | None = None) -> bool:
        """Flush the wrapped sink when it can be flushed; return whether it is done."""
        flush = getattr(self.sink, "flush", None)
        return bool(flush(timeout)) if callable(flush) else True

    def close(self) -> None:
        """Close the wrapped sink."""
        self.sink.close()


_ENV = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_KEYS: dict[str, frozenset[str]] = {
    "queue": frozenset({"type", "path", "fsync", "dead_letter", "routes"}),
    "webhook": frozenset(
        {
            "type",
            "url",
            "format",
            "headers",
            "timeout",
            "retries",
            "backoff",
            "dead_letter",
            "send_updates",
            "max_queue",
            "routes",
        }
    ),
}


def _expand(text: str, what: str) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _ENV_NAME.fullmatch(name):
            raise ConfigurationError(
                f"sink {what}: `${{{name}}}` is not an environment variable name"
            )
        value = os.environ.get(name)
        if value is None:
            raise ConfigurationError(
                f"sink {what}: the environment variable `{name}` is not set"
            )
        return value

    return _ENV.sub(lookup, text)


def _path(spec: Mapping[str, Any], key: str, base_dir: Path | None) -> Path:
    value = spec[key]
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise ConfigurationError(f"sink `{key}` must be a file path")
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def _typed(
    spec: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str
) -> Any:
    value = spec[key]
    if isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    ):
        raise ConfigurationError(f"sink `{key}` must be {what}, not {value!r}")
    if not isinstance(value, kind):
        raise ConfigurationError(
            f"sink `{key}` must be {what}, not {type(value).__name__} {value!r}"
        )
    return value


def sink_from_spec(
    spec: Mapping[str, Any], *, base_dir: Path | None = None
) -> EscalationSink:
    """
    Build a sink from a policy's YAML mapping.

    ::

        {"type": "queue", "path": "escalations.jsonl", "fsync": true}
        {"type": "webhook", "url": "https://hooks.slack.com/services/${SLACK_HOOK}",
         "format": "slack", "retries": 3, "dead_letter": "dead.jsonl",
         "headers": {"Authorization": "Bearer ${TOKEN}"}, "send_updates": false,
         "timeout": 5}

    Relative paths (``path``, ``dead_letter``) resolve against `base_dir` (the policy
    file's folder) when it is given. ``${NAME}`` in ``url`` and header values is
    replaced by the environment variable. Any spec may add ``routes: [pr, legal]``:
    the sink then receives only the escalations to those routes (`RoutedSink`).

    Raises:
        ConfigurationError: an unknown type or key, a value of the wrong type, an
            unset environment variable (named), or a URL that is not http(s).
    """
    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"a sink must be a mapping, not {type(spec).__name__}")
    kind = spec.get("type")
    if kind not in _KEYS:
        raise ConfigurationError(
            f"unknown sink type {kind!r}; available: {', '.join(sorted(_KEYS))}"
        )
    unknown = sorted(str(key) for key in spec if key not in _KEYS[kind])
    if unknown:
        raise ConfigurationError(
            f"unknown key(s) {', '.join(unknown)} in a {kind} sink; "
            f"allowed: {', '.join(sorted(_KEYS[kind]))}"
        )
    dead_letter = (
        _path(spec, "dead_letter", base_dir)
        if spec.get("dead_letter") is not None
        else None
    )
    sink: EscalationSink
    try:
        if kind == "queue":
            if "path" not in spec:
                raise ConfigurationError("a queue sink needs a `path`")
            sink = QueueFileSink(
                _path(spec, "path", base_dir),
                fsync=_typed(spec, "fsync", bool, "true or false")
                if "fsync" in spec
                else True,
                dead_letter=dead_letter,
            )
        else:
            sink = _webhook_from_spec(spec, dead_letter)
    except InvalidArgument as exc:
        raise ConfigurationError(f"{kind} sink: {exc}") from None
    if spec.get("routes") is not None:
        routes = spec["routes"]
        if (
            isinstance(routes, str)
            or not isinstance(routes, Sequence)
            or not routes
            or not all(isinstance(route, str) and route for route in routes)
        ):
            sink.close()
            raise ConfigurationError(
                "sink `routes` must be a non-empty list of route names"
            )
        sink = RoutedSink(sink, routes)
    return sink


def _webhook_from_spec(
    spec: Mapping[str, Any], dead_letter: Path | None
) -> WebhookSink:
    if "url" not in spec:
        raise ConfigurationError("a webhook sink needs a `url`")
    url = _expand(_typed(spec, "url", str, "a URL"), "`url`")
    headers: dict[str, str] = {}
    if spec.get("headers") is not None:
        raw = _typed(spec, "headers", Mapping, "a mapping of header names to values")
        for name, value in raw.items():
            if not isinstance(name, str) or not isinstance(value, str | int | float):
                raise ConfigurationError(
                    "sink `headers` must map header names to string values"
                )
            headers[name] = _expand(str(value), f"header `{name}`")
    options: dict[str, Any] = {}
    if "format" in spec:
        fmt = spec["format"]
        if fmt not in ("json", "slack"):
            raise ConfigurationError(
                f"sink `format` must be `json` or `slack`, not {fmt!r}"
            )
        options["format"] = fmt
    for key, kind, what in (
        ("timeout", (int, float), "a number of seconds"),
        ("backoff", (int, float), "a number of seconds"),
        ("retries", int, "an integer"),
        ("max_queue", int, "an integer"),
        ("send_updates", bool, "true or false"),
    ):
        if key in spec:
            options[key] = _typed(spec, key, kind, what)
    return WebhookSink(url, headers=headers, dead_letter=dead_letter, **options)
