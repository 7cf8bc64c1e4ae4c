"""
X (Twitter) payloads into threads: API v2 and v1.1.

>>> from replyguard.adapters.x import from_x
>>> payload = {
...     "data": {"id": "2", "text": "RT @chalk: Chalk art outside @BofA_Help", "author_id": "20",
...              "referenced_tweets": [{"type": "retweeted", "id": "1"}]},
...     "includes": {
...         "tweets": [{"id": "1", "text": "Chalk art outside @BofA_Help", "author_id": "10"}],
...         "users": [{"id": "10", "username": "chalk"}, {"id": "20", "username": "fan"}]}}
>>> thread = from_x(payload, brand_handles=["@BofA_Help"])
>>> [(p.id, p.author, p.kind) for p in thread.posts]
[('1', '@chalk', 'original'), ('2', '@fan', 'retweet')]

v2 (`GET /2/tweets/:id`, search and timelines with expansions, the filtered stream) keeps
the tweets a post refers to in ``includes.tweets`` behind ``referenced_tweets``; v1.1
(`statuses/*`, the Account Activity webhook) nests them under ``retweeted_status`` and
``quoted_status``; and old clients wrote retweets by hand as ``RT @user: ...``, which is
read as a retweet of an original rebuilt from the text. Deleted, protected or withheld
tweets become placeholders (``missing: true``).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from replyguard.adapters._common import (
    PostDraft,
    ThreadBuilder,
    as_id,
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

__all__ = ["from_x", "threads_from_x"]

_LEGACY_RT = re.compile(r"^\s*(?:RT|MT)\s*@(\w{1,15})\s*:\s?", re.IGNORECASE)
"""A retweet written by hand: ``RT @user: their text`` (``MT`` for a modified tweet)."""
_INLINE_RT = re.compile(r"\s(?:RT|MT)\s*@(\w{1,15})\s*:\s?", re.IGNORECASE)
"""Own words, then someone else's: ``nice one RT @user: their text`` (a manual quote)."""
_KINDS = {"retweeted": "retweet_of", "quoted": "quote_of", "replied_to": "in_reply_to"}
_MEDIA_TYPES = {"photo": "image", "video": "video", "animated_gif": "gif"}


def from_x(
    payload: object,
    *,
    brand_handles: Iterable[str] = (),
    target: str | int | None = None,
) -> Thread:
    """
    Return the thread of one X post, from a v2 or v1.1 payload.

    Args:
        payload: a v2 response (``{"data": {...}, "includes": {...}}``, a filtered
            stream message, a page with ``target``), a v1.1 status, an Account Activity
            event with one tweet, their JSON text, or what tweepy returns (`Response`,
            `Tweet`, `Status`).
        brand_handles: the brand's own handles (``@BofA_Help``), for who is the brand.
        target: the id of the post the bot is answering; needed when the payload holds
            several (a page), otherwise the payload's post.

    Raises:
        PayloadError: the payload is not X's, lacks what is needed (authors need the
            ``author_id`` expansion in v2) or is malformed; the message names the path.

    >>> from_x({"id_str": "5", "text": "hi @acme", "user": {"screen_name": "jo"}},
    ...        brand_handles=["@acme"]).target_post.author
    '@jo'
    """
    data = load_payload(payload, "x")
    threads = _read(data, brand_handles, want=None if target is None else str(target))
    if not threads:
        raise PayloadError("x", "$", "the payload holds no posts (an empty page)")
    if target is None and len(threads) != 1:
        raise PayloadError(
            "x",
            "$",
            f"the payload holds {len(threads)} posts: pass target= (a post id) or use threads_from_x",
        )
    return threads[0]


def threads_from_x(
    payload: object, *, brand_handles: Iterable[str] = ()
) -> list[Thread]:
    """
    Return one thread per post of an X payload, in the payload's order.

    Takes a page of v2 results (search, mentions timeline, user tweets), a v1.1
    timeline (a list of statuses), an Account Activity webhook event
    (``tweet_create_events``), or anything `from_x` takes. Each thread holds its post
    and what it refers to, transitively, from the whole payload.

    >>> page = [{"id_str": "1", "text": "one", "user": {"screen_name": "a"}},
    ...         {"id_str": "2", "text": "two", "user": {"screen_name": "b"}}]
    >>> [t.target for t in threads_from_x(page)]
    ['1', '2']
    """
    return _read(load_payload(payload, "x"), brand_handles, want=None)


def _read(data: Any, brand_handles: Iterable[str], want: str | None) -> list[Thread]:
    refuse_other_platform(data, "x")
    builder = ThreadBuilder("x", brand_handles)
    if isinstance(data, Mapping) and "tweet_create_events" in data:
        events = need_list(data["tweet_create_events"], "x", "$.tweet_create_events")
        targets = [
            _v11(builder, s, f"$.tweet_create_events[{i}]")
            for i, s in enumerate(events)
        ]
    elif isinstance(data, list):
        for i, status in enumerate(
            data
        ):  # originals first: hand-made retweets find them
            if isinstance(status, Mapping) and isinstance(
                status.get("retweeted_status"), Mapping
            ):
                _v11(builder, status["retweeted_status"], f"$[{i}].retweeted_status", 1)
        targets = [_v11(builder, s, f"$[{i}]") for i, s in enumerate(data)]
    else:
        doc = need_mapping(
            data, "x", "$", "an X payload (an object or a list of statuses)"
        )
        if any(k in doc for k in ("data", "includes", "meta")) or (
            "errors" in doc and "id_str" not in doc
        ):
            targets = _v2(builder, doc)
        elif "id_str" in doc or "id" in doc:
            targets = [_v11(builder, doc, "$")]
        else:
            raise PayloadError(
                "x",
                "$",
                "neither a v2 response (`data`) nor a v1.1 status (`id_str`, `text`)",
            )
    if want is not None:
        if want not in builder:
            raise PayloadError("x", "$", f"the payload holds no post with id `{want}`")
        return [builder.build(want)]
    return [builder.build(t) for t in targets]


# --- v2 ---------------------------------------------------------------------------


def _v2(builder: ThreadBuilder, doc: Mapping[str, Any]) -> list[str]:
    meta = doc.get("meta")
    if (
        "data" not in doc
        and isinstance(meta, Mapping)
        and meta.get("result_count") == 0
    ):
        return []  # an empty page: no new mentions
    if "data" not in doc:
        errors = doc.get("errors")
        detail = ""
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            detail = f": {errors[0].get('title') or ''} {errors[0].get('detail') or ''}".rstrip()
        raise PayloadError(
            "x", "$.data", f"missing: the response holds no tweet{detail}"
        )
    includes = need_mapping(doc.get("includes") or {}, "x", "$.includes")
    users = _index(includes.get("users"), "$.includes.users")
    media = _index(includes.get("media"), "$.includes.media", key="media_key")
    raw = doc["data"]
    tweets = (
        [(raw, "$.data")]
        if isinstance(raw, Mapping)
        else [(t, f"$.data[{i}]") for i, t in enumerate(need_list(raw, "x", "$.data"))]
    )
    extra = need_list(includes.get("tweets") or [], "x", "$.includes.tweets")
    context = _V2(builder, users, media)
    for index, tweet in enumerate(extra):  # what the data tweets refer to, read first
        context.tweet(tweet, f"$.includes.tweets[{index}]")
    targets = [context.tweet(tweet, path) for tweet, path in tweets]
    context.placeholders()
    return targets


class _V2:
    def __init__(
        self,
        builder: ThreadBuilder,
        users: Mapping[str, tuple[Mapping[str, Any], str]],
        media: Mapping[str, tuple[Mapping[str, Any], str]],
    ) -> None:
        self.builder = builder
        self.users = users
        self.media = media
        self.refs: list[tuple[str, str | None]] = []

    def tweet(self, tweet: Any, path: str) -> str:
        tweet = need_mapping(tweet, "x", path, "a tweet object")
        pid = as_id(tweet.get("id"), "x", f"{path}.id")
        text = _text(tweet, path)
        author = self.author(tweet, path)
        post: PostDraft = {
            "id": pid,
            "author": author[0],
            "author_name": author[1],
            "author_followers": author[2],
            "text": text,
            "kind": "original",
            "created_at": parse_time(
                tweet.get("created_at"), "x", f"{path}.created_at"
            ),
            "lang": _lang(tweet.get("lang")),
            "metrics": _metrics(tweet.get("public_metrics")),
            "links": _links(tweet.get("entities"), f"{path}.entities"),
            "media": self.attachments(tweet.get("attachments"), f"{path}.attachments"),
            "url": f"https://x.com/{author[0][1:]}/status/{pid}"
            if author[0] != "@unknown"
            else None,
        }
        refs = tweet.get("referenced_tweets") or []
        for index, item in enumerate(need_list(refs, "x", f"{path}.referenced_tweets")):
            where = f"{path}.referenced_tweets[{index}]"
            ref = need_mapping(item, "x", where)
            kind = ref.get("type")
            if not isinstance(kind, str) or kind not in _KINDS:
                raise PayloadError(
                    "x",
                    f"{where}.type",
                    f"expected retweeted, quoted or replied_to, found {kind!r}",
                )
            ref_id = as_id(ref.get("id"), "x", f"{where}.id")
            post[_KINDS[kind]] = ref_id
            ref_author = None
            if kind == "retweeted":
                match = _LEGACY_RT.match(text)
                ref_author = f"@{match.group(1)}" if match else None
            elif kind == "replied_to":
                ref_author = self.user_handle(tweet.get("in_reply_to_user_id"))
            self.refs.append((ref_id, ref_author))
        post["kind"] = _kind(post)
        if post["kind"] != "retweet" and "retweet_of" not in post:
            _legacy(self.builder, post, path)
        self.builder.add(post, path)
        return pid

    def author(
        self, tweet: Mapping[str, Any], path: str
    ) -> tuple[str, str | None, int | None]:
        author_id = tweet.get("author_id")
        if author_id is None:
            raise PayloadError(
                "x",
                f"{path}.author_id",
                "missing: request tweets with expansions=author_id (and user.fields=username) "
                "so the guard knows who wrote them",
            )
        key = as_id(author_id, "x", f"{path}.author_id")
        found = self.users.get(key)
        if found is None:
            if not self.users:
                raise PayloadError(
                    "x",
                    "$.includes.users",
                    "missing: request tweets with expansions=author_id so the authors come with them",
                )
            return "@unknown", None, None
        user, where = found
        handle = opt_str(user.get("username"), "x", f"{where}.username")
        if not handle:
            raise PayloadError(
                "x", f"{where}.username", "missing: request user.fields=username"
            )
        metrics = user.get("public_metrics")
        followers = (
            opt_int(metrics.get("followers_count"))
            if isinstance(metrics, Mapping)
            else None
        )
        return f"@{handle}", opt_str(user.get("name"), "x", f"{where}.name"), followers

    def user_handle(self, user_id: Any) -> str | None:
        if user_id is None:
            return None
        found = self.users.get(str(user_id))
        if found is None or not isinstance(found[0].get("username"), str):
            return None
        return f"@{found[0]['username']}"

    def attachments(self, value: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, Mapping):
            return []
        keys = value.get("media_keys") or []
        out: list[dict[str, Any]] = []
        for key in need_list(keys, "x", f"{path}.media_keys"):
            found = self.media.get(str(key))
            if found is None:
                continue
            item = found[0]
            out.append(
                {
                    "type": _MEDIA_TYPES.get(str(item.get("type")), "other"),
                    "url": item.get("url") or item.get("preview_image_url"),
                    "alt_text": item.get("alt_text"),
                }
            )
        return out

    def placeholders(self) -> None:
        for ref_id, author in self.refs:
            self.builder.placeholder(ref_id, author)


def _index(
    value: Any, path: str, *, key: str = "id"
) -> dict[str, tuple[Mapping[str, Any], str]]:
    out: dict[str, tuple[Mapping[str, Any], str]] = {}
    if value is None:
        return out
    for index, raw in enumerate(need_list(value, "x", path)):
        where = f"{path}[{index}]"
        item = need_mapping(raw, "x", where)
        out[as_id(item.get(key), "x", f"{where}.{key}")] = (item, where)
    return out


def _text(tweet: Mapping[str, Any], path: str) -> str:
    note = tweet.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str):
        return html.unescape(note["text"])  # a long post: `text` holds only its start
    text = tweet.get("text")
    if text is None:
        raise PayloadError("x", f"{path}.text", "missing")
    return html.unescape(opt_str(text, "x", f"{path}.text") or "")


def _kind(post: PostDraft) -> str:
    if "retweet_of" in post:
        for field in ("in_reply_to", "quote_of"):
            post.pop(field, None)  # a retweet's other references belong to the original
        return "retweet"
    if "in_reply_to" in post:
        return "reply"
    if "quote_of" in post:
        return "quote"
    return "original"


def _lang(value: Any) -> str | None:
    # X says "und" (undetermined), "zxx" (no text), "qme" (media only), "qht" (hashtags only)
    if isinstance(value, str) and value and not value.startswith(("q", "und", "zxx")):
        return value
    return None


def _metrics(value: Any) -> dict[str, int] | None:
    if not isinstance(value, Mapping):
        return None
    pairs = {
        "retweets": value.get("retweet_count"),
        "likes": value.get("like_count", value.get("favorite_count")),
        "replies": value.get("reply_count"),
        "quotes": value.get("quote_count"),
    }
    out = {k: n for k, v in pairs.items() if (n := opt_int(v)) is not None}
    return out or None


def _links(entities: Any, path: str) -> list[str]:
    if not isinstance(entities, Mapping):
        return []
    out: list[str] = []
    for url in need_list(entities.get("urls") or [], "x", f"{path}.urls"):
        if not isinstance(url, Mapping):
            continue
        if url.get("media_key"):  # the picture's own t.co link
            continue
        best = url.get("unwound_url") or url.get("expanded_url") or url.get("url")
        if isinstance(best, str) and best and best not in out:
            out.append(best)
    return out


# --- v1.1 -------------------------------------------------------------------------


def _v11(builder: ThreadBuilder, status: Any, path: str, depth: int = 0) -> str:
    status = need_mapping(status, "x", path, "a v1.1 status object")
    if depth > 20:
        raise PayloadError("x", path, "statuses nested deeper than 20")
    if "data" in status and "id_str" not in status:
        raise PayloadError(
            "x", path, "a v2 response inside a v1.1 list: pass it on its own"
        )
    pid = as_id(status.get("id_str", status.get("id")), "x", f"{path}.id_str")
    user = need_mapping(
        status.get("user"), "x", f"{path}.user", "the author (a user object)"
    )
    handle = opt_str(user.get("screen_name"), "x", f"{path}.user.screen_name")
    if not handle:
        raise PayloadError("x", f"{path}.user.screen_name", "missing")
    text = _v11_text(status, path)
    entities = status.get("entities")
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("entities"), Mapping):
        entities = extended["entities"]
    media_entities = status.get("extended_entities") or (
        extended.get("extended_entities") if isinstance(extended, Mapping) else None
    )
    post: PostDraft = {
        "id": pid,
        "author": f"@{handle}",
        "author_name": opt_str(user.get("name"), "x", f"{path}.user.name"),
        "author_followers": opt_int(user.get("followers_count")),
        "text": text,
        "kind": "original",
        "created_at": parse_time(status.get("created_at"), "x", f"{path}.created_at"),
        "lang": _lang(status.get("lang")),
        "metrics": _metrics(status),
        "links": _links(entities, f"{path}.entities"),
        "media": _v11_media(media_entities),
        "url": f"https://x.com/{handle}/status/{pid}",
    }
    retweeted = status.get("retweeted_status")
    if retweeted is not None:
        post["retweet_of"] = _v11(
            builder, retweeted, f"{path}.retweeted_status", depth + 1
        )
    quoted = status.get("quoted_status")
    if quoted is not None:
        post["quote_of"] = _v11(builder, quoted, f"{path}.quoted_status", depth + 1)
    elif status.get("quoted_status_id_str") or (
        status.get("is_quote_status") and status.get("quoted_status_id")
    ):
        quoted_id = as_id(
            status.get("quoted_status_id_str", status.get("quoted_status_id")),
            "x",
            f"{path}.quoted_status_id_str",
        )
        post["quote_of"] = quoted_id
        builder.placeholder(quoted_id)
    reply_to = status.get(
        "in_reply_to_status_id_str", status.get("in_reply_to_status_id")
    )
    if reply_to is not None:
        reply_id = as_id(reply_to, "x", f"{path}.in_reply_to_status_id_str")
        if "retweet_of" not in post and _LEGACY_RT.match(text):
            # old clients set in_reply_to on a retweet they wrote by hand: it names the original
            post["retweet_of"] = reply_id
        else:
            post["in_reply_to"] = reply_id
            name = status.get("in_reply_to_screen_name")
            builder.placeholder(
                reply_id, f"@{name}" if isinstance(name, str) and name else None
            )
    post["kind"] = _kind(post)
    if "retweet_of" not in post or post["retweet_of"] not in builder:
        # a hand-made retweet: rebuild the original (under the id an old client named)
        _legacy(builder, post, path)
    builder.add(post, path)
    return pid


def _v11_text(status: Mapping[str, Any], path: str) -> str:
    extended = status.get("extended_tweet")
    if isinstance(extended, Mapping) and isinstance(extended.get("full_text"), str):
        return html.unescape(extended["full_text"])
    for key in ("full_text", "text"):
        if key in status:
            return html.unescape(opt_str(status[key], "x", f"{path}.{key}") or "")
    raise PayloadError("x", f"{path}.text", "missing (neither `text` nor `full_text`)")


def _v11_media(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, Mapping) or not isinstance(value.get("media"), list):
        return []
    return [
        {
            "type": _MEDIA_TYPES.get(str(item.get("type")), "other"),
            "url": item.get("media_url_https") or item.get("media_url"),
            "alt_text": item.get("ext_alt_text"),
        }
        for item in value["media"]
        if isinstance(item, Mapping)
    ]


# --- retweets written by hand ----------------------------------------------------


def _legacy(builder: ThreadBuilder, post: PostDraft, path: str) -> None:
    """
    Read ``RT @user: text`` as a retweet of an original rebuilt from the text.

    The original gets the id the post names (an old client's in_reply_to), else a stable
    id made from its author and words, so that every hand-made retweet of one post in a
    storm points at the same original.
    """
    text = post["text"]
    match = _LEGACY_RT.match(text)
    field = "retweet_of"
    if match is None:
        match = _INLINE_RT.search(text)
        if match is None or post.get("quote_of") or post.get("in_reply_to"):
            return
        field = "quote_of"
    author = f"@{match.group(1)}"
    rest = text[match.end() :]
    if rest.endswith("…"):  # X cut it: the start is still the same original
        rest = rest[:-1].rstrip()
    if not rest.strip():
        return
    original = post.get("retweet_of")
    if original is None:
        # the same post in the payload (a native retweet's original): one crowd, not two
        original = builder.find(author, rest, prefix=text.endswith("…"))
    if original is None:
        digest = hashlib.blake2b(
            f"{author.lower()}\x00{rest}".encode(), digest_size=8
        ).hexdigest()
        original = f"rt-{match.group(1).lower()}-{digest}"
    if original not in builder:
        draft: PostDraft = {
            "id": original,
            "author": author,
            "text": rest,
            "kind": "original",
        }
        _legacy(builder, draft, path)  # "RT @a: RT @b: ..." is a chain
        builder.add(draft, path)
    post[field] = original
    post["kind"] = "retweet" if field == "retweet_of" else "quote"
