"""What a mail says: its visible text, sanitised HTML and a ticket title.

Quoted history and signatures are cut (:func:`visible_text`) with
``mail-parser-reply`` plus the reply headers it misses; content is never
lost to that heuristic.
"""

from __future__ import annotations

import mimetypes
import re
from html import unescape
from html.parser import HTMLParser

import nh3
from mailparser_reply.parser import EmailMessage

#: Blanks before a colon (French writes ``a écrit :``, Gmail a narrow space).
_SP = r"[ \t\u00a0\u202f]*"
_GAP = r"[^\n]{0,200}?"


def _wrote(opening: str, verb: str) -> str:
    """A "… wrote:" line: ``opening`` at its start (after quote marks),
    ``verb`` later, a colon at its end; wrapped onto a second line before
    or after the verb, as clients wrap long names and addresses."""
    return (
        rf"^[ \t>]*{opening}(?:{_GAP}(?:\n{_GAP})?{verb}{_GAP}|"
        rf"{_GAP}{verb}{_GAP}\n{_GAP}){_SP}:[ \t]*$"
    )


#: A digit on the line: the date of a header without fixed opening words.
_DATED = r"(?=[^\n]*\d)"
#: Headers of quoted history that mail-parser-reply does not recognise:
#: Outlook's ``-----Ursprüngliche Nachricht-----`` and ``Von:``/``Gesendet:``
#: blocks, and the "… wrote:" lines of Gmail, Apple Mail, Thunderbird and
#: Outlook in de, en, fr, es, it, nl, pl, pt, ru and tr, also wrapped over
#: two lines.
QUOTE_HEADERS = [
    # Outlook: "-----Ursprüngliche Nachricht-----", "-----Original Message-----"
    r"^[ \t>]*-{3,}\s*(?:Urspr(?:ü|ue)ngliche Nachricht|Original Message|"
    r"Weitergeleitete Nachricht|Forwarded message|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|"
    r"(?:Oryginalna )?wiadomość(?: oryginalna)?|Mensagem original|"
    r"Исходное сообщение|Özgün ileti|Orijinal mesaj)\s*-{3,}",
    # Outlook/Exchange blocks: "Von: …" followed by "Gesendet:"/"Datum:" lines
    # (de, en, fr/es/pt, it, nl, pl, ru, tr)
    rf"^[ \t>*]*(?:Von|From|De|Da|Van|Od|От|Kimden){_SP}:[^\n]*\n"
    r"(?:[ \t>*]*[^\n]*\n)?[ \t>*]*"
    r"(?:Gesendet|Sent|Datum|Date|An|To|Envoyé|Enviado|Inviato|Verzonden|"
    r"Wysłano|Wysłane|Отправлено|Gönderildi|Gönderilen|Tarih|Fecha|Data|Para|"
    rf"À|A|Aan|Do|Кому|Kime){_SP}:",
    # Thunderbird / Apple Mail / Gmail: "Am 26.11.2026 um 10:00 schrieb …:"
    _wrote("Am ", "schrieb"),
    # "On Wed, 26 Nov 2026 at 10:12, VIVA HelpDesk <…> wrote:"
    _wrote("On ", "wrote"),
    # fr: "Le lun. 3 févr. 2025 à 10:15, Jean <jean@…> a écrit :"
    _wrote("Le ", rf"a{_SP}écrit"),
    # es: "El lun, 3 feb 2025 a las 10:15, Juan (<juan@…>) escribió:"
    _wrote("El ", "escribió"),
    # it: "Il giorno lun 3 feb 2025 alle ore 10:15 Mario <…> ha scritto:"
    _wrote("Il ", "ha scritto"),
    # nl: "Op ma 3 feb 2025 om 10:15 schreef Jan <jan@…>:"
    _wrote("Op ", "schreef"),
    # pl: Thunderbird "W dniu 3.02.2025 o 10:15, Jan pisze:", older "Dnia …"
    _wrote("(?:W dniu|Dnia) ", r"(?:pisze|napisał\(a\)|napisała?)"),
    # pl (Gmail): "pon., 3 lut 2025 o 10:15 Jan <jan@…> napisał(a):"
    _wrote(_DATED, r"napisał\(a\)"),
    # pt: "Em seg., 3 de fev. de 2025 às 10:15, João <…> escreveu:"
    _wrote("Em ", "escreveu"),
    # pt-PT (Gmail): "João <…> escreveu no dia segunda, 3/02/2025 à(s) 10:15:"
    _wrote("", "escreveu (?:no dia|em) "),
    # ru: "3 февр. 2025 г., в 10:15, пользователь Иван <…> написал:",
    # Thunderbird "03.02.2025 10:15, Иван пишет:"
    _wrote(_DATED, r"(?:написал\(а\)|написала?|пишет)"),
    # ru (Gmail): "пн, 3 февр. 2025 г. в 10:15, Иван Петров <ivan@…>:"
    r"^[ \t>]*[^\n]{0,100}?\d{4}\s?г\.,? в \d{1,2}:\d{2},? [^\n]{1,200}:[ \t]*$",
    # tr: "Ahmet <…>, 3 Şub 2025 Pzt, 10:15 tarihinde şunu yazdı:"
    _wrote(_DATED, r"tarihinde[^\n]{0,200}?(?:\n[^\n]{0,200}?)?yazdı"),
    # Outlook's underscore separator line
    r"^[ \t]*_{20,}[ \t]*$",
]
#: Reply headers are looked for in this many leading characters (a pasted
#: log of megabytes is not searched line by line; it is kept).
HEADER_SEARCH_CHARS = 200_000
#: Languages handed to mail-parser-reply (MIT; it knows these, not all of
#: their clients' spellings; its Polish Outlook pattern takes
#: a single ``Do:`` line — German for Thursday — as a reply header: left out).
REPLY_LANGUAGES = ["de", "en", "fr", "es", "it", "nl"]
QUOTE_HEADER_RE = re.compile("|".join(QUOTE_HEADERS), re.MULTILINE | re.IGNORECASE)
SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|antw|wg|fw|fwd|wtr|sv|vs)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)
BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "hr",
    "blockquote",
    "pre",
}
SKIP_TAGS = {"script", "style", "head", "title", "template", "noscript"}
ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def extension_for(content_type: str) -> str:
    return mimetypes.guess_extension(content_type or "") or ".bin"


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Remote images are tracking pixels: only ``cid:`` sources survive."""
    if tag == "img" and attribute == "src" and not value.lower().startswith("cid:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """HTML safe to show to staff: an explicit allowlist (nh3), no remote
    images, links with ``rel="noopener noreferrer nofollow"``."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer nofollow",
        # A document's title is no content (a mail of several HTML parts
        # has one per part).
        clean_content_tags={"script", "style", "title"},
        strip_comments=True,
    ).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skip += 1
        elif tag == "blockquote":
            self.quote += 1
        if tag in BLOCK_TAGS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self.skip:
            self.skip -= 1
        elif tag == "blockquote" and self.quote:
            self.quote -= 1
        if tag in BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data):
        if self.skip:
            return
        text = " ".join(data.split())
        if not text:
            if data and self.out and not self.out[-1].endswith((" ", "\n")):
                self.out.append(" ")
            return
        if data[:1].isspace() and self.out and not self.out[-1].endswith("\n"):
            text = " " + text
        if data[-1:].isspace():
            text += " "
        prefix = "> " * self.quote
        if prefix and (not self.out or self.out[-1].endswith("\n")):
            text = prefix + text.lstrip()
        self.out.append(text)


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail; quoted ``<blockquote>`` lines get ``>``."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - hostile markup: fall back to no tags at all
        return unescape(nh3.clean(html, tags=set())).strip()
    lines = [line.strip() for line in "".join(parser.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _drop_trailing_quote(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def visible_text(text: str) -> str:
    """The new part of a reply: quoted history and signature cut off; of a
    reply written below the quote (or between its lines), the answers.

    Reply headers are found by mail-parser-reply and :data:`QUOTE_HEADERS`;
    a trailing run of ``>`` lines goes too. If cutting would leave nothing,
    the full text is kept: content is never lost to a heuristic.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    full = text.strip()
    if not full:
        return ""
    below = _below_quote(text)
    kept = _answers(text[below:]) if below is not None else _above_quote(text)
    return kept or full


def _above_quote(text: str) -> str:
    """The text above the first reply header, without its signature."""
    cut = text
    found = QUOTE_HEADER_RE.search(cut, 0, HEADER_SEARCH_CHARS)
    if found:
        cut = cut[: found.start()]
    try:
        parsed = EmailMessage(
            text=cut, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True
        )
        replies = parsed.read().replies
        cut = replies[0].body if replies else cut
    except Exception:  # noqa: BLE001 - a heuristic must never lose the mail
        pass
    return _drop_trailing_quote(cut).strip()


def _below_quote(text: str) -> int | None:
    """Where the quoted text starts, if the mail opens with it (a ``>``
    line, or a reply header followed by ``>`` lines): after that header.
    ``None`` for a reply written above the quote."""
    start = len(text) - len(text.lstrip())
    start = text.rfind("\n", 0, start) + 1
    if text[start:].lstrip(" \t").startswith(">"):
        return start
    found = QUOTE_HEADER_RE.match(text, start)
    if found is None:
        return None
    end = text.find("\n", found.end())
    end = len(text) if end < 0 else end + 1
    return end if text[end:].lstrip().startswith(">") else None


def _answers(text: str) -> str:
    """What was written below the ``>`` lines (up to the next reply header
    outside them): an answer below the quote alone, as :func:`_above_quote`
    keeps it; answers between quoted lines with the quotes they answer."""
    for found in QUOTE_HEADER_RE.finditer(text, 0, HEADER_SEARCH_CHARS):
        if not re.match(r"[ \t]*>", text[found.start() : found.start() + 200]):
            text = text[: found.start()]
            break
    lines = _drop_trailing_quote(_drop_signature(text)).split("\n")
    quoted = [line.lstrip().startswith(">") for line in lines]
    answer = next(
        (i for i in range(len(lines)) if lines[i].strip() and not quoted[i]), None
    )
    if answer is None:
        return ""
    if any(quoted[answer:]):
        return "\n".join(lines).strip()
    return _above_quote("\n".join(lines[answer:]))


def _drop_signature(text: str) -> str:
    """Text above a ``-- `` signature separator (RFC 3676)."""
    found = re.search(r"^-- ?$", text, re.MULTILINE)
    return text[: found.start()] if found else text


def ticket_title(subject: str, references: list[str] | None = None) -> str:
    """A new ticket's title: no ``Re:``/``AW:``/``WG:``/``Fwd:`` prefixes and
    no ``[VIVA-1042]`` references of older tickets."""
    title = subject or ""
    for reference in references or ():
        title = re.sub(rf"\[?\s*{re.escape(reference)}\s*\]?", " ", title, flags=re.I)
    previous = None
    while previous != title:
        previous = title
        title = SUBJECT_PREFIX_RE.sub("", title).strip()
    return " ".join(title.split())[:255]


CID_RE = re.compile(r"""(src=["'])cid:([^"']+)(["'])""", re.IGNORECASE)


def link_inline_images(html: str, attachments, url_for) -> str:
    """Stored mail HTML with each ``cid:`` image pointing at its attachment
    (``url_for(attachment)`` gives the authorising download URL); images
    without a matching part lose their source. For renderers of
    ``TicketMessage.html``; the stored HTML keeps ``cid:``."""
    by_cid = {a.content_id: a for a in attachments if a.content_id}

    def replace(match: re.Match) -> str:
        attachment = by_cid.get(unescape(match.group(2)))
        if attachment is None:
            return f"{match.group(1)}{match.group(3)}"
        return f"{match.group(1)}{url_for(attachment)}{match.group(3)}"

    return CID_RE.sub(replace, html or "")
