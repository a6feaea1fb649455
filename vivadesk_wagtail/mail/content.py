"""What a mail says: its visible text, sanitised HTML and a ticket title.

Quoted history and signatures are cut with ``mail-parser-reply`` (MIT, German
and English patterns) plus the headers it misses: Outlook's
``-----Ursprüngliche Nachricht-----`` and ``Von:``/``Gesendet:`` blocks,
``Am … schrieb …:`` and ``On … wrote:`` wrapped over two lines, and a trailing
run of ``>`` lines. If cutting would leave nothing, the full text is kept:
content is never lost to a heuristic.
"""

from __future__ import annotations

import mimetypes
import re
from html import unescape
from html.parser import HTMLParser

import nh3
from mailparser_reply.parser import EmailMessage

#: Headers of quoted history that mail-parser-reply does not recognise.
QUOTE_HEADERS = [
    # Outlook: "-----Ursprüngliche Nachricht-----", "-----Original Message-----"
    r"^[ \t>]*-{3,}\s*(?:Urspr(?:ü|ue)ngliche Nachricht|Original Message|"
    r"Weitergeleitete Nachricht|Forwarded message)\s*-{3,}",
    # Outlook/Exchange blocks: "Von: …" followed by "Gesendet:"/"Datum:" lines
    r"^[ \t>*]*(?:Von|From):[^\n]*\n(?:[ \t>*]*[^\n]*\n)?[ \t>*]*"
    r"(?:Gesendet|Sent|Datum|Date|An|To):",
    # Thunderbird / Apple Mail / Gmail (de), possibly wrapped over two lines
    r"^[ \t>]*Am [^\n]{3,200}?(?:\n[^\n]{0,200}?)?schrieb[^\n]{0,200}?:[ \t]*$",
    # Gmail / Apple Mail / Thunderbird (en), possibly wrapped over two lines
    r"^[ \t>]*On [^\n]{3,200}?(?:\n[^\n]{0,200}?)?wrote:[ \t]*$",
    # Outlook's underscore separator line
    r"^[ \t]*_{20,}[ \t]*$",
]
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
    """The new part of a reply: quoted history and signature cut off."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    full = text.strip()
    if not full:
        return ""
    cut = text
    found = QUOTE_HEADER_RE.search(cut)
    if found:
        cut = cut[: found.start()]
    try:
        parsed = EmailMessage(text=cut, languages=["de", "en"], keep_hyphen_lists=True)
        replies = parsed.read().replies
        cut = replies[0].body if replies else cut
    except Exception:  # noqa: BLE001 - a heuristic must never lose the mail
        pass
    cut = _drop_trailing_quote(cut).strip()
    return cut or full


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
