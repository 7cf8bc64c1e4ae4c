"""
Mastodon payloads into threads: statuses, contexts and notifications.

`from_mastodon` reads one Status (``GET /api/v1/statuses/:id``), optionally with its
context (``GET /api/v1/statuses/:id/context``), or one Notification, and returns the
`Thread` around it; `threads_from_mastodon` reads a page of notifications (API v1, or
the grouped notifications of API v2) or of statuses (a timeline) and returns a thread
for each post in it. Both take the parsed JSON, JSON text, or what Mastodon.py returns.

How the Mastodon model maps onto the thread format:

* a boost (``reblog`` set) is a post of kind ``retweet`` by the booster, `retweet_of`
  the boosted status; a ``reblog`` notification becomes such a post too, with the id
  ``<status id>#reblog-by-<account id>``;
* ``in_reply_to_id`` makes a ``reply``; the parent, when the payload does not hold it,
  is a placeholder (``missing: true``) whose author comes from ``mentions[]``;
* a quote (Mastodon 4.5+ ``quote: {state, quoted_status}``, or the ``quote`` status /
  ``quote_id`` of forks) makes a ``quote`` (or a ``reply`` with `quote_of` set when it
  replies too); a quote that is not ``accepted`` is a placeholder, and one whose id is
  unknown gets the id ``<status id>#quote``;
* every handle is written in full, ``@user@domain``, the domain of a local account taken
  from its profile URL, so that brand handles match in either form (``@acme`` or
  ``@acme@mastodon.social``);
* the HTML ``content`` becomes plain text (`html_to_text`), with the content warning
  (``spoiler_text``) in front: ``CW: <warning>`` and a blank line. The warning is part
  of what the author says, and often the part that matters ("grief", "death").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any, Final, Literal
from urllib.parse import urlsplit

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

__all__ = ["from_mastodon", "html_to_text", "threads_from_mastodon"]

_P: Final = "mastodon"

_POST_NOTIFICATIONS: Final = frozenset({"mention", "status", "update", "quote"})
"""Notification types whose status is the post the bot would answer."""

_VISIBILITIES: Final = frozenset({"public", "unlisted", "private", "direct"})
_MEDIA_TYPES: Final = {
    "image": "image",
    "video": "video",
    "gifv": "gif",
    "gif": "gif",
    "audio": "audio",
}

# --- HTML -------------------------------------------------------------------------------

_DROPPED: Final = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "object",
        "noscript",
        "svg",
        "math",
        "noembed",
        "noframes",
    }
)
"""Elements whose content is never text a reader sees: dropped whole."""
_BLOCKS: Final = frozenset(
    {
        "p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "section", "article", "header", "footer", "figure", "hr",
    }
)  # fmt: skip
_LINES: Final = frozenset({"li", "tr", "dt", "dd", "figcaption"})
_VOID: Final = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_SPACES: Final = re.compile(r"[ \t\n\r\f\v]+")


class _Anchor:
    __slots__ = ("classes", "href", "parts", "rel")

    def __init__(self, href: str, classes: frozenset[str], rel: frozenset[str]) -> None:
        self.href = href
        self.classes = classes
        self.rel = rel
        self.parts: list[str] = []


class _Renderer(HTMLParser):
    """One pass over a status's HTML: plain text plus the links it points to."""

    def __init__(self, mentions: Mapping[str, str], *, drop_quote_inline: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._mentions = mentions
        self._drop_quote_inline = drop_quote_inline
        self._parts: list[str] = []
        self._pending = 0  # newlines owed before the next text
        self._skip_tag: str | None = None  # inside a dropped element: its tag ...
        self._skip_depth = 0  # ... and how deep
        self._pre = 0
        self._anchor: _Anchor | None = None
        self.links: list[str] = []

    # -- output

    def _write(self, text: str) -> None:
        if not self._pre:
            text = _SPACES.sub(" ", text)
        at_line_start = (
            not self._parts or self._pending > 0 or self._parts[-1].endswith("\n")
        )
        if at_line_start and not self._pre:
            text = text.lstrip(" ")
        if not text:
            return
        if self._pending and self._parts:
            self._parts[-1] = self._parts[-1].rstrip(" ")
            self._parts.append("\n" * self._pending)
        self._pending = 0
        self._parts.append(text)

    def _break(self, newlines: int) -> None:
        if self._anchor is None:
            self._pending = max(self._pending, newlines)

    def text(self) -> str:
        """Return the text rendered so far."""
        self._close_anchor()
        return "".join(self._parts).rstrip()

    # -- links

    def _close_anchor(self) -> None:
        anchor, self._anchor = self._anchor, None
        if anchor is None:
            return
        shown = _SPACES.sub(" ", "".join(anchor.parts)).strip()
        href = anchor.href
        handle = self._mentions.get(href)
        if (
            shown.startswith("@")
            and (handle or "mention" in anchor.classes)
            and "hashtag" not in anchor.classes
        ):
            self._write(handle or _handle_from_link(shown, href))
            return
        if "hashtag" in anchor.classes or "tag" in anchor.rel:
            self._write(shown)
            return
        if href.startswith(("http://", "https://")) and href not in self.links:
            self.links.append(href)
        self._write(shown)

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element (called by `HTMLParser`)."""
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
                return
            if not (self._skip_tag == "p" and tag in _BLOCKS):
                return
            self._skip_tag, self._skip_depth = None, 0  # a block closes an open <p>
        attributes = dict(attrs)
        classes = frozenset((attributes.get("class") or "").split())
        if tag in _DROPPED or (self._drop_quote_inline and "quote-inline" in classes):
            if tag not in _VOID:
                self._skip_tag, self._skip_depth = tag, 1
            return
        if tag == "br":
            if self._anchor is not None:
                self._anchor.parts.append(" ")
            elif self._parts:
                self._pending += 1
        elif tag in _BLOCKS:
            self._break(2)
            if tag == "pre":
                self._pre += 1
        elif tag in _LINES:
            self._break(1)
        elif tag == "a":
            self._close_anchor()
            rel = frozenset((attributes.get("rel") or "").split())
            self._anchor = _Anchor((attributes.get("href") or "").strip(), classes, rel)
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt and (
                "emoji" in classes or "custom-emoji" in classes or alt.startswith(":")
            ):
                self.handle_data(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open and close an element written ``<x/>`` (called by `HTMLParser`)."""
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close an element (called by `HTMLParser`)."""
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag == "a":
            self._close_anchor()
        elif tag in _BLOCKS:
            if tag == "pre" and self._pre:
                self._pre -= 1
            self._break(2)
        elif tag in _LINES:
            self._break(1)

    def handle_data(self, data: str) -> None:
        """Take text (called by `HTMLParser`; entities already decoded)."""
        if self._skip_tag is not None:
            return
        if self._anchor is not None:
            self._anchor.parts.append(data)
        else:
            self._write(data)


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def _handle_from_link(shown: str, href: str) -> str:
    # "@user" shown, the domain from the link: a mention the payload's `mentions` lacks
    name = shown.lstrip("@")
    if "@" in name:
        return "@" + name
    host = _host(href)
    return f"@{name}@{host}" if host else "@" + name


def _render(
    html: str, mentions: Mapping[str, str], *, drop_quote_inline: bool
) -> tuple[str, list[str]]:
    parser = _Renderer(mentions, drop_quote_inline=drop_quote_inline)
    parser.feed(html)
    parser.close()
    return parser.text(), parser.links


def html_to_text(
    html: str,
    *,
    mentions: Mapping[str, str] | None = None,
    drop_quote_inline: bool = False,
) -> str:
    r"""
    Return the plain text of a Mastodon status's HTML ``content``.

    Paragraphs are separated by a blank line and ``<br>`` is a newline; entities are
    decoded. Links keep their full address (the ``invisible`` spans Mastodon hides
    are part of it). A mention link becomes the full handle ``@user@domain`` (through
    `mentions`, else the link's host); hashtags stay ``#tag`` and custom emoji
    ``:shortcode:``. What a reader never sees is dropped whole: ``<script>``,
    ``<style>``, ``<template>``, ``<iframe>``, ``<object>`` and the like.

    Args:
        html: the ``content`` field.
        mentions: profile URL -> full handle, for the status's ``mentions[]``.
        drop_quote_inline: drop the ``quote-inline`` fallback ("RE: <link>") that
            servers put in front of a quote post's text.

    Raises:
        ValueError: the HTML parser gave up on the input.

    >>> html_to_text('<p>Hi <a href="https://m.example/@bo" class="u-url mention">'
    ...              '@<span>bo</span></a></p><p>Read <a href="https://x.example/a">'
    ...              '<span class="invisible">https://</span>x.example/a</a><br>:wave:</p>'
    ...              '<script>alert(1)</script>')
    'Hi @bo@m.example\n\nRead https://x.example/a\n:wave:'
    """
    try:
        text, _ = _render(html, mentions or {}, drop_quote_inline=drop_quote_inline)
    except (
        AssertionError
    ) as exc:  # old HTMLParser versions assert on some malformed markup
        raise ValueError(f"cannot parse the HTML: {exc}") from None
    return text


# --- reading fields ---------------------------------------------------------------------


def _need_str(value: Any, path: str) -> str:
    text = opt_str(value, _P, path)
    if not text:
        raise PayloadError(
            _P,
            path,
            "expected a non-empty string, found " + ("null" if text is None else "''"),
        )
    return text


def _kind_of(
    data: Mapping[str, Any],
) -> Literal["status", "notification", "context", "groups"] | None:
    if "notification_groups" in data:
        return "groups"
    if "ancestors" in data or "descendants" in data:
        return "context"
    if "account" in data and ("content" in data or "reblog" in data):
        return "status"
    if "type" in data and ("account" in data or "status" in data):
        return "notification"
    return None


class _Reader:
    """Reads Mastodon entities into one `ThreadBuilder`."""

    def __init__(self, builder: ThreadBuilder) -> None:
        self.builder = builder
        # id() of an account mapping (alive as long as the payload) -> its full handle
        self._handles: dict[int, str] = {}

    # -- accounts

    def handle(self, account: Any, path: str) -> str:
        """Return an account's full handle, ``@user@domain``."""
        data = need_mapping(account, _P, path, "an account")
        known = self._handles.get(id(data))
        if known is not None:
            return known
        acct = _need_str(data.get("acct"), f"{path}.acct").strip().lstrip("@")
        if "@" not in acct:
            host = _host(opt_str(data.get("url"), _P, f"{path}.url")) or _host(
                opt_str(data.get("uri"), _P, f"{path}.uri")
            )
            if host:
                acct = f"{acct}@{host}"
        handle = "@" + acct
        self._handles[id(data)] = handle
        return handle

    def _mentions(
        self, status: Mapping[str, Any], path: str
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Return the mentions as (profile URL -> handle, account id -> handle)."""
        by_url: dict[str, str] = {}
        by_id: dict[str, str] = {}
        raw = status.get("mentions")
        if raw is None:
            return by_url, by_id
        for index, item in enumerate(need_list(raw, _P, f"{path}.mentions")):
            where = f"{path}.mentions[{index}]"
            mention = need_mapping(item, _P, where, "a mention")
            url = opt_str(mention.get("url"), _P, f"{where}.url")
            if "acct" not in mention and "username" in mention:
                acct = _need_str(mention.get("username"), f"{where}.username")
            else:
                acct = _need_str(mention.get("acct"), f"{where}.acct")
            acct = acct.strip().lstrip("@")
            if "@" not in acct and (host := _host(url)):
                acct = f"{acct}@{host}"
            handle = "@" + acct
            if url:
                by_url[url] = handle
            if mention.get("id") is not None:
                by_id[as_id(mention["id"], _P, f"{where}.id")] = handle
        return by_url, by_id

    # -- statuses

    def status(self, raw: Any, path: str) -> str:
        """Add a status (and what it embeds) to the builder; return its id."""
        status = need_mapping(raw, _P, path, "a status")
        sid = as_id(status.get("id"), _P, f"{path}.id")
        account = need_mapping(
            status.get("account"), _P, f"{path}.account", "an account"
        )
        author = self.handle(account, f"{path}.account")
        post: PostDraft = {
            "id": sid,
            "author": author,
            "author_name": opt_str(
                account.get("display_name"), _P, f"{path}.account.display_name"
            )
            or None,
            "author_followers": opt_int(account.get("followers_count")),
            "created_at": parse_time(
                status.get("created_at"), _P, f"{path}.created_at"
            ),
            "url": opt_str(status.get("url"), _P, f"{path}.url")
            or opt_str(status.get("uri"), _P, f"{path}.uri"),
        }
        visibility = opt_str(status.get("visibility"), _P, f"{path}.visibility")
        if visibility in _VISIBILITIES:
            post["visibility"] = visibility

        reblog = status.get("reblog")
        if reblog is not None:
            boosted = self.status(reblog, f"{path}.reblog")
            content = opt_str(status.get("content"), _P, f"{path}.content") or ""
            text, _ = (
                self._text(status, content, {}, path, drop_quote_inline=False)
                if content
                else ("", [])
            )
            post.update(kind="retweet", retweet_of=boosted, text=text)
            self.builder.add(post, path)
            return sid

        by_url, by_id = self._mentions(status, path)
        account_id = account.get("id")
        if account_id is not None:
            by_id.setdefault(as_id(account_id, _P, f"{path}.account.id"), author)

        parent: str | None = None
        if status.get("in_reply_to_id") is not None:
            parent = as_id(status["in_reply_to_id"], _P, f"{path}.in_reply_to_id")
            parent_account = status.get("in_reply_to_account_id")
            parent_author = None
            if parent_account is not None:
                parent_author = by_id.get(
                    as_id(parent_account, _P, f"{path}.in_reply_to_account_id")
                )
            self.builder.placeholder(parent, parent_author)
        quoted = self._quote(status, sid, path)

        raw_content = status.get("content")
        if raw_content is None and "content" not in status:
            raise PayloadError(
                _P, f"{path}.content", "expected a string, found nothing"
            )
        text, links = self._text(
            status,
            opt_str(raw_content, _P, f"{path}.content") or "",
            by_url,
            path,
            drop_quote_inline=quoted is not None,
        )
        card = status.get("card")
        if card is not None:
            card_url = opt_str(
                need_mapping(card, _P, f"{path}.card").get("url"),
                _P,
                f"{path}.card.url",
            )
            if card_url and card_url not in links:
                links.append(card_url)
        post.update(
            kind="reply" if parent else ("quote" if quoted else "original"),
            in_reply_to=parent,
            quote_of=quoted,
            text=text,
            links=tuple(links),
            media=self._media(status, path),
            lang=opt_str(status.get("language"), _P, f"{path}.language") or None,
        )
        counts = ("reblogs_count", "favourites_count", "replies_count", "quotes_count")
        if any(key in status for key in counts):
            post["metrics"] = {
                "retweets": opt_int(status.get("reblogs_count")) or 0,
                "likes": opt_int(status.get("favourites_count")) or 0,
                "replies": opt_int(status.get("replies_count")) or 0,
                "quotes": opt_int(status.get("quotes_count")) or 0,
            }
        self.builder.add(post, path)
        return sid

    def _text(
        self,
        status: Mapping[str, Any],
        content: str,
        mentions: Mapping[str, str],
        path: str,
        *,
        drop_quote_inline: bool,
    ) -> tuple[str, list[str]]:
        try:
            text, links = _render(
                content, mentions, drop_quote_inline=drop_quote_inline
            )
        except AssertionError as exc:
            raise PayloadError(
                _P, f"{path}.content", f"cannot parse the HTML: {exc}"
            ) from None
        warning = (
            opt_str(status.get("spoiler_text"), _P, f"{path}.spoiler_text") or ""
        ).strip()
        if warning:
            text = f"CW: {warning}\n\n{text}" if text else f"CW: {warning}"
        return text, links

    def _quote(self, status: Mapping[str, Any], sid: str, path: str) -> str | None:
        """Read the quote a status carries, in any of its forms; return the quoted id."""
        quote = status.get("quote")
        where = f"{path}.quote"
        fork = status.get("pleroma")
        if (
            quote is None
            and isinstance(fork, Mapping)
            and fork.get("quote") is not None
        ):
            quote, where = fork["quote"], f"{path}.pleroma.quote"
        if quote is not None:
            data = need_mapping(quote, _P, where, "a quote")
            if (
                _kind_of(data) == "status"
            ):  # Fedibird, Glitch, Akkoma: the quoted status itself
                return self.status(data, where)
            # Mastodon 4.5+: Quote {state, quoted_status} or ShallowQuote {state, quoted_status_id}
            state = opt_str(data.get("state"), _P, f"{where}.state")
            inner = data.get("quoted_status")
            if inner is not None and state in (None, "accepted"):
                return self.status(inner, f"{where}.quoted_status")
            known, author = None, None
            if inner is not None:
                inner_data = need_mapping(
                    inner, _P, f"{where}.quoted_status", "a status"
                )
                known = as_id(inner_data.get("id"), _P, f"{where}.quoted_status.id")
                if inner_data.get("account") is not None:
                    author = self.handle(
                        inner_data["account"], f"{where}.quoted_status.account"
                    )
            elif data.get("quoted_status_id") is not None:
                known = as_id(data["quoted_status_id"], _P, f"{where}.quoted_status_id")
            elif status.get("quote_id") is not None:
                known = as_id(status["quote_id"], _P, f"{path}.quote_id")
            quoted = known or f"{sid}#quote"
            self.builder.placeholder(quoted, author)
            return quoted
        for holder, name, at in (
            (status, "quote_id", f"{path}.quote_id"),
            (fork, "quote_id", f"{path}.pleroma.quote_id"),
        ):
            if isinstance(holder, Mapping) and holder.get(name) is not None:
                quoted = as_id(holder[name], _P, at)
                self.builder.placeholder(quoted)
                return quoted
        return None

    def _media(self, status: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
        raw = status.get("media_attachments")
        if raw is None:
            return []
        media = []
        for index, item in enumerate(need_list(raw, _P, f"{path}.media_attachments")):
            where = f"{path}.media_attachments[{index}]"
            attachment = need_mapping(item, _P, where, "a media attachment")
            kind = opt_str(attachment.get("type"), _P, f"{where}.type") or "unknown"
            url = opt_str(attachment.get("url"), _P, f"{where}.url") or opt_str(
                attachment.get("remote_url"), _P, f"{where}.remote_url"
            )
            media.append(
                {
                    "type": _MEDIA_TYPES.get(kind, "other"),
                    "url": url,
                    "alt_text": opt_str(
                        attachment.get("description"), _P, f"{where}.description"
                    )
                    or None,
                }
            )
        return media

    # -- notifications

    def notification(self, raw: Any, path: str, *, refuse: bool) -> str | None:
        """Add a notification's posts; return the target id (None: not about a post)."""
        data = need_mapping(raw, _P, path, "a notification")
        kind = _need_str(data.get("type"), f"{path}.type")
        if kind in _POST_NOTIFICATIONS:
            if data.get("status") is None:
                raise PayloadError(
                    _P,
                    f"{path}.status",
                    f"a `{kind}` notification needs its status, found null",
                )
            return self.status(data["status"], f"{path}.status")
        if kind == "reblog":
            if data.get("status") is None:
                raise PayloadError(
                    _P,
                    f"{path}.status",
                    "a `reblog` notification needs its status, found null",
                )
            boosted = self.status(data["status"], f"{path}.status")
            account = need_mapping(
                data.get("account"), _P, f"{path}.account", "an account"
            )
            when = parse_time(data.get("created_at"), _P, f"{path}.created_at")
            return self.boost(boosted, account, f"{path}.account", when, path)
        if refuse:
            raise PayloadError(
                _P,
                f"{path}.type",
                f"a `{kind}` notification is not a post: there is nothing to reply to "
                "(threads_from_mastodon skips these)",
            )
        return None

    def boost(
        self,
        boosted: str,
        account: Mapping[str, Any],
        account_path: str,
        when: Any,
        path: str,
    ) -> str:
        booster = as_id(account.get("id"), _P, f"{account_path}.id")
        post_id = f"{boosted}#reblog-by-{booster}"
        self.builder.add(
            {
                "id": post_id,
                "author": self.handle(account, account_path),
                "author_name": opt_str(
                    account.get("display_name"), _P, f"{account_path}.display_name"
                )
                or None,
                "author_followers": opt_int(account.get("followers_count")),
                "text": "",
                "kind": "retweet",
                "retweet_of": boosted,
                "created_at": when,
            },
            path,
        )
        return post_id

    def groups(self, data: Mapping[str, Any]) -> list[tuple[str, ThreadBuilder | None]]:
        """
        Read grouped notifications (API v2); return a target for each post group.

        A ``reblog`` group comes with a builder of its own, holding the boosted status
        and one boost for each sampled account (the crowd, built whole); other groups'
        posts go into this reader's builder.
        """
        statuses: dict[str, tuple[Mapping[str, Any], str]] = {}
        accounts: dict[str, tuple[Mapping[str, Any], str]] = {}
        for key, table, what in (
            ("statuses", statuses, "a status"),
            ("accounts", accounts, "an account"),
            ("partial_accounts", accounts, "an account"),
        ):
            for index, item in enumerate(
                need_list(data.get(key) or [], _P, f"$.{key}")
            ):
                where = f"$.{key}[{index}]"
                entry = need_mapping(item, _P, where, what)
                table[as_id(entry.get("id"), _P, f"{where}.id")] = (entry, where)
        for entry, where in statuses.values():  # posts the other groups may refer to
            self.status(entry, where)
        out: list[tuple[str, ThreadBuilder | None]] = []
        groups = need_list(data.get("notification_groups"), _P, "$.notification_groups")
        for index, item in enumerate(groups):
            where = f"$.notification_groups[{index}]"
            group = need_mapping(item, _P, where, "a notification group")
            kind = _need_str(group.get("type"), f"{where}.type")
            if kind not in _POST_NOTIFICATIONS and kind != "reblog":
                continue
            status_id = as_id(group.get("status_id"), _P, f"{where}.status_id")
            if status_id not in statuses:
                raise PayloadError(
                    _P, f"{where}.status_id", f"no status `{status_id}` in `$.statuses`"
                )
            entry, entry_path = statuses[status_id]
            if kind != "reblog":
                out.append((self.status(entry, entry_path), None))
                continue
            crowd = _Reader(ThreadBuilder(_P, self.builder.brand_handles))
            sid = crowd.status(entry, entry_path)
            samples = need_list(
                group.get("sample_account_ids") or [], _P, f"{where}.sample_account_ids"
            )
            when = parse_time(
                group.get("latest_page_notification_at"),
                _P,
                f"{where}.latest_page_notification_at",
            )
            first: str | None = None
            for number, raw_id in enumerate(samples):
                at = f"{where}.sample_account_ids[{number}]"
                account_id = as_id(raw_id, _P, at)
                if account_id not in accounts:
                    raise PayloadError(
                        _P, at, f"no account `{account_id}` in `$.accounts`"
                    )
                account, account_path = accounts[account_id]
                # the most recent booster comes first, at the group's latest time
                post_id = crowd.boost(
                    sid, account, account_path, None if first else when, where
                )
                first = first or post_id
            if first is None:
                raise PayloadError(
                    _P,
                    f"{where}.sample_account_ids",
                    "a `reblog` group needs its accounts",
                )
            out.append((first, crowd.builder))
        return out


# --- entry points -----------------------------------------------------------------------


def _payload_error_at(exc: PayloadError, prefix: str) -> PayloadError:
    message = exc.problems[0][len(exc.path) + 2 :]  # problems[0] is `path: message`
    return PayloadError(_P, prefix + exc.path, message)


def _read_context(reader: _Reader, data: Any, prefix: str) -> None:
    context = need_mapping(
        data, _P, prefix + "$", "a context ({ancestors, descendants})"
    )
    for key in ("ancestors", "descendants"):
        items = need_list(context.get(key) or [], _P, f"{prefix}$.{key}")
        for index, item in enumerate(items):
            reader.status(item, f"{prefix}$.{key}[{index}]")


def from_mastodon(
    payload: object,
    *,
    brand_handles: Iterable[str] = (),
    context: object = None,
    target: str | int | None = None,
) -> Thread:
    """
    Return the thread around one Mastodon status or notification.

    Args:
        payload: a Status, a Notification (``mention``, ``status``, ``update``,
            ``quote`` or ``reblog``), a status context (with `target`), or grouped
            notifications holding one post group; as parsed JSON, JSON text, or the
            dict Mastodon.py returns.
        brand_handles: the brand's handles, ``@acme`` or ``@acme@mastodon.social``.
        context: the ``GET /api/v1/statuses/:id/context`` output for the status:
            its ancestors and descendants all become posts of the thread.
        target: the id of the post to answer; by default the status, or for a
            ``reblog`` notification the boost. Required when `payload` is a context.

    Returns:
        The thread, ``platform="mastodon"``, every handle as ``@user@domain``.

    Raises:
        PayloadError: the payload is not a Mastodon post (another platform's, a
            ``favourite`` or ``follow`` notification, ...) or a field is missing or of
            the wrong type; the message names the JSON path. Paths into `context`
            start ``context:$``.

    Example:
        >>> status = {"id": "7", "content": "<p>Hello @acme</p>", "account": {
        ...     "id": "1", "acct": "ann", "url": "https://mastodon.social/@ann"}}
        >>> thread = from_mastodon(status, brand_handles=["@acme"])
        >>> thread.target_post.author, thread.target_post.kind
        ('@ann@mastodon.social', 'original')
    """
    data = load_payload(payload, _P)
    refuse_other_platform(data, _P)
    builder = ThreadBuilder(_P, brand_handles)
    reader = _Reader(builder)
    keep: Literal["chain", "all"] = "chain"
    if isinstance(data, list):
        raise PayloadError(
            _P,
            "$",
            "a list of posts: use threads_from_mastodon, which returns a thread for each",
        )
    data = need_mapping(data, _P, "$", "a Mastodon status, notification or context")
    kind = _kind_of(data)
    default: str | None = None
    if kind == "status":
        default = reader.status(data, "$")
    elif kind == "notification":
        default = reader.notification(data, "$", refuse=True)
    elif kind == "context":
        if context is not None:
            raise PayloadError(
                _P,
                "$",
                "the payload is a context already: pass the status with context=",
            )
        _read_context(reader, data, "")
        keep = "all"
    elif kind == "groups":
        found = reader.groups(data)
        if len(found) != 1:
            raise PayloadError(
                _P,
                "$.notification_groups",
                f"{len(found)} notification groups about posts: use threads_from_mastodon",
            )
        default, crowd = found[0]
        if crowd is not None:
            builder, reader, keep = crowd, _Reader(crowd), "all"
    else:
        raise PayloadError(
            _P,
            "$",
            "not a Mastodon status (id, account, content), notification (type, status) or context",
        )
    if context is not None:
        try:
            context_data = load_payload(context, _P)
        except PayloadError as exc:
            raise _payload_error_at(exc, "context:") from None
        _read_context(reader, context_data, "context:")
        keep = "all"
    if target is not None:
        goal = as_id(target, _P, "target")
    elif default is not None:
        goal = default
    else:
        raise PayloadError(
            _P, "$", "a context holds no target: name the status to answer with target="
        )
    return builder.build(goal, keep=keep)


def threads_from_mastodon(
    payload: object, *, brand_handles: Iterable[str] = ()
) -> list[Thread]:
    """
    Return a thread for each post in a page of Mastodon notifications or statuses.

    Notifications that are not about a post (``favourite``, ``follow``, ``poll``,
    ``admin.*``, ...) are skipped; a post named by several notifications (a mention,
    then its ``update``) gives one thread. Posts of the page that refer to each other
    (a reply and its parent) appear in each other's threads instead of placeholders.

    Args:
        payload: a list of Notifications or Statuses (``GET /api/v1/notifications``, a
            timeline), grouped notifications (``GET /api/v2/notifications``), a
            status context (a thread for each of its statuses), or one notification or
            status; parsed JSON, JSON text or Mastodon.py's objects.
        brand_handles: the brand's handles, ``@acme`` or ``@acme@mastodon.social``.

    Returns:
        The threads, in the order of the page.

    Raises:
        PayloadError: the payload is not Mastodon's, or a field is missing or of the
            wrong type (the message names the JSON path).

    Example:
        >>> page = [{"id": "3", "type": "favourite", "account": {"id": "1", "acct": "a"}}]
        >>> threads_from_mastodon(page)
        []
    """
    data = load_payload(payload, _P)
    refuse_other_platform(data, _P)
    builder = ThreadBuilder(_P, brand_handles)
    reader = _Reader(builder)
    targets: list[tuple[str, ThreadBuilder | None]] = []
    if isinstance(data, Mapping) and _kind_of(data) == "groups":
        targets = reader.groups(data)
    else:
        entries: list[tuple[Any, str]]
        if isinstance(data, list):
            entries = [(raw, f"$[{index}]") for index, raw in enumerate(data)]
        elif isinstance(data, Mapping) and _kind_of(data) == "context":
            # a context is a page of statuses too: one thread for each, in the
            # conversation's order (their parents among them, not placeholders)
            entries = [
                (raw, f"$.{key}[{index}]")
                for key in ("ancestors", "descendants")
                for index, raw in enumerate(
                    need_list(data.get(key) or [], _P, f"$.{key}")
                )
            ]
        else:
            entries = [(data, "$")]
        for raw, path in entries:
            item = need_mapping(raw, _P, path, "a Mastodon status or notification")
            kind = _kind_of(item)
            if kind == "status":
                targets.append((reader.status(item, path), None))
            elif kind == "notification":
                found = reader.notification(item, path, refuse=False)
                if found is not None:
                    targets.append((found, None))
            else:
                raise PayloadError(
                    _P,
                    path,
                    "not a Mastodon status (id, account, content) or notification (type)",
                )
    threads: list[Thread] = []
    seen: set[str] = set()
    for goal, crowd in targets:
        if goal in seen:
            continue
        seen.add(goal)
        if (
            crowd is not None
        ):  # a reblog group: the boosted post and every sampled boost
            threads.append(crowd.build(goal, keep="all"))
        else:
            threads.append(builder.build(goal))
    return threads
