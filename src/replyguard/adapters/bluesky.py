"""
Bluesky (AT Protocol, ``app.bsky.*``) payloads into replyguard threads.

`from_bluesky` reads one payload into the `Thread` around one post:

- ``app.bsky.feed.getPostThread`` output (or a bare ``#threadViewPost``): the focal post
  is the target; its ``parent`` chain and its ``replies`` (recursively) are the rest of
  the conversation. ``#notFoundPost`` and ``#blockedPost`` nodes become placeholders
  (``missing: true``) when a post refers to them, and are skipped otherwise.
- a ``postView``, or a feed item (``app.bsky.feed.defs#feedViewPost`` from
  getTimeline / getAuthorFeed): a ``#reasonRepost`` item is the repost, a post of kind
  ``retweet`` by ``reason.by``.
- ``com.atproto.repo.getRecord`` output (``{uri, cid, value}``) of a post or a repost.
- one notification of ``app.bsky.notification.listNotifications`` whose record is a
  post (reply, mention, quote) or a repost; likes and follows are not posts.

`threads_from_bluesky` reads a page (notifications, a feed, search results, a list of
records) into one thread per post a bot could answer.

Mapping: a post's id is its ``at://`` uri; its author is ``@handle`` (a post known only
by a uri, a placeholder, is authored by the DID in the uri, unless the payload tells
that DID's handle elsewhere); ``reply.parent`` is ``in_reply_to``; an
``app.bsky.embed.record`` (or ``recordWithMedia``) of a post is ``quote_of``. Link
facets and external embeds become `links`, images and videos `media`. Brands may name
their DID among the brand handles: the handle the payload shows for that DID (an author,
or the text under a mention facet) is added to the thread's brand handles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from replyguard.adapters._common import (
    PostDraft,
    ThreadBuilder,
    _describe,
    load_payload,
    need_list,
    need_mapping,
    opt_int,
    opt_str,
    parse_time,
    refuse_other_platform,
)
from replyguard.errors import PayloadError
from replyguard.models import Thread

__all__ = ["from_bluesky", "threads_from_bluesky"]

_P: Literal["bluesky"] = "bluesky"

_POST = "app.bsky.feed.post"
_REPOST = "app.bsky.feed.repost"
_MENTION = "app.bsky.richtext.facet#mention"
_LINK = "app.bsky.richtext.facet#link"
_INVALID_HANDLE = "handle.invalid"
_MAX_QUOTE_DEPTH = 32
"""Quotes of quotes hydrated at most this deep; deeper references stay placeholders."""

_PAGE_KEYS = ("notifications", "feed", "posts", "records")
_NOT_POSTS = {
    "repostedBy": "an app.bsky.feed.getRepostedBy output lists accounts, not posts: read the "
    "reposts from listNotifications, or fetch the post with getPostThread",
    "likes": "an app.bsky.feed.getLikes output lists accounts, not posts: fetch the post with "
    "getPostThread",
    "followers": "a list of followers holds accounts, not posts",
    "follows": "a list of follows holds accounts, not posts",
    "actors": "a list of accounts holds no posts",
}


# --- the public API --------------------------------------------------------------------


def from_bluesky(
    payload: object,
    *,
    brand_handles: Iterable[str] = (),
    target: str | None = None,
) -> Thread:
    """
    Return the thread around one post of a Bluesky payload.

    Args:
        payload: a getPostThread output or ``#threadViewPost``, a ``postView``, a feed
            item, a getRecord output (post or repost), or one notification; as parsed
            JSON, JSON text (``str`` / ``bytes``), or the atproto SDK's model of it.
        brand_handles: the brand's handles (``"@acme.bsky.social"``); DIDs
            (``"did:plc:..."``) are accepted too and matched against authors and mentions.
        target: the ``at://`` uri of the post to answer, when it is not the payload's
            own (the focal post of a thread, the repost of a feed item, the post of a
            notification). With a page (notifications, a feed), the thread of that post.

    Returns:
        The `Thread`; for a getPostThread output it holds the whole conversation.

    Raises:
        PayloadError: the payload is not a Bluesky post payload (another platform, a
            like or follow notification, a list of accounts), a field is missing or of
            the wrong type (the message names its JSON path), `target` is not in the
            payload, or the posts' references form a cycle.

    Example:
        >>> thread = from_bluesky(
        ...     {
        ...         "uri": "at://did:plc:ann/app.bsky.feed.post/3k1",
        ...         "cid": "bafy",
        ...         "author": {"did": "did:plc:ann", "handle": "ann.bsky.social"},
        ...         "record": {"text": "hi @acme.bsky.social", "createdAt": "2024-05-01T10:00:00Z"},
        ...         "indexedAt": "2024-05-01T10:00:01Z",
        ...     },
        ...     brand_handles=["@acme.bsky.social"],
        ... )
        >>> thread.target_post.author, thread.target_post.kind
        ('@ann.bsky.social', 'original')
    """
    data = load_payload(payload, _P)
    refuse_other_platform(data, _P)
    root = need_mapping(data, _P, "$", "a Bluesky payload (an object)")
    reader = _Reader(brand_handles)
    if _page_key(root) is not None:
        if target is None:
            count = _page_len(root)
            raise PayloadError(
                _P,
                "$",
                f"a page of {count} items holds many threads: use threads_from_bluesky, "
                "or pass target= to pick one post",
            )
        for item, path in _page_items(root):
            reader.read_item(item, path)
        return reader.finish(target, keep="chain")
    focal = reader.read_item(root, "$")
    if focal is None:
        raise PayloadError(_P, "$.reason", _not_a_post(root))
    return reader.finish(target or focal, keep="all")


def threads_from_bluesky(
    page: object,
    *,
    brand_handles: Iterable[str] = (),
) -> list[Thread]:
    """
    Return one thread per post of a Bluesky page that a bot could answer.

    Reads a listNotifications page (``{"notifications": [...]}``: one thread per reply,
    mention, quote and repost; likes and follows are skipped), a getTimeline or
    getAuthorFeed page (``{"feed": [...]}``: one per item), a searchPosts or getPosts
    page (``{"posts": [...]}``: one per post), a listRecords page (``{"records":
    [...]}``: one per post or repost record), a JSON array of any of those items, or
    a single-post payload (a list of its one thread).

    Args:
        page: the page, as parsed JSON, JSON text, or the atproto SDK's model of it.
        brand_handles: the brand's handles (and, optionally, DIDs).

    Returns:
        The threads, in the page's order.

    Raises:
        PayloadError: as `from_bluesky`, naming the item's path
            (``$.notifications[3].record.text``).

    Example:
        >>> page = {"notifications": [{
        ...     "uri": "at://did:plc:bo/app.bsky.feed.repost/3k2", "cid": "bafy",
        ...     "author": {"did": "did:plc:bo", "handle": "bo.bsky.social"},
        ...     "reason": "repost", "isRead": False, "indexedAt": "2024-05-01T10:00:00Z",
        ...     "record": {"$type": "app.bsky.feed.repost", "createdAt": "2024-05-01T10:00:00Z",
        ...                "subject": {"uri": "at://did:plc:acme/app.bsky.feed.post/3k1", "cid": "bafy"}},
        ... }]}
        >>> [t.target_post.kind for t in threads_from_bluesky(page)]
        ['retweet']
    """
    data = load_payload(page, _P)
    refuse_other_platform(data, _P)
    if isinstance(data, list | tuple):
        items = [(item, f"$[{i}]") for i, item in enumerate(data)]
    else:
        root = need_mapping(data, _P, "$", "a Bluesky payload (an object)")
        items = [(root, "$")] if _page_key(root) is None else list(_page_items(root))
    threads = []
    for item, path in items:
        reader = _Reader(brand_handles)
        focal = reader.read_item(item, path)
        if focal is not None:
            threads.append(reader.finish(focal, keep="all"))
    return threads


# --- pages -------------------------------------------------------------------------------


def _page_key(root: Mapping[str, Any]) -> str | None:
    for key in _PAGE_KEYS:
        if key in root and isinstance(root[key], list | tuple):
            return key
    return None


def _page_len(root: Mapping[str, Any]) -> int:
    key = _page_key(root)
    return len(root[key]) if key else 0


def _page_items(root: Mapping[str, Any]) -> Iterable[tuple[Any, str]]:
    key = _page_key(root)
    if key is None:  # pragma: no cover - callers check first
        return []
    return [(item, f"$.{key}[{i}]") for i, item in enumerate(root[key])]


def _not_a_post(item: Mapping[str, Any]) -> str:
    reason = item.get("reason")
    if isinstance(reason, str):
        return f"a `{reason}` notification is not a post: there is nothing to reply to"
    return "this record is not a post or a repost: there is nothing to reply to"


# --- at:// uris ----------------------------------------------------------------------------


def _split_uri(uri: str) -> tuple[str, str, str]:
    """Return (authority, collection, rkey) of ``at://authority/collection/rkey``."""
    parts = uri[5:].split("/", 2)
    while len(parts) < 3:
        parts.append("")
    return parts[0], parts[1], parts[2]


def _need_uri(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.startswith("at://") or len(value) <= 5:
        raise PayloadError(_P, path, f"expected an at:// uri, found {_describe(value)}")
    return value


def _strong_ref_uri(value: Any, path: str) -> str:
    ref = need_mapping(value, _P, path, "a strongRef ({uri, cid})")
    return _need_uri(ref.get("uri"), f"{path}.uri")


# --- the reader ------------------------------------------------------------------------


class _Reader:
    """Reads Bluesky objects into a `ThreadBuilder`, remembering what it learns of DIDs."""

    __slots__ = (
        "brand",
        "brand_dids",
        "builder",
        "handles",
        "mentioned",
        "recipients",
        "refs",
    )

    def __init__(self, brand_handles: Iterable[str]) -> None:
        if isinstance(brand_handles, str):
            brand_handles = [brand_handles]
        self.brand = [str(h) for h in brand_handles]
        self.brand_dids = {
            h.strip().lower()
            for h in self.brand
            if h.strip().lower().startswith("did:")
        }
        self.builder = ThreadBuilder(_P, self.brand)
        self.handles: dict[str, str] = {}
        """DID -> handle, from author views (authoritative)."""
        self.mentioned: dict[str, str] = {}
        """DID -> handle, from the text under mention facets (as it was when posted)."""
        self.refs: dict[str, tuple[str, str | None]] = {}
        """Referenced uri -> (path, thread root uri): placeholders unless read."""
        self.recipients: set[str] = set()
        """DIDs of the account a notification was for."""

    # --- dispatch -------------------------------------------------------------------

    def read_item(self, item: Any, path: str) -> str | None:
        """Read one payload item; return the id of its post, None for a non-post."""
        obj = need_mapping(item, _P, path, "a Bluesky object")
        for key, why in _NOT_POSTS.items():
            if key in obj:
                raise PayloadError(_P, f"{path}.{key}", why)
        kind = obj.get("$type")
        if "thread" in obj:
            return self.read_thread(obj["thread"], f"{path}.thread")
        if kind == "app.bsky.feed.defs#threadViewPost" or (
            "post" in obj
            and ("replies" in obj or "parent" in obj)
            and "reason" not in obj
        ):
            return self.read_thread(obj, path)
        if _is_unavailable(obj):
            raise PayloadError(
                _P, path, "the post is not available (not found or blocked)"
            )
        if isinstance(obj.get("reason"), str) and "record" in obj:
            return self.read_notification(obj, path)
        if "post" in obj:
            return self.read_feed_item(obj, path)
        if "record" in obj and "author" in obj:
            return self.read_post_view(obj, path)
        if "value" in obj and "uri" in obj:
            return self.read_record_output(obj, path)
        if kind == _POST or (kind is None and "text" in obj and "createdAt" in obj):
            raise PayloadError(
                _P,
                path,
                "a bare post record has no uri: pass the getRecord output ({uri, cid, value}) "
                "or the postView that holds it",
            )
        raise PayloadError(
            _P,
            path,
            "not a Bluesky post payload: expected a getPostThread output, a postView, a feed "
            "item, a getRecord output or a notification",
        )

    # --- threads -------------------------------------------------------------------

    def read_thread(self, node: Any, path: str) -> str:
        """Read a ``#threadViewPost`` with its parents and replies; return the focal uri."""
        obj = need_mapping(node, _P, path, "a #threadViewPost")
        if _is_unavailable(obj):
            what = (
                "blocked"
                if obj.get("blocked") or "blocked" in str(obj.get("$type"))
                else "not found"
            )
            raise PayloadError(
                _P,
                path,
                f"the thread's focal post is {what}: there is no post to answer",
            )
        if "post" not in obj:
            raise PayloadError(_P, f"{path}.post", "expected a postView, found nothing")
        focal = self.read_post_view(obj["post"], f"{path}.post")
        parent, parent_path = obj.get("parent"), f"{path}.parent"
        while parent is not None:
            up = need_mapping(parent, _P, parent_path, "a #threadViewPost")
            if "post" not in up:
                self._unavailable(up, parent_path)
                break
            self.read_post_view(up["post"], f"{parent_path}.post")
            parent, parent_path = up.get("parent"), f"{parent_path}.parent"
        todo = [(obj, path)]
        while todo:
            here, here_path = todo.pop()
            replies = here.get("replies")
            if replies is None:
                continue
            for i, reply in enumerate(need_list(replies, _P, f"{here_path}.replies")):
                reply_path = f"{here_path}.replies[{i}]"
                down = need_mapping(reply, _P, reply_path, "a #threadViewPost")
                if "post" not in down:
                    self._unavailable(down, reply_path)
                    continue
                self.read_post_view(down["post"], f"{reply_path}.post")
                todo.append((down, reply_path))
        return focal

    def _unavailable(self, node: Mapping[str, Any], path: str) -> None:
        # An unavailable node becomes a placeholder only when a post refers to it (the
        # reference makes it); here it is only checked.
        if not _is_unavailable(node):
            if "$type" in node:
                return  # a union member this adapter does not know: nothing to read
            raise PayloadError(
                _P, path, "expected a #threadViewPost, #notFoundPost or #blockedPost"
            )
        _need_uri(node.get("uri"), f"{path}.uri")
        author = node.get("author")
        if isinstance(author, Mapping):
            opt_str(author.get("did"), _P, f"{path}.author.did")

    # --- feed items, notifications, records ----------------------------------------------

    def read_feed_item(self, item: Mapping[str, Any], path: str) -> str:
        """Read a feed item (``#feedViewPost``); return the repost's id or the post's uri."""
        uri = self.read_post_view(item["post"], f"{path}.post")
        reply = item.get("reply")
        if reply is not None:
            refs = need_mapping(
                reply, _P, f"{path}.reply", "a replyRef ({root, parent})"
            )
            for key in ("root", "parent"):
                node = refs.get(key)
                if node is None:
                    continue
                node_path = f"{path}.reply.{key}"
                view = need_mapping(node, _P, node_path, "a postView")
                if _is_unavailable(view):
                    self._unavailable(view, node_path)
                else:
                    self.read_post_view(view, node_path)
            grand = refs.get("grandparentAuthor")
            if grand is not None:
                self._actor(grand, f"{path}.reply.grandparentAuthor")
        reason = item.get("reason")
        if reason is None:
            return uri
        why = need_mapping(
            reason, _P, f"{path}.reason", "a #reasonRepost or #reasonPin"
        )
        kind = why.get("$type")
        if kind == "app.bsky.feed.defs#reasonRepost" or (kind is None and "by" in why):
            by_path = f"{path}.reason.by"
            author, name, did = self._actor(why.get("by"), by_path)
            repost_uri = why.get("uri")
            repost_id = (
                _need_uri(repost_uri, f"{path}.reason.uri")
                if repost_uri is not None
                else f"{uri}#repost-by-{did or author}"
            )
            when = parse_time(why.get("indexedAt"), _P, f"{path}.reason.indexedAt")
            return self._add_repost(
                repost_id, author, name, uri, when, f"{path}.reason"
            )
        return uri  # a pinned post, or a reason this adapter does not know

    def read_notification(self, item: Mapping[str, Any], path: str) -> str | None:
        """Read a notification; return its post's id, None for likes, follows and the like."""
        record = need_mapping(item.get("record"), _P, f"{path}.record", "a record")
        uri = _need_uri(item.get("uri"), f"{path}.uri")
        record_type = _record_type(record, uri)
        subject = item.get("reasonSubject")
        if isinstance(subject, str) and subject.startswith("at://"):
            self.recipients.add(_split_uri(subject)[0])
        if record_type == _POST:
            return self._read_post(
                item, record, uri, path, record_path=f"{path}.record", counts=False
            )
        if record_type == _REPOST:
            author, name, _ = self._actor(item.get("author"), f"{path}.author")
            return self._read_repost_record(
                record, uri, author, name, item.get("indexedAt"), path
            )
        return None

    def read_record_output(self, item: Mapping[str, Any], path: str) -> str | None:
        """Read a getRecord output (``{uri, cid, value}``) of a post or a repost."""
        uri = _need_uri(item.get("uri"), f"{path}.uri")
        value = need_mapping(item.get("value"), _P, f"{path}.value", "a record")
        record_type = _record_type(value, uri)
        if record_type == _POST:
            return self._read_post(
                item, value, uri, path, record_path=f"{path}.value", counts=True
            )
        if record_type == _REPOST:
            author = self._author_of_uri(uri)
            return self._read_repost_record(
                value, uri, author, None, None, path, value_key="value"
            )
        raise PayloadError(
            _P,
            f"{path}.value",
            f"a `{record_type}` record is not a post or a repost: there is nothing to reply to",
        )

    def _read_repost_record(
        self,
        record: Mapping[str, Any],
        uri: str,
        author: str,
        name: str | None,
        indexed_at: Any,
        path: str,
        *,
        value_key: str = "record",
    ) -> str:
        record_path = f"{path}.{value_key}"
        subject = _strong_ref_uri(record.get("subject"), f"{record_path}.subject")
        self._ref(subject, f"{record_path}.subject")
        when = parse_time(
            record.get("createdAt"), _P, f"{record_path}.createdAt"
        ) or parse_time(indexed_at, _P, f"{path}.indexedAt")
        return self._add_repost(uri, author, name, subject, when, path)

    def _add_repost(
        self,
        repost_id: str,
        author: str,
        name: str | None,
        subject: str,
        when: datetime | None,
        path: str,
    ) -> str:
        self._ref(subject, path)
        self.builder.add(
            {
                "id": repost_id,
                "author": author,
                "author_name": name,
                "text": "",
                "kind": "retweet",
                "retweet_of": subject,
                "created_at": when,
            },
            path,
        )
        return repost_id

    # --- posts ----------------------------------------------------------------------------

    def read_post_view(self, view: Any, path: str) -> str:
        """Read a ``postView``; return its uri."""
        obj = need_mapping(view, _P, path, "a postView")
        uri = _need_uri(obj.get("uri"), f"{path}.uri")
        record = need_mapping(obj.get("record"), _P, f"{path}.record", "a post record")
        return self._read_post(
            obj, record, uri, path, record_path=f"{path}.record", counts=True
        )

    def _read_post(
        self,
        view: Mapping[str, Any],
        record: Mapping[str, Any],
        uri: str,
        path: str,
        *,
        record_path: str,
        counts: bool,
        depth: int = 0,
    ) -> str:
        if "author" in view:
            author, name, _ = self._actor(view["author"], f"{path}.author")
        else:
            author, name = self._author_of_uri(uri), None
        text = record.get("text")
        if not isinstance(text, str):
            raise PayloadError(
                _P, f"{record_path}.text", f"expected a string, found {_describe(text)}"
            )
        created = parse_time(
            record.get("createdAt"), _P, f"{record_path}.createdAt"
        ) or parse_time(view.get("indexedAt"), _P, f"{path}.indexedAt")
        post: PostDraft = {
            "id": uri,
            "author": author,
            "author_name": name,
            "text": text,
            "kind": "original",
            "created_at": created,
            "url": _web_url(uri, author),
        }
        langs = record.get("langs")
        if langs is not None:
            first = [
                x
                for x in need_list(langs, _P, f"{record_path}.langs")
                if isinstance(x, str) and x
            ]
            if first:
                post["lang"] = first[0]
        links: list[str] = []
        facets = record.get("facets")
        if facets is not None:
            self._facets(text, facets, f"{record_path}.facets", links)
        reply = record.get("reply")
        if reply is not None:
            refs = need_mapping(
                reply, _P, f"{record_path}.reply", "a replyRef ({root, parent})"
            )
            parent = _strong_ref_uri(refs.get("parent"), f"{record_path}.reply.parent")
            root = (
                _strong_ref_uri(refs["root"], f"{record_path}.reply.root")
                if refs.get("root") is not None
                else parent
            )
            post["kind"] = "reply"
            post["in_reply_to"] = parent
            self._ref(root, f"{record_path}.reply.root")
            self._ref(parent, f"{record_path}.reply.parent", root=root)
        media: list[dict[str, Any]] = []
        embed = record.get("embed")
        if embed is not None:
            quoted = self._record_embed(embed, f"{record_path}.embed", links, media)
            if quoted is not None:
                post["quote_of"] = quoted
                if post["kind"] == "original":
                    post["kind"] = "quote"
                self._ref(quoted, f"{record_path}.embed")
        view_embed = view.get("embed")
        embeds_key = "embed"
        if (
            view_embed is None
            and isinstance(view.get("embeds"), list | tuple)
            and view["embeds"]
        ):
            view_embed, embeds_key = view["embeds"][0], "embeds[0]"
        if view_embed is not None:
            viewed: list[dict[str, Any]] = []
            self._view_embed(view_embed, f"{path}.{embeds_key}", links, viewed, depth)
            if viewed:
                media = viewed  # the view has the URLs the record's blobs lack
        if links:
            post["links"] = list(dict.fromkeys(links))
        if media:
            post["media"] = media
        if counts:
            metrics = {
                "replies": opt_int(view.get("replyCount")),
                "retweets": opt_int(view.get("repostCount")),
                "likes": opt_int(view.get("likeCount")),
                "quotes": opt_int(view.get("quoteCount")),
            }
            if any(v is not None for v in metrics.values()):
                post["metrics"] = {k: v or 0 for k, v in metrics.items()}
        self.builder.add(post, path)
        return uri

    def _actor(self, value: Any, path: str) -> tuple[str, str | None, str | None]:
        """Return (author, display name, DID) of a profile view, noting its handle."""
        actor = need_mapping(value, _P, path, "an actor profile")
        did = opt_str(actor.get("did"), _P, f"{path}.did")
        handle = opt_str(actor.get("handle"), _P, f"{path}.handle")
        name = opt_str(actor.get("displayName"), _P, f"{path}.displayName") or None
        if handle == _INVALID_HANDLE:
            handle = None
        if handle and did:
            self.handles[did] = handle
        if handle:
            return "@" + handle, name, did
        if did:
            return did, name, did
        raise PayloadError(
            _P, f"{path}.handle", "an author needs a handle or a did, found neither"
        )

    def _author_of_uri(self, uri: str) -> str:
        authority = _split_uri(uri)[0]
        if authority.startswith("did:"):
            handle = self.handles.get(authority) or self.mentioned.get(authority)
            return "@" + handle if handle else authority
        return "@" + authority

    def _ref(self, uri: str, path: str, *, root: str | None = None) -> None:
        known = self.refs.get(uri)
        if known is None or (known[1] is None and root is not None and root != uri):
            self.refs[uri] = (path, root if root != uri else None)

    # --- text ----------------------------------------------------------------------------

    def _facets(self, text: str, facets: Any, path: str, links: list[str]) -> None:
        data: bytes | None = None
        for i, facet in enumerate(need_list(facets, _P, path)):
            facet_path = f"{path}[{i}]"
            entry = need_mapping(facet, _P, facet_path, "a facet")
            features = need_list(entry.get("features"), _P, f"{facet_path}.features")
            for j, feature in enumerate(features):
                feature_path = f"{facet_path}.features[{j}]"
                item = need_mapping(feature, _P, feature_path, "a facet feature")
                kind = item.get("$type")
                if kind == _LINK or (kind is None and "uri" in item):
                    link = opt_str(item.get("uri"), _P, f"{feature_path}.uri")
                    if link:
                        links.append(link)
                elif kind == _MENTION or (kind is None and "did" in item):
                    did = opt_str(item.get("did"), _P, f"{feature_path}.did")
                    if not did or did in self.mentioned:
                        continue
                    if data is None:
                        data = text.encode("utf-8", "surrogatepass")
                    handle = _mention_at(data, entry.get("index"))
                    if handle:
                        self.mentioned[did] = handle

    # --- embeds ------------------------------------------------------------------------------

    def _record_embed(
        self, embed: Any, path: str, links: list[str], media: list[dict[str, Any]]
    ) -> str | None:
        """Read a record's embed (its stored form); return the uri of a quoted post."""
        obj = need_mapping(embed, _P, path, "an embed")
        kind = _embed_kind(obj)
        if kind == "images":
            for i, image in enumerate(
                need_list(obj.get("images"), _P, f"{path}.images")
            ):
                img = need_mapping(image, _P, f"{path}.images[{i}]", "an image")
                alt = opt_str(img.get("alt"), _P, f"{path}.images[{i}].alt")
                media.append({"type": "image", "alt_text": alt or None})
        elif kind == "video":
            alt = opt_str(obj.get("alt"), _P, f"{path}.alt")
            media.append({"type": "video", "alt_text": alt or None})
        elif kind == "external":
            _external_link(obj, path, links)
        elif kind == "record":
            uri = _strong_ref_uri(obj.get("record"), f"{path}.record")
            return uri if _split_uri(uri)[1] == _POST else None
        elif kind == "recordWithMedia":
            inner = need_mapping(
                obj.get("record"), _P, f"{path}.record", "an app.bsky.embed.record"
            )
            uri = _strong_ref_uri(inner.get("record"), f"{path}.record.record")
            if obj.get("media") is not None:
                self._record_embed(obj["media"], f"{path}.media", links, media)
            return uri if _split_uri(uri)[1] == _POST else None
        return None

    def _view_embed(
        self,
        embed: Any,
        path: str,
        links: list[str],
        media: list[dict[str, Any]],
        depth: int,
    ) -> None:
        """Read a view's embed (hydrated): media with URLs, and the quoted post itself."""
        obj = need_mapping(embed, _P, path, "an embed view")
        kind = _embed_kind(obj)
        if kind == "images":
            for i, image in enumerate(
                need_list(obj.get("images"), _P, f"{path}.images")
            ):
                img_path = f"{path}.images[{i}]"
                img = need_mapping(image, _P, img_path, "an image view")
                url = opt_str(
                    img.get("fullsize"), _P, f"{img_path}.fullsize"
                ) or opt_str(img.get("thumb"), _P, f"{img_path}.thumb")
                alt = opt_str(img.get("alt"), _P, f"{img_path}.alt")
                media.append({"type": "image", "url": url, "alt_text": alt or None})
        elif kind == "video":
            url = opt_str(obj.get("playlist"), _P, f"{path}.playlist")
            alt = opt_str(obj.get("alt"), _P, f"{path}.alt")
            media.append({"type": "video", "url": url, "alt_text": alt or None})
        elif kind == "external":
            _external_link(obj, path, links)
        elif kind == "record":
            self._view_record(obj.get("record"), f"{path}.record", depth)
        elif kind == "recordWithMedia":
            inner = need_mapping(
                obj.get("record"), _P, f"{path}.record", "an app.bsky.embed.record#view"
            )
            self._view_record(inner.get("record"), f"{path}.record.record", depth)
            if obj.get("media") is not None:
                self._view_embed(obj["media"], f"{path}.media", links, media, depth)

    def _view_record(self, value: Any, path: str, depth: int) -> None:
        view = need_mapping(value, _P, path, "a #viewRecord")
        if _is_unavailable(view) or view.get("detached"):
            _need_uri(view.get("uri"), f"{path}.uri")
            return  # the quoting post's reference makes the placeholder
        if "value" not in view or "author" not in view:
            return  # a feed generator, a list, a labeler or a starter pack: not a post
        uri = _need_uri(view.get("uri"), f"{path}.uri")
        record = need_mapping(view["value"], _P, f"{path}.value", "a record")
        if _record_type(record, uri) != _POST or depth >= _MAX_QUOTE_DEPTH:
            return
        self._read_post(
            view,
            record,
            uri,
            path,
            record_path=f"{path}.value",
            counts=True,
            depth=depth + 1,
        )

    # --- the thread ----------------------------------------------------------------------------

    def finish(self, target: str, *, keep: Literal["chain", "all"]) -> Thread:
        """Add the placeholders still needed, complete the brand handles, build the thread."""
        for uri, (path, root) in self.refs.items():
            if uri in self.builder:
                continue
            author = self._author_of_uri(uri)
            stub: PostDraft = {
                "id": uri,
                "author": author,
                "kind": "original",
                "missing": True,
                "url": _web_url(uri, author),
            }
            if root is not None:
                # a reply we do not hold, somewhere under the thread's root: linking it to
                # the root keeps the crowd (and `thread.root`) right
                stub["kind"], stub["in_reply_to"] = "reply", root
            self.builder.add(stub, path)
        self.builder.brand_handles = self._brand_handles()
        return self.builder.build(target, keep=keep)

    def _brand_handles(self) -> tuple[str, ...]:
        handles = list(self.brand)
        if self.brand_dids:
            for did in (*self.handles, *self.mentioned):
                if did.lower() in self.brand_dids:
                    handle = self.handles.get(did) or self.mentioned.get(did)
                    handles.append("@" + str(handle))
        if self.brand:
            # a notification is for the account that fetched it: the brand's own posts
            # (the one replied to, quoted or reposted) are by that DID
            handles.extend(sorted(self.recipients))
        return tuple(dict.fromkeys(handles))


# --- helpers -----------------------------------------------------------------------------------


def _is_unavailable(obj: Mapping[str, Any]) -> bool:
    kind = obj.get("$type")
    if isinstance(kind, str) and (
        kind.endswith(
            ("#notFoundPost", "#blockedPost", "#viewNotFound", "#viewBlocked")
        )
    ):
        return True
    return obj.get("notFound") is True or obj.get("blocked") is True


def _record_type(record: Mapping[str, Any], uri: str) -> str:
    kind = record.get("$type")
    if isinstance(kind, str) and kind:
        return kind
    return _split_uri(uri)[1]


def _embed_kind(obj: Mapping[str, Any]) -> str | None:
    kind = obj.get("$type")
    if isinstance(kind, str) and kind.startswith("app.bsky.embed."):
        name = kind[len("app.bsky.embed.") :].split("#", 1)[0]
        return "images" if name == "gallery" and "images" in obj else name
    if "images" in obj:
        return "images"
    if "external" in obj:
        return "external"
    if "media" in obj and "record" in obj:
        return "recordWithMedia"
    if "record" in obj:
        return "record"
    if "video" in obj or "playlist" in obj:
        return "video"
    return None


def _mention_at(data: bytes, index: Any) -> str | None:
    """Return the handle written at a facet's UTF-8 byte range, or None when it is not one."""
    if not isinstance(index, Mapping):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    if (
        not isinstance(start, int)
        or not isinstance(end, int)
        or isinstance(start, bool)
        or isinstance(end, bool)
        or not 0 <= start < end <= len(data)
    ):
        return None
    try:
        written = data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None  # the range cuts a character: the offsets are not this text's
    if len(written) < 2 or written[0] != "@" or any(c.isspace() for c in written):
        return None
    return written[1:]


def _web_url(uri: str, author: str | None) -> str | None:
    authority, collection, rkey = _split_uri(uri)
    if collection != _POST or not rkey:
        return None
    who = author.lstrip("@") if author else authority
    return f"https://bsky.app/profile/{who}/post/{rkey}"


def _external_link(obj: Mapping[str, Any], path: str, links: list[str]) -> None:
    """Add an external embed's link (record and view forms alike) to `links`."""
    external = need_mapping(
        obj.get("external"), _P, f"{path}.external", "an external link"
    )
    link = opt_str(external.get("uri"), _P, f"{path}.external.uri")
    if link:
        links.append(link)
