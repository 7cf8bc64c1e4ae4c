"""
Cue lexicons: the word lists the analyzers match, kept as YAML data in the package.

Each file in ``replyguard/_data/lexicons/`` is one `Lexicon`: weighted phrases
(``strong`` 0.9, ``medium`` 0.6, ``weak`` 0.3, or a number) and optional spaCy
`Matcher` token patterns. Three small notations keep the files short and the
matching fast (everything is matched by one spaCy `PhraseMatcher`):

- ``{my|our} {mom|dad} {died|passed}``: alternatives expand into every combination;
- ``^say this``: counts only at the start of a sentence (after any leading @handles);
- ``#boycott*``: a hashtag that starts so (``#BoycottAcme``).

A policy extends them without code::

    lexicons:
      grief: {add: [lost my nan], remove: [rip]}
      activism: {add: {strong: ["#dropthecontract"]}}

`packaged_lexicons` loads the shipped set once per process; `LexiconSet.changed`
returns a new set with a policy's additions and removals applied.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from replyguard.errors import ConfigurationError

__all__ = [
    "STRENGTHS",
    "Lexicon",
    "LexiconChange",
    "LexiconSet",
    "Pattern",
    "expand",
    "packaged_lexicons",
]

STRENGTHS: Mapping[str, float] = {"strong": 0.9, "medium": 0.6, "weak": 0.3}
"""The named weights a lexicon term or pattern may use."""

_WORD = re.compile(r"[a-z]{3,}")
_TAG_KEYS = frozenset({"POS", "TAG", "MORPH", "LEMMA", "DEP"})
_ALTERNATIVES = re.compile(r"\{([^{}]*)\}")
MAX_EXPANSION = 20_000
"""The most phrases one term with ``{a|b}`` alternatives may expand into."""


def expand(where: str, term: str) -> list[str]:
    """Return the phrases a term with ``{a|b}`` alternatives stands for."""
    parts = _ALTERNATIVES.split(term)
    if len(parts) == 1:
        return [" ".join(term.split())]
    phrases = [""]
    for index, part in enumerate(parts):
        options = part.split("|") if index % 2 else [part]
        phrases = [p + o for p in phrases for o in options]
        if len(phrases) > MAX_EXPANSION:
            raise ConfigurationError(
                f"{where}: `{term[:60]}` expands into more than {MAX_EXPANSION} phrases"
            )
    return [" ".join(p.split()) for p in phrases if p.strip()]


@dataclass(frozen=True)
class Pattern:
    """A spaCy `Matcher` pattern with the cue it reports and its weight."""

    cue: str
    weight: float
    tokens: tuple[Mapping[str, Any], ...]

    @property
    def tag_keys(self) -> frozenset[str]:
        """Return the attributes the pattern reads that only a trained pipeline sets."""
        return frozenset(key for token in self.tokens for key in token) & _TAG_KEYS

    @property
    def needs_tags(self) -> bool:
        """Return whether the pattern reads tags only a trained pipeline sets."""
        return bool(self.tag_keys)


@dataclass(frozen=True)
class Lexicon:
    """One named list of weighted phrases (and patterns) the analyzers match."""

    name: str
    terms: Mapping[str, float]
    patterns: tuple[Pattern, ...] = ()
    signal: str = ""
    description: str = ""

    def changed(
        self, change: LexiconChange, vocabulary: frozenset[str] = frozenset()
    ) -> Lexicon:
        """
        Return this lexicon with `change`'s terms added and removed.

        A removal takes out every term that reads the same once normalized
        (removing ``rip`` removes ``r.i.p`` too); `vocabulary` is the lexicon set's.
        """
        from replyguard.analysis.normalize import normalize  # noqa: PLC0415

        terms = dict(self.terms)

        def key(phrase: str) -> str:  # what a phrase matches once normalized
            return normalize(phrase, vocabulary=vocabulary).text.casefold()

        for term in change.remove:
            for phrase in expand(self.name, term.casefold()):
                gone = key(phrase)
                for existing in [t for t in terms if t == phrase or key(t) == gone]:
                    del terms[existing]
        terms.update(change.add)
        return Lexicon(
            name=self.name,
            terms=terms,
            patterns=self.patterns,
            signal=self.signal,
            description=self.description,
        )


@dataclass(frozen=True)
class LexiconChange:
    """What a policy adds to and removes from one lexicon."""

    add: Mapping[str, float] = field(default_factory=dict)
    remove: tuple[str, ...] = ()

    @classmethod
    def parse(cls, where: str, data: object) -> LexiconChange:
        """
        Return a change from its policy form (``{add: ..., remove: [...]}``).

        ``add`` is a list of phrases (weight ``strong``: a term a team adds should
        count on its own) or a mapping of strength to phrases. Raises
        `ConfigurationError` naming `where` on a malformed value.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError(
                f"{where}: expected a mapping with `add` and/or `remove`"
            )
        unknown = sorted(set(data) - {"add", "remove"})
        if unknown:
            raise ConfigurationError(
                f"{where}: unknown key `{unknown[0]}` (expected `add` or `remove`)"
            )
        add = _terms(f"{where}.add", data.get("add", []), default="strong")
        remove_raw = data.get("remove", [])
        if isinstance(remove_raw, str):
            remove_raw = [remove_raw]
        if not isinstance(remove_raw, list) or not all(
            isinstance(t, str) for t in remove_raw
        ):
            raise ConfigurationError(f"{where}.remove: expected a list of phrases")
        return cls(add=add, remove=tuple(t.strip() for t in remove_raw))


def _weight(where: str, value: object) -> float:
    if isinstance(value, str):
        if value in STRENGTHS:
            return STRENGTHS[value]
        raise ConfigurationError(
            f"{where}: unknown strength `{value}` (expected one of "
            f"{', '.join(STRENGTHS)} or a number in 0..1)"
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{where}: expected a strength or a number in 0..1")
    if not 0.0 <= float(value) <= 1.0:
        raise ConfigurationError(f"{where}: weight {value} is outside 0..1")
    return float(value)


def _terms(where: str, data: object, *, default: str) -> dict[str, float]:
    """Return phrase -> weight from a list (at `default`) or a strength mapping."""
    if isinstance(data, str):
        data = [data]
    groups: Iterable[tuple[str, object]]
    if isinstance(data, list):
        groups = [(default, data)]
    elif isinstance(data, Mapping):
        groups = list(data.items())
    else:
        raise ConfigurationError(
            f"{where}: expected a list of phrases or a mapping of strength to phrases"
        )
    terms: dict[str, float] = {}
    for strength, phrases in groups:
        weight = _weight(f"{where}.{strength}", strength)
        if isinstance(phrases, str):
            phrases = [phrases]  # noqa: PLW2901 - one phrase stands for a list
        if not isinstance(phrases, list):
            raise ConfigurationError(f"{where}.{strength}: expected a list of phrases")
        for index, phrase in enumerate(phrases):
            if not isinstance(phrase, str) or not phrase.strip():
                raise ConfigurationError(
                    f"{where}.{strength}[{index}]: expected a non-empty phrase, "
                    f"got {phrase!r}"
                )
            for key in expand(
                f"{where}.{strength}[{index}]", phrase.strip().casefold()
            ):
                terms[key] = max(weight, terms.get(key, 0.0))
    return terms


def _patterns(where: str, data: object) -> tuple[Pattern, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise ConfigurationError(f"{where}: expected a list of patterns")
    found = []
    for index, item in enumerate(data):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("tokens"), list):
            raise ConfigurationError(
                f"{here}: expected a mapping with `tokens` (a spaCy Matcher pattern)"
            )
        tokens = item["tokens"]
        if not tokens or not all(isinstance(t, Mapping) for t in tokens):
            raise ConfigurationError(
                f"{here}.tokens: expected a non-empty list of token mappings"
            )
        found.append(
            Pattern(
                cue=str(item.get("cue", "")),
                weight=_weight(f"{here}.weight", item.get("weight", "medium")),
                tokens=tuple(tokens),
            )
        )
    return tuple(found)


def parse_lexicon(where: str, data: object) -> Lexicon:
    """
    Return the lexicon in a parsed YAML document (`where` names it in errors).

    Raises:
        ConfigurationError: the document is not a valid lexicon.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise ConfigurationError(f"{where}: a lexicon is a mapping with a `name`")
    unknown = sorted(set(data) - {"name", "signal", "description", "terms", "patterns"})
    if unknown:
        raise ConfigurationError(f"{where}: unknown key `{unknown[0]}`")
    return Lexicon(
        name=data["name"],
        terms=_terms(f"{where}: terms", data.get("terms", []), default="medium"),
        patterns=_patterns(f"{where}: patterns", data.get("patterns")),
        signal=str(data.get("signal", "")),
        description=" ".join(str(data.get("description", "")).split()),
    )


@dataclass(frozen=True)
class LexiconSet:
    """The lexicons one analyzer runs with, by name."""

    lexicons: Mapping[str, Lexicon]

    def __getitem__(self, name: str) -> Lexicon:
        """Return the lexicon called `name`; the error lists the known ones."""
        try:
            return self.lexicons[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown lexicon `{name}` (known: {', '.join(sorted(self.lexicons))})"
            ) from None

    def __iter__(self) -> Iterator[Lexicon]:
        """Iterate over the lexicons, sorted by name."""
        return iter(self.lexicons[name] for name in sorted(self.lexicons))

    @property
    def names(self) -> tuple[str, ...]:
        """Return the lexicon names, sorted."""
        return tuple(sorted(self.lexicons))

    @property
    def fingerprint(self) -> str:
        """Return a short hash of the terms and weights (a cache key)."""
        payload = {
            name: sorted(lexicon.terms.items())
            for name, lexicon in sorted(self.lexicons.items())
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[
            :16
        ]

    @property
    def vocabulary(self) -> frozenset[str]:
        """Return every word (3+ letters) in any term: what leetspeak decodes to."""
        words: set[str] = set()
        for lexicon in self.lexicons.values():
            for term in lexicon.terms:
                words.update(_WORD.findall(term))
        return frozenset(words)

    def changed(self, changes: Mapping[str, LexiconChange]) -> LexiconSet:
        """Return a set with `changes` applied (unknown lexicon names raise)."""
        if not changes:
            return self
        lexicons = dict(self.lexicons)
        for name, change in changes.items():
            lexicons[name] = self[name].changed(change, self.vocabulary)
        return LexiconSet(lexicons)


@cache
def packaged_lexicons() -> LexiconSet:
    """Return the lexicons shipped in the package (loaded once per process)."""
    folder = resources.files("replyguard") / "_data" / "lexicons"
    lexicons: dict[str, Lexicon] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        where = f"replyguard/_data/lexicons/{entry.name}"
        try:
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        lexicon = parse_lexicon(where, data)
        lexicons[lexicon.name] = lexicon
    return LexiconSet(lexicons)
