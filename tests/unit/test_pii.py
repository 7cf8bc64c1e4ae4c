"""Personal data in text: cards, IBANs, SSNs, emails, phone numbers (`find_pii`)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replyguard.analysis.pii import Found, find_pii


def _found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in find_pii(text)]


def _iban(country: str, bban: str) -> str:
    """Return an IBAN with the right check digits for a country and account part."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


# --- cards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "card 4111 1111 1111 1111 ok", "4111 1111 1111 1111", id="visa-spaces"
        ),
        pytest.param("4111-1111-1111-1111", "4111-1111-1111-1111", id="visa-dashes"),
        pytest.param("it's 4111111111111111.", "4111111111111111", id="visa-unbroken"),
        pytest.param("amex 3782 822463 10005", "3782 822463 10005", id="amex-4-6-5"),
        pytest.param("5555 5555 5555 4444", "5555 5555 5555 4444", id="mastercard"),
        pytest.param("6011111111111117", "6011111111111117", id="discover"),
    ],
)
def test_card_numbers_that_pass_luhn(text: str, expected: str) -> None:
    assert [("card", expected)] == _found(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("card 4111 1111 1111 1112", id="luhn-fails"),
        pytest.param("charged twice for order 77120 tonight", id="order-number"),
        pytest.param("0000 0000 0000 0000", id="all-zeros"),
        pytest.param("4111 1111-1111 1111", id="mixed-separators"),
        pytest.param("9111111111111113", id="no-card-starts-with-9"),
        pytest.param("https://x.com/a/status/4111111111111111", id="inside-url"),
        pytest.param("see example.com/4111111111111111 ok", id="inside-bare-url"),
    ],
)
def test_not_card_numbers(text: str) -> None:
    assert [] == _found(text)


# --- IBANs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        pytest.param("GB82 WEST 1234 5698 7654 32", id="gb-spaced"),
        pytest.param("DE89370400440532013000", id="de-unbroken"),
        pytest.param("FR14 2004 1010 0505 0001 3M02 606", id="fr"),
        pytest.param("ES91 2100 0418 4502 0005 1332", id="es"),
        pytest.param("NL91 ABNA 0417 1643 00", id="nl"),
        pytest.param("IT60 X054 2811 1010 0000 0123 456", id="it"),
        pytest.param("BE68 5390 0754 7034", id="be-short"),
        pytest.param("NO93 8601 1117 947", id="no-shortest"),
        pytest.param("nl91abna0417164300", id="lowercase"),
    ],
)
def test_valid_ibans(iban: str) -> None:
    assert [("iban", iban)] == _found(f"please pay to {iban}, thanks")


def test_iban_with_a_changed_digit() -> None:
    assert [] == _found("GB82 WEST 1234 5698 7654 33")


def test_iban_must_have_its_country_length() -> None:
    right = _iban("DE", "370400440532013000")
    short = _iban("DE", "37040044053201300")

    assert [("iban", right)] == _found(right)
    assert [] == _found(short)


def test_iban_of_an_unknown_country() -> None:
    assert [] == _found(_iban("QQ", "370400440532013000"))


# --- SSNs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ssn",
    [
        pytest.param("123-45-6789", id="dashes"),
        pytest.param("123 45 6789", id="spaces"),
    ],
)
def test_ssn(ssn: str) -> None:
    assert [("ssn", ssn)] == _found(f"my ssn is {ssn}")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("000-12-3456", id="area-000"),
        pytest.param("666-12-3456", id="area-666"),
        pytest.param("912-12-3456", id="area-9xx"),
        pytest.param("123-00-4567", id="group-00"),
        pytest.param("123-45-0000", id="serial-0000"),
        pytest.param("123-45 6789", id="mixed-separators"),
    ],
)
def test_not_ssn(text: str) -> None:
    assert [] == _found(text)


# --- emails ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "mail john.doe+x@example.co.uk.", "john.doe+x@example.co.uk", id="plus-dot"
        ),
        pytest.param("(jo@example.com)", "jo@example.com", id="in-brackets"),
        pytest.param(
            "write to support@voxtel.social!",
            "support@voxtel.social",
            id="fediverse-host",
        ),
        pytest.param("djlee@udel.edu is me", "djlee@udel.edu", id="start-of-text"),
    ],
)
def test_email(text: str, expected: str) -> None:
    assert [("email", expected)] == _found(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("@VoxtelSupport@voxtel.social quick one", id="mastodon-handle"),
        pytest.param("thanks @user@host.social!", id="mastodon-handle-inside"),
        pytest.param("@Dashly ???", id="handle"),
        pytest.param("ask @dashly.bsky.social", id="bluesky-handle"),
        pytest.param("icon@2x.png", id="file-name"),
        pytest.param("user@localhost", id="no-dot-in-domain"),
    ],
)
def test_not_email(text: str) -> None:
    assert [] == _found(text)


def test_two_emails_in_one_run() -> None:
    assert [("email", "a@b.com"), ("email", "c@d.org")] == _found("a@b.com,c@d.org")


# --- phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("+44 20 7946 0958", id="e164-spaces"),
        pytest.param("+44 (0)20 7946 0958", id="e164-trunk-zero"),
        pytest.param("+33 6 12 34 56 78", id="e164-pairs"),
        pytest.param("+1 (555) 123-4567", id="e164-nanp"),
        pytest.param("(555) 123-4567", id="nanp-brackets"),
        pytest.param("555-123-4567", id="nanp-dashes"),
        pytest.param("555.123.4567", id="nanp-dots"),
        pytest.param("1-800-555-0199", id="nanp-toll-free"),
        pytest.param("020 7946 0958", id="uk-national"),
        pytest.param("06 12 34 56 78", id="fr-national"),
        pytest.param("0044 20 7946 0958", id="double-zero-prefix"),
    ],
)
def test_phone(phone: str) -> None:
    assert [("phone", phone)] == _found(f"call me on {phone}, any time")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2024-02-21T15:04:20Z", id="date"),
        pytest.param("moved from 7:00am to 5:40am", id="times"),
        pytest.param("does the $40 prepaid plan include hotspot?", id="price"),
        pytest.param("smell in the cabin on SL 1184", id="flight"),
        pytest.param("order D-58213 was missing both drinks", id="order-ref"),
        pytest.param("case 2291-RF. please help", id="case-ref"),
        pytest.param("ticket #PF-339201 has had no response", id="ticket-ref"),
        pytest.param("pixelforge in 2019", id="year"),
        pytest.param("zip is 85719", id="zip"),
        pytest.param("acct ends in 4471", id="last-digits"),
        pytest.param("order 55-2190", id="short-ref"),
        pytest.param("1,234,567.89", id="amount"),
        pytest.param("192.168.100.200", id="ip-address"),
        pytest.param("+40% faster", id="percentage"),
        pytest.param("+12 34", id="too-few-digits"),
        pytest.param("travel through DEN Jan 12-14", id="date-range"),
        pytest.param("dates 01.02.2024", id="dotted-date"),
    ],
)
def test_not_phone(text: str) -> None:
    assert [] == _found(text)


# --- several at once ------------------------------------------------------------------


def test_sorted_and_non_overlapping() -> None:
    text = (
        "ssn 123-45-6789, card 4111 1111 1111 1111, mail jo@example.com, "
        "call (555) 123-4567, iban GB82 WEST 1234 5698 7654 32"
    )

    found = find_pii(text)

    assert [
        ("ssn", "123-45-6789"),
        ("card", "4111 1111 1111 1111"),
        ("email", "jo@example.com"),
        ("phone", "(555) 123-4567"),
        ("iban", "GB82 WEST 1234 5698 7654 32"),
    ] == [(f.kind, f.text) for f in found]
    assert all(text[f.start : f.end] == f.text for f in found)


def test_the_longer_of_two_overlapping_candidates_wins() -> None:
    assert [("email", "555-123-4567@txt.example.net")] == _found(
        "sms gateway 555-123-4567@txt.example.net"
    )


def test_found_fields() -> None:
    expected = Found(kind="phone", start=8, end=22, text="(555) 123-4567")

    assert (expected,) == find_pii("call me (555) 123-4567")


def test_found_is_frozen() -> None:
    found = Found(kind="email", start=0, end=1, text="x")

    with pytest.raises(dataclasses.FrozenInstanceError):
        found.start = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(
            "Hi there! We're so sorry. Please DM us and we'll help 😊", id="no-digits"
        ),
        pytest.param("@BeanStreetCares just sent it! thank you 🙏", id="handle-only"),
    ],
)
def test_nothing_to_find(text: str) -> None:
    assert () == find_pii(text)


# --- properties -----------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "4111 1111 1111 1111",
        "GB82 WEST 1234 5698 7654 32",
        "123-45-6789",
        "jo@example.com",
        "@user@host.social",
        "+44 20 7946 0958",
        "(555) 123-4567",
        "https://x.com/",
        " ",
        "-",
        ".",
        "@",
        "+",
        "0",
        "7",
    ]
)


@given(
    st.one_of(st.text(), st.lists(st.one_of(_PIECES, st.text(max_size=3))).map("".join))
)
def test_spans_are_sorted_disjoint_and_exact(text: str) -> None:
    found = find_pii(text)

    assert all(text[f.start : f.end] == f.text and f.start < f.end for f in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
