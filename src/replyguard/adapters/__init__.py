"""
Platform payloads into replyguard threads: X (v2 and v1.1), Bluesky and Mastodon.

A bot receives the platform's JSON, not a replyguard thread. Each adapter reads its
platform's payloads (or the objects its SDK returns) and builds the `Thread` whose target
is the post the bot is answering, with the chain it sits in::

    from replyguard.adapters.x import from_x
    thread = from_x(payload, brand_handles=["@AcmeBank"])
    decision = guard.review(reply_text, thread)

`from_payload` picks the adapter by the payload's shape when a program handles several
platforms. Every problem is a `PayloadError` naming the platform and the JSON path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from replyguard.adapters._common import Platform, detect_platform, load_payload
from replyguard.errors import PayloadError

if TYPE_CHECKING:
    from replyguard.models import Thread

__all__ = ["PLATFORMS", "detect_platform", "from_payload", "threads_from_payload"]

PLATFORMS: tuple[Platform, ...] = ("x", "bluesky", "mastodon")
"""The platforms with an adapter."""


def _platform(data: Any, platform: str | None) -> Platform:
    if platform is not None:
        if platform not in PLATFORMS:
            raise PayloadError(
                str(platform),
                "$",
                f"no adapter for this platform: choose one of {', '.join(PLATFORMS)}",
            )
        return platform
    found = detect_platform(data)
    if found is None:
        raise PayloadError(
            "unknown",
            "$",
            "cannot tell which platform this payload is from: pass platform= "
            "(x, bluesky or mastodon)",
        )
    return found


def from_payload(
    payload: object,
    *,
    platform: str | None = None,
    brand_handles: Iterable[str] = (),
    target: str | None = None,
) -> Thread:
    """
    Return the thread of one post from a payload of any supported platform.

    Args:
        payload: parsed JSON, JSON text, or an SDK object (see each adapter).
        platform: ``"x"``, ``"bluesky"`` or ``"mastodon"``; by default read from the
            payload's shape (`detect_platform`).
        brand_handles: the brand's own handles on that platform.
        target: the id of the post the bot is answering, when the payload holds several.

    Raises:
        PayloadError: the platform cannot be told, or its adapter refuses the payload.

    >>> thread = from_payload({"id_str": "1", "text": "hi @acme", "user": {"screen_name": "jo"}})
    >>> thread.platform, thread.target
    ('x', '1')
    """
    chosen = _platform(
        load_payload(payload, "unknown") if platform is None else payload, platform
    )
    if platform is None:
        payload = load_payload(payload, chosen)
    if chosen == "x":
        from replyguard.adapters.x import from_x  # noqa: PLC0415

        return from_x(payload, brand_handles=brand_handles, target=target)
    if chosen == "bluesky":
        from replyguard.adapters.bluesky import from_bluesky  # noqa: PLC0415

        return from_bluesky(payload, brand_handles=brand_handles, target=target)
    from replyguard.adapters.mastodon import from_mastodon  # noqa: PLC0415

    return from_mastodon(payload, brand_handles=brand_handles, target=target)


def threads_from_payload(
    payload: object,
    *,
    platform: str | None = None,
    brand_handles: Iterable[str] = (),
) -> list[Thread]:
    """
    Return one thread per post of a page (mentions, notifications, search results).

    The platform is read from the payload unless `platform` is given; see
    `from_payload`.
    """
    chosen = _platform(
        load_payload(payload, "unknown") if platform is None else payload, platform
    )
    if platform is None:
        payload = load_payload(payload, chosen)
    if chosen == "x":
        from replyguard.adapters.x import threads_from_x  # noqa: PLC0415

        return threads_from_x(payload, brand_handles=brand_handles)
    if chosen == "bluesky":
        from replyguard.adapters.bluesky import threads_from_bluesky  # noqa: PLC0415

        return threads_from_bluesky(payload, brand_handles=brand_handles)
    from replyguard.adapters.mastodon import threads_from_mastodon  # noqa: PLC0415

    return threads_from_mastodon(payload, brand_handles=brand_handles)
