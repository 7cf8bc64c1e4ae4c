"""
The reader: one pass of normalization, tokenization and lexicon matching per text.

`Reader.read` turns a post's (or a reply's) text into a `Reading`: every lexicon cue
found, with its span in the ORIGINAL text (the normalizer's offset map is applied),
plus the shape of the text (exclamation and question marks, punctuation runs, words in
capitals, short quoted spans, one-word sentences) and its content words. The signal
analyzers (sarcasm, tone, intent, reply) only combine readings; none of them tokenizes.

A reader is built once per lexicon set (the guard builds it when a policy is
installed) and keeps a bounded cache of readings by text, so a retweet storm of one
text is read once per process, not once per post.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

from replyguard.analysis._nlp import BLANK, load_pipeline
from replyguard.analysis.lexicons import LexiconSet, packaged_lexicons
from replyguard.analysis.normalize import Normalized, normalize
from replyguard.errors import ReplyGuardWarning

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["Hit", "Reader", "Reading"]

_PREFIX = re.compile(
    r"^(?:\s*RT\s+@[\w.\-@]+\s*:\s*)?(?:\s*@[A-Za-z0-9_][\w.\-]*(?:@[\w.\-]+)?)*\s*",
    re.IGNORECASE,
)
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_PUNCT_RUN = re.compile(r"[!?]{2,}|\.{3,}|\u2026")
_CAPS_WORD = re.compile(r"(?<![@#\w])[A-Z]{2,}(?![\w])")
_CAPS_INTENSIFIERS = frozenset(
    {"SO", "ONE", "NOT", "ALL", "BEST", "WOW", "LOVE", "EVER", "NO", "YES", "VERY"}
)
_SCARE_QUOTE = re.compile(r'"([^"\n]{1,40})"')
_ONE_WORD_SENTENCES = re.compile(
    r"(?:(?<=\s)|^)(?:[A-Za-z'\u2019]+\.\s+){3,}[A-Za-z']+"
)
_WORDS = re.compile(r"[a-z][a-z'\-]{2,}")
_SENT_END = frozenset({".", "!", "?", "\n", ":", ";", "\u2026", "..."})
_UPPER_CASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DROP_UPPER = str.maketrans("", "", _UPPER_CASE)
_DROP_LETTERS = str.maketrans("", "", _UPPER_CASE + _UPPER_CASE.lower())


LONG_RUN = 200
"""A run of this many characters without a space is tokenized in pieces."""
_LONG_RUN = re.compile(r"\S{%d,}" % LONG_RUN)  # noqa: UP031 - a regex quantifier

MAX_HITS = 64
"""The most hits one lexicon keeps in one text (scores saturate long before)."""


class Hit(NamedTuple):
    """One cue found in a text: which lexicon, how strong, and where (original offsets)."""

    lexicon: str
    cue: str
    weight: float
    start: int
    end: int
    text: str
    token_start: int
    token_end: int


class Reading:
    """
    What the reader found in one text. Immutable once built; shared between reviews.

    Offsets (`Hit.start`, `quotes`, `punct_runs`, `elongations`) index the original
    text.
    """

    __slots__ = (
        "_words",
        "all_caps",
        "by_lexicon",
        "caps_words",
        "clapping",
        "elongations",
        "exclamations",
        "hits",
        "memo",
        "normalized",
        "one_word_sentences",
        "punct_runs",
        "questions",
        "quotes",
        "scores",
        "text",
        "tokens",
    )

    def __init__(
        self,
        *,
        text: str,
        normalized: Normalized,
        hits: tuple[Hit, ...],
        tokens: int,
        words: _LazyWords,
        exclamations: int,
        questions: int,
        punct_runs: tuple[tuple[int, int], ...],
        caps_words: tuple[tuple[int, int], ...],
        all_caps: bool,
        quotes: tuple[tuple[int, int], ...],
        clapping: tuple[tuple[int, int], ...],
        elongations: tuple[tuple[int, int], ...] = (),
    ) -> None:
        self.text = text
        self.normalized = normalized
        self.hits = hits
        self.tokens = tokens
        self._words = words
        self.exclamations = exclamations
        self.questions = questions
        self.punct_runs = punct_runs
        self.caps_words = caps_words
        self.all_caps = all_caps
        self.quotes = quotes
        self.clapping = clapping
        self.elongations = elongations
        self.one_word_sentences = bool(clapping)
        self.memo: dict[str, Any] = {}
        """Values derived from this text alone (cues, model score): computed once."""
        by_lexicon: dict[str, list[Hit]] = {}
        scores: dict[str, float] = {}
        seen: set[tuple[str, str]] = set()
        for hit in hits:
            group = by_lexicon.get(hit.lexicon)
            if group is None:
                by_lexicon[hit.lexicon] = [hit]
            else:
                group.append(hit)
            key = (hit.lexicon, hit.cue)
            if key in seen:
                continue
            seen.add(key)
            scores[hit.lexicon] = 1.0 - (1.0 - scores.get(hit.lexicon, 0.0)) * (
                1.0 - hit.weight
            )
        self.scores: Mapping[str, float] = scores
        self.by_lexicon: Mapping[str, tuple[Hit, ...]] = {
            name: tuple(group) for name, group in by_lexicon.items()
        }

    @property
    def words(self) -> frozenset[str]:
        """Return the content words (lowercase, crudely stemmed, no stop words)."""
        return self._words.get()

    def score(self, lexicon: str) -> float:
        """Return the lexicon's score here: noisy-or of the distinct cues' weights."""
        return self.scores.get(lexicon, 0.0)

    def get(self, lexicon: str) -> tuple[Hit, ...]:
        """Return the hits of one lexicon, in text order."""
        return self.by_lexicon.get(lexicon, ())

    def __repr__(self) -> str:
        """Return a short summary for debugging."""
        found = ", ".join(f"{k}={v:.2f}" for k, v in sorted(self.scores.items()))
        return f"Reading({self.text[:40]!r}, {found})"


class Reader:
    """
    Reads texts with one lexicon set and one spaCy pipeline, built once.

    Args:
        lexicons: the lexicons to match (default: the packaged ones).
        pipeline: ``blank:en`` or an installed spaCy pipeline's name.
        cache_size: how many distinct texts' readings to keep (0: no cache).
    """

    def __init__(
        self,
        lexicons: LexiconSet | None = None,
        *,
        pipeline: str = BLANK,
        cache_size: int = 4096,
    ) -> None:
        from spacy import attrs  # noqa: PLC0415 - spaCy is imported on first use
        from spacy.matcher import Matcher, PhraseMatcher  # noqa: PLC0415

        self._offsets = [attrs.IDX, attrs.LENGTH]

        self.lexicons = lexicons or packaged_lexicons()
        self.pipeline = pipeline
        self.nlp = load_pipeline(pipeline)
        self.vocabulary = self.lexicons.vocabulary
        self._stop = _stop_words()
        # a trained pipeline's components (tagger...) run on every text; blank has none
        self._components = list(self.nlp.pipeline)
        self._compact: tuple[str, ...] | None = None
        self._compact_pattern: re.Pattern[str] | None = None
        self.stop_words = self._stop
        self._lock = threading.Lock()
        vocab = self.nlp.vocab
        tagged = bool(self.nlp.pipeline)
        annotated = _annotations(self.nlp) if tagged else frozenset()
        self._phrases = PhraseMatcher(vocab, attr="LOWER")
        self._patterns = Matcher(vocab)
        self._keys: dict[int, tuple[str, float, str, bool]] = {}
        prefixes: dict[str, list[tuple[str, float]]] = {}
        tokenizer = self.nlp.tokenizer
        for lexicon in self.lexicons:
            groups: dict[tuple[float, bool], list[Doc]] = {}
            for term, weight in lexicon.terms.items():
                if term.startswith("#") and term.endswith("*"):
                    prefixes.setdefault(lexicon.name, []).append((term[1:-1], weight))
                    continue
                at_start = term.startswith("^")
                phrase = term[1:].strip() if at_start else term
                # match terms as posts are matched: after normalization
                # ("r.i.p." -> "rip.", "lmaooo" -> "lmaoo")
                phrase = normalize(phrase, vocabulary=self.vocabulary).text
                groups.setdefault((weight, at_start), []).append(tokenizer(phrase))
            for (weight, at_start), docs in groups.items():
                key = f"{lexicon.name}|{weight}|{'^' if at_start else ''}"
                self._phrases.add(key, docs)
                self._keys[vocab.strings[key]] = (lexicon.name, weight, "", at_start)
            for index, pattern in enumerate(lexicon.patterns):
                missing = pattern.tag_keys - annotated
                if missing:
                    # spaCy's Matcher raises on every text for an attribute no
                    # component sets: leave the pattern out, and say so when a
                    # trained pipeline was asked for (blank never has tags)
                    if tagged:
                        warnings.warn(
                            f"lexicon `{lexicon.name}` pattern {index} reads "
                            f"{', '.join(sorted(missing))}, which pipeline "
                            f"`{pipeline}` does not set; the pattern is left out",
                            ReplyGuardWarning,
                            stacklevel=2,
                        )
                    continue
                tokens = [dict(t) for t in pattern.tokens]
                at_start = bool(tokens[0].pop("IS_SENT_START", False))
                key = f"{lexicon.name}#{index}"
                self._patterns.add(key, [tokens])
                self._keys[vocab.strings[key]] = (
                    lexicon.name,
                    pattern.weight,
                    pattern.cue,
                    at_start,
                )
        self._has_patterns = len(self._patterns) > 0
        self._hashtags = [
            (
                name,
                re.compile(
                    r"(?<![\w#])#(?:"
                    + "|".join(re.escape(p) for p, _ in sorted(found))
                    + r")\w+",
                    re.IGNORECASE,
                ),
                dict(found),
            )
            for name, found in sorted(prefixes.items())
        ]
        # read(text) -> Reading: with a bounded cache of readings by text
        self.read: Callable[[str], Reading] = (
            lru_cache(maxsize=cache_size)(self._read) if cache_size else self._read
        )
        # the text after the leading @handles (or "RT @x:"): a macro sent to many
        # people, or a retweet of a text already read, is tokenized once
        self._read_body: Callable[[str], Reading] = (
            lru_cache(maxsize=cache_size)(self._read_text)
            if cache_size
            else self._read_text
        )

    def _read(self, text: str) -> Reading:
        """Return the reading of `text` (cached by text when the reader caches)."""
        prefix = _PREFIX.match(text)
        base = prefix.end() if prefix else 0
        if base == 0:
            return self._read_text(text)
        return _shift(self._read_body(text[base:]), text, base)

    def _read_text(self, text: str) -> Reading:
        """Return the reading of a text with no leading handles to skip."""
        base = 0
        body = text.translate(_QUOTES)
        norm = normalize(body, vocabulary=self.vocabulary)
        with self._lock:
            doc = self._make_doc(norm.text)
            for _, component in self._components:
                doc = component(doc)
            matches: list[Any] = list(self._phrases(doc))
            if self._has_patterns:
                matches.extend(self._patterns(doc))
        hits = self._hits(text, base, norm, doc, matches)
        return self._shape(text, base, norm, doc, hits)

    def compact_terms(self) -> tuple[str, ...]:
        """
        Return slurs and strong insults without spaces or punctuation (4+ letters).

        For text written without separators, such as handles: "@hitlerdidnothingwrong".
        """
        if self._compact is None:
            found = set()
            for name in ("slurs", "hostility"):
                if name not in self.lexicons.lexicons:
                    continue
                for term, weight in self.lexicons[name].terms.items():
                    squeezed = re.sub(r"[^a-z0-9]+", "", term)
                    if weight >= 0.85 and len(squeezed) >= 5:
                        found.add(squeezed)
            self._compact = tuple(sorted(found))
        return self._compact

    def compact_pattern(self) -> re.Pattern[str]:
        """Return one pattern that finds any of `compact_terms` inside a word."""
        if self._compact_pattern is None:
            terms = sorted(self.compact_terms(), key=len, reverse=True)
            self._compact_pattern = re.compile(
                "|".join(re.escape(t) for t in terms) if terms else "(?!)"
            )
        return self._compact_pattern

    def _make_doc(self, text: str) -> Doc:
        """
        Return the tokens of `text`; long runs without a space are cut first.

        spaCy's tokenizer peels affixes off a whitespace-free chunk one at a time, so a
        chunk of thousands of emoji costs quadratic time (100 KB: over a minute). Runs
        of `LONG_RUN`+ characters are tokenized in pieces of 64 and the pieces joined:
        the text and every offset stay the same.
        """
        if len(text) < LONG_RUN or _LONG_RUN.search(text) is None:
            return self.nlp.make_doc(text)
        from spacy.tokens import Doc  # noqa: PLC0415 - the rare path

        cuts = {0, len(text)}
        for match in _LONG_RUN.finditer(text):
            cuts.update(range(match.start(), match.end(), 64))
            cuts.add(match.end())
        edges = sorted(cuts)
        docs = [self.nlp.make_doc(text[a:b]) for a, b in pairwise(edges)]
        return Doc.from_docs(docs, ensure_whitespace=False)

    def _hits(
        self,
        text: str,
        base: int,
        norm: Normalized,
        doc: Doc,
        matches: list[Any],
    ) -> tuple[Hit, ...]:
        hits: list[Hit] = []
        body = norm.text
        for name, pattern, weights in self._hashtags:
            for match in pattern.finditer(body):
                tag = match.group(0)[1:].lower()
                weight = max(w for p, w in weights.items() if tag.startswith(p))
                s, e = norm.span(match.start(), match.end())
                hits.append(
                    Hit(
                        name,
                        match.group(0).lower(),
                        weight,
                        s + base,
                        e + base,
                        text[s + base : e + base],
                        -1,
                        -1,
                    )
                )
        if not matches:
            return tuple(hits)
        keys = self._keys
        starts, lengths = zip(*doc.to_array(self._offsets).tolist(), strict=True)
        # longest first, so that "passed away" hides "passed" in the same lexicon
        matches.sort(key=lambda m: (m[1] - m[2], m[1]))
        # per lexicon: token position -> the end of the longest kept match over it
        covered: dict[str, dict[int, int]] = {}
        kept: dict[str, int] = {}
        for match_id, start, end in matches:
            lexicon, weight, cue, at_start = keys[match_id]
            if at_start and start > 0:
                before = body[
                    starts[start - 1] : starts[start - 1] + lengths[start - 1]
                ]
                if before not in _SENT_END and before.strip():
                    continue
            marks = covered.get(lexicon)
            if marks is None:
                marks = covered[lexicon] = {}
            elif marks.get(start, -1) >= end:
                continue  # inside a longer match of the same lexicon
            count = kept.get(lexicon, 0)
            if count >= MAX_HITS:
                continue
            kept[lexicon] = count + 1
            for position in range(start, end):
                if marks.get(position, -1) < end:
                    marks[position] = end
            n_start = starts[start]
            n_end = starts[end - 1] + lengths[end - 1]
            o_start, o_end = norm.span(n_start, n_end)
            o_start, o_end = o_start + base, o_end + base
            hits.append(
                Hit(
                    lexicon,
                    cue or body[n_start:n_end].lower(),
                    weight,
                    o_start,
                    o_end,
                    text[o_start:o_end],
                    start,
                    end,
                )
            )
        hits.sort(key=lambda h: (h.start, h.lexicon))
        return tuple(hits)

    def _shape(
        self,
        text: str,
        base: int,
        norm: Normalized,
        doc: Doc,
        hits: tuple[Hit, ...],
    ) -> Reading:
        body = norm.text

        def spans(pattern: re.Pattern[str]) -> tuple[tuple[int, int], ...]:
            found = []
            for match in pattern.finditer(body):
                s, e = norm.span(match.start(), match.end())
                found.append((s + base, e + base))
            return tuple(found)

        letters = len(body) - len(body.translate(_DROP_LETTERS))
        upper = len(body) - len(body.translate(_DROP_UPPER))
        all_caps = letters >= 20 and upper / letters > 0.7
        caps: list[tuple[int, int]] = []
        if upper > 1 and not all_caps:
            for match in _CAPS_WORD.finditer(body):
                word = match.group(0)
                if len(word) >= 4 or word in _CAPS_INTENSIFIERS:
                    s, e = norm.span(match.start(), match.end())
                    caps.append((s + base, e + base))
        quotes = []
        if '"' in body:
            for match in _SCARE_QUOTE.finditer(body):
                inner = match.group(1).strip()
                if inner and len(inner.split()) <= 4:
                    s, e = norm.span(match.start(), match.end())
                    quotes.append((s + base, e + base))
        runs: tuple[tuple[int, int], ...] = ()
        if (
            "!!" in body
            or "??" in body
            or "?!" in body
            or "!?" in body
            or ("..." in body or "\u2026" in body)
        ):
            runs = spans(_PUNCT_RUN)
        clapping: tuple[tuple[int, int], ...] = ()
        if body.count(".") >= 3:
            clapping = spans(_ONE_WORD_SENTENCES)
        lowered = body.lower()
        return Reading(
            text=text,
            normalized=norm,
            hits=hits,
            tokens=len(doc),
            words=_LazyWords(lowered, self._stop),
            exclamations=body.count("!"),
            questions=body.count("?"),
            punct_runs=runs,
            caps_words=tuple(caps),
            all_caps=all_caps,
            quotes=tuple(quotes),
            clapping=clapping,
            elongations=tuple((s + base, e + base) for s, e in norm.elongations),
        )


def _shift(inner: Reading, text: str, base: int) -> Reading:
    """Return `inner` (the reading of ``text[base:]``) as the reading of `text`."""

    def moved(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        return tuple((s + base, e + base) for s, e in spans)

    return Reading(
        text=text,
        normalized=inner.normalized,
        hits=tuple(
            h._replace(start=h.start + base, end=h.end + base) for h in inner.hits
        ),
        tokens=inner.tokens,
        words=inner._words,
        exclamations=inner.exclamations,
        questions=inner.questions,
        punct_runs=moved(inner.punct_runs),
        caps_words=moved(inner.caps_words),
        all_caps=inner.all_caps,
        quotes=moved(inner.quotes),
        clapping=moved(inner.clapping),
        elongations=moved(inner.elongations),
    )


class _LazyWords:
    """Content words, computed on first use (most readings never need them)."""

    __slots__ = ("_stop", "_text", "_words")

    def __init__(self, text: str, stop: frozenset[str]) -> None:
        self._text = text
        self._stop = stop
        self._words: frozenset[str] | None = None

    def get(self) -> frozenset[str]:
        if self._words is None:
            self._words = (
                frozenset(_stem(w) for w in _WORDS.findall(self._text)) - self._stop
            )
        return self._words


def _stem(word: str) -> str:
    """Return a crude stem: enough to match "charges" with "charged" and "charge"."""
    word = word.strip("'-")
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _annotations(nlp: Any) -> frozenset[str]:
    """
    Return the token attributes (POS, TAG, ...) a pipeline's components set.

    What the components declare they assign, what they set on a probe sentence, and
    what an attribute ruler's patterns set (it declares nothing).
    """
    found: set[str] = set()
    for name, component in nlp.pipeline:
        for assigned in nlp.get_pipe_meta(name).assigns:
            found.add(assigned.rsplit(".", 1)[-1].upper())
        for pattern in getattr(component, "patterns", ()) or ():
            if isinstance(pattern, dict) and isinstance(pattern.get("attrs"), dict):
                found.update(key.upper() for key in pattern["attrs"])
    probe = nlp("This is a short test of what the pipeline sets.")
    found.update(
        attr
        for attr in ("POS", "TAG", "MORPH", "LEMMA", "DEP")
        if probe.has_annotation(attr)
    )
    return frozenset(found)


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # noqa: PLC0415 - lazy spaCy

    extra = {
        "hi",
        "hey",
        "hello",
        "thanks",
        "thank",
        "please",
        "pls",
        "dm",
        "lol",
        "ok",
    }
    words = {*STOP_WORDS, *extra}
    return frozenset(words | {_stem(w) for w in words})
