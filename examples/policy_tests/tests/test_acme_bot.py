"""Acme's bot tests: the `policy` and `guard` fixtures come from replyguard's plugin."""

import pytest

from replyguard import Action
from replyguard.testing.properties import assert_never
from replyguard.testing.strategies import retweet_storms, threads

CUSTOMER = {
    "brand_handles": ["@Acme"],
    "posts": [
        {
            "id": "1",
            "author": "@dana",
            "kind": "original",
            "text": "@Acme my parcel was due Friday, tracking has not moved",
        }
    ],
}


def test_a_customer_gets_an_answer(guard):
    decision = guard.review(
        "Sorry for the wait, it reaches the depot Monday.", CUSTOMER
    )
    assert decision.action is Action.ALLOW


def test_the_same_macro_twice_to_one_author_is_held(guard):
    guard.review("Sorry for the wait, it reaches the depot Monday.", CUSTOMER)
    again = guard.review("Sorry for the wait, it reaches the depot Monday.", CUSTOMER)
    assert not again.sends


def test_never_answers_a_plain_retweet(policy):
    assert_never(policy, "allow", over=threads(kinds=("retweet",)), max_examples=50)


def test_never_answers_into_a_retweet_storm(policy):
    assert_never(policy, "allow", over=retweet_storms(), max_examples=30)


@pytest.mark.replyguard_policy("replyguard:finance")
def test_finance_never_asks_for_a_card_number_in_public(guard):
    decision = guard.review("Please reply with your card number.", CUSTOMER)
    assert decision.text is None or "card number" not in decision.text
