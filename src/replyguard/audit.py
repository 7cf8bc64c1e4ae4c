"""
The decision log: what the bot was told to send, and why, in a file nobody can edit unseen.

Every review appends one record (one JSON line) to the guard's decision logs. Records
are chained by hash, one chain per writing process: each record carries the hash of
the one before it in its chain (`prev`) and its own (`hash`, over every field except
`hash` and `content`). The texts (the thread, the reply, the messages) sit in
`content`, covered by `content_hash`, so that a person's data can be erased later
while the chain still verifies.

- `decision_record` builds a record from a decision; processors (`masker`,
  `mask_pii`) mask it; an `AuditLog` (`JsonlAuditLog`, `SqliteAuditLog`) chains and
  writes it.
- `verify_log` checks a log: edited, removed, reordered records and edited content.
- `erase` and `prune` rewrite a log for a person's erasure and for retention, and
  keep it verifiable.
- `read_log` and `to_stream` read it back, and turn it into a replay stream.

See ``docs/audit-and-replay.md``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import sqlite3
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from replyguard.analysis.pii import find_pii
from replyguard.errors import ConfigurationError, InvalidArgument
from replyguard.models import (
    Decision,
    Evidence,
    Signals,
    Thread,
    normalize_handle,
)
from replyguard.sinks import _FORK_AWARE, _fsync_dir, _last_byte

__all__ = [
    "DEFAULT_ROTATE_BYTES",
    "RECORD_VERSION",
    "AuditLog",
    "AuditRecord",
    "AuditTrail",
    "ExportedStream",
    "FsyncMode",
    "JsonlAuditLog",
    "Processor",
    "SqliteAuditLog",
    "VerifyReport",
    "audit_log_from_spec",
    "author_key",
    "canonical_json",
    "decision_record",
    "erase",
    "log_files",
    "mask_pii",
    "masker",
    "new_chain_id",
    "prune",
    "pseudonym",
    "read_log",
    "to_stream",
    "verify_log",
]

_LOG = logging.getLogger("replyguard.audit")

RECORD_VERSION = 1
"""The version of the record format (the `v` field)."""

DEFAULT_ROTATE_BYTES = 100_000_000
"""A JSONL log moves on to its next segment past this size (100 MB)."""

FsyncMode = Literal["always", "interval", "never"]
FSYNC_MODES: tuple[str, ...] = ("always", "interval", "never")
_FSYNC_INTERVAL = 1.0

Processor = Callable[[dict[str, Any]], dict[str, Any]]
"""A step run on every record before any log writes it (masking, enriching)."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_PREFIX = "sqlite:///"
_TABLE = "decision_log"


# ---------------------------------------------------------------------------
# The record


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReasonEntry(_Frozen):
    """One reason of a decision, without its message (that is content)."""

    rule: str
    action: str
    route: str | None = None
    priority: str | None = None


class EscalationEntry(_Frozen):
    """The escalation a decision asked for, as queues track it."""

    escalation_id: str
    route: str
    priority: str
    update: bool
    occurrences: int
    sla: str | None = None
    due: str | None = None


class PolicyEntry(_Frozen):
    """The policy that decided."""

    name: str
    version: str
    hash: str


class ErrorEntry(_Frozen):
    """A failure inside the review."""

    type: str
    message: str
    stage: str


class EvidenceEntry(_Frozen):
    """A piece of evidence: a cue, where it was seen and the (masked) text."""

    signal: str
    cue: str
    post_id: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = None


class Content(_Frozen):
    """The texts of a record: erasable, covered by `content_hash`."""

    author: str
    text: str | None
    proposed: str
    messages: dict[str, str]
    summary: str | None
    thread: dict[str, Any]
    evidence: list[EvidenceEntry]


class ErasedContent(_Frozen):
    """What `erase` leaves of a record's content."""

    erased: Literal[True]
    reason: str
    erased_at: str


class Pruned(_Frozen):
    """The last record a `prune` removed from one chain."""

    seq: int
    hash: str


class AuditRecord(_Frozen):
    """
    One line of the decision log (`kind` ``decision``), or a retention checkpoint.

    The log writes and reads plain dicts (`decision_record`, `read_log`); this model
    documents their shape and validates one: ``AuditRecord.model_validate(record)``.
    A checkpoint (`kind` ``checkpoint``) has the chain fields, `logged_at`, `before`,
    `pruned` and `pruned_through`, and none of the decision's.
    """

    v: Literal[1]
    kind: Literal["decision", "checkpoint"]
    chain: str
    seq: int
    prev: str | None
    hash: str
    logged_at: str
    decision_id: str | None = None
    at: str | None = None
    recorded: bool | None = None
    action: str | None = None
    would_have: str | None = None
    rules: list[str] | None = None
    reasons: list[ReasonEntry] | None = None
    escalation: EscalationEntry | None = None
    policy: PolicyEntry | None = None
    platform: str | None = None
    target_id: str | None = None
    target_kind: str | None = None
    crowd: str | None = None
    author_key: str | None = None
    storm_open: bool | None = None
    paused: bool | None = None
    scores: dict[str, float] | None = None
    latency_us: dict[str, int] | None = None
    errors: list[ErrorEntry] | None = None
    content_hash: str | None = None
    content: Content | ErasedContent | None = None
    before: str | None = None
    pruned: int | None = None
    pruned_through: dict[str, Pruned] | None = None


def canonical_json(value: Any) -> str:
    """
    Return the canonical JSON of `value`: sorted keys, no spaces, not ASCII-escaped.

    Hashes are the SHA-256 of its UTF-8 bytes (lone surrogates kept as they are).
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def author_key(handle: str) -> str:
    """
    Return the key a record files its target author under: SHA-256 of the handle.

    The handle is normalized first (``@BofA_Help`` and ``bofa_help`` give one key),
    so that `erase` can find a person's records without the log storing the handle
    outside the erasable content.
    """
    return hashlib.sha256(normalize_handle(handle).encode("utf-8")).hexdigest()


def pseudonym(handle: str) -> str:
    """Return the stable pseudonym masking a handle: ``@user-`` and 8 hex digits."""
    return "@user-" + author_key(handle)[:8]


def _numeric_fields(model: type[BaseModel]) -> tuple[str, ...]:
    numeric = (int, float, int | None, float | None)
    return tuple(
        name for name, info in model.model_fields.items() if info.annotation in numeric
    )


_SCORE_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (group, _numeric_fields(info.annotation))
    for group, info in Signals.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
)
_SIGNAL_GROUPS = ("chain", "sarcasm", "tone", "intent", "reply")
_LATENCY_KEYS = ("analyze", "state", "evaluate", "output", "total")


def _scores(signals: Signals) -> dict[str, float]:
    scores: dict[str, float] = {}
    for group, names in _SCORE_FIELDS:
        values = getattr(signals, group).__dict__
        for name in names:
            value = values[name]
            if value is not None:
                scores[group if name == "score" else f"{group}.{name}"] = value
    return scores


def _evidence(decision: Decision) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    found: list[dict[str, Any]] = []
    groups: list[tuple[Evidence, ...]] = [r.evidence for r in decision.reasons]
    signals = decision.signals
    groups.extend(getattr(signals, group).evidence for group in _SIGNAL_GROUPS)
    for group in groups:
        for item in group:
            if item.start is None or item.end is None:
                continue
            key = (item.signal, item.cue, item.post_id, item.start, item.end)
            if key in seen:
                continue
            seen.add(key)
            found.append(
                {
                    "signal": item.signal,
                    "cue": item.cue,
                    "post_id": item.post_id,
                    "start": item.start,
                    "end": item.end,
                    "text": item.text,
                }
            )
    return found


def _thread_json(thread: Thread) -> dict[str, Any]:
    data = thread.model_dump(mode="json", exclude_defaults=True)
    for post in data["posts"]:
        if not post.get("missing"):
            post.setdefault("text", "")  # required unless missing: keep it a thread
    return data


def decision_record(
    decision: Decision,
    thread: Thread,
    *,
    recorded: bool = True,
    latency_us: Mapping[str, int] | None = None,
    logged_at: datetime | None = None,
) -> dict[str, Any]:
    """
    Return the decision-log record of `decision`, reviewed in `thread`.

    The chain fields (`chain`, `seq`, `prev`, `hash`, `content_hash`) are filled by
    the log that writes it; masking processors run on it before.

    Args:
        decision: the decision the review returned.
        thread: the thread it was reviewed in.
        recorded: False for a dry run (``review(..., record=False)``).
        latency_us: microseconds per phase (analyze, state, evaluate, output, total).
        logged_at: when it is logged (default: now, wall time).
    """
    target = thread.target_post
    signals = decision.signals
    state = signals.state
    escalation = decision.escalation
    reasons = decision.reasons
    latency = dict.fromkeys(_LATENCY_KEYS, 0)
    if latency_us is not None:
        latency.update(latency_us)
    return {
        "v": RECORD_VERSION,
        "kind": "decision",
        "chain": None,
        "seq": None,
        "prev": None,
        "logged_at": _iso(logged_at) if logged_at is not None else _now_iso(),
        "decision_id": decision.decision_id,
        "at": _iso(decision.at),
        "recorded": recorded,
        "action": decision.action.value,
        "would_have": None
        if decision.would_have is None
        else decision.would_have.value,
        "rules": [reason.rule for reason in reasons],
        "reasons": [
            {
                "rule": reason.rule,
                "action": reason.action.value,
                "route": reason.route,
                "priority": reason.priority,
            }
            for reason in reasons
        ],
        "escalation": None
        if escalation is None
        else {
            "escalation_id": escalation.escalation_id,
            "route": escalation.route,
            "priority": escalation.priority,
            "update": escalation.update,
            "occurrences": escalation.occurrences,
            "sla": escalation.sla,
            "due": _iso(escalation.due),
        },
        "policy": {
            "name": decision.policy.name,
            "version": decision.policy.version,
            "hash": decision.policy.hash,
        },
        "platform": thread.platform,
        "target_id": target.id,
        "target_kind": target.kind,
        "crowd": thread.crowd,
        "author_key": author_key(target.author),
        "storm_open": state.storm_open,
        "paused": state.paused,
        "scores": _scores(signals),
        "latency_us": latency,
        "errors": [
            {"type": error.type, "message": error.message, "stage": error.stage}
            for error in decision.errors
        ],
        "content": {
            "author": target.author,
            "text": decision.text,
            "proposed": decision.proposed,
            "messages": {reason.rule: reason.message for reason in reasons},
            "summary": None if escalation is None else escalation.summary,
            "thread": _thread_json(thread),
            "evidence": _evidence(decision),
        },
    }


# ---------------------------------------------------------------------------
# Masking


# Every kind `find_pii` reports has a digit, or (an email) a character before an `@`:
# a text with neither (most posts: words and @handles) needs no scan.
_MAYBE_PII = re.compile(r"[0-9]|[^\s@]@")


@lru_cache(maxsize=4096)  # the posts of a thread come back in its next reviews
def _mask_pii_text(text: str) -> str:
    if _MAYBE_PII.search(text) is None:
        return text
    found = find_pii(text)
    if not found:
        return text
    chars = list(text)
    for item in found:
        keep = 0
        if item.kind == "card":
            keep = 4  # the last four digits stay: enough to tell two cards apart
        for index in range(item.end - 1, item.start - 1, -1):
            if keep and chars[index].isdigit():
                keep -= 1
                continue
            chars[index] = "*"
    return "".join(chars)


def _stars(text: str) -> str:
    return "*" * len(text)


_HANDLE = re.compile(r"(?<![\w.@])@\w(?:[\w.\-]*\w)?(?:@\w(?:[\w.\-]*\w)?)?")


def _pseudonymize(brand: frozenset[str]) -> Callable[[str], str]:
    def replace(match: re.Match[str]) -> str:
        handle = match.group(0)
        return handle if normalize_handle(handle) in brand else pseudonym(handle)

    def apply(text: str) -> str:
        return _HANDLE.sub(replace, text) if "@" in text else text

    return apply


def _map_texts(
    content: dict[str, Any],
    *,
    reply: Callable[[str], str],
    posts: Callable[[str], str],
    author: Callable[[str], str] | None = None,
    name: Callable[[str], str] | None = None,
) -> None:
    """Apply `reply` to the brand's texts and `posts` to the people's, in place."""
    for key in ("text", "proposed"):
        if isinstance(content.get(key), str):
            content[key] = reply(content[key])
    messages = content.get("messages")
    if isinstance(messages, dict):
        for rule, message in messages.items():
            if isinstance(message, str):
                messages[rule] = reply(message)
    if isinstance(content.get("summary"), str):
        content["summary"] = posts(content["summary"])
    if author is not None and isinstance(content.get("author"), str):
        content["author"] = author(content["author"])
    for item in content.get("evidence") or ():
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            item["text"] = posts(item["text"])
    thread = content.get("thread")
    if not isinstance(thread, dict):
        return
    for post in thread.get("posts") or ():
        if not isinstance(post, dict):
            continue
        if isinstance(post.get("text"), str):
            post["text"] = posts(post["text"])
        if name is not None and isinstance(post.get("author_name"), str):
            post["author_name"] = name(post["author_name"])
        if author is not None and isinstance(post.get("author"), str):
            post["author"] = author(post["author"])
        for media in post.get("media") or ():
            if isinstance(media, dict):
                for key in ("text", "alt_text"):
                    if isinstance(media.get(key), str):
                        media[key] = posts(media[key])


def _content(record: dict[str, Any]) -> dict[str, Any] | None:
    content = record.get("content")
    if not isinstance(content, dict) or content.get("erased") is True:
        return None
    return content


def mask_pii(record: dict[str, Any]) -> dict[str, Any]:
    """
    Mask personal data in every text of a record's content, in place; return it.

    Each character of a card number, IBAN, SSN, email address or phone number found
    by `replyguard.analysis.pii.find_pii` becomes ``*`` (a card keeps its last four
    digits), so lengths, and the offsets of the evidence, stay valid.
    """
    content = _content(record)
    if content is not None:
        _map_texts(
            content, reply=_mask_pii_text, posts=_mask_pii_text, name=_mask_pii_text
        )
    return record


def masker(*, pii: bool = True, handles: bool = False, text: bool = False) -> Processor:
    """
    Return the processor masking a record as a policy's ``audit.mask`` says.

    Args:
        pii: mask personal data (`mask_pii`), keeping lengths.
        handles: replace people's @handles (in texts, authors) with `pseudonym`; the
            brand's own handles stay. Display names become ``*`` runs and post URLs
            are dropped. Texts change length: evidence offsets then refer to the
            unmasked text.
        text: replace the posts' texts, the escalation summary and the evidence
            texts with ``*`` runs of the same length (the brand's reply and the
            rule messages stay).
    """

    def process(record: dict[str, Any]) -> dict[str, Any]:
        content = _content(record)
        if content is None:
            return record
        if pii:
            _map_texts(
                content,
                reply=_mask_pii_text,
                posts=_mask_pii_text,
                name=_mask_pii_text,
            )
        if text:
            _map_texts(content, reply=_same, posts=_stars)
        if handles:
            thread = content.get("thread")
            brand_handles = (
                thread.get("brand_handles", ()) if isinstance(thread, dict) else ()
            )
            brand = frozenset(normalize_handle(str(h)) for h in brand_handles)
            apply = _pseudonymize(brand)

            def author(handle: str) -> str:
                return (
                    handle if normalize_handle(handle) in brand else pseudonym(handle)
                )

            _map_texts(content, reply=apply, posts=apply, author=author, name=_stars)
            if isinstance(thread, dict):
                for post in thread.get("posts") or ():
                    if isinstance(post, dict):
                        post.pop("url", None)
        return record

    process.__qualname__ = f"masker(pii={pii}, handles={handles}, text={text})"
    return process


def _same(text: str) -> str:
    return text


# ---------------------------------------------------------------------------
# Sealing: chain fields, hashes, the line


def new_chain_id() -> str:
    """Return a new chain id: ``<host>-<pid>-<random>``."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


def _seal_content(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """Return the canonical JSON of a record's content and its hash (or Nones)."""
    if "content" not in record:
        return None, None
    content_json = canonical_json(record["content"])
    return content_json, _digest(content_json)


def _seal(
    record: Mapping[str, Any],
    content: tuple[str | None, str | None],
    chain: str,
    seq: int,
    prev: str | None,
) -> tuple[str, str]:
    """Return the record's line (without newline) and its hash."""
    envelope = {k: v for k, v in record.items() if k not in ("hash", "content")}
    envelope["chain"] = chain
    envelope["seq"] = seq
    envelope["prev"] = prev
    content_json, content_hash = content
    if content_hash is not None:
        envelope.setdefault("content_hash", content_hash)
    envelope_json = canonical_json(envelope)
    digest = _digest(envelope_json)
    line = f'{envelope_json[:-1]},"hash":"{digest}"'
    if content_json is not None:
        line += f',"content":{content_json}'
    return line + "}", digest


def _envelope_hash(record: Mapping[str, Any]) -> str:
    return _digest(
        canonical_json(
            {k: v for k, v in record.items() if k not in ("hash", "content")}
        )
    )


def _line_of(record: Mapping[str, Any]) -> str:
    """Return the line of a record read back (its hash and content unchanged)."""
    envelope = {k: v for k, v in record.items() if k not in ("hash", "content")}
    line = f'{canonical_json(envelope)[:-1]},"hash":{json.dumps(record["hash"])}'
    if "content" in record:
        line += f',"content":{canonical_json(record["content"])}'
    return line + "}"


def _encode(line: str) -> bytes:
    # Lone surrogates cannot be UTF-8: `backslashreplace` writes them as the JSON
    # escape `\udc80`, which reads back as the same string.
    return (line + "\n").encode("utf-8", "backslashreplace")


# ---------------------------------------------------------------------------
# Logs


@runtime_checkable
class AuditLog(Protocol):
    """
    Where decision records go: each writer chains the records it writes.

    `write` takes a record dict (from `decision_record`, masked), gives it its
    chain fields and hashes, and appends it; it raises when the record could not be
    written (the guard then keeps it and tries again before the next one).
    """

    def write(self, record: Mapping[str, Any]) -> None:
        """Chain and append one record; raise on failure (nothing was written)."""
        ...

    def flush(self) -> None:
        """Put what was written on disk."""
        ...

    def close(self) -> None:
        """Flush and release the log's files or connections."""
        ...


def log_files(path: str | Path) -> list[Path]:
    """
    Return the files of a JSONL log in order: the base file, then its segments.

    A log ``decisions.jsonl`` rotates to ``decisions.1.jsonl``, ``decisions.2.jsonl``,
    and so on. A path naming a segment returns that segment alone.
    """
    base = Path(path)
    stem, suffix = base.stem, base.suffix
    numbered: list[tuple[int, Path]] = []
    parent = base.parent
    if parent.is_dir():
        prefix = stem + "."
        for candidate in parent.iterdir():
            name = candidate.name
            if not (name.startswith(prefix) and name.endswith(suffix)):
                continue
            middle = name[len(prefix) : len(name) - len(suffix)]
            if middle.isdigit() and not middle.startswith("0"):
                numbered.append((int(middle), candidate))
    numbered.sort()
    files = [base] if base.exists() else []
    return [*files, *(p for _, p in numbered)]


def _segment(base: Path, index: int) -> Path:
    if index == 0:
        return base
    return base.with_name(f"{base.stem}.{index}{base.suffix}")


def _segment_index(base: Path, path: Path) -> int:
    if path == base:
        return 0
    return int(path.name[len(base.stem) + 1 : len(path.name) - len(base.suffix)])


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    # A regular file takes the whole buffer unless the disk fills up or a signal
    # lands mid-write; finish the line rather than leave half.
    while written < len(data):
        written += os.write(fd, data[written:])


class _LockFile:
    """An `fcntl.flock` lock on ``<log>.lock``: shared to append, exclusive to rewrite."""

    def __init__(self, base: Path) -> None:
        self.path = base.with_name(base.name + ".lock")
        self._fd: int | None = None

    def fd(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        return self._fd

    @contextlib.contextmanager
    def held(self, kind: int) -> Iterator[None]:
        fd = self.fd()
        fcntl.flock(fd, kind)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def forget(self) -> None:
        # after a fork: the inherited descriptor shares the parent's lock state
        self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None


def _check_fsync(fsync: object) -> FsyncMode:
    if fsync not in FSYNC_MODES:
        raise InvalidArgument(
            f"fsync must be one of {', '.join(FSYNC_MODES)}, not {fsync!r}"
        )
    return fsync  # type: ignore[return-value]  # checked above


def _check_log_path(path: Path) -> None:
    """
    Refuse at start-up a log path that can never be written (a bot fails loudly at once).

    A log that becomes unwritable later (a full disk) is the review's business: the
    reply is held and the record kept for the next write.
    """
    if path.is_dir():
        raise ConfigurationError(
            f"decision log `{path}` is a folder; name a file in it"
        )
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"decision log `{path}`: cannot create its folder: {exc.strerror or exc}"
        raise ConfigurationError(msg) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(
            f"decision log `{path}`: its folder `{folder}` is not writable"
        )


class JsonlAuditLog:
    """
    Append decision records to a JSON-lines file, one chain per writing process.

    Several processes can append to one file: it is opened with ``O_APPEND`` and
    each record goes out in one `os.write`, so lines never interleave; each process
    writes its own chain (`chain`, ``<host>-<pid>-<random>``), and a process forked
    after opening starts a chain of its own. A crash that cut the last line short
    is repaired (the line is ended) before the next record.

    Rotation: when the current file has reached `rotate_bytes`, the writer moves on
    to the next segment (``decisions.1.jsonl``, ``decisions.2.jsonl``...), chosen
    under a lock file (``decisions.jsonl.lock``) so that every process moves to the
    same one. Chains continue across segments; `verify_log` reads them in order.

    Args:
        path: the log's base file (parent folders are created).
        fsync: ``always`` (each record is on disk when `write` returns),
            ``interval`` (at most once a second, and on `flush` / `close`) or
            ``never`` (the operating system decides). A process crash loses nothing
            in any mode; a power cut may lose the records not yet synced.
        rotate_bytes: the size at which the writer moves on to the next segment.
        chain: a chain id of your own; the writer continues that chain where the log
            left it (default: a new chain).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fsync: FsyncMode = "interval",
        rotate_bytes: int = DEFAULT_ROTATE_BYTES,
        chain: str | None = None,
    ) -> None:
        if (
            isinstance(rotate_bytes, bool)
            or not isinstance(rotate_bytes, int)  # type: ignore[redundant-expr]  # callers may pass anything
            or (rotate_bytes < 1)
        ):
            raise InvalidArgument("rotate_bytes must be a positive number of bytes")
        if chain is not None and (not isinstance(chain, str) or not chain):  # type: ignore[redundant-expr]  # callers may pass anything
            raise InvalidArgument("chain must be a non-empty text")
        self.path = Path(path)
        _check_log_path(self.path)
        self.fsync: FsyncMode = _check_fsync(fsync)
        self.rotate_bytes = rotate_bytes
        self._lock = threading.Lock()
        self._lockfile = _LockFile(self.path)
        self._given_chain = chain
        self._start(chain)
        _FORK_AWARE.add(self)

    def __repr__(self) -> str:
        return f"JsonlAuditLog({str(self.path)!r}, chain={self.chain!r})"

    def _start(self, chain: str | None) -> None:
        self._pid = os.getpid()
        self.chain: str = chain or new_chain_id()
        self._resume = chain is not None
        self._seq = 0
        self._prev: str | None = None
        self._fd: int | None = None
        self._inode: tuple[int, int] | None = None
        self._index = 0
        self._dirty = False
        self._synced = 0.0

    def _after_fork(self) -> None:
        # the child writes a chain of its own, through descriptors of its own
        self._lock = threading.Lock()
        self._lockfile.forget()
        self._start(None)

    @property
    def seq(self) -> int:
        """Return the sequence number of the last record this writer wrote."""
        return self._seq

    @property
    def head(self) -> str | None:
        """Return the hash of the last record this writer wrote (anchor it elsewhere)."""
        return self._prev

    def write(self, record: Mapping[str, Any]) -> None:
        """
        Chain `record` and append it.

        Raises:
            OSError: the file could not be written (nothing was, and the chain did
                not advance: writing the record again continues it).
        """
        content = _seal_content(record)
        with self._lock:
            if os.getpid() != self._pid:
                self._lockfile.forget()
                self._start(None)
            if self._resume:
                if log_files(self.path):
                    self._seq, self._prev = _chain_end(read_log(self.path), self.chain)
                self._resume = False
            seq = self._seq + 1
            line, digest = _seal(record, content, self.chain, seq, self._prev)
            self._append(_encode(line))
            self._seq, self._prev = seq, digest

    def _append(self, data: bytes) -> None:
        lockfile = self._lockfile
        try:
            with lockfile.held(fcntl.LOCK_SH):
                if self._current():
                    _write_all(self._fd, data)  # type: ignore[arg-type]  # _current opened it
                    fd = self._fd
                else:
                    fd = None
            if fd is None:
                with lockfile.held(fcntl.LOCK_EX):
                    fd = self._open()
                    _write_all(fd, data)
        except OSError:
            self._close_fd()
            raise
        self._dirty = True
        if self.fsync == "always":
            os.fsync(fd)
            self._dirty = False
        elif self.fsync == "interval":
            now = time.monotonic()
            if now - self._synced >= _FSYNC_INTERVAL:
                os.fsync(fd)
                self._synced = now
                self._dirty = False

    def _current(self) -> bool:
        """Return whether the open segment is still the file to append to."""
        if self._fd is None:
            return False
        try:
            stat = _segment(self.path, self._index).stat()
        except OSError:
            return False
        return (
            stat.st_dev,
            stat.st_ino,
        ) == self._inode and stat.st_size < self.rotate_bytes

    def _open(self) -> int:
        """Open the segment to append to (under the exclusive lock): rotate if full."""
        self._close_fd()
        files = log_files(self.path)
        index = max(self._index, _segment_index(self.path, files[-1]) if files else 0)
        path = _segment(self.path, index)
        if path.exists() and path.stat().st_size >= self.rotate_bytes:
            index += 1
            path = _segment(self.path, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            stat = os.fstat(fd)
            if stat.st_size and _last_byte(path) != b"\n":
                # a crash cut the last line short: end it, so that ours stay whole
                os.write(fd, b"\n")
            if created and self.fsync != "never":
                _fsync_dir(path.parent)
        except OSError:
            os.close(fd)
            raise
        self._fd, self._index = fd, index
        self._inode = (stat.st_dev, stat.st_ino)
        return fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self._inode = None

    def flush(self) -> None:
        """Sync what was written to disk."""
        with self._lock:
            if self._fd is not None and self._dirty and os.getpid() == self._pid:
                os.fsync(self._fd)
                self._dirty = False
                self._synced = time.monotonic()

    def close(self) -> None:
        """Sync and close the files; a later `write` opens them again."""
        with self._lock:
            if self._fd is not None and self._dirty and os.getpid() == self._pid:
                with contextlib.suppress(OSError):
                    os.fsync(self._fd)
            self._dirty = False
            self._close_fd()
            self._lockfile.close()


def _chain_end(
    records: Iterable[Mapping[str, Any]], chain: str
) -> tuple[int, str | None]:
    seq, head = 0, None
    for record in records:
        number = record.get("seq")
        if record.get("chain") == chain and isinstance(number, int) and number > seq:
            seq, head = number, record.get("hash")
    return seq, head


_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {_TABLE} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    prev TEXT,
    kind TEXT NOT NULL,
    logged_at TEXT NOT NULL,
    decision_id TEXT,
    author_key TEXT,
    record TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX IF NOT EXISTS {_TABLE}_author ON {_TABLE} (author_key);
CREATE INDEX IF NOT EXISTS {_TABLE}_decision ON {_TABLE} (decision_id);
"""


def _busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in text or "busy" in text
    )


def _retrying(action: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except sqlite3.Error as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(secrets.randbelow(45) / 1000 + 0.005)


def _sqlite_connect(path: Path, timeout: float) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

        def wal() -> None:
            mode = connection.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                connection.execute("PRAGMA journal_mode = WAL")

        _retrying(wal, max(timeout, 10.0))
        connection.execute("PRAGMA synchronous = NORMAL")
        _retrying(lambda: connection.executescript(_SCHEMA), max(timeout, 10.0))
    except sqlite3.Error:
        connection.close()
        raise
    return connection


class SqliteAuditLog:
    """
    Append decision records to a table of a SQLite file (WAL), one chain per writer.

    The table ``decision_log`` holds each record's `chain`, `seq`, `hash`, `prev`,
    `kind`, `logged_at`, `decision_id`, `author_key` and the record's JSON line
    (`record`). Several processes can write one file; a write that finds the file
    locked waits and retries up to `timeout` seconds. Durability is SQLite's
    ``synchronous = NORMAL`` with WAL: a process crash loses nothing.

    Args:
        path: the database file (created with its table).
        timeout: seconds to wait for the write lock before `write` raises.
        chain: a chain id of your own, continued where the table left it.
    """

    def __init__(
        self, path: str | Path, *, timeout: float = 10.0, chain: str | None = None
    ) -> None:
        if chain is not None and (not isinstance(chain, str) or not chain):  # type: ignore[redundant-expr]  # callers may pass anything
            raise InvalidArgument("chain must be a non-empty text")
        self.path = Path(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._start(chain)
        _FORK_AWARE.add(self)

    def __repr__(self) -> str:
        return f"SqliteAuditLog({str(self.path)!r}, chain={self.chain!r})"

    def _start(self, chain: str | None) -> None:
        self._pid = os.getpid()
        self.chain: str = chain or new_chain_id()
        self._resume = chain is not None
        self._seq = 0
        self._prev: str | None = None

    def _after_fork(self) -> None:
        # a connection must not cross a fork: the child opens its own, and keeps the
        # inherited one from being closed (and its file touched) by the collector
        self._lock = threading.Lock()
        if self._connection is not None:
            _INHERITED.append(self._connection)
        self._connection = None
        self._start(None)

    @property
    def seq(self) -> int:
        """Return the sequence number of the last record this writer wrote."""
        return self._seq

    @property
    def head(self) -> str | None:
        """Return the hash of the last record this writer wrote."""
        return self._prev

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = _sqlite_connect(self.path, self.timeout)
        return self._connection

    def write(self, record: Mapping[str, Any]) -> None:
        """
        Chain `record` and insert it.

        Raises:
            sqlite3.Error: the file could not be written (locked past the timeout,
                read-only, not a database); the chain did not advance.
        """
        content = _seal_content(record)
        with self._lock:
            if os.getpid() != self._pid:
                self._connection = None
                self._start(None)
            try:
                connection = self._connect()
                if self._resume:
                    row = connection.execute(
                        f"SELECT seq, hash FROM {_TABLE} WHERE chain = ? "  # noqa: S608 - a constant table name
                        "ORDER BY seq DESC LIMIT 1",
                        (self.chain,),
                    ).fetchone()
                    if row is not None:
                        self._seq, self._prev = int(row[0]), str(row[1])
                    self._resume = False
                seq = self._seq + 1
                line, digest = _seal(record, content, self.chain, seq, self._prev)
                values = (
                    self.chain,
                    seq,
                    digest,
                    self._prev,
                    str(record.get("kind", "decision")),
                    str(record.get("logged_at") or _now_iso()),
                    record.get("decision_id"),
                    record.get("author_key"),
                    line,
                )
                _retrying(
                    lambda: connection.execute(
                        f"INSERT INTO {_TABLE} (chain, seq, hash, prev, kind, "  # noqa: S608 - a constant table name
                        "logged_at, decision_id, author_key, record) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        values,
                    ),
                    self.timeout,
                )
            except sqlite3.Error:
                self._close_connection()
                raise
            self._seq, self._prev = seq, digest

    def _close_connection(self) -> None:
        if self._connection is not None and os.getpid() == self._pid:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
        self._connection = None

    def flush(self) -> None:
        """Do nothing: every record is committed when `write` returns."""

    def close(self) -> None:
        """Close the connection; a later `write` opens another."""
        with self._lock:
            self._close_connection()


_INHERITED: list[sqlite3.Connection] = []
"""Connections a forked child inherited: never used, never closed."""


def _is_sqlite(path: str | Path) -> bool:
    if str(path).startswith(_SQLITE_PREFIX):
        return True
    try:
        with Path(path).open("rb") as file:
            return file.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def _sqlite_path(spec: str | Path, base_dir: Path | None = None) -> Path:
    text = str(spec)
    path = Path(text.removeprefix(_SQLITE_PREFIX)).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def audit_log_from_spec(
    spec: str | Path,
    *,
    base_dir: Path | None = None,
    fsync: FsyncMode = "interval",
    rotate_bytes: int = DEFAULT_ROTATE_BYTES,
) -> AuditLog:
    """
    Return the log a policy's ``audit.log`` (or a `Guard`'s `audit`) names.

    ``sqlite:///path.db`` is a `SqliteAuditLog`; any other path a `JsonlAuditLog`.
    A relative path is read from `base_dir` (the policy's folder) when it is given.
    """
    if not isinstance(spec, str | os.PathLike) or not str(spec):  # type: ignore[redundant-expr]  # callers may pass anything
        raise ConfigurationError("a decision log must be a path or `sqlite:///path`")
    if str(spec).startswith(_SQLITE_PREFIX):
        return SqliteAuditLog(_sqlite_path(spec, base_dir))
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return JsonlAuditLog(path, fsync=fsync, rotate_bytes=rotate_bytes)


# ---------------------------------------------------------------------------
# The guard's trail: processors, logs, and records waiting to be written


class AuditTrail:
    """
    Mask each record and write it to every log; keep what could not be written.

    A record a log refused waits in a buffer (at most `max_pending` per log; past
    that the oldest is dropped, and said so on the ``replyguard.audit`` logger) and
    is written before the log's next record.
    """

    def __init__(
        self,
        logs: Sequence[AuditLog],
        processors: Sequence[Processor] = (),
        *,
        max_pending: int = 10_000,
        pending: Mapping[int, deque[dict[str, Any]]] | None = None,
    ) -> None:
        self.logs = tuple(logs)
        self.processors = tuple(processors)
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._pending: dict[int, deque[dict[str, Any]]] = {
            id(log): deque() for log in self.logs
        }
        for key, queue in (pending or {}).items():
            if key in self._pending:
                self._pending[key] = queue

    @property
    def blocking(self) -> bool:
        """Return whether a write may wait on the disk (fsync always, SQLite)."""
        return any(
            not isinstance(log, JsonlAuditLog) or log.fsync == "always"
            for log in self.logs
        )

    def pending(self) -> int:
        """Return how many records wait to be written, over all logs."""
        return sum(len(queue) for queue in self._pending.values())

    def process(self, record: dict[str, Any]) -> dict[str, Any]:
        """Run the processors (masking) on a record."""
        for processor in self.processors:
            record = processor(record)
        return record

    def write(self, record: dict[str, Any]) -> tuple[list[AuditLog], Exception | None]:
        """
        Write what waits, then `record`, to every log (`record` is processed already).

        Returns:
            The logs that failed (their records wait; `record` is not kept: see
            `keep`), and the first error.
        """
        failed: list[AuditLog] = []
        first: Exception | None = None
        with self._lock:
            for log in self.logs:
                try:
                    self._drain(log)
                    log.write(record)
                except Exception as exc:  # noqa: BLE001 - any failure holds the reply
                    failed.append(log)
                    first = first or exc
        return failed, first

    def keep(self, record: dict[str, Any], failed: Sequence[AuditLog]) -> None:
        """Queue `record` for the `failed` logs; write it to the others now."""
        with self._lock:
            for log in self.logs:
                if log not in failed:
                    try:
                        self._drain(log)
                        log.write(record)
                        continue
                    except Exception:  # noqa: BLE001 - kept for the next write instead
                        _LOG.warning("decision log %r failed; record kept", log)
                queue = self._pending[id(log)]
                if len(queue) >= self.max_pending:
                    dropped = queue.popleft()
                    _LOG.error(
                        "decision log %r: %d records wait to be written; the oldest "
                        "(decision %s) is dropped",
                        log,
                        self.max_pending,
                        dropped.get("decision_id"),
                    )
                queue.append(record)

    def _drain(self, log: AuditLog) -> None:
        queue = self._pending[id(log)]
        while queue:
            log.write(queue[0])
            queue.popleft()

    def flush(self) -> None:
        """Try the records that wait, then flush every log; log failures."""
        with self._lock:
            for log in self.logs:
                try:
                    self._drain(log)
                    log.flush()
                except Exception:  # noqa: BLE001 - flushing must not take the bot down
                    _LOG.exception("decision log %r failed to flush", log)

    def close(self, logs: Iterable[AuditLog] | None = None) -> None:
        """Flush, then close the logs (all, or `logs`); say what is lost."""
        with self._lock:
            for log in self.logs if logs is None else logs:
                try:
                    self._drain(log)
                except Exception:  # noqa: BLE001 - reported below
                    _LOG.exception("decision log %r failed", log)
                lost = len(self._pending.get(id(log), ()))
                if lost:
                    _LOG.error(
                        "decision log %r closed with %d record(s) not written",
                        log,
                        lost,
                    )
                try:
                    log.close()
                except Exception:  # noqa: BLE001 - closing must not fail a shutdown
                    _LOG.exception("decision log %r failed to close", log)

    def carried(self) -> dict[int, deque[dict[str, Any]]]:
        """Return the waiting records by log, for the trail that replaces this one."""
        return self._pending


# ---------------------------------------------------------------------------
# Reading


@dataclass
class _Line:
    """One line of a log, parsed or not."""

    where: str
    record: dict[str, Any] | None
    problem: str | None = None
    partial: bool = False


def _sources(paths: str | Path | Sequence[str | Path]) -> list[str | Path]:
    if isinstance(paths, str | os.PathLike):
        return [paths]
    return list(paths)


def _expand(paths: str | Path | Sequence[str | Path]) -> list[tuple[str, Path | None]]:
    """Return ``(display, path)`` per JSONL file, or ``(spec, None)`` per SQLite log."""
    found: list[tuple[str, Path | None]] = []
    seen: set[str] = set()
    for source in _sources(paths):
        if _is_sqlite(source):
            found.append((str(source), None))
            continue
        files = log_files(source)
        if not files:
            raise FileNotFoundError(f"{source}: no such decision log")
        for file in files:
            key = str(file.resolve())
            if key not in seen:
                seen.add(key)
                found.append((str(file), file))
    return found


def _jsonl_lines(display: str, path: Path) -> Iterator[_Line]:
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            where = f"{display}:{number}"
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                text = raw.rstrip(b"\r\n")
                cut = raw.startswith(b'{"') and not text.endswith(b"}")
                yield _Line(
                    where,
                    None,
                    "truncated record (a write cut short by a crash); skipped"
                    if cut
                    else "not a JSON line",
                    partial=cut,
                )
                continue
            if not isinstance(value, dict):
                yield _Line(where, None, "not a decision-log record")
                continue
            yield _Line(where, value)


def _sqlite_lines(spec: str) -> Iterator[_Line]:
    path = _sqlite_path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: no such decision log")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            f"SELECT id, chain, seq, hash, record FROM {_TABLE} ORDER BY id"  # noqa: S608 - a constant table name
        )
        for row_id, chain, seq, digest, text in rows:
            where = f"{path}:{row_id}"
            try:
                value = json.loads(text)
            except (ValueError, TypeError):
                yield _Line(where, None, "not a JSON record")
                continue
            if not isinstance(value, dict):
                yield _Line(where, None, "not a decision-log record")
                continue
            if (value.get("chain"), value.get("seq"), value.get("hash")) != (
                chain,
                seq,
                digest,
            ):
                yield _Line(
                    where,
                    value,
                    "the row's chain, seq or hash columns differ from its record",
                )
                continue
            yield _Line(where, value)
    finally:
        connection.close()


def _lines(paths: str | Path | Sequence[str | Path]) -> Iterator[_Line]:
    for display, path in _expand(paths):
        if path is None:
            yield from _sqlite_lines(display)
        else:
            yield from _jsonl_lines(display, path)


def read_log(path: str | Path | Sequence[str | Path]) -> Iterator[dict[str, Any]]:
    """
    Yield the records of a decision log in order, one at a time.

    A JSONL log is read from its base file through its segments (`log_files`); a
    SQLite log (``sqlite:///path`` or the file) in insertion order. Lines that are
    not records (a truncated last line) are skipped: `verify_log` reports them.

    Raises:
        FileNotFoundError: the log does not exist.
    """
    for line in _lines(path):
        if line.record is not None:
            yield line.record


# ---------------------------------------------------------------------------
# Verifying


@dataclass(frozen=True)
class VerifyReport:
    """
    What `verify_log` found.

    `ok` is true when there is no problem (warnings, such as a truncated last line,
    do not count). `chains` maps each chain to its first and last sequence numbers
    and its head hash: anchor the heads elsewhere (a ticket, another system) and
    pass them back as `expect_heads`, because records removed from the *end* of a
    chain can only be seen against an anchor.
    """

    ok: bool
    records: int
    chains: dict[str, dict[str, Any]]
    erased: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain JSON data."""
        return {
            "ok": self.ok,
            "records": self.records,
            "chains": self.chains,
            "erased": self.erased,
            "checkpoints": self.checkpoints,
            "problems": self.problems,
            "warnings": self.warnings,
        }

    def format(self) -> str:
        """Return the report as text, for people."""
        verdict = "ok" if self.ok else "PROBLEMS FOUND"
        summary = (
            f"{verdict}: {self.records} record(s) in {len(self.chains)} chain(s), "
            f"{self.erased} erased, {self.checkpoints} checkpoint(s)"
        )
        lines = [summary]
        lines.extend(f"problem: {p}" for p in self.problems)
        lines.extend(f"warning: {w}" for w in self.warnings)
        for chain, info in sorted(self.chains.items()):
            lines.append(
                f"chain {chain}: seq {info['first_seq']}..{info['last_seq']} "
                f"head {info['head']}"
            )
        return "\n".join(lines)


@dataclass
class _Chain:
    first_seq: int
    first_prev: str | None
    first_where: str
    last_seq: int
    head: str


_ENVELOPE_KEYS = ("v", "kind", "chain", "seq", "hash", "logged_at")


def _shape_problem(record: Mapping[str, Any]) -> str | None:
    missing = [key for key in _ENVELOPE_KEYS if key not in record]
    if missing:
        return f"not a decision-log record (no {', '.join(missing)})"
    if record["v"] != RECORD_VERSION:
        return f"unknown record version `{record['v']}`"
    if record["kind"] not in ("decision", "checkpoint"):
        return f"unknown record kind `{record['kind']}`"
    if (
        not isinstance(record["chain"], str)
        or isinstance(record["seq"], bool)
        or (not isinstance(record["seq"], int) or record["seq"] < 1)
    ):
        return "bad chain or seq"
    if record["kind"] == "decision" and "content_hash" not in record:
        return "a decision record without content_hash"
    return None


def verify_log(
    paths: str | Path | Sequence[str | Path],
    *,
    expect_heads: Mapping[str, str] | None = None,
) -> VerifyReport:
    """
    Check that a decision log is whole: no record edited, removed or reordered.

    Reads the log in order (a JSONL log's base file, then its segments; or a SQLite
    log) with memory bounded by the number of chains, and checks every record's
    `hash`, its `content_hash` (unless the content was erased), and that each chain
    runs ``1, 2, 3...`` with each `prev` naming the record before. A chain may start
    later than 1 only where a retention checkpoint (`prune`) accounts for the records
    removed. A truncated last line (a crash mid-write) is a warning.

    Args:
        paths: a log (base file, segment, ``sqlite:///path``), or several in order.
        expect_heads: anchored heads by chain: each hash must be found in its chain
            (this is what catches records removed from a chain's end).

    Raises:
        FileNotFoundError: a log does not exist.
        OSError, sqlite3.Error: a log cannot be read.
    """
    chains: dict[str, _Chain] = {}
    problems: list[str] = []
    warnings: list[str] = []
    pruned: dict[str, dict[str, Any]] = {}
    anchors = dict(expect_heads or {})
    found_anchors: set[str] = set()
    records = erased = checkpoints = 0
    pending_partial: _Line | None = None
    for line in _lines(paths):
        if pending_partial is not None:
            # a truncated line that later lines follow: a crash, repaired by the
            # next writer; the chains show whether anything is missing
            warnings.append(f"{pending_partial.where}: {pending_partial.problem}")
            pending_partial = None
        if line.record is None:
            if line.partial:
                pending_partial = line
            else:
                problems.append(f"{line.where}: {line.problem}")
            continue
        record = line.record
        if line.problem is not None:
            problems.append(f"{line.where}: {line.problem}")
        shape = _shape_problem(record)
        if shape is not None:
            problems.append(f"{line.where}: {shape}")
            continue
        records += 1
        where = line.where
        if _envelope_hash(record) != record["hash"]:
            problems.append(
                f"{where}: hash mismatch: the record was edited (chain "
                f"{record['chain']}, seq {record['seq']})"
            )
        content = record.get("content")
        if isinstance(content, dict) and content.get("erased") is True:
            erased += 1
        elif ("content_hash" in record or content is not None) and (
            content is None
            or _digest(canonical_json(content)) != record.get("content_hash")
        ):
            problems.append(
                f"{where}: content_hash mismatch: the content was edited "
                f"(chain {record['chain']}, seq {record['seq']})"
            )
        if record["kind"] == "checkpoint":
            checkpoints += 1
            through = record.get("pruned_through")
            if isinstance(through, dict):
                for chain_id, mark in through.items():
                    if isinstance(mark, dict) and isinstance(mark.get("seq"), int):
                        old = pruned.get(chain_id)
                        if old is None or mark["seq"] > old["seq"]:
                            pruned[chain_id] = mark
        chain_id, seq, digest = record["chain"], record["seq"], record["hash"]
        if chain_id in anchors and anchors[chain_id] == digest:
            found_anchors.add(chain_id)
        state = chains.get(chain_id)
        if state is None:
            chains[chain_id] = _Chain(seq, record.get("prev"), where, seq, digest)
            continue
        expected = state.last_seq + 1
        if seq < expected:
            problems.append(
                f"{where}: chain {chain_id} goes back from seq {state.last_seq} to "
                f"{seq}: records reordered or repeated"
            )
        elif seq > expected:
            missing = (
                f"seq {expected}"
                if seq == expected + 1
                else f"seq {expected}..{seq - 1}"
            )
            problems.append(
                f"{where}: chain {chain_id} jumps from seq {state.last_seq} to {seq}: "
                f"{missing} removed"
            )
        elif record.get("prev") != state.head:
            problems.append(
                f"{where}: chain {chain_id} seq {seq}: `prev` is not the hash of seq "
                f"{state.last_seq}: a record before it was replaced"
            )
        if seq >= state.last_seq:
            state.last_seq, state.head = seq, digest
    if pending_partial is not None:
        warnings.append(f"{pending_partial.where}: {pending_partial.problem}")
    for chain_id, state in chains.items():
        if state.first_seq == 1 and state.first_prev is None:
            continue
        mark = pruned.get(chain_id)
        if (
            mark is not None
            and mark.get("seq") == state.first_seq - 1
            and mark.get("hash") == state.first_prev
        ):
            continue
        problems.append(
            f"{state.first_where}: chain {chain_id} starts at seq {state.first_seq} "
            f"and no checkpoint accounts for the records before: records removed "
            f"from its start"
        )
    for chain_id, anchor in sorted(anchors.items()):
        if chain_id in found_anchors:
            continue
        if pruned.get(chain_id, {}).get("hash") == anchor:
            continue
        if chain_id not in chains:
            problems.append(f"chain {chain_id}: anchored but not in the log")
            continue
        state = chains[chain_id]
        problems.append(
            f"chain {chain_id}: the anchored head {anchor} is not in the chain (its "
            f"last record is seq {state.last_seq} at or after {state.first_where}): "
            "records removed from its end, or the chain was rewritten"
        )
    return VerifyReport(
        ok=not problems,
        records=records,
        chains={
            chain_id: {
                "first_seq": state.first_seq,
                "last_seq": state.last_seq,
                "head": state.head,
            }
            for chain_id, state in chains.items()
        },
        erased=erased,
        checkpoints=checkpoints,
        problems=problems,
        warnings=warnings,
    )


# ---------------------------------------------------------------------------
# Erasure and retention


def _parse_before(before: datetime) -> datetime:
    if not isinstance(before, datetime) or before.tzinfo is None:  # type: ignore[redundant-expr]  # callers may pass anything
        raise InvalidArgument("before must be an aware datetime")
    return before


def _logged_at(record: Mapping[str, Any]) -> datetime | None:
    value = record.get("logged_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _matcher(
    author: str | None, decision_id: str | None
) -> Callable[[Mapping[str, Any]], bool]:
    if author is None and decision_id is None:
        raise InvalidArgument("erase needs an `author` or a `decision_id`")
    key = author_key(author) if author is not None else None
    handles = (
        {normalize_handle(author), normalize_handle(pseudonym(author))}
        if author is not None
        else set()
    )

    def matches(record: Mapping[str, Any]) -> bool:
        if record.get("kind") != "decision":
            return False
        if decision_id is not None and record.get("decision_id") == decision_id:
            return True
        if key is None:
            return False
        if record.get("author_key") == key:
            return True
        content = record.get("content")
        if not isinstance(content, dict) or content.get("erased") is True:
            return False
        thread = content.get("thread")
        posts = thread.get("posts", ()) if isinstance(thread, dict) else ()
        return any(
            isinstance(post, dict)
            and normalize_handle(str(post.get("author", ""))) in handles
            for post in posts
        )

    return matches


def _rewrite_file(
    path: Path, change: Callable[[dict[str, Any]], dict[str, Any] | bool | None]
) -> int:
    """
    Rewrite a JSONL file through `change`: a dict replaces, None drops, True keeps.

    Lines that are not records are kept as they are. The new file replaces the old
    atomically (temporary file, fsync, rename). Returns the records changed or dropped.
    """
    changed = 0
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    temp = Path(temp_name)
    try:
        with path.open("rb") as source, os.fdopen(descriptor, "wb") as target:
            for raw in source:
                try:
                    record = json.loads(raw)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    target.write(raw)
                    continue
                result = change(record)
                if result is True:
                    target.write(raw if raw.endswith(b"\n") else raw + b"\n")
                elif result is None or result is False:
                    changed += 1
                else:
                    changed += 1
                    target.write(_encode(_line_of(result)))
            target.flush()
            os.fsync(target.fileno())
        if changed:
            temp.chmod(path.stat().st_mode & 0o777)
            temp.replace(path)
            _fsync_dir(path.parent)
        else:
            temp.unlink()
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return changed


def _erased(reason: str) -> dict[str, Any]:
    return {"erased": True, "reason": reason, "erased_at": _now_iso()}


def erase(
    path: str | Path,
    *,
    author: str | None = None,
    decision_id: str | None = None,
    reason: str,
) -> int:
    """
    Erase the content of a person's records (or of one decision); keep the chain.

    A record matches when `author` is its target author (by `author_key`) or posted
    in its thread snapshot, or when its `decision_id` is `decision_id`. Its
    `content` becomes ``{"erased": true, "reason": ..., "erased_at": ...}``; its
    envelope, hash and `content_hash` stay, so `verify_log` still passes (and counts
    it as erased). A JSONL log's files are rewritten atomically under the log's lock
    (writers wait); a SQLite log is updated in place.

    Returns:
        How many records were erased.
    """
    if not isinstance(reason, str) or not reason.strip():  # type: ignore[redundant-expr]  # callers may pass anything
        raise InvalidArgument("erase needs a `reason` (it is kept in the record)")
    matches = _matcher(author, decision_id)
    replacement = _erased(reason)

    def change(record: dict[str, Any]) -> dict[str, Any] | bool:
        if not matches(record):
            return True
        content = record.get("content")
        if isinstance(content, dict) and content.get("erased") is True:
            return True
        return {**record, "content": replacement}

    if _is_sqlite(path):
        return _sqlite_rewrite(path, change)
    files = log_files(path)
    if not files:
        raise FileNotFoundError(f"{path}: no such decision log")
    lockfile = _LockFile(Path(path))
    try:
        with lockfile.held(fcntl.LOCK_EX):
            return sum(_rewrite_file(file, change) for file in files)
    finally:
        lockfile.close()


def _sqlite_rewrite(
    path: str | Path, change: Callable[[dict[str, Any]], dict[str, Any] | bool]
) -> int:
    db = _sqlite_path(path)
    if not db.is_file():
        raise FileNotFoundError(f"{path}: no such decision log")
    connection = _sqlite_connect(db, 10.0)
    changed = 0
    try:
        _retrying(lambda: connection.execute("BEGIN IMMEDIATE"), 10.0)
        try:
            rows = connection.execute(
                f"SELECT id, record FROM {_TABLE} ORDER BY id"  # noqa: S608 - a constant table name
            ).fetchall()
            for row_id, text in rows:
                try:
                    record = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                result = change(record)
                if result is True:
                    continue
                changed += 1
                connection.execute(
                    f"UPDATE {_TABLE} SET record = ? WHERE id = ?",  # noqa: S608 - a constant table name
                    (_line_of(result), row_id),  # type: ignore[arg-type]  # a dict here
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.close()
    return changed


def prune(path: str | Path, *, before: datetime) -> int:
    """
    Drop the records logged before `before`, and append a checkpoint record.

    Only the oldest records of each chain go (a chain's prefix: a record logged
    before `before` that follows a later one stays). The checkpoint names, for every
    chain, the last record removed (`pruned_through`: its seq and hash, merged with
    earlier checkpoints'), so that `verify_log` accepts chains that now start later
    than seq 1. A JSONL log's files are rewritten atomically under its lock.

    Returns:
        How many records were dropped (no checkpoint is written for none).
    """
    before = _parse_before(before)
    sqlite = _is_sqlite(path)
    lockfile = None if sqlite else _LockFile(Path(path))
    dropped_through: dict[str, dict[str, Any]] = {}
    earlier: dict[str, dict[str, Any]] = {}
    done: set[str] = set()
    for record in read_log(path):
        if record.get("kind") == "checkpoint" and isinstance(
            record.get("pruned_through"), dict
        ):
            for chain_id, mark in record["pruned_through"].items():
                if isinstance(mark, dict) and isinstance(mark.get("seq"), int):
                    old = earlier.get(chain_id)
                    if old is None or mark["seq"] > old["seq"]:
                        earlier[chain_id] = {
                            "seq": mark["seq"],
                            "hash": mark.get("hash"),
                        }
        chain_id = record.get("chain")
        if not isinstance(chain_id, str) or chain_id in done:
            continue
        moment = _logged_at(record)
        if moment is not None and moment < before:
            dropped_through[chain_id] = {"seq": record["seq"], "hash": record["hash"]}
        else:
            done.add(chain_id)

    def change(record: dict[str, Any]) -> bool | None:
        mark = dropped_through.get(record.get("chain"))  # type: ignore[arg-type]  # a str or not found
        seq = record.get("seq")
        if mark is not None and isinstance(seq, int) and seq <= mark["seq"]:
            return None
        return True

    if not dropped_through:
        return 0
    if sqlite:
        count = _sqlite_prune(path, dropped_through)
        log: AuditLog = SqliteAuditLog(_sqlite_path(path))
    else:
        assert lockfile is not None  # noqa: S101 - set for JSONL above
        try:
            with lockfile.held(fcntl.LOCK_EX):
                count = sum(_rewrite_file(file, change) for file in log_files(path))
        finally:
            lockfile.close()
        files = log_files(path)
        # the checkpoint goes to the last segment, as any writer would append
        log = JsonlAuditLog(path, fsync="always", rotate_bytes=_rotate_guess(files))
    through = {**earlier, **dropped_through}
    try:
        log.write(
            {
                "v": RECORD_VERSION,
                "kind": "checkpoint",
                "logged_at": _now_iso(),
                "before": _iso(before.astimezone(UTC)),
                "pruned": count,
                "pruned_through": through,
            }
        )
    finally:
        log.close()
    return count


def _rotate_guess(files: list[Path]) -> int:
    # the pruner does not know the writers' rotate_bytes: never rotate on its account
    return max([DEFAULT_ROTATE_BYTES, *(f.stat().st_size + 1 for f in files)])


def _sqlite_prune(path: str | Path, through: Mapping[str, Mapping[str, Any]]) -> int:
    connection = _sqlite_connect(_sqlite_path(path), 10.0)
    count = 0
    try:
        _retrying(lambda: connection.execute("BEGIN IMMEDIATE"), 10.0)
        try:
            for chain_id, mark in through.items():
                cursor = connection.execute(
                    f"DELETE FROM {_TABLE} WHERE chain = ? AND seq <= ?",  # noqa: S608 - a constant table name
                    (chain_id, mark["seq"]),
                )
                count += cursor.rowcount
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.close()
    return count


# ---------------------------------------------------------------------------
# Back to a replay stream


class ExportedStream:
    """
    The replay stream of a decision log: iterate it for ``{at, thread, reply}`` events.

    After iterating, `events` counts what was yielded and `erased` the decision
    records skipped because their content was erased (`checkpoints` the retention
    records, which are not decisions). The threads are as logged: masked texts stay
    masked, so a replay may see fewer signals than the live review did.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self._records = records
        self.events = 0
        self.erased = 0
        self.checkpoints = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for record in self._records:
            if record.get("kind") != "decision":
                self.checkpoints += 1
                continue
            content = record.get("content")
            if not isinstance(content, dict) or content.get("erased") is True:
                self.erased += 1
                continue
            self.events += 1
            yield {
                "at": record.get("at"),
                "thread": content.get("thread"),
                "reply": content.get("proposed", ""),
            }


def to_stream(records: Iterable[Mapping[str, Any]]) -> ExportedStream:
    """
    Turn decision records into a replay stream (``{"at", "thread", "reply"}``).

    ``reply`` is the proposed reply (what the bot asked about), ``at`` the decision's
    time. Erased records are skipped and counted (`ExportedStream.erased`).
    """
    return ExportedStream(records)
