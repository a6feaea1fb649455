"""The texts of the demo pages, German with the English next to each string.

Each builder returns the German field values and, in ``Texts.en``, the
English for every German string wagtail-localize extracts (one per heading,
paragraph, list item and block text), so the English pages hold no German."""

from __future__ import annotations

import json
from uuid import uuid4

from django.utils.text import slugify

#: The phone number of the demo company (footer, mails, imprint).
PHONE = "+49 30 1234567"
#: The demo company, shown in the footer and on the legal pages (placeholders).
COMPANY = {
    "name": "VIVA GmbH",
    "address": "Musterstraße 1\n10115 Berlin",
    "phone": PHONE,
    "legal_line": (
        "Amtsgericht Berlin-Charlottenburg HRB 000000 · Geschäftsführerin: "
        "Petra Platzhalter · USt-IdNr. DE000000000 (Demo-Angaben)"
    ),
}


class Texts:
    """Collects German → English pairs while the German content is built."""

    def __init__(self) -> None:
        self.en: dict[str, str] = {}

    def __call__(self, de: str, en: str) -> str:
        self.en[de] = en
        return de

    def slug(self, de_title: str, en_title: str) -> str:
        return self(slugify(de_title), slugify(en_title))

    def p(self, de: str, en: str) -> str:
        return f"<p>{self(de, en)}</p>"

    def h2(self, de: str, en: str) -> str:
        return f"<h2>{self(de, en)}</h2>"

    def ul(self, *items: tuple[str, str]) -> str:
        return (
            "<ul>" + "".join(f"<li>{self(de, en)}</li>" for de, en in items) + "</ul>"
        )


def _stream(*blocks: tuple[str, object]) -> str:
    """StreamField data with block ids (wagtail-localize finds each string of
    the translation by the ids of the blocks around it)."""
    return json.dumps(
        [{"type": kind, "value": value, "id": str(uuid4())} for kind, value in blocks]
    )


def _cards(t: Texts, *cards: tuple[str, str, str, str]) -> list[dict]:
    return [
        {
            "type": "item",
            "value": {"title": t(title_de, title_en), "text": t(text_de, text_en)},
            "id": str(uuid4()),
        }
        for title_de, title_en, text_de, text_en in cards
    ]


def home_body(t: Texts, contact_id: int, email: str) -> str:
    """The home page's sections: opening, offers, help-desk steps, a note."""
    return _stream(
        (
            "hero",
            {
                "heading": t(
                    "Bürotechnik und IT-Service aus einer Hand",
                    "Office equipment and IT service from one source",
                ),
                "text": t(
                    "VIVA liefert, installiert und betreut Drucker, "
                    "Multifunktionsgeräte und die IT kleiner und mittlerer "
                    "Unternehmen. Und wenn etwas nicht funktioniert, ist unser "
                    "HelpDesk für Sie da.",
                    "VIVA supplies, installs and looks after printers, "
                    "multifunction devices and the IT of small and medium-sized "
                    "businesses. And when something does not work, our HelpDesk "
                    "is there for you.",
                ),
                "action": {
                    "page": contact_id,
                    "label": t("Anfrage senden", "Send a request"),
                },
            },
        ),
        (
            "features",
            {
                "heading": t("Was VIVA bietet", "What VIVA offers"),
                "cards": _cards(
                    t,
                    (
                        "Drucker und Multifunktionsgeräte",
                        "Printers and multifunction devices",
                        "Beratung, Lieferung und Aufstellung – zum Kauf oder als "
                        "Mietgerät mit Wartungsvertrag.",
                        "Advice, delivery and installation – to buy, or to rent "
                        "with a maintenance contract.",
                    ),
                    (
                        "Wartung und Verbrauchsmaterial",
                        "Maintenance and supplies",
                        "Regelmäßige Wartung, Reparaturen vor Ort und Toner, "
                        "bevor er ausgeht.",
                        "Regular maintenance, repairs on site, and toner before "
                        "it runs out.",
                    ),
                    (
                        "IT-Service",
                        "IT service",
                        "Arbeitsplätze, Netzwerk und Server: Wir richten ein, "
                        "halten aktuell und helfen, wenn es hakt.",
                        "Workstations, network and servers: we set them up, keep "
                        "them up to date and help when something goes wrong.",
                    ),
                    (
                        "HelpDesk",
                        "HelpDesk",
                        "Alle Ihre Anfragen an einem Ort, bestätigt per E-Mail, "
                        "ihr Stand jederzeit im Browser einsehbar.",
                        "All your requests in one place, confirmed by e-mail, "
                        "their progress visible in the browser at any time.",
                    ),
                ),
            },
        ),
        (
            "steps",
            {
                "heading": t(
                    "So funktioniert unser HelpDesk", "How our HelpDesk works"
                ),
                "steps": _cards(
                    t,
                    (
                        "Anfrage senden",
                        "Send a request",
                        "Schreiben Sie uns über das Kontaktformular. Sie erhalten "
                        "eine Bestätigung per E-Mail mit Ihrer Ticket-ID.",
                        "Write to us through the contact form. You receive a "
                        "confirmation by e-mail with your ticket ID.",
                    ),
                    (
                        "Konto bestätigen",
                        "Confirm your account",
                        "Über den Link in der E-Mail geben Sie Ihren Namen und "
                        "ein Passwort an. Danach sehen Sie alle Ihre Anfragen "
                        "unter „Meine Anfragen“.",
                        "Through the link in the e-mail you enter your name and "
                        "a password. Then you see all your requests under "
                        "“My requests”.",
                    ),
                    (
                        "Antworten – im Browser oder per E-Mail",
                        "Reply – in the browser or by e-mail",
                        "Über jede Antwort von uns informieren wir Sie per "
                        "E-Mail. Sie antworten im HelpDesk oder direkt auf die "
                        "E-Mail.",
                        "We let you know of every answer by e-mail. You reply "
                        "in the HelpDesk or directly to the e-mail.",
                    ),
                    (
                        "Fertig",
                        "Done",
                        "Ist Ihre Anfrage beantwortet, setzen wir sie auf "
                        "„Fertig“. Sie können trotzdem noch antworten; alle "
                        "Anfragen bleiben archiviert.",
                        "Once your request is answered, we set it to “Done”. "
                        "You can still reply; all requests stay archived.",
                    ),
                ),
            },
        ),
        (
            "text",
            t.p(
                "Sie haben bereits ein bestätigtes Konto? Dann können Sie uns "
                f"auch direkt eine E-Mail an {email} schreiben.",
                "You already have a confirmed account? Then you can also write "
                f"an e-mail to {email} directly.",
            ),
        ),
    )


def helpdesk_page(t: Texts, contact_id: int, email: str) -> dict:
    """“So funktioniert unser HelpDesk”: VIVA's customer guide to the help
    desk, section by section."""
    title = t("So funktioniert unser HelpDesk", "How our HelpDesk works")
    name = "VIVA HelpDesk Ticketsystem"
    name_en = "VIVA HelpDesk ticket system"

    def heading(de: str, en: str) -> tuple[str, str]:
        return ("heading", t(de, en))

    def text(*parts: str) -> tuple[str, str]:
        return ("text", "".join(parts))

    def action(de: str, en: str) -> tuple[str, dict]:
        return ("call_to_action", {"page": contact_id, "label": t(de, en)})

    body = _stream(
        heading(f"Was ist das {name}?", f"What is the {name_en}?"),
        text(
            t.p(
                f"Das {name} ist eine Datenbank, in der alle Anfragen der Kunden "
                "und unsere Antworten gespeichert werden. Es erleichtert die "
                "Kommunikation und bietet Ihnen insbesondere folgende Vorteile:",
                f"The {name_en} is a database that stores all requests of our "
                "customers and our answers. It makes communication easier and "
                "offers you these advantages in particular:",
            ),
            t.ul(
                (
                    "Durch die Bestätigung per E-Mail können Sie sicher sein, dass "
                    "Ihre Anfrage eingegangen ist und auch bearbeitet wird.",
                    "The confirmation by e-mail assures you that your request has "
                    "arrived and will be dealt with.",
                ),
                (
                    "Alle Fragen, Antworten, Kommentare und Daten zu einem Thema "
                    "sind eindeutig zugeordnet. Bei E-Mails müssten Sie sich diese "
                    "Informationen mühsam zusammensuchen.",
                    "All questions, answers, comments and data on one subject are "
                    "clearly kept together. With e-mails you would have to gather "
                    "this information laboriously.",
                ),
                (
                    "Sie können in der Übersicht sofort erkennen, welche Anfragen "
                    "erledigt und welche noch offen sind.",
                    "The overview shows you at once which requests are done and "
                    "which are still open.",
                ),
                (
                    "Sie erhalten einen Statusbericht zu Ihrer Anfrage.",
                    "You receive status reports on your request.",
                ),
                (
                    "Sie haben permanent einen Überblick über den Status bzw. den "
                    "Fortschritt Ihrer Anfrage.",
                    "You always have an overview of the status and progress of "
                    "your request.",
                ),
                (
                    f"Alle Anfragen und Antworten sind über das {name} im Browser "
                    "sichtbar und können auch dort ergänzt werden.",
                    f"All requests and answers can be seen in the browser through "
                    f"the {name_en} and can be added to there as well.",
                ),
                (
                    "Alle Anfragen werden archiviert und können jederzeit "
                    "nachgelesen werden.",
                    "All requests are archived and can be read again at any time.",
                ),
            ),
        ),
        heading(
            "Wie funktioniert das Ticketsystem?", "How does the ticket system work?"
        ),
        text(
            t.p(
                f"Um das {name} zu nutzen, benötigen Sie ein Benutzerkonto. Dazu "
                "müssen Sie erstmalig eine Anfrage über das Web-Formular auf der "
                "VIVA-Webseite senden. Danach wird automatisch ein Benutzerkonto "
                "angelegt und für Ihre Anfrage ein Ticket erstellt.",
                f"To use the {name_en} you need a user account. For this, you "
                "first send a request through the web form on the VIVA website. "
                "A user account is then created automatically, and a ticket for "
                "your request.",
            ),
            t.p(
                "Sie erhalten daraufhin eine E-Mail mit Ihrer Ticket-ID und einem "
                "Link zur Bestätigung Ihres Kontos.",
                "You then receive an e-mail with your ticket ID and a link to "
                "confirm your account.",
            ),
            t.p(
                "Wenn Sie keine E-Mail erhalten haben, überprüfen Sie bitte Ihren "
                "Spam-Ordner und teilen Sie Ihrem E-Mail-Programm mit, dass es "
                "sich bei dem Absender nicht um eine Spam-Mail handelt. Ansonsten "
                "landen auch alle weiteren E-Mails im Spam-Ordner. Achten Sie "
                "darauf, dass Sie bei der Angabe Ihrer E-Mail-Adresse keinen "
                "Fehler machen.",
                "If you have not received an e-mail, please look in your spam "
                "folder and tell your e-mail program that the sender is not "
                "spam. Otherwise all further e-mails will land in the spam folder "
                "as well. Take care not to make a mistake when you enter your "
                "e-mail address.",
            ),
        ),
        action("Zum Kontaktformular", "To the contact form"),
        heading(
            "Wie bestätige ich mein Konto bzw. melde mich an?",
            "How do I confirm my account and log in?",
        ),
        text(
            t.p(
                "Klicken Sie auf den Link in der E-Mail zur Bestätigung des "
                "Kontos. Anschließend öffnet sich Ihr Web-Browser, in dem Sie "
                "Ihre Kontodaten vervollständigen können. Geben Sie bitte Ihren "
                "vollständigen Namen und ein von Ihnen gewünschtes Passwort an "
                "und bestätigen Sie die Eingaben.",
                "Click the link in the e-mail to confirm your account. Your web "
                "browser then opens, and there you can complete your account "
                "details. Please enter your full name and a password of your "
                "choice and confirm your entries.",
            ),
            t.p(
                "Ihr Konto ist nun eingerichtet und Sie befinden sich im "
                "VIVA HelpDesk Portal, in dem Sie den aktuellen Stand Ihrer "
                "Anfrage unter dem Menüpunkt „Anfragen“ oben rechts einsehen "
                "können.",
                "Your account is now set up and you are in the VIVA HelpDesk "
                "portal, where you can see the current state of your request "
                "under the menu item “Requests” at the top right.",
            ),
            t.p(
                "Die Benutzeroberfläche des Ticketsystems ist wahlweise in Ihrer "
                "Landessprache. Ist diese nicht verfügbar, wird die "
                "Benutzeroberfläche in englischer Sprache dargestellt.",
                "The user interface of the ticket system is in your own language "
                "where available. Where it is not, the user interface is shown "
                "in English.",
            ),
        ),
        heading("Wie bearbeite ich meine Anfragen?", "How do I work on my requests?"),
        text(
            t.p(
                "Mit einem Klick auf „Meine Anfragen“ gelangen Sie zu Ihrer "
                "Anfrage. Sollten Sie mehrere Anfragen haben, werden diese "
                "aufgelistet.",
                "A click on “My requests” takes you to your request. If you have "
                "several requests, they are listed.",
            ),
            t.p(
                "Sie haben jederzeit die Möglichkeit, Ihre Anfrage um weitere "
                "Kommentare zu ergänzen oder auf Antworten von VIVA zu antworten.",
                "At any time you can add further comments to your request or "
                "reply to answers from VIVA.",
            ),
        ),
        heading("Wie erstelle ich neue Anfragen?", "How do I make new requests?"),
        text(
            t.p(
                "Sie können weiterhin Anfragen über das Web-Formular auf der "
                "VIVA-Webseite stellen.",
                "You can still send requests through the web form on the VIVA website.",
            ),
            t.p(
                "Als registrierter Anwender mit einem Konto können Sie alternativ "
                f"auch direkt eine E-Mail an {email} schreiben. Wenn Sie kein "
                f"Konto im {name} besitzen oder das Konto noch nicht bestätigt "
                "wurde, wird diese Nachricht nicht ankommen!",
                "As a registered user with an account you can also write an "
                f"e-mail to {email} directly instead. If you have no account in "
                f"the {name_en}, or your account has not been confirmed yet, "
                "this message will not arrive!",
            ),
        ),
        heading("Wie antworte ich auf Mitteilungen?", "How do I reply to messages?"),
        text(
            t.p(
                f"Das {name} verschickt weiterhin E-Mails an Ihre Adresse. Sie "
                f"müssen also nicht ständig im {name} nachsehen, ob sich bei der "
                "Bearbeitung Ihrer Anfrage etwas getan hat.",
                f"The {name_en} still sends e-mails to your address. So you do "
                f"not need to keep looking in the {name_en} to see whether "
                "anything has happened with your request.",
            ),
            t.p(
                "Sie können auf diese Mitteilungen wahlweise im "
                f"{name} antworten oder Sie antworten direkt auf die E-Mail. "
                "Ihre Antwort per E-Mail wird dann vollautomatisch dem Ticket "
                "zugewiesen. Sie dürfen aber nicht den Betreff mit der Ticket-ID "
                "ändern.",
                f"You can reply to these messages either in the {name_en} or "
                "directly to the e-mail. Your reply by e-mail is then attached "
                "to the ticket fully automatically. But do not change the "
                "subject with the ticket ID.",
            ),
        ),
        heading("Wie kann ich Anhänge versenden?", "How can I send attachments?"),
        text(
            t.p(
                "Manchmal ist es erforderlich, einer Anfrage einen Anhang "
                "beizufügen. Als registrierter Anwender mit einem Konto können "
                f"Sie einer Antwort auf eine E-Mail an {email} einen Anhang "
                f"anfügen. Alternativ können Sie auch im {name} einen Anhang "
                "hochladen und dem Ticket zuweisen.",
                "Sometimes a request needs an attachment. As a registered user "
                f"with an account you can attach a file to a reply to an e-mail "
                f"to {email}. Alternatively, you can upload an attachment in the "
                f"{name_en} and add it to the ticket.",
            ),
        ),
        heading("Wann ist eine Anfrage erledigt?", "When is a request done?"),
        text(
            t.p(
                "Wenn VIVA den Status der Anfrage auf „Fertig“ setzt, gilt die "
                "Anfrage als beantwortet. Sie erhalten in diesem Fall eine "
                "entsprechende Nachricht per E-Mail. Sie können auf diese E-Mail "
                "wie gewohnt antworten. Wenn wir jedoch nach einigen Wochen "
                "nichts von Ihnen hören, ist die Anfrage endgültig erledigt.",
                "When VIVA sets the status of a request to “Done”, the request "
                "counts as answered. You then receive a message saying so by "
                "e-mail. You can reply to this e-mail as usual. But if we do not "
                "hear from you for a few weeks, the request is finally closed.",
            ),
        ),
        action("Anfrage senden", "Send a request"),
    )
    return {
        "title": title,
        "slug": t.slug(title, t.en[title]),
        "intro": t.p(
            "Wie Sie mit dem VIVA HelpDesk Anfragen stellen, verfolgen und "
            "beantworten.",
            "How to send, follow and answer requests with the VIVA HelpDesk.",
        ),
        "body": body,
    }


DEMO_NOTE = (
    "Dies ist ein Beispieltext der Demo-Website; alle Angaben sind Platzhalter.",
    "This is a sample text of the demo site; all details are placeholders.",
)


def imprint_page(t: Texts, email: str) -> dict:
    title = t("Impressum", "Legal notice")
    c = COMPANY
    address = "<br/>".join(c["address"].splitlines())
    body = "".join(
        [
            t.p(*DEMO_NOTE),
            t.h2("Angaben gemäß § 5 DDG", "Information under § 5 DDG"),
            t.p(f"{c['name']}<br/>{address}", f"{c['name']}<br/>{address}"),
            t.h2("Vertreten durch", "Represented by"),
            t.p(
                "Petra Platzhalter (Geschäftsführerin)",
                "Petra Platzhalter (managing director)",
            ),
            t.h2("Kontakt", "Contact"),
            t.p(
                f"Telefon: {PHONE}<br/>E-Mail: {email}",
                f"Phone: {PHONE}<br/>E-mail: {email}",
            ),
            t.h2("Registereintrag", "Register entry"),
            t.p(
                "Eintragung im Handelsregister. Registergericht: Amtsgericht "
                "Berlin-Charlottenburg. Registernummer: HRB 000000",
                "Entered in the commercial register. Register court: Amtsgericht "
                "Berlin-Charlottenburg (local court). Register number: HRB 000000",
            ),
            t.h2("Umsatzsteuer-ID", "VAT ID"),
            t.p(
                "Umsatzsteuer-Identifikationsnummer gemäß § 27a "
                "Umsatzsteuergesetz: DE000000000",
                "VAT identification number under § 27a of the German VAT Act: "
                "DE000000000",
            ),
            t.h2(
                "Verantwortlich für den Inhalt",
                "Responsible for the content",
            ),
            t.p(
                f"Petra Platzhalter, {c['address'].replace(chr(10), ', ')}",
                f"Petra Platzhalter, {c['address'].replace(chr(10), ', ')}",
            ),
            t.h2("Verbraucherstreitbeilegung", "Consumer dispute resolution"),
            t.p(
                "Wir sind nicht bereit oder verpflichtet, an "
                "Streitbeilegungsverfahren vor einer "
                "Verbraucherschlichtungsstelle teilzunehmen.",
                "We are neither willing nor obliged to take part in dispute "
                "resolution proceedings before a consumer arbitration board.",
            ),
        ]
    )
    return {"title": title, "slug": t.slug(title, t.en[title]), "body": body}


def privacy_page(t: Texts, email: str) -> dict:
    title = t("Datenschutz", "Privacy policy")
    c = COMPANY
    address = "<br/>".join(c["address"].splitlines())
    body = "".join(
        [
            t.p(*DEMO_NOTE),
            t.h2("Verantwortlicher", "Controller"),
            t.p(
                f"{c['name']}<br/>{address}<br/>E-Mail: {email}",
                f"{c['name']}<br/>{address}<br/>E-mail: {email}",
            ),
            t.h2("Beim Besuch der Website", "When you visit the website"),
            t.p(
                "Beim Aufruf der Seiten verarbeitet unser Server Ihre IP-Adresse "
                "und die angefragte Adresse, um die Seiten auszuliefern und "
                "wiederholte Formulareinsendungen zu begrenzen (Schutz vor "
                "Missbrauch). Wir setzen nur technisch notwendige Cookies: für die "
                "Anmeldung und zum Schutz der Formulare. Es gibt keine "
                "Werbe- oder Analyse-Cookies und keine Inhalte Dritter.",
                "When you open our pages, our server processes your IP address "
                "and the requested address to deliver the pages and to limit "
                "repeated form posts (protection against abuse). We set only "
                "technically necessary cookies: for logging in and to protect "
                "the forms. There are no advertising or analytics cookies and no "
                "third-party content.",
            ),
            t.h2("Was das HelpDesk speichert", "What the help desk stores"),
            t.p(
                "Wenn Sie uns über das Kontaktformular oder per E-Mail schreiben, "
                "speichern wir:",
                "When you write to us through the contact form or by e-mail, we store:",
            ),
            t.ul(
                (
                    "Ihren Namen und Ihre E-Mail-Adresse,",
                    "your name and e-mail address,",
                ),
                (
                    "Ihre Nachrichten an uns und unsere Antworten,",
                    "your messages to us and our answers,",
                ),
                (
                    "Anhänge, die Sie hochladen oder per E-Mail senden,",
                    "attachments you upload or send by e-mail,",
                ),
                (
                    "die weiteren Angaben im Formular, z. B. Ihre Kundennummer,",
                    "the further details in the form, e.g. your customer number,",
                ),
                (
                    "bei eingehenden E-Mails deren Quelltext mit den Kopfzeilen,",
                    "for incoming e-mails, their source with the headers,",
                ),
                (
                    "nach der Bestätigung Ihres Kontos Ihr Passwort, nur "
                    "verschlüsselt (als Hash).",
                    "once you have confirmed your account, your password, only "
                    "encrypted (as a hash).",
                ),
            ),
            t.h2("Wozu", "Why"),
            t.p(
                "Wir verarbeiten diese Daten, um Ihre Anfragen zu beantworten, "
                "Sie über deren Stand zu informieren und Ihnen den Verlauf im "
                "Browser zu zeigen (Art. 6 Abs. 1 lit. b DSGVO). Die Abwehr von "
                "Spam und Missbrauch stützen wir auf unser berechtigtes Interesse "
                "(Art. 6 Abs. 1 lit. f DSGVO).",
                "We process these data to answer your requests, to keep you "
                "informed of their progress and to show you their history in the "
                "browser (Art. 6(1)(b) GDPR). Fending off spam and abuse rests on "
                "our legitimate interest (Art. 6(1)(f) GDPR).",
            ),
            t.h2("Wie lange", "For how long"),
            t.p(
                "Anfragen, Antworten, Formularangaben und Anhänge bewahren wir "
                "auf, solange Ihr Kundenkonto besteht, damit Sie sie jederzeit "
                "nachlesen können. Auf Ihren Wunsch löschen wir sie, soweit keine "
                "gesetzlichen Aufbewahrungspflichten entgegenstehen. Den "
                "Quelltext eingehender E-Mails löschen wir nach einem Jahr, als "
                "Spam erkannte Formulareinsendungen nach 30 Tagen.",
                "We keep requests, answers, form details and attachments as long "
                "as your customer account exists, so you can read them at any "
                "time. At your request we delete them, unless legal duties to "
                "keep records stand against it. We delete the source of incoming "
                "e-mails after one year, and form posts recognised as spam after "
                "30 days.",
            ),
            t.h2("Empfänger", "Recipients"),
            t.p(
                "Ihre Daten sehen nur unsere Mitarbeiterinnen und Mitarbeiter im "
                "Kundenservice. Unser Hosting-Dienstleister verarbeitet sie in "
                "unserem Auftrag in der EU. Wir geben sie nicht an Dritte weiter.",
                "Only our customer service staff see your data. Our hosting "
                "provider processes them on our behalf in the EU. We do not pass "
                "them on to third parties.",
            ),
            t.h2("Ihre Rechte", "Your rights"),
            t.p(
                "Sie haben das Recht auf:",
                "You have the right to:",
            ),
            t.ul(
                ("Auskunft (Art. 15 DSGVO),", "access (Art. 15 GDPR),"),
                ("Berichtigung (Art. 16 DSGVO),", "rectification (Art. 16 GDPR),"),
                ("Löschung (Art. 17 DSGVO),", "erasure (Art. 17 GDPR),"),
                (
                    "Einschränkung der Verarbeitung (Art. 18 DSGVO),",
                    "restriction of processing (Art. 18 GDPR),",
                ),
                (
                    "Datenübertragbarkeit (Art. 20 DSGVO),",
                    "data portability (Art. 20 GDPR),",
                ),
                (
                    "Widerspruch gegen die Verarbeitung (Art. 21 DSGVO).",
                    "object to the processing (Art. 21 GDPR).",
                ),
            ),
            t.p(
                f"Schreiben Sie uns dazu an {email}. Sie können sich außerdem "
                "bei einer Datenschutz-Aufsichtsbehörde beschweren, z. B. bei der "
                "Berliner Beauftragten für Datenschutz und Informationsfreiheit "
                "(Art. 77 DSGVO).",
                f"To do so, write to us at {email}. You may also lodge a "
                "complaint with a data protection supervisory authority, e.g. "
                "the Berlin Commissioner for Data Protection and Freedom of "
                "Information (Art. 77 GDPR).",
            ),
        ]
    )
    return {"title": title, "slug": t.slug(title, t.en[title]), "body": body}
