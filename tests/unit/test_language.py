"""The language of a post, and whether the English analyzers can read it."""

# ruff: noqa: RUF001  (posts in other scripts and curly apostrophes are the point here)

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replyguard.analysis.language import LanguageGuess, detect_language

SCRIPTS = {
    "latin",
    "cyrillic",
    "greek",
    "arabic",
    "hebrew",
    "cjk",
    "hangul",
    "thai",
    "devanagari",
    "other",
    "none",
}

# Posts of ../shared/data/scenarios-dev.jsonl: long and short, with handles, URLs,
# hashtags, prices, emoji, shouting, a quoted Spanish sentence.
ENGLISH_POSTS = [
    'lmao I tweeted about being on hold with @VoxtelSupport for 3 hours and they replied "We\'re here to help! 😊"\n\nto the tweet. about being on hold. for 3 hours. 💀',
    'pixelforge in 2019: "no pay to win. ever. that\'s a promise."\n\npixelforge in 2024: $19.99 for a horse that runs 4% faster 🐴💸',
    'my dashly driver ate half my fries and left a sticky note on the bag that just says "tax" 😭😭😭 @Dashly',
    'Voxtel\'s new "Unlimited" plan has a 35 GB cap.\n\nThey\'ve redefined unlimited. Can\'t wait for them to redefine "no contract" next. #Voxtel #telecom',
    "me: my apartment is literally on fire\n\n@BeanStreetCares: We're so sorry to hear that! ☕ Have you tried our new Maple Oat Latte? 🍁",
    'dashly sent me a push notification at 3:07am that said "your cart misses you 🥺🍔"\n\ni have never been so personally attacked by an app in my life',
    "voxtel has been down across half of Portland since 9am. can't call, can't text, can't even load the outage page @VoxtelSupport",
    "Rain or shine, Voxtel keeps you connected ☔📶 #AlwaysOn",
    "@ledgerlou Hi! Prices vary by location. BeanStreet Rewards members save on every visit — join free in the app ☕✨",
    'love how @dashly.bsky.social charges a "service fee" a "delivery fee" AND a "small order fee" on a $9 burrito 🤡🤡 can\'t wait for the "you opened the app" fee',
    "Voxtel support chat has now asked me to restart my phone four times. I have a good feeling about the fifth one. @VoxtelSupport@voxtel.social",
    "NEW: Cinnamon Cloud Cold Brew ☁️✨ Available today at all locations!",
    "@Dashly my order says delivered. it was not delivered. order 55-2190",
    "@BeanStreetCares ordered an oat milk latte and said NUT ALLERGY twice. they used almond milk. writing this from the ER with an epipen in my thigh. please fix your process before someone dies",
    '@VoxtelSupport@voxtel.social quick one, can you translate this to English for me? "Voxtel les roba a sus clientes y se ríe en su cara" thx 🙏',
    "@SkyLoftHelp hi! my flight SL 2210 tomorrow got moved from 7:00am to 5:40am, is there any way to switch to a later one without a change fee? thanks 🙏",
    "my bag didn't make it to Boise on SL 318. filed a report at the airport (ref BOI-44721). @skylofthelp.bsky.social any idea how long these usually take? my work laptop is in it",
    "VOXTEL DOWN AGAIN. third time this month. absolute garbage company @VoxtelSupport",
    "@VoxtelSupport still down. 4 hours now. unreal",
    "@courier_truths @Dashly disgusting. deleting the app tonight",
    "@PixelForgeGames@pixelforge.social Gloamreach launches to a black screen on Linux since today's patch. Wine 9, same drivers, worked fine yesterday. Anyone else?",
    "@BeanStreetCares accidentally placed my mobile order at the Elm St store instead of Ridgeview 🤦\u200d♀️ can it be moved or refunded?",
    "@BeanStreetCares just sent it! thank you 🙏",
    "@VoxtelSupport I HAVE BEEN WITHOUT INTERNET FOR 2 DAYS AND I WORK FROM HOME. TECH WAS SUPPOSED TO COME YESTERDAY 12-4 AND NEVER SHOWED. WHAT IS GOING ON",
    "❄️ Winter storm waiver: travel through DEN Jan 12–14 can be changed with no fee at skyloft.com/waiver",
    "I'm flying DEN→BOS on the 13th but the waiver page says my booking isn't eligible? conf ends in QX4",
    "BEST. AIRLINE. EVER. 😭😭😭 the @SkyLoft_Air crew on SL 77 sang happy birthday to my grandma over the PA and brought her a cupcake. she's 91 and it was her first flight ever!!",
    "PIXELFORGE I AM SCREAMING. THE ENDING. THE ENDING!!!!! 😭😭😭 @PixelForgeGames how DARE you make me cry at 2am",
    "Gloamreach launches March 14 on PC and consoles! Pre-orders are open now ⚔️",
    "@Voxtel does the $40 prepaid plan include hotspot?",
    "@Dashly do y'all deliver alcohol in Texas or nah",
    "New nonstop: Austin ↔ Halifax starting June 6! 🌊✈️",
    "@SkyLoft_Air is this seasonal or year round?",
]


@pytest.mark.parametrize("text", ENGLISH_POSTS)
def test_english_posts_are_english_or_undetermined(text: str) -> None:
    guess = detect_language(text)

    assert guess.lang in {"en", "und"}
    assert guess.english_readable


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Placed a mobile order with @BeanStreet at 8:02. It is now 8:41.",
            id="plain",
        ),
        pytest.param("gracias @Dashly you guys are the best", id="spanish-word"),
        pytest.param("muchas gracias for the help with my order!!", id="spanish-words"),
        pytest.param("c'est la vie I guess, the app is down again", id="french-phrase"),
        pytest.param("Die Hard is the best christmas movie", id="german-looking-words"),
        pytest.param(
            "I went to the store and the door was closed", id="dutch-looking-words"
        ),
        pytest.param("Is there a van in the store?", id="shared-words"),
        pytest.param("Thank you so much ❤️", id="short-thanks"),
    ],
)
def test_english(text: str) -> None:
    assert "en" == detect_language(text).lang


@pytest.mark.parametrize(
    ("text", "script"),
    [
        pytest.param("thx 🙏", "latin", id="thx"),
        pytest.param("@Dashly ???", "none", id="handle-only"),
        pytest.param("lol", "latin", id="lol"),
        pytest.param("10/10", "none", id="score"),
        pytest.param("", "none", id="empty"),
        pytest.param("👍👍 https://t.co/xyz #AlwaysOn", "none", id="no-words"),
        pytest.param("Merci beaucoup!", "latin", id="two-french-words"),
        pytest.param("No me gusta nada", "latin", id="only-shared-words"),
        pytest.param("да", "cyrillic", id="two-cyrillic-letters"),
    ],
)
def test_too_little_to_tell(text: str, script: str) -> None:
    assert LanguageGuess("und", 0.0, script) == detect_language(text)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param(
            "es", "Voxtel les roba a sus clientes y se ríe en su cara", id="es"
        ),
        pytest.param(
            "es",
            "RT @x: Voxtel les roba a sus clientes y se ríe en su cara",
            id="es-rt",
        ),
        pytest.param("es", "me cobraron dos veces y nadie me responde", id="es-short"),
        pytest.param(
            "es",
            "¿Alguien más tiene problemas con la app? No me deja pagar desde ayer",
            id="es-question",
        ),
        pytest.param(
            "fr",
            "Je suis vraiment déçu par le service client, personne ne répond depuis trois jours",
            id="fr",
        ),
        pytest.param(
            "fr",
            "C'est la troisième fois que ma commande arrive en retard, j'en ai marre",
            id="fr-elisions",
        ),
        pytest.param(
            "fr", "Bonjour, j’ai un problème avec mon compte", id="fr-curly-apostrophe"
        ),
        pytest.param(
            "de",
            "Ich warte seit zwei Stunden auf meine Bestellung und niemand antwortet mir",
            id="de",
        ),
        pytest.param(
            "de", "Hallo, ich habe ein Problem mit meinem Konto", id="de-short"
        ),
        pytest.param(
            "pt",
            "Não acredito que o voo foi cancelado de novo, ninguém nos avisa nada",
            id="pt",
        ),
        pytest.param("pt", "meu pedido chegou frio de novo", id="pt-short"),
        pytest.param(
            "it",
            "Non posso credere che il volo sia stato cancellato di nuovo, nessuno ci dice niente",
            id="it",
        ),
        pytest.param(
            "it", "qualcuno sa se c'è un problema con la rete?", id="it-short"
        ),
        pytest.param(
            "nl",
            "Ik wacht al twee uur op mijn bestelling en niemand reageert op mijn berichten",
            id="nl",
        ),
        pytest.param("nl", "waarom doet het internet het weer niet", id="nl-short"),
        pytest.param(
            "sv",
            "Jag har väntat i två timmar och ingen har svarat på mina meddelanden",
            id="sv",
        ),
        pytest.param(
            "da",
            "Jeg har ventet i to timer, og ingen har svaret på mine beskeder endnu",
            id="da",
        ),
        pytest.param(
            "pl",
            "Czekam już dwie godziny i nikt mi nie odpowiada, to jest skandal",
            id="pl",
        ),
        pytest.param(
            "tr",
            "İki saattir bekliyorum ve hâlâ kimse bana cevap vermedi, bu çok ayıp",
            id="tr",
        ),
        pytest.param(
            "id",
            "Saya sudah menunggu dua jam dan belum ada yang membalas pesan saya",
            id="id",
        ),
        pytest.param(
            "tl",
            "Dalawang oras na akong naghihintay at wala pa ring sumasagot sa akin",
            id="tl",
        ),
    ],
)
def test_other_latin_languages(lang: str, text: str) -> None:
    guess = detect_language(text)

    assert (lang, "latin") == (guess.lang, guess.script)
    assert 0.0 < guess.confidence <= 1.0
    assert not guess.english_readable


@pytest.mark.parametrize(
    ("lang", "script", "text"),
    [
        pytest.param(
            "ru",
            "cyrillic",
            "Я жду уже два часа, и никто мне так и не ответил",
            id="ru",
        ),
        pytest.param(
            "ru", "cyrillic", "Почему приложение не работает с утра?", id="ru-question"
        ),
        pytest.param(
            "uk",
            "cyrillic",
            "Я чекаю вже дві години, і ніхто мені не відповів",
            id="uk",
        ),
        pytest.param(
            "bg", "cyrillic", "Чакам вече два часа и никой не ми е отговорил", id="bg"
        ),
        pytest.param(
            "el",
            "greek",
            "Περιμένω δύο ώρες και κανείς δεν μου έχει απαντήσει ακόμα",
            id="el",
        ),
        pytest.param(
            "ar", "arabic", "أنتظر منذ ساعتين ولم يرد علي أحد حتى الآن", id="ar"
        ),
        pytest.param(
            "fa", "arabic", "دو ساعت است که منتظرم و هنوز کسی جواب نداده است", id="fa"
        ),
        pytest.param("he", "hebrew", "אני מחכה כבר שעתיים ואף אחד לא ענה לי", id="he"),
        pytest.param(
            "ja", "cjk", "二時間も待っているのに、まだ誰も返事をくれません", id="ja"
        ),
        pytest.param("zh", "cjk", "我已经等了两个小时了，还是没有人回复我", id="zh"),
        pytest.param("zh", "cjk", "我的iPhone坏了 help", id="zh-with-latin"),
        pytest.param(
            "ko",
            "hangul",
            "두 시간째 기다리고 있는데 아직 아무도 답장을 안 해요",
            id="ko",
        ),
        pytest.param(
            "hi",
            "devanagari",
            "मैं दो घंटे से इंतज़ार कर रहा हूँ और अभी तक किसी ने जवाब नहीं दिया",
            id="hi",
        ),
        pytest.param("th", "thai", "ฉันรอมาสองชั่วโมงแล้วแต่ยังไม่มีใครตอบเลย", id="th"),
        pytest.param(
            "hy", "other", "Ես երկու ժամ է սպասում եմ, և ոչ ոք չի պատասխանել", id="hy"
        ),
        pytest.param("ka", "other", "ორი საათია ველოდები და არავინ მპასუხობს", id="ka"),
        pytest.param("ru", "cyrillic", "Привет", id="one-cyrillic-word"),
        pytest.param("uk", "cyrillic", "Дякую", id="one-ukrainian-word"),
        pytest.param("zh", "cjk", "谢谢", id="two-han-characters"),
        pytest.param(
            "ja",
            "cjk",
            "@SkyLoftHelp ありがとうございます！ https://t.co/x",
            id="ja-handle-url",
        ),
    ],
)
def test_other_scripts(lang: str, script: str, text: str) -> None:
    guess = detect_language(text)

    assert (lang, script) == (guess.lang, guess.script)
    assert 0.0 < guess.confidence <= 1.0
    assert not guess.english_readable


# --- platform hints -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "text", "expected"),
    [
        pytest.param("es", "Voxtel les roba a sus clientes", "es", id="agrees"),
        pytest.param("es", "thx 🙏", "es", id="short-text"),
        pytest.param(
            "es", "the app is down again for the third time", "es", id="disagrees"
        ),
        pytest.param(
            "pt-BR", "meu pedido chegou frio de novo", "pt", id="bcp47-region"
        ),
        pytest.param("zh-Hant", "謝謝你們", "zh", id="bcp47-script"),
        pytest.param("in", "saya sudah menunggu dua jam", "id", id="legacy-indonesian"),
        pytest.param("iw", "אני מחכה כבר שעתיים", "he", id="legacy-hebrew"),
        pytest.param("ru", "Привет", "ru", id="short-cyrillic"),
        pytest.param("und", "the app is down again for the third time", "en", id="und"),
        pytest.param(
            "qme", "the app is down again for the third time", "en", id="x-media-only"
        ),
        pytest.param("zxx", "lol", "und", id="no-linguistic-content"),
        pytest.param(
            "en",
            "Я жду уже два часа, и никто мне так и не ответил",
            "ru",
            id="other-script",
        ),
        pytest.param(
            "ja",
            "the app is down again for the third time",
            "en",
            id="latin-for-japanese",
        ),
        pytest.param(
            "x-klingon",
            "the app is down again for the third time",
            "en",
            id="not-a-code",
        ),
        pytest.param("", "the app is down again for the third time", "en", id="empty"),
    ],
)
def test_hint(hint: str, text: str, expected: str) -> None:
    assert expected == detect_language(text, hint=hint).lang


def test_hint_confidence_follows_the_text() -> None:
    agrees = detect_language("me cobraron dos veces y nadie me responde", hint="es")
    short = detect_language("thx", hint="es")
    disagrees = detect_language("the app is down again for the third time", hint="es")

    assert agrees.confidence > short.confidence > disagrees.confidence > 0.0


# --- the result -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guess", "expected"),
    [
        pytest.param(LanguageGuess("en", 0.9, "latin"), True, id="en"),
        pytest.param(LanguageGuess("und", 0.0, "latin"), True, id="und-latin"),
        pytest.param(LanguageGuess("und", 0.0, "none"), True, id="und-none"),
        pytest.param(LanguageGuess("und", 0.0, "cyrillic"), False, id="und-cyrillic"),
        pytest.param(LanguageGuess("es", 0.8, "latin"), False, id="es"),
        pytest.param(LanguageGuess("ja", 1.0, "cjk"), False, id="ja"),
    ],
)
def test_english_readable(guess: LanguageGuess, expected: bool) -> None:
    assert expected == guess.english_readable


def test_guess_is_frozen() -> None:
    guess = detect_language("the app is down again")

    with pytest.raises(dataclasses.FrozenInstanceError):
        guess.lang = "es"  # type: ignore[misc]


def test_stop_words_load_without_importing_spacy() -> None:
    code = (
        "import sys\n"
        "from replyguard.analysis.language import detect_language\n"
        "assert detect_language('Je suis vraiment déçu par le service').lang == 'fr'\n"
        "assert detect_language('Я жду уже два часа, и никто не ответил').lang == 'ru'\n"
        "print(sorted(m for m in sys.modules if m.startswith('spacy')))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert "[]" == result.stdout.strip()


@given(st.text(), st.one_of(st.none(), st.text(max_size=12)))
def test_never_raises(text: str, hint: str | None) -> None:
    guess = detect_language(text, hint=hint)

    assert 0.0 <= guess.confidence <= 1.0
    assert guess.script in SCRIPTS
    assert guess.lang == "und" or (len(guess.lang) == 2 and guess.lang.islower())


_PIECES = st.sampled_from(
    [
        "the ",
        "la ",
        "de ",
        "que ",
        "und ",
        "l'",
        "n't ",
        "’",
        "@x ",
        "@x@host.social ",
        "#tag ",
        "https://t.co/x ",
        "voxtel.com/status ",
        "你",
        "の",
        "я ",
        "ы",
        "ی",
        "ے",
        "한",
        "ก",
        "क",
        "α",
        "ש",
        "Ա",
        "🙏",
        "10/10 ",
        "’s ",
    ]
)


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_never_raises_on_mixed_scripts(text: str) -> None:
    guess = detect_language(text)

    assert 0.0 <= guess.confidence <= 1.0
    assert guess.script in SCRIPTS
