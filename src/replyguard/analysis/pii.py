"""
Personal data in a text: payment cards, IBANs, US SSNs, email addresses, phone numbers.

Used on the bot's proposed reply (it must not echo a customer's card number) and on
the posts of a thread (a customer who posted their phone number publicly needs a
person, not a bot). Rule based and offline: every pattern is compiled at import, and
a text with neither an ASCII digit nor an ``@`` returns at once.

What is detected:

- ``card``: 13 to 19 digits, either unbroken or grouped by one kind of separator (single
  spaces or single dashes, first group of four), that pass the Luhn check and whose
  length fits the first digit's card families (Visa 13/16/19, Amex 15, ...).
- ``iban``: a country code, two check digits and the account part, unbroken or in
  groups of four, of the exact length registered for that country (ISO 13616) and
  valid by mod-97. Lowercase is accepted.
- ``ssn``: a US Social Security number written ``ddd-dd-dddd`` or ``ddd dd dddd``,
  except the never-issued area 000, 666 and 900-999, group 00 and serial 0000.
- ``email``: a practical subset of RFC 5322 (dot-atom local part, dotted domain with
  an alphabetic top-level domain). A Mastodon handle ``@user@host.social`` and a plain
  ``@name`` are handles, not addresses.
- ``phone``: international numbers after ``+`` (``+44 20 7946 0958``), NANP numbers
  (``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``, ``+1 555 123 4567``) and
  national numbers with a trunk ``0`` and separators (``020 7946 0958``,
  ``06 12 34 56 78``, ``0044 20 7946 0958``), with 10 to 15 digits in all.

What is not, on purpose: dates, times, prices, flight numbers, order and case
references (``D-58213``, ``2291-RF``, ``#PF-339201``), years, ZIP codes, partial
numbers (``ends in 4471``), and anything inside a URL (status ids are long digit runs).

Known limits: a bare run of 10 digits (``5551234567``) is not taken for a phone
number; a 15-digit IMEI passes the Luhn check and is reported as a card; addresses
with non-ASCII characters or quoted local parts are missed; a phone number followed
by a stray group of digits (``+44 20 7946 0958 2``) takes that group in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Found", "PiiKind", "find_pii"]

PiiKind = Literal["card", "iban", "ssn", "email", "phone"]
"""The kinds of personal data `find_pii` reports."""


@dataclass(frozen=True, slots=True)
class Found:
    """
    One piece of personal data in a text.

    Args:
        kind: ``"card"``, ``"iban"``, ``"ssn"``, ``"email"`` or ``"phone"``.
        start: the offset of its first character in the text.
        end: the offset just past its last character (``text[start:end]``).
        text: the matched characters, separators included.
    """

    kind: PiiKind
    start: int
    end: int
    text: str


# A candidate must not continue a word, a reference (`D-58213`, `#PF-339201`), a price
# (`$40`), a decimal, a path or a time; and must not run on into more digits.
_BEFORE = r"(?<![\w$€£¥+#/.,:\-])"
_AFTER = r"(?![\w]|[.,:/\-][0-9])"

# Every card, IBAN, SSN and phone number has nine digits or more in a row, with at
# most three separator characters between two of them (`(555) 123-4567`, `+44 (0)20`,
# `GB82 WEST 1234 5698 7654 32`): texts without such a run skip those patterns.
_LONG_NUMBER = re.compile(r"[0-9](?:[ .()\-]{0,3}[0-9]){8}")

_URL = re.compile(r"(?:https?://|www\.)\S+|[\w\-]+(?:\.[\w\-]+)+/\S*", re.IGNORECASE)
_SPACE = re.compile(r"\s")

_CARD = re.compile(
    _BEFORE
    + r"(?:[0-9]{13,19}|[0-9]{4}(?P<sep>[ \-])[0-9]{4,6}(?:(?P=sep)[0-9]{1,5}){1,3})"
    + _AFTER
)

_IBAN = re.compile(
    r"(?<![\w\-])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w\-])",
    re.IGNORECASE,
)

_SSN = re.compile(
    _BEFORE + r"(?P<area>[0-9]{3})(?P<sep>[ \-])(?P<group>[0-9]{2})(?P=sep)"
    r"(?P<serial>[0-9]{4})" + _AFTER
)

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+"
_EMAIL = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~@\-])"
    + _ATOM
    + r"(?:\."
    + _ATOM
    + r")*@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?P<tld>[A-Za-z]{2,63})(?![\w\-])"
)
_FILE_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "pdf"})

_PHONE_INTL = re.compile(
    r"(?<![\w+])\+[1-9][0-9]*+(?:[ .\-]?\([0-9]++\)|(?:[ .\-]|(?<=\)))[0-9]++)*+"
    + _AFTER
)
_PHONE_NANP = re.compile(
    _BEFORE + r"(?:1[ .\-]?)?(?:\([0-9]{3}\)[ ]?|[0-9]{3}(?P<sep>[ .\-]))"
    r"[0-9]{3}(?(sep)(?P=sep)|[ .\-])[0-9]{4}" + _AFTER
)
_PHONE_TRUNK = re.compile(_BEFORE + r"0[0-9]{1,4}(?:[ .\-][0-9]{2,4}){1,5}" + _AFTER)

_NOT_DIGIT = re.compile(r"[^0-9]")

# ISO 13616 registry: the full length of an IBAN, by country.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# Card families by first digit: the lengths their numbers can have (loose on purpose:
# Visa 13/16/19; Amex, UATP 15; Diners 14-19; Mastercard, Mir, Discover, UnionPay,
# Maestro, JCB, RuPay 16-19, Maestro down to 13).
_CARD_LENGTHS: dict[str, range | tuple[int, ...]] = {
    "1": (15,),
    "2": range(16, 20),
    "3": range(14, 20),
    "4": (13, 16, 19),
    "5": range(13, 20),
    "6": range(13, 20),
    "8": (16,),
}

# The order in which overlapping candidates of equal length are kept.
_PRIORITY: dict[str, int] = {"email": 0, "iban": 1, "card": 2, "ssn": 3, "phone": 4}


def find_pii(text: str) -> tuple[Found, ...]:
    """
    Return the personal data in a text, sorted by position, none overlapping.

    Where two candidates overlap, the longer one is kept (an address whose local part
    is a phone number is an address); at equal length, the more specific kind.

    Args:
        text: any text: a proposed reply, a post.
    """
    candidates: list[Found] = []
    if "@" in text:
        candidates.extend(_emails(text))
    if _has_digit(text) and _LONG_NUMBER.search(text) is not None:
        candidates.extend(_ibans(text))
        candidates.extend(_cards(text))
        candidates.extend(_ssns(text))
        candidates.extend(_phones(text))
    if not candidates:
        return ()
    if "/" in text or "www." in text or "WWW." in text:
        candidates = [c for c in candidates if not _in_url(text, c.start)]
    return _resolve(candidates)


def _has_digit(text: str) -> bool:
    # Ten substring tests run faster than one regex scan (a fifth of the time on a
    # 300-character reply): this is the fast path of every digit-free reply.
    for digit in "0123456789":  # noqa: SIM110 (any() over a generator is slower)
        if digit in text:
            return True
    return False


def _emails(text: str) -> list[Found]:
    # Only the runs of non-space characters around an `@` can hold an address, and a
    # run that starts with `@` is a handle (`@name`, `@user@host.social`).
    found: list[Found] = []
    at = text.find("@")
    while at != -1:
        start, end = _chunk(text, at)
        if text[start] != "@":
            found.extend(
                Found("email", m.start(), m.end(), m.group(0))
                for m in _EMAIL.finditer(text, start, end)
                if m.group("tld").lower() not in _FILE_TLDS
            )
        at = text.find("@", end)
    return found


def _chunk(text: str, index: int) -> tuple[int, int]:
    """Return the span of the run of non-space characters around ``text[index]``."""
    start = index
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    match = _SPACE.search(text, index)
    return start, len(text) if match is None else match.start()


def _ibans(text: str) -> list[Found]:
    found: list[Found] = []
    for m in _IBAN.finditer(text):
        compact = m.group(0).replace(" ", "").upper()
        # Every registered account part is at least half digits: that keeps runs of
        # words (`de12 this that ...`) out, whatever their checksum.
        digits = sum(c.isdigit() for c in compact[4:])
        if (
            _IBAN_LENGTHS.get(compact[:2]) == len(compact)
            and digits * 2 >= len(compact) - 4
            and _mod97(compact)
        ):
            found.append(Found("iban", m.start(), m.end(), m.group(0)))
    return found


def _cards(text: str) -> list[Found]:
    found: list[Found] = []
    for m in _CARD.finditer(text):
        digits = _NOT_DIGIT.sub("", m.group(0))
        lengths = _CARD_LENGTHS.get(digits[0], ())
        if (
            len(digits) in lengths
            and _luhn(digits)
            and digits.count(digits[0]) != len(digits)
        ):
            found.append(Found("card", m.start(), m.end(), m.group(0)))
    return found


def _ssns(text: str) -> list[Found]:
    found: list[Found] = []
    for m in _SSN.finditer(text):
        area = m.group("area")
        if (
            area in {"000", "666"}
            or area[0] == "9"
            or m.group("group") == "00"
            or m.group("serial") == "0000"
        ):
            continue
        found.append(Found("ssn", m.start(), m.end(), m.group(0)))
    return found


def _phones(text: str) -> list[Found]:
    found: list[Found] = []
    if "+" in text:
        found.extend(
            Found("phone", m.start(), m.end(), m.group(0))
            for m in _PHONE_INTL.finditer(text)
            if 10 <= len(_NOT_DIGIT.sub("", m.group(0))) <= 15
        )
    found.extend(
        Found("phone", m.start(), m.end(), m.group(0))
        for m in _PHONE_NANP.finditer(text)
    )
    for m in _PHONE_TRUNK.finditer(text):
        digits = _NOT_DIGIT.sub("", m.group(0))
        if digits.startswith("00"):
            # `00` is the international prefix: `0044 20 7946 0958` is +44 20 7946 0958.
            plausible = digits[2] != "0" and 10 <= len(digits) - 2 <= 15
        else:
            plausible = 10 <= len(digits) <= 11
        if plausible:
            found.append(Found("phone", m.start(), m.end(), m.group(0)))
    return found


def _luhn(digits: str) -> bool:
    total = sum(_LUHN_ODD[int(c)] for c in digits[-2::-2])
    total += sum(int(c) for c in digits[-1::-2])
    return total % 10 == 0


_LUHN_ODD = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _mod97(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    if not rearranged.isalnum() or not rearranged.isascii():
        return False
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _in_url(text: str, index: int) -> bool:
    start, end = _chunk(text, index)
    return any(m.start() <= index < m.end() for m in _URL.finditer(text, start, end))


def _resolve(candidates: list[Found]) -> tuple[Found, ...]:
    candidates.sort(key=lambda c: (c.start - c.end, _PRIORITY[c.kind], c.start))
    kept: list[Found] = []
    for candidate in candidates:
        if not any(k.start < candidate.end and candidate.start < k.end for k in kept):
            kept.append(candidate)
    kept.sort(key=lambda c: c.start)
    return tuple(kept)
