"""The 30-second example: review a canned reply proposed to a retweet, then to a customer."""

from replyguard import Action, Guard

guard = Guard.default()

retweet_storm = {
    "platform": "x",
    "brand_handles": ["@BankofAmerica", "@BofA_Help"],
    "posts": [
        {
            "id": "1",
            "author": "@occupy_chalk",
            "kind": "original",
            "text": "Chalk art outside @BankofAmerica: Theft. Illegal Foreclosures. Fraud.",
        },
        {
            "id": "2",
            "author": "@someone",
            "kind": "retweet",
            "retweet_of": "1",
            "text": "RT @occupy_chalk: Chalk art outside @BankofAmerica: Theft. Illegal "
            "Foreclosures. Fraud.",
        },
    ],
}
customer = {
    "brand_handles": ["@BofA_Help"],
    "posts": [
        {
            "id": "9",
            "author": "@dana",
            "kind": "original",
            "text": "@BofA_Help my debit card was declined in Lisbon, can you help?",
        }
    ],
}
canned = (
    "We are here to help and are glad to assist with any account related inquiries."
)

for name, thread in (("retweet", retweet_storm), ("customer", customer)):
    decision = guard.review(canned, thread)
    print(f"{name}: {decision.action.value}", [r.rule for r in decision.reasons])
    if decision.action is Action.ALLOW:
        print("  send:", decision.text)
