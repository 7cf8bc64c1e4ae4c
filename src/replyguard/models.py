"""
The data replyguard reads and returns: threads, replies, signals and decisions.

All models are frozen pydantic models. Threads follow the JSON interchange format of
``docs/threads.md``; `Decision` round-trips through JSON and is the audit record.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

__all__ = [
    "Action",
    "ChainSignals",
    "Decision",
    "DecisionError",
    "Escalation",
    "Evidence",
    "IntentSignals",
    "LanguageSignals",
    "Media",
    "Metrics",
    "PolicyRef",
    "Post",
    "PostKind",
    "Reason",
    "Reply",
    "ReplySignals",
    "SarcasmSignals",
    "Signals",
    "StateSignals",
    "Thread",
    "ToneSignals",
    "TraceEvent",
    "fingerprint",
    "normalize_handle",
    "reply_words",
]

MAX_POST_BYTES = 256 * 1024
"""A post or reply text larger than this (UTF-8) is refused."""

PostKind = Literal["original", "reply", "retweet", "quote"]
POST_KINDS: tuple[str, ...] = ("original", "reply", "retweet", "quote")
REFERENCE_FIELDS: tuple[str, ...] = ("in_reply_to", "retweet_of", "quote_of")
Visibility = Literal["public", "unlisted", "private", "direct"]
"""Who can see a post: Mastodon's four levels (``private`` is followers only)."""


_HANDLE_IN_TEXT = re.compile(r"@[\w.\-]+(?:@[\w.\-]+)?")
_NOT_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=4096)
def reply_words(text: str) -> str:
    """
    Return a reply's words without handles, case, punctuation or spacing.

    ``"@ann Sorry -- we're on it!"`` and ``"@bob sorry, we're on it"`` give the same
    words: the form in which replies are compared for repetition.
    """
    return " ".join(
        _NOT_WORD.sub(" ", _HANDLE_IN_TEXT.sub(" ", text)).casefold().split()
    )


@lru_cache(maxsize=4096)
def fingerprint(text: str) -> str:
    """Return a short hash of `reply_words(text)`: equal for the same words."""
    return hashlib.sha256(reply_words(text).encode()).hexdigest()[:20]


def normalize_handle(handle: str) -> str:
    """
    Return the comparable form of a handle: stripped, lowercase, without ``@``.

    >>> normalize_handle(" @BofA_Help ")
    'bofa_help'
    """
    return handle.strip().lstrip("@").lower()


class Action(StrEnum):
    """
    The four answers a review can give, from least to most severe.

    The set is closed: new behaviour comes through routes, templates and sinks.
    """

    ALLOW = "allow"
    REWRITE = "rewrite"
    ESCALATE = "escalate"
    SUPPRESS = "suppress"

    @property
    def severity(self) -> int:
        """Return the rank used to combine actions: higher wins."""
        return _SEVERITY[self]

    @property
    def sends(self) -> bool:
        """Return whether a reply goes out under this action."""
        return self in (Action.ALLOW, Action.REWRITE)


_SEVERITY = {Action.ALLOW: 0, Action.REWRITE: 1, Action.ESCALATE: 2, Action.SUPPRESS: 3}


def _id_to_str(value: object) -> object:
    # Platform ids arrive as numbers as often as strings; both mean the same post.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PostId = Annotated[str, BeforeValidator(_id_to_str), Field(min_length=1)]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_Model = TypeVar("_Model", bound=BaseModel)
_FIELDS: dict[type[BaseModel], dict[str, Any]] = {}
_set = object.__setattr__


def trusted(cls: type[_Model], **values: Any) -> _Model:
    """
    Return a model built from values replyguard computed itself, without validation.

    The analyzers build a few dozen signal and evidence objects per review; pydantic's
    validation (or even `model_construct`) would be most of a review's cost. Missing
    fields take their defaults. Never use it on data that came from outside.
    """
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = dict(cls.__pydantic_fields__)
    if len(values) != len(fields):
        for name, info in fields.items():
            if name not in values:
                values[name] = info.get_default(call_default_factory=True)
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


class Metrics(BaseModel):
    """Public engagement counts of a post, as the platform reported them."""

    model_config = _FROZEN

    retweets: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    quotes: int = Field(default=0, ge=0)


class Media(BaseModel):
    """An image, video or other attachment of a post or reply."""

    model_config = _FROZEN

    type: Literal["image", "video", "gif", "audio", "other"] = "image"
    url: str | None = None
    alt_text: str | None = None
    text: str | None = None
    """Text rendered into the media: a name printed on a jersey, a burned-in caption."""
    user_content: bool = False
    """Built from what a user supplied (their handle, name or photo): the guard scans
    its `text` like the reply's, and holds it when there is none to scan."""


def _check_text_size(text: str) -> str:
    if len(text) * 4 > MAX_POST_BYTES and len(text.encode("utf-8", "surrogatepass")) > (
        MAX_POST_BYTES
    ):
        msg = f"text is larger than {MAX_POST_BYTES // 1024} KiB of UTF-8"
        raise ValueError(msg)
    return text


class Post(BaseModel):
    """
    One post in a thread: an original, a reply, a retweet (repost, boost) or a quote.

    References (`in_reply_to`, `retweet_of`, `quote_of`) name earlier posts of the same
    thread by id. A post that both replies and quotes is ``kind: reply`` with
    `quote_of` set.
    """

    model_config = _FROZEN

    id: PostId
    author: str = Field(min_length=1)
    author_name: str | None = None
    """The author's display name, when the platform gives one."""
    text: str = ""
    kind: PostKind
    created_at: datetime | None = None
    in_reply_to: PostId | None = None
    retweet_of: PostId | None = None
    quote_of: PostId | None = None
    metrics: Metrics | None = None
    lang: str | None = None
    author_followers: int | None = Field(default=None, ge=0)
    links: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    missing: bool = False
    url: str | None = None
    """The post's web address, when the platform gives one (for the people reviewing)."""
    visibility: Visibility | None = None
    """Who can see the post, when the platform says (Mastodon); None means public."""

    @field_validator("text")
    @classmethod
    def _text_size(cls, text: str) -> str:
        return _check_text_size(text)

    @model_validator(mode="before")
    @classmethod
    def _text_unless_missing(cls, data: Any) -> Any:
        # a placeholder for a deleted or blocked post (`missing: true`) has no text
        if isinstance(data, dict) and "text" not in data and not data.get("missing"):
            msg = "text: field required (only a `missing: true` post may leave it out)"
            raise ValueError(msg)
        return data

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @property
    def handle(self) -> str:
        """Return the author's handle in comparable form (see `normalize_handle`)."""
        return normalize_handle(self.author)

    @property
    def parent_id(self) -> str | None:
        """Return the id of the post this one replies to, retweets or quotes."""
        return self.in_reply_to or self.retweet_of or self.quote_of


class Reply(BaseModel):
    """
    The reply a bot (or a person) proposes to send.

    `Guard.review` and `Reply.model_validate` also take a plain string, which becomes
    ``Reply(text=...)``.
    """

    model_config = _FROZEN

    text: str
    links: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    author: str | None = None
    visibility: Visibility | None = None
    """Who will see the reply, when the bot says (Mastodon's levels); None means public."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data

    @field_validator("text")
    @classmethod
    def _text_size(cls, text: str) -> str:
        return _check_text_size(text)

    @property
    def fingerprint(self) -> str:
        """Return the hash of the reply's words (no handles, case or punctuation)."""
        return fingerprint(self.text)


class Thread(BaseModel):
    """
    The conversation a reply lands in: chronological posts and the target.

    `Thread.model_validate` takes the JSON interchange format. References must name
    earlier posts, ids must be unique, and the target defaults to the last post.
    The resolved `target`, `root` and `parent` are computed once, at validation.
    """

    model_config = _FROZEN

    platform: Literal["x", "bluesky", "mastodon", "other"] = "x"
    brand_handles: tuple[str, ...] = ()
    posts: tuple[Post, ...]
    target: PostId | None = None

    _by_id: dict[str, Post] = PrivateAttr(default=None)  # type: ignore[arg-type]  # set by the validator; a factory costs a signature() per thread
    _target: Post = PrivateAttr()
    _chain: tuple[Post, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check_references(self) -> Thread:
        by_id: dict[str, Post] = {}
        problems: list[str] = []
        if not self.posts:
            problems.append("posts: a thread needs at least one post")
        for index, post in enumerate(self.posts):
            where = f"posts[{index}]"
            if post.id in by_id:
                problems.append(f"{where}.id: duplicate post id `{post.id}`")
            for field in REFERENCE_FIELDS:
                ref = getattr(post, field)
                if ref is None:
                    continue
                if ref == post.id:
                    problems.append(f"{where}.{field}: post `{ref}` refers to itself")
                elif ref not in by_id:
                    later = any(p.id == ref for p in self.posts[index + 1 :])
                    why = (
                        f"post `{ref}` comes later in the thread; posts are chronological"
                        if later
                        else f"unknown post id `{ref}`"
                    )
                    problems.append(f"{where}.{field}: {why}")
            problems.extend(_kind_problems(where, post))
            by_id[post.id] = post
        if self.target is not None and self.target not in by_id:
            problems.append(f"target: unknown post id `{self.target}`")
        if problems or not self.posts:
            raise ValueError("\n".join(problems))
        target = by_id[self.target] if self.target is not None else self.posts[-1]
        chain = [target]
        seen = {target.id}
        while (parent_id := chain[-1].parent_id) is not None and parent_id not in seen:
            seen.add(parent_id)
            chain.append(by_id[parent_id])
        self._by_id = by_id
        self._target = target
        self._chain = tuple(chain)
        return self

    # Derived values live in pydantic's private storage; reading it directly is ~20x
    # faster than the private-attribute `__getattr__`, and conditions read these often.
    def _private(self) -> dict[str, Any]:
        private = self.__pydantic_private__
        if private is None:  # pragma: no cover - always set by the validator
            raise AttributeError("thread is not validated")
        return private

    def post(self, post_id: str) -> Post:
        """
        Return the post with this id.

        Raises:
            KeyError: no post has this id.
        """
        by_id: dict[str, Post] = self._private()["_by_id"]
        return by_id[post_id]

    def get(self, post_id: str | None) -> Post | None:
        """Return the post with this id, or None."""
        by_id: dict[str, Post] = self._private()["_by_id"]
        return None if post_id is None else by_id.get(post_id)

    @property
    def target_post(self) -> Post:
        """Return the post the bot answers (the `target` id resolved)."""
        target: Post = self._private()["_target"]
        return target

    @property
    def root(self) -> Post:
        """Return the top of the target's chain of replies, retweets and quotes."""
        chain: tuple[Post, ...] = self._private()["_chain"]
        return chain[-1]

    @property
    def parent(self) -> Post | None:
        """Return the post the target replies to, retweets or quotes, if any."""
        chain: tuple[Post, ...] = self._private()["_chain"]
        return chain[1] if len(chain) > 1 else None

    @property
    def ancestors(self) -> tuple[Post, ...]:
        """Return the target's chain upward, from its parent to the root."""
        chain: tuple[Post, ...] = self._private()["_chain"]
        return chain[1:]

    @property
    def depth(self) -> int:
        """Return how many steps separate the target from the root."""
        chain: tuple[Post, ...] = self._private()["_chain"]
        return len(chain) - 1

    def original_of(self, post: Post) -> Post:
        """Return the post a retweet or quote carries, or the post itself."""
        ref = post.retweet_of or post.quote_of
        return self.post(ref) if ref is not None else post

    @property
    def crowd(self) -> str:
        """
        Return the id of the post the target's crowd gathers around.

        Everyone retweeting, quoting or replying around one post is one crowd: the
        crowd is the root of the target's chain (what a retweet or quote carries,
        what a reply's chain starts from; an original is its own crowd).
        """
        return self.root.id


def _kind_problems(where: str, post: Post) -> list[str]:
    problems = []
    if post.kind == "retweet" and post.retweet_of is None:
        problems.append(f"{where}.retweet_of: a retweet must name the post it retweets")
    if post.kind == "quote" and post.quote_of is None:
        problems.append(f"{where}.quote_of: a quote must name the post it quotes")
    if post.kind != "retweet" and post.retweet_of is not None:
        problems.append(
            f"{where}.retweet_of: only a post of kind `retweet` can retweet "
            f"(this one is `{post.kind}`)"
        )
    if post.kind in ("original", "retweet") and post.in_reply_to is not None:
        problems.append(
            f"{where}.in_reply_to: a post of kind `{post.kind}` cannot reply; "
            "use kind `reply`"
        )
    if post.kind in ("original", "retweet") and post.quote_of is not None:
        problems.append(
            f"{where}.quote_of: a post of kind `{post.kind}` cannot quote; "
            "use kind `quote`"
        )
    return problems


# ---------------------------------------------------------------------------
# Signals


class Evidence(BaseModel):
    """
    What a signal or reason rests on: a cue, where it was seen, and the text.

    `start` and `end` are character offsets into the post's (or reply's) original text.
    """

    model_config = _FROZEN

    signal: str
    cue: str
    post_id: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = None
    weight: float = 1.0


class _SignalGroup(BaseModel):
    model_config = _FROZEN

    evidence: tuple[Evidence, ...] = ()


class ChainSignals(_SignalGroup):
    """Structure of the thread: who said what to whom, and how far it spread."""

    target_kind: PostKind = "original"
    addressed_to_brand: bool = False
    original_author: str = ""
    is_brand_original: bool = False
    depth: int = 0
    amplification: int = 0
    near_duplicates: int = 0
    brand_posts: int = 0
    brand_in_chain: bool = False
    target_is_brand: bool = False
    target_age: float | None = None
    """Seconds between the target's ``created_at`` and the review (None: unknown)."""


class SarcasmSignals(_SignalGroup):
    """
    How likely the target is sarcastic, and the cues that say so.

    `score` blends the rule cues (`rules`) with the learned model (`model`);
    `detected` is `score` at or above the policy's ``thresholds.sarcasm``.
    """

    score: float = 0.0
    detected: bool = False
    cues: tuple[str, ...] = ()
    rules: float = 0.0
    model: float = 0.0


class ToneSignals(_SignalGroup):
    """The thread's tone: each a score in 0..1; `trend` > 0 when it is heating up."""

    hostility: float = 0.0
    mockery: float = 0.0
    grief: float = 0.0
    crisis: float = 0.0
    activism: float = 0.0
    legal: float = 0.0
    trend: float = 0.0


class IntentSignals(_SignalGroup):
    """
    What the target wants from the brand.

    `opt_out`: the author asked not to be answered ("stop", "#nobot"), in the target
    or in their earlier posts of the thread. `instructions`: the text tries to steer
    the bot ("ignore your rules", "repeat after me", "say X if you're real").
    """

    service_request: float = 0.0
    complaint: float = 0.0
    praise: float = 0.0
    opt_out: float = 0.0
    instructions: float = 0.0


class ReplySignals(_SignalGroup):
    """Properties of the proposed reply, read against the thread."""

    length: int = 0
    mentions: tuple[str, ...] = ()
    repeats_brand_post: float = 0.0
    generic: float = 0.0
    cheer: float = 0.0
    asks_for_private_data: float = 0.0
    pii: float = 0.0
    pii_kinds: tuple[str, ...] = ()
    echoes_user_text: float = 0.0
    hostile_mentions: tuple[str, ...] = ()
    """Hostile handles in the reply other than the target author's (a rewrite can drop them)."""
    claims: float = 0.0
    off_topic: float = 0.0
    hostility: float = 0.0


class LanguageSignals(_SignalGroup):
    """
    The target's language, and whether the analyzers can read it.

    `lang` is an ISO 639-1 code or ``und`` (too little text to tell: treated as
    readable). `covered` is false when the text is in a language the lexicons do not
    cover; the default policy escalates those rather than guessing.
    """

    lang: str = "und"
    confidence: float = 0.0
    script: str = "none"
    covered: bool = True


class StateSignals(_SignalGroup):
    """
    What the state store remembers (all zero when the guard has no store).

    `sent_for_original`: replies sent into the target's crowd (everyone around one
    post) in the last day; `sent_to_author`: to this author in the last day;
    `sent_same_text`: replies with the same words in the last hour.

    The storm breaker: `crowd_inbound` is how many different people posted in the
    crowd within the policy's storm window, `brand_inbound` how many posts reached the
    brand in it, `brand_baseline` the brand's usual number per window (over the
    last day); `storm_level` is the crowd's inbound against the storm threshold (1.0:
    storming), `brand_storm_level` the brand's against its baseline, and `storm_open`
    says the crowd's breaker is open (it closes after the policy's cool-down).

    `paused`: a person paused automated replies (``guard.pause``), with
    `pause_reason`; `blackout`: the id of the policy blackout in force, with its
    `blackout_reason`.
    """

    sent_for_original: int = 0
    sent_to_author: int = 0
    sent_same_text: int = 0
    crowd_inbound: int = 0
    brand_inbound: int = 0
    brand_baseline: float = 0.0
    storm_level: float = 0.0
    brand_storm_level: float = 0.0
    storm_open: bool = False
    paused: bool = False
    pause_reason: str = ""
    blackout: str = ""
    blackout_reason: str = ""


class Signals(BaseModel):
    """Everything the analyzers saw, grouped; policies read these in conditions."""

    model_config = _FROZEN

    chain: ChainSignals = ChainSignals()
    sarcasm: SarcasmSignals = SarcasmSignals()
    tone: ToneSignals = ToneSignals()
    intent: IntentSignals = IntentSignals()
    reply: ReplySignals = ReplySignals()
    language: LanguageSignals = LanguageSignals()
    state: StateSignals = StateSignals()
    analyzers: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# Decisions


class Reason(BaseModel):
    """One matched rule (or an error) and what it asked for."""

    model_config = _FROZEN

    rule: str
    action: Action
    message: str
    evidence: tuple[Evidence, ...] = ()
    route: str | None = None
    priority: str | None = None


class Escalation(BaseModel):
    """
    What a person needs to act on a held reply, in one packet.

    The route names the team (``social-care``, ``pr``, ``legal``, ...), `priority`
    and `sla` how fast it needs them (`due` is when), `summary` a paragraph written
    from the evidence; the packet carries the reasons, the proposed reply and a
    snapshot of the thread (the target and the posts it refers to).

    One crowd escalates once per route and priority (the policy's ``escalations:``);
    later posts of that crowd produce an *update* of the same escalation
    (`update` is true, `escalation_id` is the first one's, `occurrences` counts the
    posts that asked for a person): a sink changes the open item instead of paging
    someone again.
    """

    model_config = _FROZEN

    route: str = "social-care"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    summary: str
    proposed_reply: str
    rules: tuple[str, ...] = ()
    target_id: str | None = None
    crowd: str | None = None
    """The id of the post the target's crowd gathers around."""
    crowd_size: int = 0
    """How many different people were posting in that crowd (storm window; needs a store)."""
    escalation_id: str = ""
    """Stable id of the escalation: the decision id that opened it (updates share it)."""
    decision_id: str = ""
    """The decision this packet was made by (for an update: the latest one)."""
    update: bool = False
    """An update of an open escalation (the crowd grew), not a new one."""
    occurrences: int = 1
    """Posts of this crowd that asked for a person at this route within the window."""
    at: datetime | None = None
    """When the review escalated (the guard's clock)."""
    opened_at: datetime | None = None
    """When the escalation was opened: `at`, or for an update the first one's `at`."""
    sla: str | None = None
    """How soon a person should act (``"15m"``, ``"1h"``), from the policy's routes."""
    due: datetime | None = None
    """`opened_at` plus `sla`: an update does not restart the clock."""
    policy: str = ""
    """The name of the policy that decided."""
    platform: str = "x"
    author: str | None = None
    """The author of the target post."""
    reasons: tuple[Reason, ...] = ()
    """Every reason on the decision (rules, limits, blackouts)."""
    rewrite: str | None = None
    """A rewrite the rules proposed, when the rewrite itself was held."""
    thread: Thread | None = None
    """A snapshot: the target post and the posts it refers to (at most 20)."""


class DecisionError(BaseModel):
    """A failure inside a review, recorded instead of raised."""

    model_config = _FROZEN

    type: str
    message: str
    stage: Literal[
        "input", "analyze", "evaluate", "rewrite", "state", "audit", "internal"
    ]


class PolicyRef(BaseModel):
    """Which policy took a decision: its name, version and content hash."""

    model_config = _FROZEN

    name: str
    version: str
    hash: str


def _new_decision_id() -> str:
    return uuid.uuid4().hex


class Decision(BaseModel):
    """
    The answer to one review.

    `text` is what to send (set for allow and rewrite, None otherwise). In shadow
    mode `action` is allow and `would_have` holds the action the policy took.
    """

    model_config = _FROZEN

    action: Action
    text: str | None
    reasons: tuple[Reason, ...] = ()
    escalation: Escalation | None = None
    signals: Signals = Signals()
    errors: tuple[DecisionError, ...] = ()
    policy: PolicyRef
    decision_id: str = Field(default_factory=_new_decision_id)
    at: datetime
    target_id: str | None = None
    proposed: str = ""
    would_have: Action | None = None

    @property
    def rules(self) -> tuple[str, ...]:
        """Return the ids of the rules that matched."""
        return tuple(reason.rule for reason in self.reasons)

    @property
    def sends(self) -> bool:
        """Return whether the bot should send `text`."""
        return self.text is not None


class TraceEvent(BaseModel):
    """
    One step of an explained evaluation.

    `op` is ``enter`` (a rule is evaluated), ``eval`` (a sub-condition and its value),
    ``match`` / ``fail`` (the rule's result), or ``note`` (anything else).
    """

    model_config = _FROZEN

    op: Literal["enter", "eval", "match", "fail", "note"]
    rule: str | None = None
    expr: str | None = None
    value: Any = None
    location: str | None = None
