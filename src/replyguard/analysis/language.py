"""
Which language a post is in, and whether the English analyzers can read it.

`detect_language` is rule based, offline and fast (a few microseconds a tweet). It
counts two things:

- **Scripts.** A text mostly in one non-Latin script is told by it: Greek ``el``,
  Hebrew ``he``, Hangul ``ko``, Thai ``th``, kana ``ja``, Han alone ``zh``, Arabic
  script ``ar`` (``fa`` or ``ur`` by their own letters), Devanagari ``hi`` (``mr``,
  ``ne`` by their stop words), Cyrillic by stop words and letters (``ru``, ``uk``,
  ``bg``, ``sr``, ``mk``) and a few more scripts by their Unicode block (``hy``,
  ``ka``, ``bn``, ``ta``, ...; script ``"other"``).
- **Stop words**, for Latin script: the lists shipped inside spaCy
  (``spacy/lang/<code>/stop_words.py``) for English and 28 other languages. A word
  counts fully for a language only where it is specific to it: words that are also
  English stop words, common English words (``door``, ``store``, ``fine``, ``van``,
  ...) and single letters count half. A foreign language wins only with at least two
  specific words and more weight than English has, so an English tweet with a
  Spanish word or a quoted phrase stays ``en``.

Handles (``@x``, ``@x@host``, ``@x.bsky.social``), URLs, addresses, hashtags,
cashtags, numbers and emoji are removed before counting.

A text with too few words to tell (``thx 🙏``, ``@Dashly ???``, ``lol``, ``10/10``)
is ``und``: callers treat it as readable. A text of three letters or more in a
non-Latin script is never ``und``: without telling words it takes the script's most
common language (one Cyrillic word is ``ru``). Only two letters of a script (``да``),
or letters of a script not listed here, give ``und`` with that ``script``:
`LanguageGuess.english_readable` looks at both.

The stop-word lists are read once, on first use, straight from spaCy's files (about
20 ms) instead of importing ``spacy.lang.<code>`` (seconds: some packages build their
tokenizer exceptions on import).

Known limits: languages without a stop-word list here (Swahili, Yoruba, Hausa, ...)
come out ``und`` or as the nearest listed language; close languages (``es``/``ca``/
``pt``/``gl``, ``da``/``nb``, ``cs``/``sk``, ``hr``/``sr`` in Latin script, ``id``/
``ms``) are told apart by stop words only, which short texts may not settle; text
in decorative letters (mathematical bold, fullwidth) is not folded and comes out ``und``;
Japanese written in kanji alone comes out ``zh``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["LanguageGuess", "detect_language"]


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """
    The language of a text, as far as the rules can tell.

    Args:
        lang: an ISO 639-1 code (``"en"``, ``"es"``, ...), or ``"und"`` when there is
            too little text to tell.
        confidence: how sure the guess is, from 0 to 1 (0 for ``und``).
        script: the text's main script: ``"latin"``, ``"cyrillic"``, ``"greek"``,
            ``"arabic"``, ``"hebrew"``, ``"cjk"``, ``"hangul"``, ``"thai"``,
            ``"devanagari"``, ``"other"``, or ``"none"`` when it has no letters.
    """

    lang: str
    confidence: float
    script: str

    @property
    def english_readable(self) -> bool:
        """Whether the English analyzers can read the text: ``en``, or ``und`` in Latin."""
        return self.lang == "en" or (
            self.lang == "und" and self.script in {"latin", "none"}
        )


# --- cleaning and tokens --------------------------------------------------------------

_TLDS = (
    "com|org|net|io|co|social|app|ly|gg|tv|me|dev|ai|uk|us|eu|de|fr|es|it|nl|ca|au|jp|"
    "ru|br|mx|in"
)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HAS_DOMAIN = re.compile(rf"\.(?:{_TLDS})\b")
_DOMAIN = re.compile(rf"[\w\-]+(?:\.[\w\-]+)*\.(?:{_TLDS})\b(?:/\S*)?")
# Handles (`@x`, `@x@host`, `@x.bsky.social`, as `_text.HANDLE`) and whatever touches
# an `@`; starting on the `@` keeps the scan fast (an address leaves its local part).
_AT = re.compile(r"@[\w.\-@]*")
_TAG = re.compile(r"[#$][^\s#$@]*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_ACCENTED = re.compile("[\u00c0-\u024f\u1e00-\u1eff]")
# For plain ASCII: lowercase letters and apostrophes stay, anything else is a space.
_ASCII_WORDS = bytes(
    c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or c == 39 else 32
    for c in range(256)
)

# Any character of a non-Latin script block (letters, and a few signs beside them).
_NON_LATIN = re.compile(
    "[\u0370-\u1dbf\u1f00-\u1fff\u2c00-\u2dff\u2e80-\u2fdf\u3040-\u9fff"
    "\ua000-\ud7ff\uf900-\ufaff\ufb1d-\ufdff\ufe70-\ufeff\uff66-\uffdc"
    "\U00010000-\U0001cfff\U00020000-\U0003ffff]"
)
_LETTERS = re.compile(r"[^\W\d_]+")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_SCRIPTS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    # (script, its letters, the weight of one letter: a CJK character is a word or a
    # syllable, worth about three Latin letters; a Hangul block, a syllable, two)
    ("cyrillic", re.compile("[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]"), 1),
    ("greek", re.compile("[\u0370-\u03ff\u1f00-\u1fff]"), 1),
    ("arabic", re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"), 1),
    ("hebrew", re.compile("[\u0590-\u05ff\ufb1d-\ufb4f]"), 1),
    ("cjk", re.compile("[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                       "\uff66-\uff9f\U00020000-\U0003ffff]"), 3),
    ("hangul", re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"), 2),
    ("thai", re.compile("[\u0e00-\u0e7f]"), 1),
    ("devanagari", re.compile("[\u0900-\u097f]"), 1),
)  # fmt: skip

# Unicode blocks of other scripts that one language dominates.
_OTHER_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0530, 0x058F, "hy"),
    (0x0980, 0x09FF, "bn"),
    (0x0A00, 0x0A7F, "pa"),
    (0x0A80, 0x0AFF, "gu"),
    (0x0B00, 0x0B7F, "or"),
    (0x0B80, 0x0BFF, "ta"),
    (0x0C00, 0x0C7F, "te"),
    (0x0C80, 0x0CFF, "kn"),
    (0x0D00, 0x0D7F, "ml"),
    (0x0D80, 0x0DFF, "si"),
    (0x0E80, 0x0EFF, "lo"),
    (0x0F00, 0x0FFF, "bo"),
    (0x1000, 0x109F, "my"),
    (0x10A0, 0x10FF, "ka"),
    (0x1200, 0x139F, "am"),
    (0x1780, 0x17FF, "km"),
    (0x1800, 0x18AF, "mn"),
)

# Letters that only some languages of a script use.
_CYRILLIC_LETTERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("uk", frozenset("іїєґ")),
    ("sr", frozenset("ђћ")),
    ("mk", frozenset("ѓќѕ")),
    ("ru", frozenset("ыэё")),
)
_CYRILLIC_PRIORS = {"ru": 0.5, "uk": 0.25}
_URDU = frozenset("ٹڈڑںےۓھ")
_PERSIAN = frozenset("پچژگکی")

# --- word lists -----------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    """Return the words of a text, in order (the word lists below are written so)."""
    return tuple(text.split())


# Ordered by how often they are met on the platforms: ties go to the first.
_LATIN_LANGS = _words(
    "es pt fr de it id tr nl pl tl ro sv cs hu da nb fi ca sk hr sl lt lv et is ga sq vi"
)
_CYRILLIC_LANGS = ("ru", "uk", "bg", "sr", "mk")
_DEVANAGARI_LANGS = ("hi", "mr", "ne")

_ENGLISH_EXTRA = frozenset(
    _words(
        """
    i'm i've i'll i'd you're you've you'll you'd he's she's it's we're we've we'll we'd
    they're they've they'll they'd that's there's here's what's who's where's how's let's
    can't won't don't doesn't didn't isn't aren't wasn't weren't haven't hasn't hadn't
    couldn't wouldn't shouldn't ain't y'all gonna wanna gotta im dont cant wont didnt
    doesnt isnt ive youre thats whats theres lol lmao lmfao omg wtf tbh idk imo imho btw
    thx tysm pls plz ok okay yeah yes yep yup nope nah hey hi hello thanks thank sorry
    guys u ur yall oh ugh wow like love loved want need needs know think thought got good
    great bad best worst better worse new old time day today tonight tomorrow yesterday
    week weekend year years people thing things way help right sure cool awesome amazing
    fun happy sad hate wait literally actually probably said says tell told ask asked let
    try trying tried work working works look looking looks feel feeling lot lots gets
    getting gave giving come coming came went goes gone going stuff home night morning
    hour hours minute minutes long little big small app phone account order service
    customer support team money pay paid card bill refund flight store
    """
    )
)
"""Common English words of posts that spaCy's English stop words leave out."""

_ENGLISH_LOOKALIKES = frozenset(
    _words(
        """
    ad agar ah aha akin alas ale alt ani ante anterior antes ate aura aver ay bag bald bar
    bare bat bent bet bile bin bland boa bola bra bravo brr bum bung cam car care cat cent
    certain chi circa cite col come comment con conform cu cum dado dank datum dell den
    dens derrière dice die dies different dig dike din dine dins dire divers diverse dock
    dog don door dos dot dove doze drug duke ea ed eh elf elk ells em email embargo encore
    end era eras es est etc eventual ex exact fa face fan fare favor fazes fem fer fez
    fiche fie fin final fine fins fire folk font fora gab gang gene gens god gross grosser
    grosses gusto gut ha haft halo ham hare hat hay hem hen hep hi hit ho hoe hop hue ii
    iii ilk ill inc inclusive ind inn ins iv ix jag jam jest keto kroner la lad lain lama
    land largo later lei leis like lite lo local logo ma male man mange mar mare mas mayor
    med meg meme memes men mere mes met mi mien miens mil min mind mint mire mitt mo mod
    mode molt molts mos mu multi muss net nice non noon nos nous nova novas nu nun nuns ode
    oft oh op opt ore ova pa paling pan par pas pat pendant pet pie plus pod podia poi
    pole pored possible possibles pot pour pp premier pres press primer pro prof pronto pun
    pure quanta quarto quasi quest quines reeds relative rend saber sale salvo sans sap
    saps sea sedan seize sense sent sera sex sexton sh sic sim sin sine slab sob solo solos
    sols son sons soy spate state steeds stop store sub sue suit tack tad tag tale tam tan
    taps tar tat tel tempo tenant tend tens ti tie till tills tine tit toe tom tome ton
    tone tons tot total totes tots tout tun um vain vale valor van var vend vet vi vii viii
    volt want war wart weer welches wen xi xii xiii xiv xv yo zero
    """
    )
)
"""
Stop words of the other languages that are also English words.

Computed once by intersecting the lists of `_LATIN_LANGS` with an English word list,
and kept here: they count half for the other language.
"""


_MORE_STOP_WORDS: dict[str, str] = {
    "es": "hola gracias nada nunca siempre también todavía hoy ayer mañana pero porque "
    "está están estoy tengo tiene puedo quiero alguien nadie",
    "fr": "merci bonjour salut rien jamais vraiment toujours déjà aujourd'hui hier demain "
    "trop beaucoup aussi très personne",
    "de": "danke hallo bitte heute gestern morgen schon wieder immer nie nichts leider echt",
    "pt": "obrigado obrigada olá hoje ontem amanhã nunca sempre também ainda já não você "
    "vocês muito alguém ninguém",
    "it": "grazie ciao buongiorno oggi ieri domani mai sempre ancora già niente nulla "
    "perché qualcuno nessuno",
    "nl": "bedankt dank hallo vandaag gisteren morgen alweer weer nooit altijd niks niets "
    "echt goed",
}
"""Frequent words of posts that spaCy's lists of these languages leave out."""


_Entry = tuple[tuple[int, ...], bool, float]


@dataclass(frozen=True, slots=True)
class _Lexicon:
    langs: tuple[str, ...]
    english: frozenset[str]
    # English words in no other list: "the", "you", "this", ... (not "no", "me")
    english_only: frozenset[str]
    # word -> (the languages whose list holds it, whether it is specific to them,
    # its weight shared among them)
    words: dict[str, _Entry]


def _stop_words(code: str) -> frozenset[str]:
    """Return spaCy's stop words of one language, lowercase, with plain apostrophes."""
    module: ModuleType | None = None
    spec = importlib.util.find_spec("spacy")
    if spec is not None and spec.submodule_search_locations:
        path = Path(
            next(iter(spec.submodule_search_locations)), "lang", code, "stop_words.py"
        )
        # Load the plain data file alone: importing `spacy.lang.<code>` runs the package
        # and builds its tokenizer exceptions, seconds for some languages.
        file_spec = importlib.util.spec_from_file_location(
            f"_replyguard_stop_words_{code}", path
        )
        if file_spec is not None and file_spec.loader is not None and path.is_file():
            module = importlib.util.module_from_spec(file_spec)
            file_spec.loader.exec_module(module)
    if module is None:  # pragma: no cover (spaCy moved its files: take the slow way)
        module = importlib.import_module(f"spacy.lang.{code}.stop_words")
    words: Iterable[str] = module.STOP_WORDS
    return frozenset(
        w.lower().translate(_APOSTROPHES)
        for w in words
        if " " not in w and "_" not in w
    )


def _lexicon(langs: Iterable[str], english: frozenset[str] = frozenset()) -> _Lexicon:
    codes = tuple(langs)
    holders: dict[str, list[int]] = {}
    for index, code in enumerate(codes):
        for word in _stop_words(code) | frozenset(
            _MORE_STOP_WORDS.get(code, "").split()
        ):
            holders.setdefault(word, []).append(index)
    words: dict[str, _Entry] = {}
    for word, indexes in holders.items():
        strong = (
            len(word) > 1 and word not in english and word not in _ENGLISH_LOOKALIKES
        )
        words[word] = (tuple(indexes), strong, (1.0 if strong else 0.5) / len(indexes))
    return _Lexicon(codes, english, english - words.keys(), words)


@functools.cache
def _latin() -> _Lexicon:
    return _lexicon(_LATIN_LANGS, _stop_words("en") | _ENGLISH_EXTRA)


@functools.cache
def _cyrillic() -> _Lexicon:
    return _lexicon(_CYRILLIC_LANGS)


@functools.cache
def _devanagari() -> _Lexicon:
    return _lexicon(_DEVANAGARI_LANGS)


# --- hints ----------------------------------------------------------------------------

_NO_LANGUAGE = frozenset(
    {"", "und", "qme", "qam", "qct", "qht", "qst", "zxx", "art", "mul", "mis"}
)
_LEGACY_CODES = {
    "in": "id",
    "iw": "he",
    "ji": "yi",
    "jw": "jv",
    "fil": "tl",
    "nno": "nn",
    "nob": "nb",
}
_CHINESE = frozenset({"cmn", "yue", "wuu", "hak", "nan", "gan", "hsn", "cdo"})
_HINT_SCRIPTS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("ru", "uk", "bg", "mk", "be", "kk", "ky", "tg", "mn", "tt"), frozenset({"cyrillic"})),
    "sr": frozenset({"cyrillic", "latin"}),
    "el": frozenset({"greek"}),
    **dict.fromkeys(("ar", "fa", "ur", "ps", "ku", "sd", "ug"), frozenset({"arabic"})),
    **dict.fromkeys(("he", "yi"), frozenset({"hebrew"})),
    **dict.fromkeys(("zh", "ja"), frozenset({"cjk"})),
    "ko": frozenset({"hangul", "cjk"}),
    "th": frozenset({"thai"}),
    **dict.fromkeys(("hi", "mr", "ne", "sa"), frozenset({"devanagari"})),
    **dict.fromkeys(_words("hy ka bn pa gu or ta te kn ml si lo bo my am km dv"), frozenset({"other"})),
}  # fmt: skip


def _hint_code(hint: str | None) -> str | None:
    if hint is None:
        return None
    code = hint.strip().lower().replace("_", "-").split("-", 1)[0]
    if code in _NO_LANGUAGE:
        return None
    if code in _CHINESE:
        return "zh"
    code = _LEGACY_CODES.get(code, code)
    return code if len(code) == 2 and code.isalpha() and code.isascii() else None


# --- detection ------------------------------------------------------------------------

_MIN_WORDS = 3
"""Fewer words than this are too few to tell a language by (``thx``, ``lol ok``)."""

_UND_NONE = LanguageGuess("und", 0.0, "none")
_UND_LATIN = LanguageGuess("und", 0.0, "latin")


def detect_language(text: str, *, hint: str | None = None) -> LanguageGuess:
    """
    Return the language of a text: an ISO 639-1 code, or ``und`` when it is too short.

    Args:
        text: a post or a reply, as posted (handles, URLs and emoji are ignored).
        hint: the platform's language tag (X ``lang``, a Bluesky ``langs`` entry,
            Mastodon ``language``), BCP 47 or ISO 639. When it names a language
            (not ``und``, ``qme``, ``zxx`` ...) it is trusted, unless the text is
            plainly in a script that language is not written in.
    """
    guess = _detect(text)
    code = _hint_code(hint)
    if code is None:
        return guess
    allowed = _HINT_SCRIPTS.get(code, frozenset({"latin"}))
    if guess.script != "none" and guess.script not in allowed:
        return guess
    if guess.lang == code:
        confidence = max(guess.confidence, 0.9)
    elif guess.lang == "und":
        confidence = 0.8
    else:
        confidence = 0.6
    return LanguageGuess(code, confidence, guess.script)


def _detect(text: str) -> LanguageGuess:
    cleaned = _clean(text)
    if cleaned.isascii():
        tokens = _ascii_words(cleaned.encode("ascii"))
    elif _NON_LATIN.search(cleaned) is not None:
        guess = _detect_script(cleaned)
        if guess is not None:
            return guess
        tokens = _WORD.findall(cleaned.lower())
    elif _ACCENTED.search(cleaned) is not None:
        tokens = _WORD.findall(cleaned.lower())
    else:
        # English with emoji, dashes or arrows: the other characters are no letters.
        tokens = _ascii_words(cleaned.encode("ascii", "ignore"))
    if not tokens:
        return _UND_NONE
    if len(tokens) < _MIN_WORDS:
        return _UND_LATIN
    return _detect_latin(tokens)


def _clean(text: str) -> str:
    """Return the text with curly apostrophes straightened, without URLs, handles, tags."""
    if "\u2019" in text or "\u2018" in text or "\u02bc" in text:
        text = text.translate(_APOSTROPHES)
    if "://" in text or "www." in text or "WWW." in text:
        text = _URL.sub(" ", text)
    if _HAS_DOMAIN.search(text) is not None:
        text = _DOMAIN.sub(" ", text)
    if "@" in text:
        text = _AT.sub(" ", text)
    if "#" in text or "$" in text:
        text = _TAG.sub(" ", text)
    return text


def _ascii_words(data: bytes) -> list[str]:
    tokens = data.translate(_ASCII_WORDS).decode("ascii").split()
    if b"'" in data:
        tokens = [t for t in (t.strip("'") for t in tokens) if t]
    return tokens


def _detect_latin(tokens: list[str]) -> LanguageGuess:
    lexicon = _latin()
    words = lexicon.words
    if "'" in "".join(tokens):
        tokens = _split_elisions(tokens, lexicon)
    count = len(tokens)
    english = sum(map(lexicon.english.__contains__, tokens))
    hits = [words[t] for t in tokens if t in words]
    strong = sum(entry[1] for entry in hits)
    best = -1
    if strong >= 2:  # else no other language can win: skip counting them
        best, specific, evidence, separation = _best_foreign(hits, len(lexicon.langs))
        if specific and evidence > english:
            share = evidence / (evidence + english)
            confidence = min(1.0, evidence / 5.0) * share * (0.5 + 0.5 * separation)
            return LanguageGuess(lexicon.langs[best], round(confidence, 3), "latin")
    if english < 2 or english < 0.15 * count:
        return _UND_LATIN
    if not any(map(lexicon.english_only.__contains__, tokens)):
        # Only words other languages share ("no me gusta nada"): English only if one of
        # them is not a word of the likeliest other language.
        if best < 0:
            best = _best_foreign(hits, len(lexicon.langs))[0]
        if not _outside(tokens, lexicon, best):
            return _UND_LATIN
    share = english / (english + strong)
    confidence = min(1.0, english / 4.0) * share * min(1.0, english / count / 0.3)
    return LanguageGuess("en", round(confidence, 3), "latin")


def _best_foreign(hits: list[_Entry], size: int) -> tuple[int, bool, float, float]:
    """
    Return the likeliest other language, and whether, how much and by how far it leads.

    The language is ranked on its words, each shared among the lists that hold it, a
    specific word weighing eight times a shared one; ties go to the language met more
    often. Its evidence counts a specific word as 1 and a shared one (an English word,
    a single letter) as 1/2; it can win only with two specific words.
    """
    spread = [0.0] * size
    for langs, strong, share in hits:
        weight = share if strong else share / 4.0
        for index in langs:
            spread[index] += weight
    best = max(range(size), key=spread.__getitem__)
    top = spread[best]
    specific = sum(1 for langs, strong, _ in hits if strong and best in langs)
    if specific < 2:
        return best, False, 0.0, 0.0
    evidence = sum(1.0 if strong else 0.5 for langs, strong, _ in hits if best in langs)
    return best, True, evidence, (top - sorted(spread)[-2]) / top


def _outside(tokens: list[str], lexicon: _Lexicon, best: int) -> bool:
    """Return whether an English word of the text is not a stop word of ``best``."""
    english, words = lexicon.english, lexicon.words
    return any(t in english and best not in words.get(t, ((),))[0] for t in tokens)


def _split_elisions(tokens: list[str], lexicon: _Lexicon) -> list[str]:
    """Split ``l'homme`` into ``l'`` ``homme`` and ``voxtel's`` into ``voxtel`` ``'s``."""
    out: list[str] = []
    for token in tokens:
        if "'" not in token or token in lexicon.english or token in lexicon.words:
            out.append(token)
            continue
        head, _, tail = token.partition("'")
        if head + "'" in lexicon.words:
            out += (head + "'", tail)
        else:
            out += (head, "'" + tail)
    return out


def _detect_script(cleaned: str) -> LanguageGuess | None:
    """Return the guess for a text mostly in one non-Latin script, else None."""
    letters = "".join(_LETTERS.findall(cleaned))
    if not letters:
        return None
    counts = {name: len(pattern.findall(letters)) for name, pattern, _ in _SCRIPTS}
    weighted = {name: counts[name] * weight for name, _, weight in _SCRIPTS}
    latin = len(_LATIN.findall(letters))
    other = len(letters) - latin - sum(counts.values())
    total = latin + other + sum(weighted.values())
    script, top = max(weighted.items(), key=lambda item: item[1])
    if other > top:
        script, top = "other", other
    share = top / total
    if share < 0.5:
        return None
    raw = other if script == "other" else counts[script]
    if raw < (2 if script in {"cjk", "hangul"} else 3):
        return LanguageGuess("und", 0.0, script)
    lang, certainty = _script_language(script, cleaned, letters)
    if lang == "und":
        return LanguageGuess("und", 0.0, script)
    return LanguageGuess(lang, round(share * certainty, 3), script)


_SINGLE_LANGUAGE = {"greek": "el", "hebrew": "he", "hangul": "ko", "thai": "th"}


def _script_language(script: str, cleaned: str, letters: str) -> tuple[str, float]:
    """Return the language of a text in a non-Latin script, and how sure that is."""
    if script in _SINGLE_LANGUAGE:
        return _SINGLE_LANGUAGE[script], 1.0
    if script == "cjk":
        kana = len(_KANA.findall(letters))
        return ("ja", 1.0) if kana else ("zh", 0.9)
    if script == "arabic":
        chars = set(letters)
        if chars & _URDU:
            return "ur", 0.8
        if chars & _PERSIAN:
            return "fa", 0.8
        return "ar", 0.8
    if script == "cyrillic":
        return _by_words(
            cleaned,
            _cyrillic(),
            letters,
            marks=_CYRILLIC_LETTERS,
            priors=_CYRILLIC_PRIORS,
            default="ru",
        )
    if script == "devanagari":
        return _by_words(cleaned, _devanagari(), letters, default="hi")
    return _by_block(letters), 0.7


def _by_words(
    cleaned: str,
    lexicon: _Lexicon,
    letters: str,
    *,
    marks: tuple[tuple[str, frozenset[str]], ...] = (),
    priors: dict[str, float] | None = None,
    default: str,
) -> tuple[str, float]:
    """
    Return the language of a non-Latin text by its stop words, and how sure that is.

    Each word counts 1, shared among the lists that hold it; a letter only one
    language uses (``marks``) counts 2; ``priors`` break near ties towards the
    languages most met on the platforms.
    """
    size = len(lexicon.langs)
    spread = [0.0] * size
    for token in _WORD.findall(cleaned.lower()):
        entry = lexicon.words.get(token)
        if entry is not None:
            for index in entry[0]:
                spread[index] += 1.0 / len(entry[0])
    chars = set(letters.lower())
    for lang, own in marks:
        if chars & own:
            spread[lexicon.langs.index(lang)] += 2.0
    if not any(spread):
        return default, 0.6
    for lang, prior in (priors or {}).items():
        spread[lexicon.langs.index(lang)] += prior
    ranked = sorted(range(size), key=lambda i: (-spread[i], i))
    best, second = ranked[0], ranked[1]
    separation = (spread[best] - spread[second]) / spread[best]
    return lexicon.langs[best], min(1.0, spread[best] / 3.0) * (0.5 + 0.5 * separation)


def _by_block(letters: str) -> str:
    counts: dict[str, int] = {}
    for char in letters:
        point = ord(char)
        for low, high, lang in _OTHER_BLOCKS:
            if low <= point <= high:
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not counts:
        return "und"
    return max(counts.items(), key=lambda item: item[1])[0]
