"""
The spaCy pipeline, built once per process per model name.

The default is ``spacy.blank("en")`` with a rule-based tokenizer that keeps handles
(``@x``, ``@x@host``, ``@x.bsky.social``), hashtags, URLs and cashtags whole; matching
is done by one `PhraseMatcher` (and a `Matcher` for lexicon ``patterns:``). No model
weights are needed. A policy may name an installed trained pipeline
(``nlp: {model: en_core_web_sm}``): its components (tagger, morphologizer) then run on
every text, so lexicon ``patterns:`` can use ``POS``, ``TAG`` and ``MORPH``.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import TYPE_CHECKING

from replyguard.errors import ConfigurationError

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["BLANK", "load_pipeline"]

BLANK = "blank:en"
"""The name of the default pipeline: spaCy's blank English plus rule components."""

_TOKEN_MATCH = re.compile(
    r"""^(?:
        @[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9.\-]+[A-Za-z0-9])?  # handles
      | \#[^\W_][\w]*                                                                # hashtags
      | \$[A-Za-z]{1,6}                                                              # cashtags
      | /s                                                                           # sarcasm tag
    )$""",
    re.VERBOSE,
)

_lock = threading.Lock()


@cache
def load_pipeline(name: str = BLANK) -> Language:
    """
    Return the spaCy pipeline called `name`, built once per process.

    Args:
        name: ``blank:en`` (the default) or the package name of an installed trained
            pipeline such as ``en_core_web_sm``.

    Raises:
        ConfigurationError: the named pipeline is not installed.
    """
    import spacy  # noqa: PLC0415 - spaCy is imported on first analysis, not at import

    with _lock:
        if name == BLANK:
            nlp = spacy.blank("en")
        else:
            try:
                nlp = spacy.load(name, exclude=["parser", "ner", "lemmatizer"])
            except OSError:
                raise ConfigurationError(
                    f"spaCy pipeline `{name}` is not installed (available: {BLANK}"
                    + "".join(
                        f", {n}" for n in sorted(spacy.util.get_installed_models())
                    )
                    + f"); install it with `python -m spacy download {name}`"
                ) from None
        nlp.tokenizer.token_match = _TOKEN_MATCH.match  # type: ignore[union-attr]
        return nlp
