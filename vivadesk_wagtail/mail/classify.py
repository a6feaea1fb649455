"""Is a mail from a human, or from a machine? (RFC 3834 and the vendors.)

Every inbound mail is one of:

* ``own`` — our own notification coming back (our loop header, a Message-ID
  we sent, or our help-desk address as From): dropped and logged;
* ``bounce`` — a delivery status notification or a mail to our VERP bounce
  address: linked to the outbox row it answers, the address flagged;
* ``list`` — mailing-list traffic: dropped;
* ``auto`` — an auto-reply (out of office, autoresponders): stored on its
  ticket if it matches one, never reopens anything, never answered;
* ``human`` — everything else, decided on by the pipeline.

``X-Auto-Response-Suppress`` alone is a request, not proof of automation
(Sisimai #491), so it does not make a mail automatic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import conf
from ..models import OutboundEmail
from . import threading
from .parsing import ParsedMail, header_text, message_ids

LOOP_HEADER = "X-Vivadesk-Loop"
BOUNCE_ADDRESS_RE = re.compile(r"\+bounce-(\d{1,18})@", re.IGNORECASE)
AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?response|out of (?:the )?office|"
    r"automatische antwort|abwesenheitsnotiz|abwesend|autoreply|auto-reply)\b",
    re.IGNORECASE,
)
MACHINE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")
RECIPIENT_HEADERS = (
    "To",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "Return-Path",
    "Cc",
)


@dataclass
class Classification:
    kind: str
    reason: str = ""
    outbound: OutboundEmail | None = None
    permanent: bool = False
    detail: str = ""


def classify(parsed: ParsedMail) -> Classification:
    for check in (_own, _bounce, _auto, _list):
        found = check(parsed)
        if found is not None:
            return found
    return Classification("human")


def _own(parsed: ParsedMail) -> Classification | None:
    domain = conf.message_id_domain().lower()
    if any(v.strip().lower() == domain for v in parsed.headers(LOOP_HEADER)):
        return Classification("own", "own_mail_loop_header")
    if parsed.message_id and threading.is_own_message_id(parsed.message_id):
        return Classification("own", "own_message_id")
    if parsed.sender and parsed.sender.lower() == conf.helpdesk_email().lower():
        return Classification("own", "own_address")
    return None


def _report_part(parsed: ParsedMail, ctype: str):
    for part in parsed.message.walk():
        if part.get_content_type() == ctype:
            return part
    return None


def _is_dsn(parsed: ParsedMail) -> bool:
    message = parsed.message
    return message.get_content_type() == "multipart/report" and (
        (message.get_param("report-type") or "").lower() == "delivery-status"
    )


def _bounce_outbound(parsed: ParsedMail) -> OutboundEmail | None:
    for name in RECIPIENT_HEADERS:
        for value in parsed.headers(name):
            found = BOUNCE_ADDRESS_RE.search(value)
            if found:
                row = OutboundEmail.objects.filter(pk=int(found.group(1))).first()
                if row is not None:
                    return row
    ids: list[str] = []
    for ctype in ("text/rfc822-headers", "message/rfc822"):
        part = _report_part(parsed, ctype)
        if part is None:
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is not None:
            ids += message_ids([header_text(inner.get("Message-ID", ""))])
        elif isinstance(payload, str):
            ids += re.findall(r"(?im)^message-id:\s*(<[^<>\s]+>)", payload)
    ids += parsed.in_reply_to + parsed.references
    if not ids:
        return None
    return OutboundEmail.objects.filter(message_id__in=ids).first()


def _delivery_status(parsed: ParsedMail) -> tuple[bool, str]:
    """``(permanent, detail)`` from a ``message/delivery-status`` part."""
    part = _report_part(parsed, "message/delivery-status")
    if part is None:
        return False, ""
    fields: dict[str, str] = {}
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks:
        for key, value in block.items():
            fields.setdefault(key.lower(), header_text(value))
    if not blocks and isinstance(payload, str):
        for key, value in re.findall(r"(?im)^([\w-]+):\s*(.+)$", payload):
            fields.setdefault(key.lower(), value.strip())
    action = fields.get("action", "").lower()
    status = fields.get("status", "")
    permanent = action == "failed" or status.startswith("5")
    detail = " ".join(
        f"{k}={fields[k]}"
        for k in ("final-recipient", "action", "status")
        if k in fields
    )
    return permanent, detail


def _bounce(parsed: ParsedMail) -> Classification | None:
    dsn = _is_dsn(parsed)
    outbound = _bounce_outbound(parsed) if dsn else None
    to_bounce_address = any(
        BOUNCE_ADDRESS_RE.search(v)
        for name in ("To", "Delivered-To", "X-Original-To", "Envelope-To")
        for v in parsed.headers(name)
    )
    if not dsn and not to_bounce_address:
        return None
    if outbound is None:
        outbound = _bounce_outbound(parsed)
    if dsn:
        permanent, detail = _delivery_status(parsed)
    elif _machine_sender(parsed):
        permanent, detail = True, "mail to the bounce address"
    else:
        # A person answering our envelope sender: human mail, no bounce.
        return None
    return Classification(
        "bounce",
        "bounce" if outbound else "bounce_unmatched",
        outbound=outbound,
        permanent=permanent,
        detail=detail,
    )


def _machine_sender(parsed: ParsedMail) -> bool:
    local = parsed.sender.partition("@")[0].lower() if parsed.sender else ""
    from_lower = parsed.from_header.lower()
    if local in MACHINE_SENDERS or any(m in from_lower for m in MACHINE_SENDERS):
        return True
    return_path = parsed.headers("Return-Path")
    return bool(return_path) and return_path[-1].strip() in ("<>", "")


def _auto(parsed: ParsedMail) -> Classification | None:
    auto_submitted = parsed.header("Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Classification("auto", "auto_submitted")
    precedence = (parsed.header("Precedence") or parsed.header("X-Precedence")).lower()
    if precedence in ("bulk", "junk", "auto_reply"):
        return Classification("auto", "precedence_" + precedence)
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Auto-Reply-From"):
        if name in parsed.message:
            return Classification("auto", "autoreply_header")
    local = parsed.sender.partition("@")[0].lower() if parsed.sender else ""
    from_lower = parsed.from_header.lower()
    if local in MACHINE_SENDERS or any(m in from_lower for m in MACHINE_SENDERS):
        return Classification("auto", "mailer_daemon")
    return_path = parsed.headers("Return-Path")
    if return_path and return_path[-1].strip() in ("<>", ""):
        return Classification("auto", "empty_return_path")
    if AUTO_SUBJECT_RE.match(parsed.subject or ""):
        return Classification("auto", "auto_reply_subject")
    return None


def _list(parsed: ParsedMail) -> Classification | None:
    precedence = (parsed.header("Precedence") or "").lower()
    if precedence == "list" or "List-Id" in parsed.message:
        return Classification("list", "mailing_list")
    if "List-Unsubscribe" in parsed.message:
        return Classification("list", "mailing_list")
    return None
