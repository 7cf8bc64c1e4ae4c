"""
What the guard remembers across reviews, as batches of store operations.

The keys, the batches of operations a review sends, and how their results become
`StateSignals`.

Nothing here does I/O: every method returns `Op` batches (or reads their results),
and the guard runs them on its store, synchronously or with asyncio, so that both
paths share one logic. Keys are namespaced by the policy's name (two brands can share
a store):

- ``sent:crowd:<platform>:<crowd>``, ``sent:author:<platform>:<handle>`` and
  ``sent:text:<fingerprint>``: replies that went out (member: the decision id), for
  `StateSignals` and for ``guard.forget``;
- ``in:crowd:<platform>:<crowd>`` (member: the poster's handle, so a crowd counts
  people) and ``in:brand`` (member: the post id): inbound posts, for the storm breaker;
- ``limit:<id>:<key>``: a policy limit's reservations (member: the decision id);
  with ``similar``, ``limit:<id>:<key>:~<fingerprint>`` counts one family of
  near-duplicate texts and ``limit:<id>:<key>:texts`` holds the recent texts;
- ``escalated:<route>:<platform>:<crowd>``: the crowd's escalation to a route;
- flags ``pause``, ``storm:<platform>:<crowd>`` (an open breaker) and
  ``decision:<id>`` (the keys a decision was recorded under).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from replyguard.models import (
    Reply,
    StateSignals,
    Thread,
    fingerprint,
    normalize_handle,
    reply_words,
    trusted,
)
from replyguard.state._protocol import Op, Reservation

if TYPE_CHECKING:
    from replyguard.policy.compiled import CompiledLimit, StormSettings

__all__ = [
    "CROWD_WINDOW",
    "RECENT_TEXTS",
    "TEXT_WINDOW",
    "LimitCheck",
    "ReplyMemory",
    "crowd_id",
    "fingerprint",
    "key_text",
]

CROWD_WINDOW = 24 * 3600.0
"""Seconds a reply counts for its crowd and its author (`sent_for_original`...)."""

TEXT_WINDOW = 3600.0
"""Seconds a reply's text counts as already sent (`sent_same_text`)."""

RECENT_TEXTS = 50
"""
How many recent texts a ``similar`` limit compares a reply with.

An exact repeat (the same words) finds its family however far back it was sent, by
its fingerprint; a near-duplicate is looked for among the most recent texts only.
"""

_SEP = "\x1f"


def crowd_id(thread: Thread) -> str:
    """Return the id of the post a target's crowd gathers around (`Thread.crowd`)."""
    return thread.crowd


def key_text(value: Any) -> str | None:
    """Return a limit key's value as text; None when it is none or empty."""
    if isinstance(value, tuple):
        parts = [key_text(v) for v in value]
        if any(p is None for p in parts):
            return None
        return _SEP.join(p for p in parts if p is not None)
    if value is None or value == "":
        return None
    return str(value)


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """One limit that applies to a reply: where it counts, and what it saw."""

    limit: CompiledLimit
    key: str
    count: int = 0
    allowed: bool = True


@dataclass(frozen=True, slots=True)
class StormReading:
    """The storm breaker's figures for one review, before they become signals."""

    crowd: int
    brand: int
    baseline: float
    level: float
    brand_level: float
    open: bool
    storming: bool


class ReplyMemory:
    """
    The keys and operations of one policy's memory.

    Args:
        namespace: a prefix for every key (the guard uses ``replyguard:<policy>``).
        storm: the policy's storm breaker settings.
    """

    def __init__(self, namespace: str, storm: StormSettings) -> None:
        self.namespace = namespace
        self.storm = storm

    # -- keys ---------------------------------------------------------------------

    def sent_keys(self, thread: Thread, reply: Reply) -> tuple[str, str, str]:
        """Return the keys a sent reply is recorded under: crowd, author, text."""
        ns, platform = self.namespace, thread.platform
        handle = normalize_handle(thread.target_post.author)
        return (
            f"{ns}:sent:crowd:{platform}:{thread.crowd}",
            f"{ns}:sent:author:{platform}:{handle}",
            f"{ns}:sent:text:{fingerprint(reply.text)}",
        )

    def _inbound_keys(self, thread: Thread) -> tuple[str, str]:
        ns = self.namespace
        return f"{ns}:in:crowd:{thread.platform}:{thread.crowd}", f"{ns}:in:brand"

    def _storm_flag(self, thread: Thread) -> str:
        return f"{self.namespace}:storm:{thread.platform}:{thread.crowd}"

    def pause_flag(self) -> str:
        """Return the name of the pause flag."""
        return f"{self.namespace}:pause"

    def index_flag(self, member: str) -> str:
        """Return the flag that lists the keys a decision was recorded under."""
        return f"{self.namespace}:decision:{member}"

    def escalated_key(self, thread: Thread, route: str, priority: str) -> str:
        """Return the key of a crowd's escalations to `route` at `priority`."""
        ns = self.namespace
        return f"{ns}:escalated:{route}:{priority}:{thread.platform}:{thread.crowd}"

    def limit_key(self, limit: CompiledLimit, key: str) -> str:
        """Return the key a limit counts under."""
        return f"{self.namespace}:limit:{limit.id}:{key}"

    # -- reading before a review ----------------------------------------------------

    def read_ops(
        self, thread: Thread, reply: Reply, *, now: float, inbound: bool
    ) -> list[Op]:
        """
        Return the batch read before evaluation (and the inbound count, if `inbound`).

        Its results go to `state_from`.
        """
        crowd, author, text = self.sent_keys(thread, reply)
        crowd_in, brand_in = self._inbound_keys(thread)
        storm = self.storm
        target = thread.target_post
        ops = [
            Op("get_flag", (self.pause_flag(),), {"now": now}),
            Op("count", (crowd,), {"now": now, "window": CROWD_WINDOW}),
            Op("count", (author,), {"now": now, "window": CROWD_WINDOW}),
            Op("count", (text,), {"now": now, "window": TEXT_WINDOW}),
        ]
        if inbound:
            ops += [
                Op(
                    "add",
                    (crowd_in, normalize_handle(target.author)),
                    {"now": now, "ttl": storm.window},
                ),
                Op(
                    "add",
                    (brand_in, f"{thread.platform}:{target.id}"),
                    {"now": now, "ttl": storm.baseline},
                ),
            ]
        ops += [
            Op("count", (crowd_in,), {"now": now, "window": storm.window}),
            Op("count", (brand_in,), {"now": now, "window": storm.window}),
            Op("count", (brand_in,), {"now": now, "window": storm.baseline}),
            Op("get_flag", (self._storm_flag(thread),), {"now": now}),
        ]
        return ops

    def storm_reading(self, results: list[Any]) -> StormReading:
        """Return the storm breaker's figures from the results of `read_ops`."""
        crowd, brand, day, flag = results[-4:]
        storm = self.storm
        baseline = day * storm.window / storm.baseline
        threshold = max(float(storm.min_people), storm.share * baseline)
        level = min(1.0, crowd / threshold)
        # a cold store has no baseline: a brand storms from min_people x factor
        floor = storm.min_people * storm.brand_factor
        brand_level = min(1.0, brand / max(floor, storm.brand_factor * baseline))
        storming = crowd >= threshold
        return StormReading(
            crowd=crowd,
            brand=brand,
            baseline=round(baseline, 3),
            level=round(level, 4),
            brand_level=round(brand_level, 4),
            open=flag is not None or storming,
            storming=storming,
        )

    def state_from(self, results: list[Any], reading: StormReading) -> StateSignals:
        """Return `StateSignals` from the results of `read_ops`."""
        reason = results[0]
        return trusted(
            StateSignals,
            evidence=(),
            sent_for_original=results[1],
            sent_to_author=results[2],
            sent_same_text=results[3],
            crowd_inbound=reading.crowd,
            brand_inbound=reading.brand,
            brand_baseline=reading.baseline,
            storm_level=reading.level,
            brand_storm_level=reading.brand_level,
            storm_open=reading.open,
            paused=reason is not None,
            pause_reason=reason or "",
            blackout="",
            blackout_reason="",
        )

    def storm_ops(self, thread: Thread, results: list[Any], *, now: float) -> list[Op]:
        """Return the ops that open (or keep open) a storming crowd's breaker."""
        flag = results[-1]
        opened = flag or repr(now)
        return [
            Op(
                "set_flag",
                (self._storm_flag(thread), opened),
                {"now": now, "ttl": self.storm.cool_down},
            )
        ]

    # -- limits -----------------------------------------------------------------------

    def texts_key(self, limit: CompiledLimit, key: str) -> str:
        """Return the key holding a ``similar`` limit's recent texts."""
        return f"{self.limit_key(limit, key)}:texts"

    def _words_flag(self, texts: str, words: str) -> str:
        return f"{texts}:fp:{fingerprint(words)}"

    def similar_ops(
        self, checks: list[LimitCheck], words: str, *, now: float
    ) -> list[Op]:
        """
        Return the reads a ``similar`` limit needs to find a reply's text family.

        Per limit: the family these exact words were last sent in, and the recent
        texts (for a near-duplicate).
        """
        ops: list[Op] = []
        for check in checks:
            if check.limit.similar is None:
                continue
            texts = self.texts_key(check.limit, check.key)
            ops.append(Op("get_flag", (self._words_flag(texts, words),), {"now": now}))
            ops.append(
                Op(
                    "recent",
                    (texts,),
                    {"now": now, "window": check.limit.window, "limit": RECENT_TEXTS},
                )
            )
        return ops

    def with_families(
        self, checks: list[LimitCheck], recents: list[Any], words: str
    ) -> list[LimitCheck]:
        """
        Return `checks` with each ``similar`` limit keyed by its text family.

        A reply's family is the family of the most similar recent text at or above the
        limit's threshold, or its own fingerprint: near-duplicates of one text count
        together, and a chain of small edits stays in one family.
        """
        out: list[LimitCheck] = []
        found = iter(recents)
        for check in checks:
            similar = check.limit.similar
            if similar is None:
                out.append(check)
                continue
            exact, recent = next(found), next(found)
            family = exact or _family(words, recent, similar)
            out.append(LimitCheck(limit=check.limit, key=f"{check.key}{_SEP}~{family}"))
        return out

    def limit_ops(
        self, checks: list[LimitCheck], member: str, *, now: float, reserve: bool
    ) -> list[Op]:
        """Return one reserve (or, for a dry run, count) per limit check."""
        ops: list[Op] = []
        for check in checks:
            key = self.limit_key(check.limit, check.key)
            if reserve:
                ops.append(
                    Op(
                        "reserve",
                        (key, member),
                        {
                            "now": now,
                            "window": check.limit.window,
                            "limit": check.limit.max,
                        },
                    )
                )
            else:
                ops.append(
                    Op("count", (key,), {"now": now, "window": check.limit.window})
                )
        return ops

    @staticmethod
    def limit_results(checks: list[LimitCheck], results: list[Any]) -> list[LimitCheck]:
        """Return `checks` with what the store answered (a reservation or a count)."""
        out: list[LimitCheck] = []
        for check, result in zip(checks, results, strict=True):
            if isinstance(result, Reservation):
                count, allowed = result.count, result.allowed
            else:
                count, allowed = int(result), int(result) < check.limit.max
            out.append(
                LimitCheck(
                    limit=check.limit, key=check.key, count=count, allowed=allowed
                )
            )
        return out

    def release_ops(self, checks: list[LimitCheck], member: str) -> list[Op]:
        """Return the ops that take back the reservations of `checks`."""
        return [
            Op("release", (self.limit_key(check.limit, check.key), member))
            for check in checks
        ]

    # -- recording --------------------------------------------------------------------

    def record_ops(
        self,
        thread: Thread,
        reply: Reply,
        member: str,
        *,
        now: float,
        checks: list[LimitCheck] = (),  # type: ignore[assignment]  # a tuple is fine
        reserved: bool = True,
    ) -> list[Op]:
        """
        Return the ops that remember `reply` went out into `thread`.

        `checks` are the limits it counts for: already reserved by the review
        (`reserved`), or added now (a reply sent without a review).
        """
        crowd, author, text = self.sent_keys(thread, reply)
        ops = [
            Op("add", (crowd, member), {"now": now, "ttl": CROWD_WINDOW}),
            Op("add", (author, member), {"now": now, "ttl": CROWD_WINDOW}),
            Op("add", (text, member), {"now": now, "ttl": TEXT_WINDOW}),
        ]
        keys = [crowd, author, text]
        words = reply_words(reply.text)
        longest = CROWD_WINDOW
        for check in checks:
            limit = check.limit
            key = self.limit_key(limit, check.key)
            keys.append(key)
            longest = max(longest, limit.window)
            if not reserved:
                ops.append(Op("add", (key, member), {"now": now, "ttl": limit.window}))
            if limit.similar is not None:
                scope, _, family = check.key.rpartition(f"{_SEP}~")
                texts = self.texts_key(limit, scope)
                ops.append(
                    Op(
                        "add",
                        (texts, f"{family} {words}"),
                        {"now": now, "ttl": limit.window},
                    )
                )
                ops.append(
                    Op(
                        "set_flag",
                        (self._words_flag(texts, words), family),
                        {"now": now, "ttl": limit.window},
                    )
                )
        # where it was recorded, so that `forget` needs only the decision id
        ops.append(
            Op(
                "set_flag",
                (self.index_flag(member), "\n".join(keys)),
                {"now": now, "ttl": longest},
            )
        )
        return ops

    def escalation_ops(
        self,
        thread: Thread,
        route: str,
        priority: str,
        member: str,
        *,
        now: float,
        window: float,
        reserve: bool,
    ) -> list[Op]:
        """
        Return the reserve (or count) of a crowd's one escalation to `route`.

        Results: the reservation (or count), the escalation that holds it (newest
        first, at most one), [the add of this ask,] and how many reviews of the crowd
        asked for a person on this route within the window (this one included).

        One per priority: a crowd escalated at `normal` (a second answer refused)
        still reaches the person again when it turns into a `high` storm.
        """
        key = self.escalated_key(thread, route, priority)
        asks = f"{key}:asks"
        if reserve:
            return [
                Op(
                    "reserve", (key, member), {"now": now, "window": window, "limit": 1}
                ),
                Op("recent", (key,), {"now": now, "window": window, "limit": 1}),
                Op("add", (asks, member), {"now": now, "ttl": window}),
                Op("count", (asks,), {"now": now, "window": window}),
            ]
        return [
            Op("count", (key,), {"now": now, "window": window}),
            Op("recent", (key,), {"now": now, "window": window, "limit": 1}),
            Op("count", (asks,), {"now": now, "window": window}),
        ]


_FAMILY = 20
"""Characters of a family's id (a fingerprint) at the start of a recent-text member."""


def _family(words: str, recent: list[tuple[str, float]], similar: float) -> str:
    """Return the family of the recent text most like `words`, or a new family."""
    if not recent:
        return fingerprint(words)
    # members are "<family> <words>": the family has a fixed width
    members = [member for member, _ in recent]
    texts = [member[_FAMILY + 1 :] for member in members]
    best = process.extractOne(
        words, texts, scorer=fuzz.ratio, score_cutoff=similar * 100.0
    )
    if best is None:
        return fingerprint(words)
    return members[best[2]][:_FAMILY]
