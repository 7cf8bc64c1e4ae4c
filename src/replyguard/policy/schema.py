"""
The policy file format, as pydantic models (exported as JSON Schema).

A policy document is validated against `PolicyDocument` after YAML parsing; the
loader maps every validation error back to its file, line and column.

Validation is strict: a value must have the type the JSON Schema gives it (no `"yes"`
for true, no `"0.5"` for a number). Two conveniences are accepted, by the loader and
by the exported schema alike: a number (or a YAML date) as `version`, read as text,
and a single text wherever a list of texts is expected (`extends: base.yaml`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

__all__ = [
    "DEFAULT_SLA",
    "PRIORITIES",
    "AuditMaskSpec",
    "AuditSpec",
    "BlackoutSpec",
    "BrandSpec",
    "EscalationsSpec",
    "LimitSpec",
    "LinksSpec",
    "PolicyDocument",
    "QueueSinkSpec",
    "RepliesSpec",
    "RouteSpec",
    "RuleSpec",
    "SinkSpec",
    "StormSpec",
    "WebhookSinkSpec",
    "parse_duration",
    "policy_json_schema",
]

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

Priority = Literal["low", "normal", "high", "urgent"]
RuleAction = Literal["allow", "rewrite", "escalate", "suppress"]


def _to_str(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.date):  # YAML reads `version: 2024-05-01` as a date
        return value.isoformat()
    return value


def _to_list(value: object) -> object:
    if isinstance(value, str):
        return [value]
    return value


def _no_bool(value: object) -> object:
    # `Literal[1]` would take `true` (True == 1 in Python); JSON Schema does not
    return str(value).lower() if isinstance(value, bool) else value


Version = Annotated[
    str,
    BeforeValidator(_to_str),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]}),
]
StrList = Annotated[
    list[str],
    BeforeValidator(_to_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "string"},
            ],
            "default": [],  # every StrList field defaults to an empty list
        }
    ),
]
FormatVersion = Annotated[Literal[1], BeforeValidator(_no_bool)]

_DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(s|m|min|h|d|w)\s*$"
_UNITS = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}

Duration = Annotated[
    str,
    Field(pattern=_DURATION_PATTERN),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _DURATION_PATTERN,
            "description": "A duration: a number and a unit (s, m, h, d, w): `10m`, `1h`, `24h`.",
        }
    ),
]


def parse_duration(text: str) -> float:
    """Return the seconds of a duration like ``90s``, ``10m``, ``1h``, ``2d``, ``1w``."""
    value = text.strip()
    unit = value.lstrip("0123456789. ")
    return float(value[: len(value) - len(unit)].strip()) * _UNITS[unit]


def _to_datetime(value: object) -> object:
    # YAML reads `2012-12-14 15:00:00Z` as a datetime and `2012-12-14` as a date
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # naive means UTC, as in threads
    return value


Moment = Annotated[
    dt.datetime,
    BeforeValidator(_to_datetime),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)

# JSON Schema for the rule-level check that pydantic does in `_template_goes_with_rewrite`
_REWRITE_NEEDS_TEMPLATE: dict[str, Any] = {
    "if": {"properties": {"action": {"const": "rewrite"}}, "required": ["action"]},
    "then": {"required": ["template"], "properties": {"template": {"type": "string"}}},
    "else": {"properties": {"template": {"type": "null"}}},
}


class BrandSpec(BaseModel):
    """Who the brand is: its handles, names and products."""

    model_config = _STRICT

    handles: StrList = Field(
        default_factory=list,
        description="The brand's accounts; a thread's own brand_handles override these.",
    )
    names: StrList = Field(
        default_factory=list,
        description="Names that address the brand when a poster writes them, e.g. `Bank of America`.",
    )
    aliases: StrList = Field(
        default_factory=list, description="Short or informal names, e.g. `BofA`."
    )
    products: StrList = Field(
        default_factory=list, description="Product names the brand sells."
    )
    derive_names: bool = Field(
        default=True,
        description=(
            "Also count names read off the brand's handles (`@SkyLoftHelp` -> "
            "`SkyLoft`) as addressing the brand. Turn off when a handle's stem is an "
            "ordinary word (`@AppleSupport` -> `apple`)."
        ),
    )


class RuleSpec(BaseModel):
    """One rule: when its condition holds, it contributes its action."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        json_schema_extra=_REWRITE_NEEDS_TEMPLATE,
    )

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Kebab-case id, unique in the policy; shown on every decision.",
    )
    description: str | None = Field(
        default=None, description="What the rule is for, in words a reviewer can read."
    )
    when: str | bool = Field(
        description=(
            "A condition over thread, reply, signals, state and policy "
            "(Jinja/Ansible `when:` syntax)."
        ),
    )
    action: RuleAction = Field(description="allow, rewrite, escalate or suppress.")
    message: str | None = Field(
        default=None,
        description=(
            "The reason shown on the decision (a sandboxed Jinja template). "
            "Defaults to the description."
        ),
    )
    route: str | None = Field(
        default=None,
        description=(
            "The team that must look at it; set on an escalate rule, or on any "
            "rule that also asks for a person."
        ),
    )
    priority: Priority | None = Field(default=None, description="Escalation priority.")
    template: str | None = Field(
        default=None,
        description="For action rewrite: the new reply text (a sandboxed Jinja template).",
    )
    enabled: bool = Field(
        default=True, description="Set false to keep a rule but not run it."
    )
    tags: StrList = Field(default_factory=list, description="Free labels for reports.")

    @model_validator(mode="after")
    def _template_goes_with_rewrite(self) -> RuleSpec:
        if self.action == "rewrite" and self.template is None:
            msg = "a rule with action `rewrite` needs a `template`"
            raise ValueError(msg)
        if self.action != "rewrite" and self.template is not None:
            msg = f"`template` is only for action `rewrite`, not `{self.action}`"
            raise ValueError(msg)
        return self


class LimitSpec(BaseModel):
    """A cap on replies that go out, counted in the store across reviews and workers."""

    model_config = _STRICT

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Kebab-case id, unique among rules and limits; shown on decisions.",
    )
    description: str | None = Field(
        default=None, description="What the limit is for, in words a reviewer can read."
    )
    key: str | list[str] = Field(
        default="'all'",
        description=(
            "What is counted: an expression (or a list of them) over thread, reply, "
            "signals, state and policy, e.g. `thread.crowd`, `thread.target.author`, "
            "`reply.fingerprint`. Replies with the same key share the limit; a key "
            "that is none or empty skips the limit. Default: one count for the brand."
        ),
    )
    when: str | bool = Field(
        default=True,
        description="Only replies for which this condition holds are counted and capped.",
    )
    max: int = Field(
        ge=0, description="How many replies may go out per key and window."
    )
    per: Duration = Field(description="The sliding window, e.g. `1h`, `24h`.")
    similar: Annotated[float, Field(ge=0.5, le=1.0)] | None = Field(
        default=None,
        description=(
            "Count only replies whose words are at least this similar (0.5..1, "
            "rapidfuzz ratio) to this one: near-duplicates of one text share a count."
        ),
    )
    action: Literal["escalate", "suppress"] = Field(
        default="escalate", description="What a reply over the limit gets."
    )
    message: str | None = Field(
        default=None,
        description=(
            "The reason shown on the decision (a sandboxed Jinja template; `limit.count`, "
            "`limit.max` and `limit.per` are available)."
        ),
    )
    route: str | None = Field(default=None, description="The team that looks at it.")
    priority: Priority | None = Field(default=None, description="Escalation priority.")
    enabled: bool = Field(
        default=True, description="Set false to keep it but not run it."
    )


class StormSpec(BaseModel):
    """The storm breaker: how a crowd's inbound rate opens it, and how long it stays open."""

    model_config = _STRICT

    window: Duration = Field(
        default="15m", description="The window inbound posts are counted in."
    )
    min_people: int = Field(
        default=8,
        ge=1,
        description="Different people posting in one crowd within the window that make a storm.",
    )
    share: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.1,
        description=(
            "For a busy brand: a crowd storms only when it also brings this share of "
            "the brand's usual inbound per window (its baseline over the last day)."
        ),
    )
    brand_factor: Annotated[float, Field(ge=1.0)] = Field(
        default=3.0,
        description="`brand_storm_level` is 1.0 at this many times the brand's baseline.",
    )
    cool_down: Duration = Field(
        default="30m",
        description="How long the breaker stays open after the crowd last stormed.",
    )


DEFAULT_SLA: dict[str, str] = {
    "urgent": "15m",
    "high": "1h",
    "normal": "4h",
    "low": "24h",
}
"""The time a person has to act on an escalation, by priority."""


class QueueSinkSpec(BaseModel):
    """An append-only JSONL queue file of escalations (`replyguard queue list`)."""

    model_config = _STRICT

    type: Literal["queue"]
    path: str = Field(
        min_length=1,
        description="The queue file; a relative path is read from the policy's folder.",
    )
    fsync: bool = Field(
        default=True, description="Flush every line to disk before the review returns."
    )
    dead_letter: str | None = Field(
        default=None,
        description="A JSONL file for escalations that could not be written.",
    )
    routes: StrList | None = Field(
        default=None, description="Only escalations to these routes (default: all)."
    )


class WebhookSinkSpec(BaseModel):
    """An HTTP webhook that receives every new escalation as JSON (or a Slack message)."""

    model_config = _STRICT

    type: Literal["webhook"]
    url: str = Field(
        pattern=r"^(https?://|\$\{)",
        description="Where to POST; `${NAME}` is read from the environment (secrets).",
    )
    format: Literal["json", "slack"] = Field(
        default="json", description="`slack`: a Slack incoming-webhook message."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra headers; `${NAME}` is read from the environment.",
    )
    timeout: Annotated[float, Field(gt=0.0, le=120.0)] = Field(
        default=5.0, description="Seconds to wait for the server."
    )
    retries: Annotated[int, Field(ge=0, le=20)] = Field(
        default=3, description="Retries after a failure (timeouts, 429, 5xx)."
    )
    backoff: Annotated[float, Field(ge=0.0, le=60.0)] = Field(
        default=0.5,
        description="Seconds before the first retry; doubled for each next one.",
    )
    max_queue: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1000,
        description="Escalations waiting to be posted; more go to the dead letter.",
    )
    dead_letter: str | None = Field(
        default=None,
        description="A JSONL file for escalations that could not be delivered.",
    )
    send_updates: bool = Field(
        default=False, description="Also post updates of an open escalation."
    )
    routes: StrList | None = Field(
        default=None, description="Only escalations to these routes (default: all)."
    )


SinkSpec = Annotated[QueueSinkSpec | WebhookSinkSpec, Field(discriminator="type")]


class EscalationsSpec(BaseModel):
    """How escalations are grouped, so that a crowd reaches a person once."""

    model_config = _STRICT

    once_per: Literal["crowd", "target"] = Field(
        default="target",
        description=(
            "`crowd`: the first escalation of a crowd to a route goes to a person, the "
            "crowd's later ones on that route are suppressed until `per` has passed "
            "(urgent escalations always go through); `target`: every escalation goes."
        ),
    )
    per: Duration = Field(
        default="4h", description="How long one crowd escalation covers its crowd."
    )
    sla: dict[Priority, Duration] = Field(
        default_factory=lambda: dict(DEFAULT_SLA),  # type: ignore[arg-type]  # the keys are priorities
        description=(
            "How soon a person should act, by priority (a route's own `sla` wins): "
            "`{urgent: 15m, high: 1h, normal: 4h, low: 24h}`."
        ),
    )
    sinks: list[SinkSpec] = Field(
        default_factory=list,
        description=(
            "Where escalations are delivered: a JSONL queue file or a webhook "
            "(`Guard(..., sinks=[...])` adds Python callbacks)."
        ),
    )


class RouteSpec(BaseModel):
    """An escalation route (a team): its default priority and how fast it answers."""

    model_config = _STRICT

    priority: Priority = Field(default="normal", description="The default priority.")
    sla: Duration | None = Field(
        default=None, description="How soon this team should act (`30m`)."
    )
    description: str | None = None


class LinksSpec(BaseModel):
    """Which links a reply may carry."""

    model_config = _STRICT

    allow: StrList | None = Field(
        default=None,
        description=(
            "Domains a reply may link to (their subdomains too). Unset: any domain, "
            "except links taken from someone else's post in the thread."
        ),
    )
    action: Literal["escalate", "suppress"] = Field(
        default="escalate", description="What a reply with another link gets."
    )


class RepliesSpec(BaseModel):
    """Checks on every reply that would go out: length, links, media, rewrites."""

    model_config = _STRICT

    max_length: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "A limit stricter than the platform's (X 280 weighted, Bluesky 300 "
            "graphemes, Mastodon 500)."
        ),
    )
    over_length: Literal["truncate", "escalate", "suppress"] = Field(
        default="truncate",
        description=(
            "A reply over the limit: cut at a word boundary (never inside a handle "
            "or URL), or held."
        ),
    )
    links: LinksSpec | None = Field(
        default=None, description="Which links a reply may carry."
    )
    user_media: Literal["escalate", "suppress"] = Field(
        default="escalate",
        description=(
            "Media built from user content (a name on a jersey) whose text cannot "
            "be scanned."
        ),
    )
    route: str = Field(
        default="social-care", description="The team held replies go to."
    )


class BlackoutSpec(BaseModel):
    """A time when no automated reply goes out: a crisis, a sensitive date."""

    model_config = _STRICT

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Kebab-case id, unique among rules, limits and blackouts.",
    )
    reason: str = Field(
        min_length=1, description="Why, shown on every decision taken during it."
    )
    start: Moment | None = Field(
        default=None, description="When it starts (ISO 8601; naive means UTC)."
    )
    end: Moment | None = Field(
        default=None, description="When it ends (exclusive; ISO 8601; naive means UTC)."
    )
    every_year: str | None = Field(
        default=None,
        pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="A date each year (`MM-DD`), the whole day in `timezone`.",
    )
    timezone: str = Field(
        default="UTC",
        description="The IANA time zone of `every_year` (`America/New_York`).",
    )
    action: Literal["escalate", "suppress"] = Field(
        default="escalate", description="What every reply gets during it."
    )
    route: str | None = Field(default=None, description="The team that looks at it.")
    priority: Priority | None = Field(default=None, description="Escalation priority.")

    @model_validator(mode="after")
    def _when(self) -> BlackoutSpec:
        if self.every_year is None and self.start is None:
            msg = "a blackout needs `start` (and `end`) or `every_year`"
            raise ValueError(msg)
        if self.every_year is not None and (self.start or self.end):
            msg = "give either `every_year` or `start`/`end`, not both"
            raise ValueError(msg)
        if self.start and self.end and self.end <= self.start:
            msg = "`end` must come after `start`"
            raise ValueError(msg)
        return self


class AuditMaskSpec(BaseModel):
    """What the decision log masks before a record is written."""

    model_config = _STRICT

    pii: bool = Field(
        default=True,
        description=(
            "Mask personal data (cards, IBANs, SSNs, emails, phones) in every text "
            "of a record, character for character (`*`); cards keep their last 4 digits."
        ),
    )
    handles: bool = Field(
        default=False,
        description=(
            "Replace the @handles of people (not the brand's) with a stable "
            "pseudonym `@user-<8 hex>`."
        ),
    )
    text: bool = Field(
        default=False,
        description=(
            "Drop the posts' texts (and the escalation summary, evidence texts): "
            "each becomes a run of `*` of the same length."
        ),
    )


AUDIT_LOG_PATTERN = r"^(sqlite:///.+|.+\.jsonl)$"


def _check_audit_log(value: str) -> str:
    if not re.match(AUDIT_LOG_PATTERN, value, re.DOTALL):
        msg = (
            f"`{value}` is not a decision log; use a `*.jsonl` path or `sqlite:///path`"
        )
        raise ValueError(msg)
    return value


AuditLogPath = Annotated[
    str,
    AfterValidator(_check_audit_log),
    WithJsonSchema({"type": "string", "pattern": AUDIT_LOG_PATTERN}),
]


class AuditSpec(BaseModel):
    """The decision log: where every review is recorded, and what is masked."""

    model_config = _STRICT

    log: AuditLogPath | None = Field(
        default=None,
        description=(
            "Where to append one record per review: a `*.jsonl` file or "
            "`sqlite:///path.db`; a relative path is read from the policy's folder."
        ),
    )
    fsync: Literal["always", "interval", "never"] = Field(
        default="interval",
        description=(
            "When a JSONL log is flushed to disk: after every record, at most once a "
            "second, or never (the operating system decides)."
        ),
    )
    rotate_bytes: Annotated[int, Field(ge=4096)] = Field(
        default=100_000_000,
        description="A JSONL log moves on to its next segment past this size.",
    )
    mask: AuditMaskSpec = Field(
        default_factory=AuditMaskSpec, description="What is masked before writing."
    )


class LexiconChangeSpec(BaseModel):
    """What a policy adds to and removes from one packaged cue lexicon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    add: list[str] | dict[str, list[str]] = Field(
        default_factory=list,
        description=(
            "Phrases to add (weight strong), or a mapping of strength "
            "(strong, medium, weak) to phrases."
        ),
    )
    remove: list[str] = Field(
        default_factory=list, description="Phrases to take out of the lexicon."
    )


class NlpSpec(BaseModel):
    """Which spaCy pipeline the analyzers run on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        default="blank:en",
        description=(
            "`blank:en` (spaCy's blank English with rule components; no model "
            "needed) or an installed trained pipeline such as `en_core_web_sm`."
        ),
    )


class PolicyDocument(BaseModel):
    """A replyguard policy file (format version 1)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        title="replyguard policy",
        json_schema_extra={"$id": "https://replyguard.dev/schema/policy-1.json"},
    )

    replyguard: FormatVersion = Field(description="The policy format version: 1.")
    name: str = Field(
        min_length=1, description="The policy's name, shown on every decision."
    )
    version: Version = Field(
        default="0", description="Your own version of this policy."
    )
    description: str | None = None
    extends: StrList = Field(
        default_factory=list,
        description=(
            "Policies this one builds on: relative paths or packaged names "
            "like `replyguard:default`."
        ),
    )
    brand: BrandSpec | None = None
    on_error: Literal["escalate", "suppress"] | None = Field(
        default=None,
        description="The action when anything fails inside a review (default escalate; allow is refused).",
    )
    mode: Literal["enforce", "shadow"] | None = Field(
        default=None,
        description="shadow: decide, but report allow with `would_have` set.",
    )
    thresholds: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict,
        description="Named cut-offs in 0..1, read in conditions as `policy.thresholds.NAME`.",
    )
    disable: StrList = Field(
        default_factory=list, description="Ids of inherited rules to switch off."
    )
    routes: dict[str, Priority | RouteSpec] = Field(
        default_factory=dict,
        description=(
            "Escalation routes: a default priority, or `{priority, sla, description}`."
        ),
    )
    lexicons: dict[str, LexiconChangeSpec] = Field(
        default_factory=dict,
        description=(
            "Changes to the packaged cue lexicons, by lexicon name "
            "(`grief: {add: [...], remove: [...]}`)."
        ),
    )
    nlp: NlpSpec | None = Field(
        default=None, description="The spaCy pipeline the analyzers use."
    )
    rules: list[RuleSpec] = Field(default_factory=list)
    limits: list[LimitSpec] = Field(
        default_factory=list,
        description="Caps on replies that go out, counted in the store (needs a store).",
    )
    storm: StormSpec | None = Field(
        default=None, description="The storm breaker's settings (needs a store)."
    )
    escalations: EscalationsSpec | None = Field(
        default=None, description="How escalations of one crowd are grouped."
    )
    blackouts: list[BlackoutSpec] = Field(
        default_factory=list,
        description="Times when every automated reply escalates or is suppressed.",
    )
    replies: RepliesSpec | None = Field(
        default=None,
        description="Checks on every reply that would go out: length, links, media.",
    )
    audit: AuditSpec | None = Field(
        default=None,
        description="The decision log: where every review is recorded, what is masked.",
    )


def policy_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the policy format, for editors and validators."""
    schema = PolicyDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
