"""
What the three adapters share: reading payloads, JSON paths in errors, building threads.

An adapter reads a platform payload into thread-format post dicts (`PostDraft`) through a
`ThreadBuilder`, which merges what it sees twice, makes placeholders for posts that are
referenced but absent, orders posts so that every reference names an earlier post, refuses
cycles, and validates the result as a `Thread`. Every problem is a `PayloadError` naming
the platform and the JSON path.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from pydantic import ValidationError

from replyguard._inputs import format_validation_error
from replyguard.errors import PayloadError
from replyguard.models import Thread

__all__ = [
    "MAX_DEPTH",
    "Platform",
    "PostDraft",
    "ThreadBuilder",
    "as_id",
    "detect_platform",
    "load_payload",
    "need_list",
    "need_mapping",
    "opt_int",
    "opt_str",
    "parse_time",
    "refuse_other_platform",
]

Platform = Literal["x", "bluesky", "mastodon"]

MAX_DEPTH = 200
"""Deepest nesting of SDK objects or JSON an adapter reads (a payload is never this deep)."""

_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}
_ENTRY = {
    "x": "replyguard.adapters.x.from_x",
    "bluesky": "replyguard.adapters.bluesky.from_bluesky",
    "mastodon": "replyguard.adapters.mastodon.from_mastodon",
}

PostDraft = dict[str, Any]
"""A post in the thread interchange format (``id``, ``author``, ``text``, ``kind``, ...)."""


# --- reading what the caller passed -------------------------------------------------


def load_payload(payload: object, platform: str) -> Any:
    """
    Return `payload` as plain JSON data (dicts, lists, strings, numbers).

    Takes parsed JSON, JSON text (``str`` or ``bytes``), and the objects SDKs return
    without importing them: pydantic models (atproto), objects with ``_json`` (tweepy
    v1.1 models) or a ``data`` dict (tweepy v2 `Tweet`, `User`), named tuples (tweepy's
    v2 `Response`), mappings (Mastodon.py's `AttribAccessDict`, datetimes included) and
    dataclasses.

    Raises:
        PayloadError: JSON text that does not parse (a truncated file says where), or an
            object of a kind no adapter knows.
    """
    if isinstance(payload, str | bytes | bytearray):
        try:
            return json.loads(payload)
        except json.JSONDecodeError as exc:
            ends_early = exc.pos >= len(payload.strip()) or exc.msg.startswith(
                "Unterminated"
            )
            why = f"{exc.msg[:1].lower()}{exc.msg[1:]} at line {exc.lineno} column {exc.colno}"
            if ends_early:
                why = f"the JSON ends early (truncated?): {why}"
            raise PayloadError(platform, "$", f"not valid JSON: {why}") from None
        except RecursionError:
            raise PayloadError(
                platform, "$", f"JSON nested deeper than {MAX_DEPTH}"
            ) from None
        except UnicodeDecodeError as exc:
            raise PayloadError(platform, "$", f"not UTF-8 text: {exc.reason}") from None
    if isinstance(payload, dict | list):
        # one pass in C: SDK objects and datetimes inside are turned into JSON by `_one`;
        # anything it cannot read falls back to the walk below, which names the path
        try:
            return json.loads(json.dumps(payload, default=_one))
        except (TypeError, ValueError, RecursionError):
            pass
    return _plain(payload, platform, "$", 0)


def _one(obj: object) -> Any:
    """Return one non-JSON object as JSON data (json.dumps's `default`), or raise TypeError."""
    if isinstance(obj, datetime):
        aware = obj if obj.tzinfo else obj.replace(tzinfo=UTC)
        return aware.isoformat()
    try:
        return _plain(obj, "unknown", "$", 0)
    except PayloadError:
        raise TypeError(type(obj).__name__) from None


def _plain(obj: object, platform: str, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise PayloadError(platform, path, f"nested deeper than {MAX_DEPTH}")
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, str):  # Mastodon.py's ids are str subclasses
        return obj if type(obj) is str else str(obj)
    if isinstance(obj, int | float):
        return int(obj) if isinstance(obj, int) else float(obj)
    if isinstance(obj, datetime):
        aware = obj if obj.tzinfo else obj.replace(tzinfo=UTC)
        return aware.isoformat()
    if not isinstance(obj, dict):
        # SDK objects keep the payload they were made from: tweepy v1.1 models in
        # `_json`, tweepy v2 `Tweet`/`User` (Mappings of parsed values) in `data`
        for attr in ("_json", "data"):
            try:
                raw = getattr(obj, attr, None)
            except Exception:  # noqa: BLE001 - a foreign __getattr__; read the object another way
                raw = None
            if isinstance(raw, Mapping):
                return _plain(raw, platform, path, depth + 1)
    if isinstance(obj, Mapping):
        return {
            str(k): _plain(v, platform, f"{path}.{k}", depth + 1)
            for k, v in obj.items()
        }
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):  # tweepy's Response
        return _plain(obj._asdict(), platform, path, depth + 1)
    if isinstance(obj, list | tuple):
        return [
            _plain(v, platform, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)
        ]
    dump = getattr(obj, "model_dump", None)
    if callable(dump):  # pydantic v2 models: atproto's
        try:
            data = dump(mode="json", by_alias=True, exclude_none=True)
        except Exception as exc:  # noqa: BLE001 - a foreign model's failure, reported with its path
            raise PayloadError(
                platform, path, f"`{type(obj).__name__}.model_dump` failed: {exc}"
            ) from None
        return _plain(data, platform, path, depth + 1)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _plain(dataclasses.asdict(obj), platform, path, depth + 1)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return _plain(to_dict(), platform, path, depth + 1)
    raise PayloadError(
        platform,
        path,
        f"cannot read a `{type(obj).__name__}`: pass the parsed JSON (dicts and lists), "
        "JSON text, or the object the platform's SDK returned",
    )


def detect_platform(data: Any) -> Platform | None:
    """
    Return which platform a (plain) payload looks like it came from, or None.

    >>> detect_platform({"data": {"id": "1", "text": "hi"}})
    'x'
    >>> detect_platform({"uri": "at://did:plc:x/app.bsky.feed.post/1", "record": {}})
    'bluesky'
    >>> detect_platform({"id": "1", "content": "<p>hi</p>", "account": {}})
    'mastodon'
    """
    item: Any = data
    if isinstance(item, list):
        item = item[0] if item else None
    if not isinstance(item, Mapping):
        return None
    if "thread" in item or "notifications" in item or "feed" in item or "posts" in item:
        inner = (
            item.get("thread")
            or item.get("notifications")
            or item.get("feed")
            or item.get("posts")
        )
        if isinstance(inner, list):
            inner = inner[0] if inner else None
        if isinstance(inner, Mapping):
            if "brand_handles" in item or ("kind" in inner and "author" in inner):
                return None  # replyguard's own thread format
            return detect_platform(inner)
        return None
    uri = item.get("uri")
    if isinstance(uri, str) and uri.startswith("at://"):
        return "bluesky"
    if isinstance(item.get("$type"), str) and item["$type"].startswith("app.bsky"):
        return "bluesky"
    if "post" in item and isinstance(item["post"], Mapping):
        return detect_platform(item["post"])
    if "ancestors" in item or "descendants" in item or "notification_groups" in item:
        return "mastodon"
    if "account" in item and ("content" in item or "type" in item or "reblog" in item):
        return "mastodon"
    if "data" in item or "includes" in item or "tweet_create_events" in item:
        return "x"
    if "id_str" in item or "retweeted_status" in item or "full_text" in item:
        return "x"
    if "user" in item and ("text" in item or "full_text" in item):
        return "x"
    return None


def refuse_other_platform(data: Any, platform: Platform) -> None:
    """Raise a `PayloadError` when `data` plainly belongs to another platform."""
    other = detect_platform(data)
    if other is not None and other != platform:
        raise PayloadError(
            platform,
            "$",
            f"this looks like a {_NAMES[other]} payload, not {_NAMES[platform]}: "
            f"use {_ENTRY[other]}",
        )


# --- reading fields with their paths -------------------------------------------------


def need_mapping(
    value: Any, platform: Platform, path: str, what: str = "an object"
) -> Mapping[str, Any]:
    """Return `value` if it is a JSON object, else raise naming `path`."""
    if not isinstance(value, Mapping):
        raise PayloadError(platform, path, f"expected {what}, found {_describe(value)}")
    return value


def need_list(value: Any, platform: Platform, path: str) -> Sequence[Any]:
    """Return `value` if it is a JSON array, else raise naming `path`."""
    if not isinstance(value, list | tuple):
        raise PayloadError(
            platform, path, f"expected an array, found {_describe(value)}"
        )
    return value


def as_id(value: Any, platform: Platform, path: str) -> str:
    """Return an id (a string, or an integer as older APIs and Mastodon.py give) as a string."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PayloadError(
            platform,
            path,
            f"expected an id (a string or an integer), found {_describe(value)}",
        )
    return str(value)


def opt_str(value: Any, platform: Platform, path: str) -> str | None:
    """Return a string or None; anything else raises naming `path`."""
    if value is None or isinstance(value, str):
        return value
    raise PayloadError(platform, path, f"expected a string, found {_describe(value)}")


def opt_int(value: Any) -> int | None:
    """Return a non-negative count, or None for anything else (counts are never load-bearing)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_time(value: Any, platform: Platform, path: str) -> datetime | None:
    """
    Return a timestamp as an aware datetime, or None when there is none.

    Reads ISO 8601 (X v2, Bluesky, Mastodon; ``Z`` or an offset; naive means UTC) and
    the X v1.1 form ``Wed Dec 16 20:37:43 +0000 2015``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise PayloadError(
            platform, path, f"expected a timestamp, found {_describe(value)}"
        )
    text = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _v11_time(text)
        if parsed is None:
            raise PayloadError(
                platform, path, f"not a timestamp: {text[:40]!r}"
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _v11_time(text: str) -> datetime | None:
    # "Wed Dec 16 20:37:43 +0000 2015" -> RFC 2822 order for the stdlib parser
    parts = text.split()
    if len(parts) != 6:
        return None
    day, month, date, clock, zone, year = parts
    try:
        return parsedate_to_datetime(f"{day}, {date} {month} {year} {clock} {zone}")
    except (TypeError, ValueError, IndexError):
        return None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"a string ({value[:30]!r})" if value else "an empty string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a `{type(value).__name__}`"


# --- building the thread ---------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _Entry:
    post: PostDraft
    path: str
    order: int


class ThreadBuilder:
    """
    Collect posts from a payload and build the `Thread` around one target.

    `add` takes a post in thread format with the JSON path it was read from; a post seen
    twice (X puts a tweet in both ``data`` and ``includes.tweets``) is merged, the fuller
    reading winning field by field. References to posts the payload does not hold become
    placeholders (``missing: true``). `build` keeps the target and what it refers to
    (transitively), or every post, orders them so that each reference names an earlier
    post (parents first, then by time), and refuses cycles with the path of a post in one.
    """

    def __init__(self, platform: Platform, brand_handles: Iterable[str] = ()) -> None:
        if isinstance(brand_handles, str):
            brand_handles = [brand_handles]
        self.platform: Platform = platform
        self.brand_handles = tuple(str(h) for h in brand_handles)
        self._posts: dict[str, _Entry] = {}
        self._placeholders: dict[str, PostDraft] = {}

    def __contains__(self, post_id: str) -> bool:
        return post_id in self._posts

    def get(self, post_id: str) -> PostDraft | None:
        """Return the post collected under `post_id`, if any."""
        entry = self._posts.get(post_id)
        return entry.post if entry else None

    def find(self, author: str, text: str, *, prefix: bool = False) -> str | None:
        """
        Return the id of a collected post by `author` with exactly `text`, if any.

        With `prefix`, the post's text need only start with `text` (a copy cut short).
        Placeholders and rebuilt posts are never matched.
        """
        key = author.lstrip("@").lower()
        want = text.strip()
        for pid, entry in self._posts.items():
            post = entry.post
            if (
                post.get("missing")
                or str(post.get("author", "")).lstrip("@").lower() != key
            ):
                continue
            have = str(post.get("text", "")).strip()
            if have == want or (prefix and want and have.startswith(want)):
                return pid
        return None

    def add(self, post: PostDraft, path: str) -> PostDraft:
        """Add (or merge) a post; return the post kept."""
        post = {k: v for k, v in post.items() if v is not None and v not in ((), [])}
        existing = self._posts.get(post["id"])
        if existing is None:
            self._posts[post["id"]] = _Entry(post, path, len(self._posts))
            return post
        old = existing.post
        if old.get("missing") and not post.get("missing"):
            post = {**old, **post}
            post.pop("missing", None)
            existing.post, existing.path = post, path
            return post
        if post.get("missing"):
            return old
        for key, value in post.items():
            if key not in old or (
                key == "text" and len(str(value)) > len(str(old[key]))
            ):
                old[key] = value
        return old

    def placeholder(
        self, post_id: str, author: str | None = None, *, kind: str = "original"
    ) -> None:
        """Note a referenced post the payload does not hold (used unless it turns up)."""
        known = self._placeholders.get(post_id)
        if known is None or (author and known.get("author") == "@unknown"):
            self._placeholders[post_id] = {
                "id": post_id,
                "author": author or "@unknown",
                "kind": kind,
                "missing": True,
            }

    def build(self, target: str, *, keep: Literal["chain", "all"] = "chain") -> Thread:
        """
        Return the thread whose target is `target`.

        Args:
            target: the id of the post the bot is answering.
            keep: ``"chain"`` keeps the target and everything it refers to, transitively
                (a page of unrelated mentions gives one thread each); ``"all"`` keeps every
                post collected (a whole conversation: ancestors and other replies).

        Raises:
            PayloadError: the target is not in the payload, references form a cycle, or the
                posts do not make a valid thread.
        """
        posts: dict[str, PostDraft] = {pid: e.post for pid, e in self._posts.items()}
        paths = {pid: e.path for pid, e in self._posts.items()}
        for pid, stub in self._placeholders.items():
            if pid not in posts:
                posts[pid] = dict(stub)
                paths[pid] = "$"
        if target not in posts:
            raise PayloadError(
                self.platform, "$", f"the payload holds no post with id `{target}`"
            )
        for pid, post in list(posts.items()):
            for field in ("in_reply_to", "retweet_of", "quote_of"):
                ref = post.get(field)
                if ref is not None and ref not in posts:
                    # referenced but never described: a placeholder keeps the link visible
                    posts[ref] = {
                        "id": ref,
                        "author": "@unknown",
                        "kind": "original",
                        "missing": True,
                    }
                    paths[ref] = paths[pid]
        keepers = set(posts) if keep == "all" else self._chain_of(target, posts)
        ordered = self._order([p for pid, p in posts.items() if pid in keepers], paths)
        data = {
            "platform": self.platform,
            "brand_handles": list(self.brand_handles),
            "posts": ordered,
            "target": target,
        }
        try:
            return Thread.model_validate(data)
        except ValidationError as exc:
            lines = format_validation_error(exc)
            first = lines[0] if lines else str(exc)
            raise PayloadError(
                self.platform, "$", f"the posts do not make a valid thread: {first}"
            ) from None

    @staticmethod
    def _chain_of(target: str, posts: Mapping[str, PostDraft]) -> set[str]:
        seen: set[str] = set()
        todo = [target]
        while todo:
            pid = todo.pop()
            if pid in seen or pid not in posts:
                continue
            seen.add(pid)
            post = posts[pid]
            todo.extend(
                ref
                for ref in (
                    post.get("in_reply_to"),
                    post.get("retweet_of"),
                    post.get("quote_of"),
                )
                if ref
            )
        return seen

    def _order(
        self, posts: list[PostDraft], paths: Mapping[str, str]
    ) -> list[PostDraft]:
        # parents before children (a reference must name an earlier post); among posts
        # free to go, the earliest first (by time, then by the id as a number when it is one)
        by_id = {p["id"]: p for p in posts}
        waiting: dict[str, int] = {}
        children: dict[str, list[str]] = {pid: [] for pid in by_id}
        for pid, post in by_id.items():
            refs: set[str] = {
                ref
                for f in ("in_reply_to", "retweet_of", "quote_of")
                if (ref := post.get(f)) is not None and ref in by_id
            }
            if pid in refs:
                raise PayloadError(
                    self.platform, paths.get(pid, "$"), f"post `{pid}` refers to itself"
                )
            waiting[pid] = len(refs)
            for ref in refs:
                children[ref].append(pid)
        ready = [(_sort_key(by_id[pid]), pid) for pid, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        out: list[PostDraft] = []
        while ready:
            _, pid = heapq.heappop(ready)
            out.append(by_id[pid])
            for child in children[pid]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, (_sort_key(by_id[child]), child))
        if len(out) < len(by_id):
            stuck = sorted(pid for pid, n in waiting.items() if n > 0)
            first = stuck[0]
            raise PayloadError(
                self.platform,
                paths.get(first, "$"),
                "the posts' references form a cycle: "
                + ", ".join(f"`{s}`" for s in stuck[:5]),
            )
        return out


def _sort_key(post: PostDraft) -> tuple[float, int, str]:
    created = post.get("created_at")
    when = created.timestamp() if isinstance(created, datetime) else float("-inf")
    pid = str(post["id"])
    return (when, int(pid) if pid.isdigit() and len(pid) < 30 else 0, pid)
