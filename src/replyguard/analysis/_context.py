"""What every analyzer reads: the thread, the reply, the brand and the time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from replyguard.analysis._text import content_text, own_words
from replyguard.models import Post, Reply, Thread

if TYPE_CHECKING:
    from replyguard.analysis.reader import Reader, Reading

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
    derive_names: bool = True

    @classmethod
    def build(
        cls,
        *,
        handles: tuple[str, ...] | list[str] = (),
        names: tuple[str, ...] | list[str] = (),
        derive_names: bool = True,
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
        return cls(
            handles=keys, names=cleaned, pattern=pattern, derive_names=derive_names
        )


@dataclass
class AnalysisContext:
    """The input of one analysis: pure data, plus per-review caches."""

    thread: Thread
    reply: Reply | None
    brand: Brand
    now: datetime | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    reader: Reader | None = None
    _content: dict[str, str] = field(default_factory=dict, repr=False)
    _readings: dict[str, Reading] = field(default_factory=dict, repr=False)
    _by_post: dict[str, Reading] = field(default_factory=dict, repr=False)
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
        """
        Return the pattern of the brand's names and of the names its handles carry.

        The policy's names, plus coined names read off the brand's handles
        (``@SkyLoftHelp`` -> "SkyLoft", ``@BeanStreetCares`` -> "BeanStreet").
        """
        handles = self.brand_handles if self.brand.derive_names else frozenset()
        return names_pattern(self.brand.names, handles)

    def content(self, post: Post) -> str:
        """Return a post's comparable content, computed once per distinct text."""
        cached = self._content.get(post.text)
        if cached is None:
            cached = content_text(post.text)
            self._content[post.text] = cached
        return cached

    def reading(self, post: Post) -> Reading:
        """Return the reading of what a post's author wrote themself (read once per text)."""
        assert self.reader is not None  # noqa: S101 - analyze() always sets one
        found = self._by_post.get(post.id)
        if found is not None:
            return found
        found = self._by_post[post.id] = self._own_reading(post)
        return found

    def _own_reading(self, post: Post) -> Reading:
        start, end = own_words(post.text)
        if end <= start or (start, end) == (0, len(post.text)):
            # a retweet's own words are the original's: read what it carries
            return self.read(post.text)
        return self.read(post.text[start:end])

    def read(self, text: str) -> Reading:
        """Return the reading of a text, read once per review (and cached by the reader)."""
        found = self._readings.get(text)
        if found is None:
            assert self.reader is not None  # noqa: S101 - analyze() always sets one
            found = self._readings[text] = self.reader.read(text)
        return found

    def reply_reading(self) -> Reading | None:
        """Return the reading of the proposed reply, if there is one."""
        if self.reply is None:
            return None
        return self.read(self.reply.text)

    def is_brand(self, post: Post) -> bool:
        """Return whether the brand wrote `post`."""
        key = post.author.strip().lstrip("@").lower()
        brand = self.brand_handles
        return key in brand or key.split("@", 1)[0] in brand


_HANDLE_SUFFIX = re.compile(
    r"(?:[_\-]?(?:help|support|cares|care|games|gaming|official|hq|app|team|news|"
    r"service|services|uk|us|usa|air|airlines|global|inc|co|corp|\d+))+$",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def handle_names(handles: frozenset[str]) -> tuple[str, ...]:
    """
    Return brand names read off handles: the handle without its support suffix.

    Only a coined name counts: one that lost a suffix (``SkyLoftHelp`` -> "SkyLoft")
    or is written in CamelCase; a handle that is a plain word (``@bank``) gives none,
    so that "my bank" is not taken as speaking to it. Handles are compared lowercase
    here, so CamelCase is seen only in names a policy gives (`BrandSpec.names`).
    """
    names: set[str] = set()
    for handle in handles:
        local = handle.split("@", 1)[0].split(".", 1)[0]
        stem = _HANDLE_SUFFIX.sub("", local).strip("_-")
        if len(stem) >= 4 and stem != local:
            names.add(stem)
    return tuple(sorted(names))


@lru_cache(maxsize=256)
def names_pattern(
    names: tuple[str, ...], handles: frozenset[str]
) -> re.Pattern[str] | None:
    """Return one pattern for a brand's names and the names its handles carry."""
    found = {n for n in names if n.strip()}
    found.update(handle_names(handles))
    if not found:
        return None
    variants: set[str] = set()
    for name in found:
        variants.add(re.escape(name.strip()).replace(r"\ ", r"\s+"))
        parts = _CAMEL.split(name.strip())
        if len(parts) > 1:
            variants.add(r"\s?".join(re.escape(p) for p in parts))
    alternatives = "|".join(sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<![\w@#./])(?:{alternatives})(?!\w)", re.IGNORECASE)
