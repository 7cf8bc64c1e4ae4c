"""
A small trainable linear text scorer: a logistic model over sparse, named features.

`LinearScorer` scores a text in 0..1 as ``sigmoid(bias + sum(weight * value))``. Every
feature has a readable name that evidence can quote:

- word n-grams, ``w:love`` and ``w:love how``. Tokens are words, emoji, emoticons and
  runs of marks (``!!``, ``??``, ``?!``, ``...``); with ``boundaries`` the text starts
  with ``<s>`` and ends with ``</s>``, so ``w:<s> oh`` is a text opening with "oh";
- character n-grams inside words, ``c: lov`` (a word is padded with a space on each
  side, so ``c:ove `` is a word ending in ``ove``); off in the shipped model, where
  they cost time and lowered the cross-validated AUC;
- shape, ``s:allcaps`` (a word of three capitals or more), ``s:elongated`` (``sooo``),
  ``s:scare_quote`` (one to three words in quotes);
- lexicon, from two small hand-written lists: ``s:positive`` (a praise word),
  ``s:positive_opening`` (one among the first three tokens), ``s:negative`` (a word
  of a bad situation: waiting, traffic, Monday...) and ``s:contrast`` (both: "love
  waiting on hold");
- cues, ``cue:eye_roll``: values 0..1 that the caller's rule-based cue detectors
  computed and pass in, so that a model can weigh them next to the words.

Text features are binary (present or not); cues keep their value. The text is expected
normalised (homoglyphs, leetspeak) but in its own case. HTML entities are decoded, then
the text is lowercased; mentions (``@x``, ``@x@host``, ``@x.bsky.social``) become
``@user``, links ``http``, runs of digits ``0``, and a letter repeated three times or
more is cut to two (``sooo`` -> ``soo``).

The issue asked for hashed n-grams. A model keeps instead a pruned dictionary: only the
non-zero weights of features seen in training, often only the largest few thousand.
That does the job of hashing (a bounded model, one dictionary lookup per feature)
without collisions, and every weight keeps its name, so `LinearScorer.explain` can say
which words made a text score high. A feature the model does not know weighs nothing.

Scoring is pure Python, a few regex passes and dictionary lookups (about 20 µs for a
150-character tweet): no numpy, whose per-call overhead would exceed the lookups it
replaced, and no scikit-learn, which `replyguard.training` needs to fit the weights.
"""

from __future__ import annotations

import functools
import gzip
import html
import importlib.resources
import json
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise, repeat
from pathlib import Path
from types import MappingProxyType
from typing import Any

from replyguard.errors import ConfigurationError, InvalidArgument

__all__ = [
    "FORMAT",
    "FeatureConfig",
    "LinearScorer",
    "available_models",
    "text_features",
]

FORMAT = "replyguard.linear_scorer.v1"
"""The ``format`` field of a model file, versioned like a registry name."""

_MODELS = ("_data", "models")
_KINDS = ("w", "c", "s", "cue")
_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]*")

_URL = re.compile(r"(?:https?://|www\.)\S+")
"""A link, in lowercase text."""
_HANDLE = re.compile(
    r"@(?<![\w@/]@)[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9.\-]+[A-Za-z0-9])?"
)
"""`replyguard.analysis._text.HANDLE`, written to start with ``@``: five times faster."""
_DIGITS = re.compile(r"\d+")
_ELONGATED = re.compile(r"([a-z])\1\1+")
_CAPS = re.compile(r"[A-Z][A-Z][A-Z]")
_ALLCAPS = re.compile(r"(?<![^\W\d_])[A-Z]{3,}(?![^\W\d_])")
_SCARE_QUOTE = re.compile(r"[\"“][^\s\"“”]+(?: [^\s\"“”]+){0,2}[\"”]")
"""One to three words in double quotes."""
_SCARE_QUOTE_SINGLE = re.compile(
    r"(?<!\w)['\u2018][^\s'\u2018\u2019]+(?: [^\s'\u2018\u2019]+){0,2}['\u2019](?!\w)"
)
"""One to three words in single quotes (an apostrophe inside a word opens none)."""
_DOTS = re.compile(r"\.\.+|…")
_MIXED = re.compile(r"[!?]*(?:\?!|!\?)[!?]*")
_BANGS = re.compile(r"!!+")
_QUERIES = re.compile(r"\?\?+")
_TOKEN = re.compile(
    r"[^\W_]+(?:'[^\W_]+)*"  # a word, with its inner apostrophes
    r"|@user"
    r"|\?!|!!|\?\?|[!?]|\.\.\."  # runs of marks, made canonical before
    r"|[:;=]-?[()/\\|pd*]+(?!\w)|<3"  # emoticons (the text is lowercase)
    # one symbol or emoji: not ASCII, not general punctuation (quotes, dashes, zero
    # width joiner), not a variation selector or a skin tone modifier
    r"|[^\w\s\x00-\x7f\u2000-\u206f\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]"
)


def _is_number(value: object) -> bool:
    """Return whether a value is a finite int or float (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _span(value: Any, what: str) -> tuple[int, int] | None:
    """Return a validated ``(low, high)`` n-gram range, or None when it is off."""
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        or not 1 <= value[0] <= value[1] <= 8
    ):
        raise InvalidArgument(
            f"{what} must be a range `[low, high]` with 1 <= low <= high <= 8"
        )
    return (value[0], value[1])


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """
    Which features a scorer extracts; stored in a model's ``metadata["features"]``.

    Attributes:
        word_ngrams: the range of word n-gram lengths, such as ``(1, 2)``.
        char_ngrams: the range of character n-gram lengths inside a word, such as
            ``(3, 4)``, or None for none.
        shape: whether to add the shape features (``s:allcaps``, ``s:elongated``,
            ``s:scare_quote``).
        lexicon: whether to add the lexicon features (``s:positive``,
            ``s:positive_opening``, ``s:negative``, ``s:contrast``).
        boundaries: whether word n-grams see the start and end of the text
            (``w:<s> oh``, ``w:right </s>``).
    """

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] | None = None
    shape: bool = True
    lexicon: bool = True
    boundaries: bool = True

    def __post_init__(self) -> None:
        _span(self.word_ngrams, "`word_ngrams`")
        _span(self.char_ngrams, "`char_ngrams`")
        for name in ("shape", "lexicon", "boundaries"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgument(f"`{name}` must be true or false")

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as JSON-ready data."""
        return {
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "shape": self.shape,
            "lexicon": self.lexicon,
            "boundaries": self.boundaries,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureConfig:
        """
        Build a configuration from `to_dict` data.

        Args:
            data: the mapping; missing keys take their defaults.

        Raises:
            InvalidArgument: a key is unknown or a value is out of range.
        """
        unknown = sorted(set(data) - set(_DEFAULTS))
        if unknown:
            raise InvalidArgument(f"unknown feature setting `{unknown[0]}`")
        settings = {**_DEFAULTS, **data}
        word = _span(settings["word_ngrams"], "`word_ngrams`")
        if word is None:
            raise InvalidArgument("`word_ngrams` must be a range `[low, high]`")
        return cls(
            word_ngrams=word,
            char_ngrams=_span(settings["char_ngrams"], "`char_ngrams`"),
            shape=settings["shape"],
            lexicon=settings["lexicon"],
            boundaries=settings["boundaries"],
        )


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_POSITIVE = _word_set(
    """
    adore amazing awesome beautiful best blessed brilliant congrats congratulations
    cool delighted enjoy enjoying excellent excited exciting fabulous fantastic
    favorite favourite fun funny genius glad good great greatest happy incredible
    love loved lovely loving lucky marvelous nice perfect perfectly proud super sweet
    thank thanks thrilled wonderful yay
    """
)
"""Praise words, for the ``s:positive`` and ``s:contrast`` features."""

_NEGATIVE = _word_set(
    """
    alone awful bad bill bills broke broken cancel canceled cancelled cold covid crash
    crashed cry crying dead debt delay delayed dentist died dirty dying exam exams
    exhausted expensive fail failed failing fired flu hate hated headache homework hot
    hour hours hurt ignore ignored ill injury late lockdown lost miss missed missing
    monday mondays never noise nothing pain pandemic problem problems queue rain
    raining rude sad sick slow stress stressed stressful stuck tax taxes terrible test
    tired traffic wait waited waiting work working worst
    """
)
"""Words of a bad situation, for the ``s:negative`` and ``s:contrast`` features."""

_RIGHT_QUOTE = "\u2019"
_START = "<s>"
_END = "</s>"


def _prepare(text: str, config: FeatureConfig) -> tuple[list[str], list[str]]:
    """
    Return the tokens of a text and its ``s:`` features (names without the prefix).

    With ``config.boundaries`` the tokens start with ``<s>`` and end with ``</s>``.
    Each regex runs only when a cheap substring test says it can match: this function
    is most of the cost of `LinearScorer.score`.
    """
    if "&" in text:
        text = html.unescape(text)
    shapes: list[str] = []
    shape = config.shape
    if shape:
        if _CAPS.search(text) is not None and _ALLCAPS.search(_plain(text)) is not None:
            shapes.append("allcaps")
        if (('"' in text or "“" in text) and _SCARE_QUOTE.search(text) is not None) or (
            ("\u2018" in text or " '" in text or text.startswith("'"))
            and _SCARE_QUOTE_SINGLE.search(text) is not None
        ):
            shapes.append("scare_quote")
    text = text.lower()
    if "http" in text or "www." in text:
        text = _URL.sub(" http ", text)
    if "@" in text:
        text = _HANDLE.sub(" @user ", text)
    text = _DIGITS.sub("0", text)
    if _ELONGATED.search(text) is not None:
        text = _ELONGATED.sub(_two, text)
        if shape:
            shapes.append("elongated")
    if _RIGHT_QUOTE in text:  # a typographic apostrophe
        text = text.replace(_RIGHT_QUOTE, "'")
    # Runs of marks become one of `...`, `?!`, `!!` or `??`.
    if ".." in text or "…" in text:
        text = _DOTS.sub(" ... ", text)
    if "?!" in text or "!?" in text:
        text = _MIXED.sub(" ?! ", text)
    if "!!" in text:
        text = _BANGS.sub(" !! ", text)
    if "??" in text:
        text = _QUERIES.sub(" ?? ", text)
    tokens: list[str] = _TOKEN.findall(text)
    if config.lexicon:
        positive = not _POSITIVE.isdisjoint(tokens)
        if positive:
            shapes.append("positive")
            if not _POSITIVE.isdisjoint(tokens[:3]):
                shapes.append("positive_opening")
        if not _NEGATIVE.isdisjoint(tokens):
            shapes.append("negative")
            if positive:
                shapes.append("contrast")
    if config.boundaries:
        tokens = [_START, *tokens, _END]
    return tokens, shapes


def _plain(text: str) -> str:
    """Return a text without its links and mentions (whose capitals are no shouting)."""
    return _HANDLE.sub(" ", _URL.sub(" ", text))


def _two(match: re.Match[str]) -> str:
    """Return the repeated letter twice (a function is faster than a template)."""
    return match.group(1) * 2


def _ngrams(tokens: list[str], low: int, high: int, *, bounded: bool) -> list[str]:
    """Return the word n-grams; boundary markers never stand alone as unigrams."""
    grams: list[str] = []
    for n in range(low, high + 1):
        if n == 1:
            grams += tokens[1:-1] if bounded else tokens
        elif n == 2:
            grams += map(" ".join, pairwise(tokens))
        else:
            grams += map(" ".join, zip(*[tokens[i:] for i in range(n)], strict=False))
    return grams


def _char_ngrams(tokens: list[str], low: int, high: int) -> set[str]:
    grams: set[str] = set()
    for token in tokens:
        if not token[0].isalpha() or token == "http":  # noqa: S105 - a link token
            continue
        padded = f" {token} "
        size = len(padded)
        for n in range(low, min(high, size) + 1):
            grams.update(padded[i : i + n] for i in range(size - n + 1))
    return grams


def text_features(
    text: str,
    config: FeatureConfig | None = None,
    cues: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """
    Return every feature of a text by name, whether a model knows it or not.

    This is what a scorer's weights are learned over; `LinearScorer.features` calls it
    with the model's configuration.

    Args:
        text: the text, normalised (homoglyphs, leetspeak) but in its own case.
        config: which features to extract; the `FeatureConfig` defaults when None.
        cues: rule-based cue values by name (0..1); zero values are left out.
    """
    config = config or _DEFAULT_CONFIG
    tokens, shapes = _prepare(text, config)
    grams = _ngrams(tokens, *config.word_ngrams, bounded=config.boundaries)
    features = dict.fromkeys(["w:" + g for g in grams], 1.0)
    if config.char_ngrams is not None:
        chars = _char_ngrams(tokens, *config.char_ngrams)
        features.update(dict.fromkeys(["c:" + g for g in sorted(chars)], 1.0))
    features.update(dict.fromkeys(["s:" + s for s in shapes], 1.0))
    if cues:
        features.update({"cue:" + k: float(v) for k, v in cues.items() if v})
    return features


_DEFAULT_CONFIG = FeatureConfig()
_DEFAULTS = _DEFAULT_CONFIG.to_dict()
_ZEROS = repeat(0.0)


class LinearScorer:
    """
    A logistic model over sparse named features: word and char n-grams, shape, cues.

    Build one with `LinearScorer.load`, `LinearScorer.packaged` or
    `replyguard.training.train_scorer`; score with `score`, explain with `explain`.

    Args:
        signal: the signal the model scores, such as ``sarcasm``.
        version: the model's version, such as ``sarcasm-isarcasmeval.1``.
        bias: the intercept.
        weights: feature name -> weight (zero weights may be left out).
        metadata: where the model came from (training data, licence, cross-validated
            metrics, the decision ``threshold``) and its ``features`` configuration
            (see `FeatureConfig`).

    Raises:
        InvalidArgument: a weight is not a finite number, or the feature configuration
            is invalid.
    """

    __slots__ = (
        "_chars",
        "_config",
        "_cues",
        "_shapes",
        "_words",
        "bias",
        "metadata",
        "signal",
        "version",
        "weights",
    )

    def __init__(
        self,
        *,
        signal: str,
        version: str,
        bias: float,
        weights: Mapping[str, float],
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        meta = dict(metadata or {})
        config_data = meta.get("features", {})
        if not isinstance(config_data, Mapping):
            raise InvalidArgument("`metadata.features` must be a mapping")
        self._config = FeatureConfig.from_dict(config_data)
        meta["features"] = self._config.to_dict()
        clean: dict[str, float] = {}
        for name, weight in weights.items():
            if name.partition(":")[0] not in _KINDS:
                raise InvalidArgument(
                    f"feature `{name}` must start with `w:`, `c:`, `s:` or `cue:`"
                )
            if not _is_number(weight):
                raise InvalidArgument(f"weight of `{name}` must be a finite number")
            if weight:
                clean[name] = float(weight)
        if not _is_number(bias):
            raise InvalidArgument("`bias` must be a finite number")
        self.signal = signal
        self.version = version
        self.bias = float(bias)
        self.weights: Mapping[str, float] = MappingProxyType(clean)
        self.metadata: Mapping[str, Any] = MappingProxyType(meta)
        # Lookup tables without the prefixes, so that scoring builds no names.
        tables: dict[str, dict[str, float]] = {kind: {} for kind in _KINDS}
        for name, weight in clean.items():
            kind, _, rest = name.partition(":")
            tables[kind][rest] = weight
        self._words = tables["w"]
        self._chars = tables["c"]
        self._shapes = tables["s"]
        self._cues = tables["cue"]

    def __repr__(self) -> str:
        return (
            f"LinearScorer(signal={self.signal!r}, version={self.version!r}, "
            f"features={len(self.weights)})"
        )

    @property
    def config(self) -> FeatureConfig:
        """Return which features this scorer extracts."""
        return self._config

    @property
    def threshold(self) -> float:
        """Return the decision threshold stored by training (0.5 when there is none)."""
        value = self.metadata.get("threshold", 0.5)
        return float(value) if isinstance(value, int | float) else 0.5

    # --- scoring ---------------------------------------------------------------------

    def features(
        self, text: str, cues: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """
        Return every feature of a text by name, whether this model knows it or not.

        Args:
            text: the text, normalised (homoglyphs, leetspeak) but in its own case.
            cues: rule-based cue values by name (0..1), added as ``cue:<name>``.
        """
        return text_features(text, self._config, cues)

    def score(self, text: str, cues: Mapping[str, float] | None = None) -> float:
        """
        Return the probability, 0..1, that the text carries the scorer's signal.

        Args:
            text: the text, normalised (homoglyphs, leetspeak) but in its own case.
            cues: rule-based cue values by name (0..1), weighed as ``cue:<name>``.
        """
        config = self._config
        tokens, shapes = _prepare(text, config)
        words = self._words
        low, high = config.word_ngrams
        if low == 1 and high == 2 and config.boundaries:  # the shipped configuration
            grams = set(tokens[1:-1])
            grams.update(map(" ".join, pairwise(tokens)))
        else:
            grams = set(_ngrams(tokens, low, high, bounded=config.boundaries))
        total = self.bias + sum(map(words.get, grams, _ZEROS))
        if config.char_ngrams is not None:
            chars = self._chars
            grams = _char_ngrams(tokens, *config.char_ngrams)
            total += sum(map(chars.get, grams, _ZEROS))
        for name in shapes:
            total += self._shapes.get(name, 0.0)
        if cues:
            table = self._cues
            for name, value in cues.items():
                total += table.get(name, 0.0) * value
        return _sigmoid(total)

    def explain(
        self,
        text: str,
        cues: Mapping[str, float] | None = None,
        *,
        top: int = 3,
    ) -> list[tuple[str, float]]:
        """
        Return the features that raised the score most, with their contributions.

        Args:
            text: the text, as given to `score`.
            cues: the cue values, as given to `score`.
            top: how many features to return at most.
        """
        weights = self.weights
        contributions = [
            (name, weights[name] * value)
            for name, value in self.features(text, cues).items()
            if name in weights
        ]
        positive = [item for item in contributions if item[1] > 0]
        positive.sort(key=lambda item: (-item[1], item[0]))
        return positive[:top]

    # --- files -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the model as JSON-ready data (the model file's content)."""
        return {
            "format": FORMAT,
            "signal": self.signal,
            "version": self.version,
            "bias": self.bias,
            "metadata": dict(self.metadata),
            "weights": dict(sorted(self.weights.items())),
        }

    def save(self, path: str | Path) -> None:
        """
        Write the model to a ``.json`` file, gzip-compressed when it ends in ``.gz``.

        The output is deterministic: the same model always writes the same bytes.

        Args:
            path: the file to write.
        """
        path = Path(path)
        data = json.dumps(
            self.to_dict(), ensure_ascii=False, separators=(",", ":")
        ).encode()
        if path.suffix == ".gz":
            data = gzip.compress(data, compresslevel=9, mtime=0)
        path.write_bytes(data)

    @classmethod
    def load(cls, path: str | Path) -> LinearScorer:
        """
        Read a model written by `save` (``.json`` or ``.json.gz``).

        Args:
            path: the model file.

        Raises:
            ConfigurationError: the file cannot be read, is not JSON, or is not a
                scorer model; the message names the file and the problem.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigurationError(f"{path}: scorer model not found") from None
        except OSError as exc:
            raise ConfigurationError(
                f"{path}: cannot read scorer model: {exc.strerror or exc}"
            ) from None
        return cls._from_bytes(raw, str(path))

    @classmethod
    def packaged(cls, name: str) -> LinearScorer:
        """
        Return a model shipped with replyguard, such as ``sarcasm``; cached.

        Args:
            name: the model's name (its file is ``_data/models/<name>.json.gz``).

        Raises:
            ConfigurationError: no model of that name ships; the message lists those
                that do.
        """
        if not isinstance(name, str):
            raise InvalidArgument(f"model name must be a string, not `{name!r}`")
        return _packaged(name)

    @classmethod
    def _from_bytes(cls, raw: bytes, where: str) -> LinearScorer:
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:
                raise ConfigurationError(
                    f"{where}: scorer model is not a valid gzip file: {exc}"
                ) from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"{where}: scorer model is not UTF-8 JSON text"
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"{where}:{exc.lineno}:{exc.colno}: scorer model is not valid json: {exc.msg.lower()}"
            ) from None
        return cls._from_data(data, where)

    @classmethod
    def _from_data(cls, data: Any, where: str) -> LinearScorer:
        def problem(message: str) -> ConfigurationError:
            return ConfigurationError(f"{where}: not a scorer model: {message}")

        if not isinstance(data, dict):
            raise problem("the document must be an object")
        if data.get("format") != FORMAT:
            raise problem(f"`format` must be `{FORMAT}`, found `{data.get('format')}`")
        for key in ("signal", "version"):
            if not isinstance(data.get(key), str):
                raise problem(f"`{key}` must be a string")
        bias = data.get("bias")
        if not isinstance(bias, int | float) or isinstance(bias, bool):
            raise problem("`bias` must be a number")
        weights = data.get("weights")
        if not isinstance(weights, dict):
            raise problem("`weights` must map feature names to numbers")
        metadata = data.get("metadata", {})
        if not isinstance(metadata, dict):
            raise problem("`metadata` must be an object")
        try:
            return cls(
                signal=data["signal"],
                version=data["version"],
                bias=bias,
                weights=weights,
                metadata=metadata,
            )
        except InvalidArgument as exc:
            raise problem(str(exc)) from None


def available_models() -> list[str]:
    """Return the names of the models shipped with replyguard, sorted."""
    folder = importlib.resources.files("replyguard").joinpath(*_MODELS)
    if not folder.is_dir():  # pragma: no cover - the folder ships in the wheel
        return []
    suffix = ".json.gz"
    return sorted(
        entry.name.removesuffix(suffix)
        for entry in folder.iterdir()
        if entry.name.endswith(suffix)
    )


@functools.cache
def _packaged(name: str) -> LinearScorer:
    if _NAME.fullmatch(name) is None:
        raise InvalidArgument(
            f"model name must be lowercase letters, digits, `_` or `-`, not `{name}`"
        )
    resource = importlib.resources.files("replyguard").joinpath(
        *_MODELS, f"{name}.json.gz"
    )
    if not resource.is_file():
        listed = ", ".join(f"`{n}`" for n in available_models()) or "none"
        raise ConfigurationError(
            f"no packaged scorer model `{name}`; available: {listed}"
        )
    return LinearScorer._from_bytes(resource.read_bytes(), f"replyguard:{name}")
