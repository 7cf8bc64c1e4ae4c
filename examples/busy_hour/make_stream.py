"""
Write ``stream.jsonl`` for the busy-hour example: an outage morning at a mobile network.

Between 08:00 and 09:00 UTC on 2026-03-10 (an invented date and an invented brand)
about one genuine customer a minute writes to @NorthwindHelp or @NorthwindMobile with
their own problem, and a decent bot answers each one with a reply written for them.
At about 08:20 a popular account posts a joke about the outage, and over the next
twelve minutes twenty other people retweet, quote and reply to it; a naive bot
answers every one of them with the same canned line.

The script is deterministic (``random.Random(2024)``, stdlib only, no network) and
writes ``stream.jsonl`` next to itself::

    python examples/busy_hour/make_stream.py

If rapidfuzz is installed it also checks that no two customer replies are near
copies of each other (``fuzz.ratio`` below 85 with the handles taken out), and
falls back to ``difflib`` otherwise.
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

SEED = 2024
OUT = Path(__file__).with_name("stream.jsonl")
BRAND_HANDLES = ["@NorthwindMobile", "@NorthwindHelp"]
BOT = "@NorthwindHelp"
HOUR_START = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
JOKE_AT = HOUR_START + timedelta(minutes=20, seconds=14)
PILE_ON_SPAN = 12 * 60  # seconds after the joke in which the pile-on happens
MAX_SIMILARITY = 85.0  # no two customer replies may be this alike (0-100)
MAX_REPLY_LENGTH = 280

HELP = "@NorthwindHelp"
MOBILE = "@NorthwindMobile"


@dataclass(frozen=True)
class FollowUp:
    """A customer's second question, replying to the bot's first answer."""

    note: str
    text: str
    answer: str


@dataclass(frozen=True)
class Customer:
    """One genuine customer: their post and what a decent bot would answer."""

    handle: str
    note: str
    text: str
    topic: str  # a short noun phrase the reply templates can name
    answer: str  # the specific part of the answer, written for this customer
    problem: bool = True  # something went wrong (an apology fits), not just a question
    follow_up: FollowUp | None = None


# Reply templates. Each wraps a customer's own answer in a different sentence
# structure; `problem_only` templates apologise, so they only go to customers
# reporting a problem.
@dataclass(frozen=True)
class Template:
    """A reply shape: {h} is the handle, {topic} and {answer} the customer's."""

    form: str
    problem_only: bool = False


TEMPLATES = [
    Template("{h} {answer}"),
    Template("{h} Thanks for getting in touch about {topic}. {answer}"),
    Template("{h} Sorry for the hassle with {topic}. {answer}", problem_only=True),
    Template("{h} On {topic}, here's what we know. {answer}"),
    Template("{h} {answer} If anything changes with {topic}, reply here."),
    Template("{h} Hi, Northwind Help here. {answer}"),
    Template("{h} Let's look at {topic}. {answer}"),
    Template("{h} {answer} Sorry again about {topic}.", problem_only=True),
    Template("{h} Here's where things stand with {topic}. {answer}"),
]

CUSTOMERS = [
    Customer(
        "@maya_okafor",
        "customer: no data in Harrowby",
        f"{HELP} no mobile data at all since about 7.30 in Harrowby, full bars but "
        "nothing loads. Is it just me?",
        "the data in Harrowby",
        "It isn't just you: a mast fault near Harrowby has knocked out data for many "
        "people there since about 07:30. Engineers are on it, and calls and texts "
        "should still work in the meantime.",
    ),
    Customer(
        "@jt_runs",
        "customer: calls dropping in Kelby Marsh",
        "calls keep dropping after about 20 seconds, tried 3 times to ring my mum. "
        f"Kelby Marsh. {MOBILE} whats going on",
        "the dropped calls in Kelby Marsh",
        "Traffic is being rerouted around this morning's fault, which overloads the "
        "site near Kelby Marsh. Until it settles, wifi calling should keep your call "
        "to your mum up if you're at home.",
    ),
    Customer(
        "@priya_sharma_ux",
        "customer: compensation question, works from her hotspot",
        f"Hi {HELP}, if the network is down for most of the morning do customers get "
        "anything back on their bill? I work from my phone hotspot so this costs me. "
        "Thanks",
        "the hours without your hotspot",
        "Whether anything comes off the bill is reviewed once service is back, "
        "customer by customer. If you DM us the hours you lost your hotspot, we'll "
        "note them so your case is part of that review.",
        follow_up=FollowUp(
            "customer follow-up: which reference to quote in the DM",
            f"{HELP} ok. Is there a reference number I should quote when I DM?",
            "No reference needed yet: say it's about the 10 March outage and list the "
            "hours you were without data, and the team will open a case from that.",
        ),
    ),
    Customer(
        "@tomasz_w",
        "customer: roaming in Porto shows No service",
        f"{MOBILE} In Porto for work, roaming just says 'No service' since landing. "
        "Roaming is ON in settings. Is this related to the outage at home or something "
        "else?",
        "roaming in Porto",
        "That's separate from the UK fault. Try choosing the network by hand "
        "(Settings > Mobile > Network selection, then MEO or NOS) and restart; if "
        "Porto still shows No service, we'll check your roaming from here.",
    ),
    Customer(
        "@lucybakes_",
        "customer: eSIM stuck activating on a Pixel 8",
        f"{HELP} my eSIM has been stuck on 'activating' for 2 hours on my new Pixel 8 "
        "\U0001f629 is this the outage or did I do something wrong",
        "the eSIM on your Pixel 8",
        "You didn't do anything wrong. Activations are queued while the fault is "
        "fixed, so keep the Pixel on wifi and don't delete the eSIM profile; it "
        "should finish by itself once the queue clears.",
        follow_up=FollowUp(
            "customer follow-up: eSIM active but no bars",
            f"{HELP} ok it's finally saying active but I have no signal bars at all "
            "now?",
            "Now it shows active, missing bars usually mean the Pixel is still "
            "holding its old network choice. Toggle airplane mode once; if no bars "
            "appear, your area may still be inside the fault zone.",
        ),
    ),
    Customer(
        "@dev_odhiambo",
        "customer: March bill £14 higher than February",
        f"{HELP} why is my March bill £14 more than Feb? Nothing changed on my plan",
        "your March bill",
        "A £14 jump with no plan change is usually out-of-bundle use or the yearly "
        "price change that took effect in March. The itemised bill in the app (Bills "
        "> March > Details) shows which one it is.",
        problem=False,
    ),
    Customer(
        "@grannyknits_",
        "customer: broadband router flashing orange in Dunmere",
        f"{HELP} Good morning. My home broadband router has an orange light flashing "
        "and the internet is not working. I am in Dunmere. Is this the same problem as "
        "the phones? Regards, Margaret",
        "the router in Dunmere",
        "Good morning Margaret. Home broadband in Dunmere isn't part of the mobile "
        "fault, so the orange light points to the router. Please switch it off at the "
        "wall for 30 seconds; if it's still orange after ten minutes, we'll book a "
        "line test.",
    ),
    Customer(
        "@sam_the_plumber",
        "customer: phone left on the number 12 bus, wants the SIM barred",
        f"{MOBILE} left my phone on the bus this morning (route 12, Nettlecombe). How "
        "do I block the sim so nobody racks up calls",
        "the phone left on the 12",
        "You can bar the SIM straight away in the app or on our website under Account "
        "> Lost or stolen phone. That stops calls and data at once, and a new SIM with "
        "the same number can go in today's post.",
    ),
    Customer(
        "@fern_and_fable",
        "customer: porting a number in with a PAC code",
        f"{HELP} hi! I'm moving to you from another network, got my PAC code "
        "yesterday. How long does the port take and will I lose my number for a bit?",
        "moving your number across",
        "Welcome aboard. With a PAC code your number moves the next working day, "
        "usually between 10am and 2pm, and stays yours throughout; calls to it may not "
        "connect for about an hour while it switches.",
        problem=False,
        follow_up=FollowUp(
            "customer follow-up: do saved voicemails move with the number",
            f"{HELP} thanks! And will my voicemail messages come over with the number?",
            "Saved voicemails stay with your old network, so play or note any you want "
            "before 10am tomorrow. Your greeting doesn't move either; record a new one "
            "once the number arrives.",
        ),
    ),
    Customer(
        "@rhys_j",
        "customer: fibre install in Thistleford booked 8-12",
        f"{HELP} engineer was booked for 8-12 today for my fibre install in "
        "Thistleford, does the network problem mean he's not coming?",
        "your fibre install",
        "The mobile fault doesn't touch fibre installs, so your Thistleford engineer "
        "is still booked for 8-12. They'll text about 30 minutes before arriving.",
        problem=False,
        follow_up=FollowUp(
            "customer follow-up: can the engineer come after 11",
            f"{HELP} great, can he come after 11 instead? I have to do the school run",
            "The 8-12 slot can't be narrowed on the day, but the engineer can ring "
            "when leaving the job before yours. If that clashes with the school run, "
            "there's a 12-4 slot in Thistleford on Thursday.",
        ),
    ),
    Customer(
        "@kezia_m",
        "customer: third data loss this month in Eastwick Vale",
        "3rd time this month no data in Eastwick Vale. I pay for unlimited and get "
        f"nothing. {MOBILE} sort it out",
        "the data in Eastwick Vale",
        "Three times in a month is too many. Today's loss in Eastwick Vale is part of "
        "the wider fault that began around 07:40, and we've logged your earlier drops "
        "so the network team can see the pattern.",
    ),
    Customer(
        "@ollie_b_",
        "customer: calls dropping in Fennick",
        f"{MOBILE} calls droping constantly in fennick, cant even get thru to my boss",
        "calls in Fennick",
        "Fennick is one of the areas where calls are cutting out during this "
        "morning's fault. A text to your boss will get through, and wifi calling "
        "works if you're near a router.",
    ),
    Customer(
        "@ines_travels",
        "customer: roaming in Spain with a new Travel Pass",
        "Roaming in Spain not working, I added the Travel Pass last night. "
        f"{HELP} can you check it's active?",
        "the Travel Pass",
        "It only starts the first time your phone connects abroad, so it won't look "
        "active until then. Turn data roaming off and on again while you're in Spain "
        "and it should pick up a network.",
        follow_up=FollowUp(
            "customer follow-up: charged for the day it did not connect?",
            f"{HELP} turned it off and on, now it works! Will I be charged for "
            "yesterday when it didn't connect?",
            "Good to hear Spain is working. The Travel Pass only bills days when your "
            "phone actually used a network abroad, and yesterday it never connected.",
        ),
    ),
    Customer(
        "@bigdaveoutdoors",
        "customer: no signal in Penhallow",
        f"no signal at all in Penhallow \U0001f4f5 {MOBILE}",
        "Penhallow",
        "Penhallow is one of the areas hit by this morning's fault, which is why "
        "you're seeing no signal at all. It's expected back in stages; our status "
        "page updates every 15 minutes.",
    ),
    Customer(
        "@annaleigh_h",
        "customer: eSIM transfer from iPhone 12 to 15 failing",
        "Trying to transfer my eSIM from my old iPhone 12 to a 15 and it keeps failing "
        f"at the last step. {HELP} help pls",
        "the move to your iPhone 15",
        "Transfers between iPhones need our activation servers, and those are slow "
        "today. If the 15 fails again, keep the eSIM on the 12 and retry this "
        "afternoon, so you're never without service on either.",
    ),
    Customer(
        "@jonah_k",
        "customer: moving the direct debit date",
        f"{HELP} Can I change the date my direct debit comes out? Payday moved to the "
        "28th.",
        "your direct debit date",
        "Yes, any date from the 1st to the 28th works. Change it in the app under "
        "Bills > Payment date and the 28th applies from next month's bill.",
        problem=False,
    ),
    Customer(
        "@chloe_writes",
        "customer: slow data in Stoneleigh Bay",
        f"{MOBILE} is there a problem in Stoneleigh Bay? data is painfully slow, like "
        "2005 speeds",
        "speeds in Stoneleigh Bay",
        "Yes, Stoneleigh Bay is on a backup link while the main fault is repaired, "
        "which is why pages crawl. Calls and texts aren't affected, and full speed "
        "returns when the main link does.",
    ),
    Customer(
        "@mr_patel_93",
        "customer: upgrade date on a 24-month plan",
        f"{HELP} When am I eligible to upgrade? Contract started Aug 2024 on a 24 "
        "month plan.",
        "your upgrade date",
        "A 24-month plan from August 2024 runs to August 2026, and early upgrades "
        "open three months before that. The app shows your exact date under Plan > "
        "Upgrade options.",
        problem=False,
    ),
    Customer(
        "@hollyhock_22",
        "customer: voicemail says number unavailable in Brackenfield",
        f"{MOBILE} my voicemail isn't working, callers get a 'number unavailable' "
        "message. Brackenfield",
        "voicemail in Brackenfield",
        "Voicemail there routes through the affected site, which is why callers hear "
        "'number unavailable'. It should clear once service is back; if it doesn't by "
        "this afternoon, we'll reset your voicemail box.",
    ),
    Customer(
        "@finlay_r",
        "customer: restart or wait, no data in Carrow",
        f"{HELP} should I restart my phone or wait? No data in Carrow since 8",
        "the Carrow fault",
        "Waiting is best for now: the problem in Carrow is on our side, so a restart "
        "won't bring data back yet. Once the status page lists Carrow as fixed, one "
        "restart will reconnect you.",
    ),
    Customer(
        "@beatriz_lm",
        "customer: replacement SIM not arrived in Lowmoor",
        f"{HELP} Ordered a replacement SIM on Friday and it still hasnt arrived. "
        "Lowmoor. How long should it take?",
        "the replacement SIM",
        "Replacement SIMs go second class, so one ordered on Friday can take until "
        "Wednesday to reach Lowmoor. If it isn't there by Thursday, tell us and "
        "we'll send another by tracked post.",
    ),
    Customer(
        "@gary_mcf",
        "customer: calls cutting out in Redhaven, works from his van",
        "Ridiculous. Every call cuts out after a minute. Redhaven. I work from my van "
        f"and this is how I get jobs {MOBILE}",
        "calls in Redhaven",
        "Losing calls when the van is your office is a real problem. The site serving "
        "Redhaven is part of the fault engineers are fixing now; texts are getting "
        "through if you need to warn customers.",
    ),
    Customer(
        "@nina_draws",
        "customer: picture messages failing",
        f"{HELP} can't send picture messages to my nan, keeps saying failed. Is it the "
        "outage?",
        "picture messages",
        "Picture messages need mobile data, so they'll fail while data is down in "
        "many areas. They'll send again once it's back; until then, WhatsApp over "
        "wifi or an email will get the photo to your nan.",
    ),
    Customer(
        "@kwame_a",
        "customer: roaming costs in Canada",
        f"{MOBILE} heading to Canada next week, what does roaming cost there? Can't "
        "find it on the website",
        "roaming in Canada",
        "Canada isn't in our Roam Free zone, so it's covered by the World Traveller "
        "add-on, charged per day you use the phone there. The current daily price is "
        "in the app under Add-ons > Travel.",
        problem=False,
    ),
    Customer(
        "@elsa_v",
        "customer: eSIM QR code invalid on a Samsung S23",
        f"{HELP} hello, the QR code for my eSIM says invalid on my Samsung S23. Bought "
        "the plan yesterday",
        "the eSIM QR code",
        "An 'invalid' code on an S23 usually means it expired after a first scan "
        "attempt. We can send a fresh code to the email on your order; DM us and "
        "we'll reissue it this morning.",
    ),
    Customer(
        "@tobyfromwork",
        "customer: 12 business lines down in Wyncombe",
        f"{HELP} our office in Wyncombe has 12 business lines and none can make "
        "calls. Is there a business priority line?",
        "your Wyncombe office lines",
        "Wyncombe is inside the fault area, so all 12 lines are affected. The "
        "business team in the Northwind Business app is taking outage queries first "
        "this morning and can give your office direct updates.",
    ),
    Customer(
        "@ruth_ellison",
        "customer: £6 roaming charge for a day in Ireland",
        f"{HELP} got charged £6 roaming for a day in Ireland, thought Ireland was "
        "included?",
        "the £6 Ireland charge",
        "Ireland is in Roam Free, so £6 there looks wrong. It can happen when a phone "
        "picks up a ferry's network, which isn't included. DM us the date and we'll "
        "check which network it used.",
    ),
    Customer(
        "@jaycee_plays",
        "customer: slow broadband in Sallow Green",
        f"{HELP} Broadband in Sallow Green been slow all week, around 8mbps on a 150 "
        "plan. Router restarted twice already.",
        "broadband in Sallow Green",
        "8Mbps on a 150 plan is far too low, and you've already restarted twice, so "
        "we'll skip that step and run a line check from our side. DM us a good time "
        "and we'll call with the results.",
    ),
    Customer(
        "@abdul_rahman_k",
        "customer: no data in Greyfriars Hill, asks when",
        f"Morning {MOBILE}, no data in Greyfriars Hill here either. Any idea when "
        "it'll be back? Thanks \U0001f64f",
        "Greyfriars Hill",
        "Morning. Greyfriars Hill is on the list of affected areas, and the current "
        "estimate there is late morning. The status page changes as each area comes "
        "back.",
    ),
    Customer(
        "@sophie_t_",
        "customer: notice period at the end of contract",
        f"{HELP} how much notice do I need to give to leave at the end of my contract "
        "in April?",
        "leaving in April",
        "It's 30 days' notice, so for an April end date you'd tell us during March. "
        "Moving your number away with a PAC code counts as notice too, so there's no "
        "need to do both.",
        problem=False,
    ),
    Customer(
        "@marcus_lee",
        "customer: iPhone 14 shows SOS only in Kingsmere",
        f"{MOBILE} phone just says SOS only since 7:50 in Kingsmere. iPhone 14.",
        "the SOS message",
        "On an iPhone 14 that means it can't reach our network but can still place "
        "emergency calls over others. That's how the Kingsmere fault looks from your "
        "phone, and it clears once the site is back.",
    ),
    Customer(
        "@hana_y",
        "customer: Apple Watch plan while phone data is down",
        f"{HELP} does my Apple Watch plan work if my phone's data is down?",
        "your Apple Watch",
        "The watch shares your phone's number and our network, so where the fault "
        "has cut data it loses its mobile connection too. It keeps working over wifi "
        "or through your iPhone when that has signal.",
        problem=False,
    ),
    Customer(
        "@pete_on_bikes",
        "customer: calls dropping in Birchley",
        f"birchley calls dropping again {MOBILE}",
        "Birchley",
        "Thanks for the heads-up. The dropped calls in Birchley are linked to the "
        "fault we're repairing, and the status page will show when Birchley recovers.",
    ),
    Customer(
        "@laila_m_",
        "customer: missed an interview call, asks about compensation",
        f"{MOBILE} I missed a job interview call because of this. Will there be "
        "compensation?",
        "the missed call",
        "I'm really sorry the fault cost you that call. Any credit is decided after "
        "service is restored; DM us the time of the missed call so it's part of your "
        "case. It may also help to email the employer today.",
    ),
    Customer(
        "@cal_dunne",
        "customer: phone asking for a PUK code",
        f"{HELP} my phone is asking for a PUK code after I restarted it. Where do I "
        "find it",
        "the PUK code",
        "It's printed on the card your SIM came in, and it's also in the app under "
        "Account > SIM & PUK. Type it carefully, because ten wrong tries locks the "
        "SIM for good.",
        problem=False,
    ),
    Customer(
        "@zara_h",
        "customer: pay-as-you-go top-up card declined",
        f"{HELP} tried to top up £10 on pay as you go 3 times, card keeps being "
        "declined but bank says it's fine",
        "the £10 top-up",
        "Your bank is right: the top-up page is affected by the fault, so payments "
        "are failing on our side, not your card's. Please hold off on more tries for "
        "now and we'll post here when top-ups work again.",
    ),
    Customer(
        "@george_whit",
        "customer: still no data in Elmstead after 40 minutes",
        "Elmstead here, still nothing, been 40 mins. Is anyone actually working on "
        f"it?? {MOBILE}",
        "Elmstead",
        "Yes, engineers have been on site since shortly after the fault began, and "
        "Elmstead is being worked on now. It's slower than we'd like because a "
        "whole street cabinet has to be replaced.",
    ),
    Customer(
        "@mei_lin_c",
        "customer: are calls to Hong Kong included",
        f"{HELP} are calls to Hong Kong included in my plan or extra?",
        "calls to Hong Kong",
        "They're outside the standard allowance and charged per minute. If you call "
        "Hong Kong often, the International Saver add-on in the app covers it.",
        problem=False,
    ),
    Customer(
        "@danielle_k_",
        "customer: content lock on an adult's phone",
        f"{HELP} how do I turn off the content lock on my phone? I'm 34 lol",
        "the content lock",
        "It's switched on by default for every new line, so nothing you did. You can "
        "remove it in the app under Settings > Content lock after a quick age check.",
        problem=False,
    ),
    Customer(
        "@ian_g",
        "customer: broadband hub rebooting in Holloway Sands",
        f"{HELP} Holloway Sands: the hub keeps rebooting every 10 min since the "
        "weekend",
        "the hub in Holloway Sands",
        "A hub restarting every 10 minutes since the weekend points to a faulty unit "
        "or power supply. We'd rather swap it than keep troubleshooting, so DM us and "
        "we'll arrange a replacement hub.",
    ),
    Customer(
        "@ros_m",
        "customer: premium services charge on the bill",
        f"Why does my bill say 'Premium services £4.50'? I never signed up for "
        f"anything {MOBILE}",
        "the £4.50 premium services charge",
        "Those are charges from third-party text or subscription services billed "
        "through your number. The app shows the sender under Bills > Premium services, "
        "and you can block them all from the same screen.",
    ),
    Customer(
        "@aidan_f",
        "customer: wifi calling for a 9am client call in Marlow Cross",
        f"{HELP} is wifi calling working? Data is dead in Marlow Cross and I need to "
        "ring a client at 9",
        "your 9am call",
        "Wifi calling isn't affected, so switching it on lets you ring your client "
        "from Marlow Cross over home or office wifi. On most phones it's under "
        "Settings > Mobile network > Wi-Fi calling.",
    ),
    Customer(
        "@bex_parker",
        "customer: no data or calls in Ashgrove, already restarted",
        "no data no calls in ashgrove, tried airplane mode, restarted, nothin. fix it "
        f"pls {MOBILE}",
        "Ashgrove",
        "You've tried the right things already; the Ashgrove fault is on our side, "
        "not your phone's. Data and calls should come back gradually over the "
        "morning.",
    ),
    Customer(
        "@oskar_n",
        "customer: nuisance calls, wants a new number",
        f"{HELP} getting 5+ spam calls a day, can I change my number?",
        "the nuisance calls",
        "Yes, a number change for nuisance calls takes about an hour. Before that, "
        "try Call Guard under Settings in the app, which screens most known spam "
        "numbers.",
    ),
    Customer(
        "@jess_moorcroft",
        "customer: hotspot not sharing data in Oldbridge",
        f"{MOBILE} hotspot won't share data to my laptop even though phone data works "
        "fine? Oldbridge",
        "the hotspot",
        "Since data works on the phone itself, Oldbridge isn't the issue; it's most "
        "likely the phone's tethering setting. Which phone is it? We'll send the exact "
        "steps for that model.",
    ),
]

JOKE_AUTHOR = "@dry_wit_daily"
JOKE_TEXT = (
    f"Northwind's network is down again. Only reliable thing about {MOBILE} is the "
    "outage: turns up every month, bang on schedule, never drops out \U0001f4f6"
)
CANNED = (
    "{h} Sorry for the trouble! We're here to help, send us a DM with your account "
    "details and we'll look into it."
)

RETWEETERS = [
    "@pixel_pigeon",
    "@hollow_oak_77",
    "@marmalade_ops",
    "@teacup_tempest",
    "@static_and_tea",
    "@quillfeather",
    "@northern_drizzle",
    "@lowbattery_life",
    "@brunch_critic",
    "@spanner_in_works",
]
QUOTES = [
    ("@ceiling_fan_club", "the outage has better uptime than the network \U0001f480"),
    ("@mossy_keyboard", f"{MOBILE} at least you're consistent"),
    ("@rainy_tuesday_", "reading this on my neighbour's wifi because of course"),
    (
        "@velvet_thunder_",
        "Northwind will reply to this with 'please DM us' in 3... 2... 1...",
    ),
    (
        "@crumpet_theory",
        (
            f"{MOBILE} put the outage on the loyalty scheme, it's stuck with me "
            "longer than my contract"
        ),
    ),
]
REPLIES = [
    ("@giggle_loop", f"{JOKE_AUTHOR} \U0001f602\U0001f602\U0001f602 accurate"),
    ("@sardine_sunday", f"{JOKE_AUTHOR} {MOBILE} explain yourselves lmao"),
    ("@paper_lantern_9", f"{JOKE_AUTHOR} stop I'm crying, this is my whole morning"),
    (
        "@wobbly_table",
        f"{JOKE_AUTHOR} {MOBILE} go on, blame the weather again like last time",
    ),
    (
        "@kettle_whistle",
        (
            f"{JOKE_AUTHOR} the bar for Northwind is on the floor and they still "
            "tripped over it"
        ),
    ),
]


def iso(when: datetime) -> str:
    """Return an aware UTC time as ISO 8601 with a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def strip_handles(text: str) -> str:
    """Return the text lowercased with every @handle taken out."""
    return " ".join(re.sub(r"@\w+", " ", text).lower().split())


def similarity_backend() -> str:
    """Name what `similarity` measures with."""
    try:
        import rapidfuzz  # noqa: F401, PLC0415
    except ImportError:  # pragma: no cover - stdlib fallback
        return "difflib.SequenceMatcher.ratio (rapidfuzz is not installed)"
    return "rapidfuzz fuzz.ratio"


def similarity(a: str, b: str) -> float:
    """Return a 0-100 similarity of two texts (rapidfuzz if installed)."""
    try:
        from rapidfuzz import fuzz  # noqa: PLC0415
    except ImportError:  # pragma: no cover - stdlib fallback
        from difflib import SequenceMatcher  # noqa: PLC0415

        return 100.0 * SequenceMatcher(None, a, b).ratio()
    return float(fuzz.ratio(a, b))


def render(template: Template, handle: str, topic: str, answer: str) -> str:
    """Fill a reply template and check the reply fits in one post."""
    text = template.form.format(h=handle, topic=topic, answer=answer)
    if len(text) > MAX_REPLY_LENGTH:
        raise SystemExit(f"reply too long ({len(text)} chars): {text}")
    return text


def pick_templates(rng: random.Random) -> list[Template]:
    """
    Give each customer a template, rotating through them in a shuffled order.

    A template that does not fit a customer (an apology to someone who only asked a
    question) stays at the front of the queue for the next customer it fits.
    """
    queue = TEMPLATES[:]
    rng.shuffle(queue)
    chosen: list[Template] = []
    for customer in CUSTOMERS:
        template = next(t for t in queue if customer.problem or not t.problem_only)
        queue.remove(template)
        queue.append(template)
        chosen.append(template)
    return chosen


def customer_times(rng: random.Random) -> list[datetime]:
    """Return one arrival time per customer, in the order of CUSTOMERS."""
    minutes = sorted(rng.sample(range(60), len(CUSTOMERS)))
    slots = [
        HOUR_START + timedelta(minutes=m, seconds=rng.randrange(60)) for m in minutes
    ]
    latest_first = HOUR_START + timedelta(minutes=42)
    while True:  # shuffle until everyone with a follow-up has time for it
        order = list(range(len(CUSTOMERS)))
        rng.shuffle(order)
        times = [slots[order[i]] for i in range(len(CUSTOMERS))]
        if all(
            t < latest_first
            for t, c in zip(times, CUSTOMERS, strict=True)
            if c.follow_up is not None
        ):
            return times


def joke_metrics(
    rng: random.Random, at: datetime, seen: dict[str, int], last: dict[str, int]
) -> dict[str, int]:
    """Return the joke's metrics at a moment: growing, never below what was seen."""
    minutes = max(0.0, (at - JOKE_AT).total_seconds() / 60)
    if minutes == 0:
        last.update(dict.fromkeys(("retweets", "likes", "replies", "quotes"), 0))
        return dict(last)
    retweets = round(24 * minutes**1.3) + rng.randrange(6)
    metrics = {
        "retweets": max(retweets, seen["retweets"]),
        "likes": round(retweets * 3.6) + rng.randrange(20),
        "replies": max(round(retweets / 7), seen["replies"]),
        "quotes": max(round(retweets / 11), seen["quotes"]),
    }
    for key, value in metrics.items():
        metrics[key] = max(value, last.get(key, 0))
    last.update(metrics)
    return metrics


def build(rng: random.Random) -> list[dict[str, Any]]:
    """Return the stream's events, in time order."""
    posts: list[dict[str, Any]] = []  # every post, for numbering by time
    events: list[tuple[datetime, dict[str, Any], list[dict[str, Any]], str, str]] = []

    def post(
        author: str, text: str, kind: str, at: datetime, **extra: Any
    ) -> dict[str, Any]:
        item: dict[str, Any] = {"id": "", "author": author, "text": text, "kind": kind}
        item["created_at"] = at
        item.update(extra)
        posts.append(item)
        return item

    templates = pick_templates(rng)
    for customer, at, template in zip(
        CUSTOMERS, customer_times(rng), templates, strict=True
    ):
        followers = rng.randrange(20, 3000)
        original = post(
            customer.handle,
            customer.text,
            "original",
            at,
            author_followers=followers,
        )
        reply = render(template, customer.handle, customer.topic, customer.answer)
        events.append((at, original, [original], reply, customer.note))
        if customer.follow_up is None:
            continue
        answered_at = at + timedelta(seconds=rng.randrange(60, 180))
        brand_post = post(BOT, reply, "reply", answered_at, in_reply_to=original)
        follow_at = answered_at + timedelta(seconds=rng.randrange(240, 600))
        second = post(
            customer.handle,
            customer.follow_up.text,
            "reply",
            follow_at,
            in_reply_to=brand_post,
            author_followers=followers,
        )
        plain = [t for t in TEMPLATES if not t.problem_only]
        follow_template = plain[len(events) % len(plain)]
        follow_reply = render(
            follow_template,
            customer.handle,
            customer.topic,
            customer.follow_up.answer,
        )
        events.append(
            (
                follow_at,
                second,
                [original, brand_post, second],
                follow_reply,
                customer.follow_up.note,
            )
        )

    joke = post(JOKE_AUTHOR, JOKE_TEXT, "original", JOKE_AT, author_followers=212400)
    events.append(
        (
            JOKE_AT,
            joke,
            [joke],
            CANNED.format(h=JOKE_AUTHOR),
            "pile-on: the joke original by a popular account",
        )
    )
    crowd: list[tuple[str, str, str]] = [
        (handle, "retweet", f"RT {JOKE_AUTHOR}: {JOKE_TEXT}") for handle in RETWEETERS
    ]
    crowd += [(handle, "quote", text) for handle, text in QUOTES]
    crowd += [(handle, "reply", text) for handle, text in REPLIES]
    rng.shuffle(crowd)
    offsets = sorted(rng.sample(range(40, PILE_ON_SPAN), len(crowd)))
    notes = {
        "retweet": "pile-on: retweet of the joke",
        "quote": "pile-on: quote of the joke",
        "reply": "pile-on: reply to the joke",
    }
    for (handle, kind, text), offset in zip(crowd, offsets, strict=True):
        at = JOKE_AT + timedelta(seconds=offset)
        link = {"retweet": "retweet_of", "quote": "quote_of", "reply": "in_reply_to"}
        target = post(
            handle,
            text,
            kind,
            at,
            author_followers=rng.randrange(40, 9000),
            **{link[kind]: joke},
        )
        note = notes[kind]
        if kind != "retweet":
            own_words = MOBILE in text or "Northwind" in text
            note += ", names the brand" if own_words else ", never names the brand"
        events.append((at, target, [joke, target], CANNED.format(h=handle), note))

    # number the posts in time order, then write the events in time order
    posts.sort(key=lambda p: p["created_at"])
    for number, item in enumerate(posts, start=1):
        item["id"] = f"bh-{number:03d}"
    events.sort(key=lambda e: (e[0], e[1]["id"]))

    seen = {"retweets": 0, "quotes": 0, "replies": 0}
    last: dict[str, int] = {}
    stream: list[dict[str, Any]] = []
    for at, target, context, reply, note in events:
        thread_posts = []
        for item in context:
            out: dict[str, Any] = {}
            for key, value in item.items():
                if isinstance(value, dict):  # a reference to another post
                    out[key] = value["id"]
                elif isinstance(value, datetime):
                    out[key] = iso(value)
                else:
                    out[key] = value
            if item is joke:
                out["metrics"] = joke_metrics(rng, at, seen, last)
            thread_posts.append(out)
        if target is not joke and joke in context:
            seen[
                {"retweet": "retweets", "quote": "quotes", "reply": "replies"}[
                    target["kind"]
                ]
            ] += 1
        stream.append(
            {
                "at": iso(at),
                "thread": {
                    "platform": "x",
                    "brand_handles": BRAND_HANDLES,
                    "posts": thread_posts,
                    "target": target["id"],
                },
                "reply": reply,
                "note": note,
            }
        )
    return stream


def check(stream: list[dict[str, Any]]) -> float:
    """Check the stream's invariants and return the highest customer-reply similarity."""
    ids = {p["id"] for e in stream for p in e["thread"]["posts"]}
    if len(ids) != len(
        {(p["id"], p["author"]) for e in stream for p in e["thread"]["posts"]}
    ):
        raise SystemExit("a post id names two different posts")
    for event in stream:
        for item in event["thread"]["posts"]:
            if item["created_at"] > event["at"]:
                raise SystemExit(f"post {item['id']} is later than its event")
        if (
            not HOUR_START
            <= datetime.fromisoformat(event["at"])
            < HOUR_START + timedelta(hours=1)
        ):
            raise SystemExit(f"event outside the hour: {event['at']}")
    customer = [
        strip_handles(e["reply"]) for e in stream if e["note"].startswith("customer")
    ]
    worst = 0.0
    for a, b in combinations(customer, 2):
        score = similarity(a, b)
        worst = max(worst, score)
        if score >= MAX_SIMILARITY:
            raise SystemExit(f"replies too alike ({score:.1f}):\n  {a}\n  {b}")
    return worst


def main() -> None:
    """Build, check and write the stream; print a summary."""
    stream = build(random.Random(SEED))  # noqa: S311 - reproducible example data
    worst = check(stream)
    with OUT.open("w", encoding="utf-8", newline="\n") as handle:
        for event in stream:
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for event in stream:
        target = event["thread"]["target"]
        kind = next(p["kind"] for p in event["thread"]["posts"] if p["id"] == target)
        group = "pile-on" if event["note"].startswith("pile-on") else "customer"
        kinds[f"{group} {kind}"] = kinds.get(f"{group} {kind}", 0) + 1
    print(f"wrote {len(stream)} events to {OUT}")
    for name, count in sorted(kinds.items()):
        print(f"  {name}: {count}")
    print(
        f"max similarity between two customer replies: {worst:.1f} "
        f"(limit {MAX_SIMILARITY:.0f}, {similarity_backend()}, handles removed)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
