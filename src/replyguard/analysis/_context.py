"""What every analyzer reads: the thread, the reply, the brand and the time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from replyguard.analysis._text import content_text
from replyguard.models import Post, Reply, Thread

__all__ = ["AnalysisContext", "Brand"]


@dataclass(frozen=True)
class Brand:
    """
    Who the brand is, prepared once per policy: handles and a name pattern.

    Build it with `Brand.build`; a thread's own ``brand_handles`` override `handles`.
    """

    handles: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    @classmethod
    def build(
        cls,
        *,
        handles: tuple[str, ...] | list[str] = (),
        names: tuple[str, ...] | list[str] = (),
    ) -> Brand:
        """Return a brand from its handles and its names or aliases."""
        keys = frozenset(h.strip().lstrip("@").lower() for h in handles if h.strip())
        cleaned = tuple(n.strip() for n in names if n.strip())
        pattern = None
        if cleaned:
            alternatives = "|".join(
                re.escape(n).replace(r"\ ", r"\s+")
                for n in sorted(cleaned, key=len, reverse=True)
            )
            pattern = re.compile(
                rf"(?<![\w@#]){'(?:' + alternatives + ')'}(?!\w)", re.IGNORECASE
            )
        return cls(handles=keys, names=cleaned, pattern=pattern)


@dataclass
class AnalysisContext:
    """The input of one analysis: pure data, plus per-review caches."""

    thread: Thread
    reply: Reply | None
    brand: Brand
    now: datetime | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    _content: dict[str, str] = field(default_factory=dict, repr=False)
    _handles: frozenset[str] | None = field(default=None, repr=False)

    @property
    def brand_handles(self) -> frozenset[str]:
        """Return the brand's handles: the thread's own, else the policy's."""
        if self._handles is None:
            if self.thread.brand_handles:
                self._handles = frozenset(
                    h.strip().lstrip("@").lower() for h in self.thread.brand_handles
                )
            else:
                self._handles = self.brand.handles
        return self._handles

    @property
    def brand_names(self) -> re.Pattern[str] | None:
        """Return the pattern of the brand's names and aliases, if any."""
        return self.brand.pattern

    def content(self, post: Post) -> str:
        """Return a post's comparable content, computed once per distinct text."""
        cached = self._content.get(post.text)
        if cached is None:
            cached = content_text(post.text)
            self._content[post.text] = cached
        return cached
