"""Issue 16, item 8: quoted history is cut in the languages customers write
in (fr, es, it, nl, pl, pt, ru, tr besides de and en), and a reply written
below the quote, or between its lines, keeps its answers."""

from __future__ import annotations

import pytest

from tests import emails, factories
from vivadesk_wagtail.mail import content
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import OutboundEmail

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]

REPLIES = [
    ("reply-fr-gmail.eml", "Bonjour,\n\nl'imprimante fonctionne de nouveau. Merci !"),
    ("reply-es-gmail.eml", "Hola,\n\nla impresora ya funciona. ¡Gracias!"),
    (
        "reply-it-thunderbird.eml",
        "Buongiorno,\n\nla stampante funziona di nuovo. Grazie!",
    ),
    (
        "reply-nl-outlook.eml",
        "Goedemorgen,\n\nde printer werkt weer. Bedankt!\n\nErika",
    ),
    ("reply-pl-thunderbird.eml", "Dzień dobry,\n\ndrukarka znowu działa. Dziękuję!"),
    ("reply-pt-gmail.eml", "Olá,\n\na impressora voltou a funcionar. Obrigada!"),
    ("reply-ru-iphone.eml", "Здравствуйте,\n\nпринтер снова работает. Спасибо!"),
    ("reply-tr-gmail.eml", "Merhaba,\n\nyazıcı tekrar çalışıyor. Teşekkürler!"),
    (
        "bottom-posted-de-thunderbird.eml",
        "Es ist ein HP LaserJet 400, Seriennummer CN12345.",
    ),
    (
        "interleaved-en-mutt.eml",
        "> Since when does the printer fail?\n\nSince Monday morning.\n\n"
        "> Which model is it?\n\nAn HP LaserJet 400.",
    ),
]


@pytest.mark.parametrize(("name", "body"), REPLIES)
def test_replies_keep_only_what_the_customer_wrote(
    name, body, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.ticket()
    notice = OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id
    raw = emails.load(name).replace(b"{{IN_REPLY_TO}}", notice.encode())
    result = ingest(raw)
    assert (result.outcome, result.ticket) == ("reply", ticket.reference), result
    assert result.body == body


QUOTE = "> Guten Tag,\n>\n> wir haben Ihre Anfrage erhalten.\n"
#: Reply headers as the clients of each language write them.
HEADERS = {
    "fr Thunderbird": "Le 03/02/2025 à 10:12, VIVA HelpDesk a écrit :",
    "fr Apple Mail": "Le 3 févr. 2025 à 10:12, VIVA HelpDesk <helpdesk@viva.de> "
    "a écrit :",
    "es Thunderbird": "El 3/2/25 a las 10:12, VIVA HelpDesk escribió:",
    "it Gmail": "Il giorno lun 3 feb 2025 alle ore 10:12 VIVA HelpDesk <"
    "helpdesk@viva.de> ha scritto:",
    "nl Gmail": "Op ma 3 feb 2025 om 10:12 schreef VIVA HelpDesk <helpdesk@viva.de>:",
    "nl Thunderbird": "Op 03-02-2025 om 10:12 schreef VIVA HelpDesk:",
    "nl Gmail wrapped": "Op ma 3 feb 2025 om 10:12 schreef VIVA HelpDesk\n"
    "<helpdesk@viva.de>:",
    "pl Gmail": "pon., 3 lut 2025 o 10:12 VIVA HelpDesk <helpdesk@viva.de> napisał(a):",
    "pl older": "Dnia 3.02.2025 o 10:12 VIVA HelpDesk napisał(a):",
    "pt Thunderbird": "Em 03/02/2025 10:12, VIVA HelpDesk escreveu:",
    "pt-PT Gmail": "VIVA HelpDesk <helpdesk@viva.de> escreveu no dia segunda, "
    "3/02/2025 à(s) 10:12:",
    "ru Thunderbird": "03.02.2025 10:12, VIVA HelpDesk пишет:",
    "ru Gmail": "пн, 3 февр. 2025 г. в 10:12, VIVA HelpDesk <helpdesk@viva.de>:",
    "ru Apple Mail": "3 февр. 2025 г., в 10:12, VIVA HelpDesk <helpdesk@viva.de> "
    "написал(а):",
    "tr Apple Mail": "3 Şub 2025 tarihinde 10:12 saatinde, VIVA HelpDesk "
    "<helpdesk@viva.de> şunları yazdı:",
    "fr Outlook": "De : VIVA HelpDesk <helpdesk@viva.de>\nEnvoyé : lundi 3 février "
    "2025 10:12\nÀ : Erika\nObjet : [VIVA-1000] Votre demande",
    "es Outlook": "De: VIVA HelpDesk <helpdesk@viva.de>\nEnviado: lunes, 3 de "
    "febrero de 2025 10:12\nPara: Erika\nAsunto: [VIVA-1000] Su solicitud",
    "it Outlook": "Da: VIVA HelpDesk <helpdesk@viva.de>\nInviato: lunedì 3 "
    "febbraio 2025 10:12\nA: Erika\nOggetto: [VIVA-1000] La sua richiesta",
    "pl Outlook": "Od: VIVA HelpDesk <helpdesk@viva.de>\nWysłane: poniedziałek, 3 "
    "lutego 2025 10:12\nDo: Erika\nTemat: [VIVA-1000] Zgłoszenie",
    "ru Outlook": "От: VIVA HelpDesk <helpdesk@viva.de>\nОтправлено: 3 февраля "
    "2025 г. 10:12\nКому: Erika\nТема: [VIVA-1000] Заявка",
    "tr Outlook": "Kimden: VIVA HelpDesk <helpdesk@viva.de>\nGönderildi: 3 Şubat "
    "2025 Pazartesi 10:12\nKime: Erika\nKonu: [VIVA-1000] Talep",
    "pt Outlook separator": "-----Mensagem original-----\nDe: VIVA HelpDesk",
    "fr Outlook separator": "-----Message d'origine-----\nDe : VIVA HelpDesk",
}


@pytest.mark.parametrize("client", HEADERS)
def test_reply_headers_of_each_language_cut_the_quote(client):
    header = HEADERS[client]
    above = f"Die Antwort.\n\n{header}\n{QUOTE}"
    assert content.visible_text(above) == "Die Antwort."


@pytest.mark.parametrize("client", [c for c in HEADERS if "Outlook" not in c])
def test_reply_below_the_quote_keeps_the_answer(client):
    below = f"{HEADERS[client]}\n{QUOTE}\nDie Antwort unten.\n"
    assert content.visible_text(below) == "Die Antwort unten."


def test_answers_between_quoted_lines_keep_their_questions():
    text = (
        "Am 03.02.25 um 10:12 schrieb VIVA HelpDesk:\n"
        "> Seit wann?\n\nSeit Montag.\n"
        "> Welcher Drucker?\n> (Modell)\n\nHP 400.\n\n"
        "> Mit freundlichen Grüßen\n> VIVA\n"
    )
    assert content.visible_text(text) == (
        "> Seit wann?\n\nSeit Montag.\n> Welcher Drucker?\n> (Modell)\n\nHP 400."
    )


def test_older_history_below_a_bottom_posted_answer_is_cut():
    text = (
        "> Ihre Frage\n\nMeine Antwort.\n\n"
        "Am 01.02.25 um 09:00 schrieb Erika:\n> ältere Nachricht\n"
    )
    assert content.visible_text(text) == "Meine Antwort."


def test_nothing_but_a_quote_keeps_everything():
    text = "Am 03.02.25 um 10:12 schrieb VIVA HelpDesk:\n> nur Zitat\n"
    assert content.visible_text(text) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "Do: 14 Uhr passt.\nFr: auch gut.",  # German weekdays, not headers
        "Le rendez-vous est confirmé.\nMerci.",
        "Il 3 febbraio va bene.\nGrazie.",
        "Data: 3 lutego\nGodzina: 10:00",
        "Preis 100 €, Lieferung am 3.2.",
    ],
)
def test_ordinary_lines_are_not_reply_headers(text):
    assert content.visible_text(text) == text
