"""Is a mail from a human, or from a machine? (RFC 3834 and the vendors.)
:func:`classify` sorts every inbound mail into ``own``, ``bounce``, ``list``,
``auto`` or ``human``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import conf
from ..models import OutboundEmail
from . import threading, verp
from .parsing import ParsedMail, header_text, message_ids

LOOP_HEADER = "X-Vivadesk-Loop"
AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?response|out of (?:the )?office|"
    r"automatische antwort|abwesenheitsnotiz|abwesend|autoreply|auto-reply)\b",
    re.IGNORECASE,
)
MACHINE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")


@dataclass
class Classification:
    kind: str
    reason: str = ""
    outbound: OutboundEmail | None = None
    #: For a bounce: what it does to its outbox row (``PERMANENT``, …).
    effect: str = ""
    detail: str = ""


def classify(parsed: ParsedMail) -> Classification:
    """What an inbound mail is, one of:

    * ``own`` — our own notification coming back (our loop header, a
      Message-ID we sent, or our help-desk address as From): dropped and
      logged;
    * ``bounce`` — mail to a VERP address whose token we signed (``verp``), or
      a delivery-status report quoting one of our Message-IDs: linked to its
      outbox row. Only a report about the row's recipient to the signed
      address fails the row (5.x.x) or sends it again (4.x.x); the rest is
      held. A ``+bounce-`` address with a token that does not verify is
      ``auto`` mail;
    * ``list`` — mailing-list traffic: dropped;
    * ``auto`` — an auto-reply (out of office, autoresponders): stored on its
      ticket if it matches one, never reopens anything, never answered;
    * ``human`` — everything else, decided on by the pipeline.

    ``X-Auto-Response-Suppress`` alone is a request, not proof of automation
    (Sisimai #491), so it does not make a mail automatic.
    """
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


# --- bounces ----------------------------------------------------------------

#: What a bounce does to its outbox row (``Classification.effect``).
PERMANENT = "permanent"  # fail the row, flag the address
TRANSIENT = "transient"  # send the row again later
STILL_TRYING = "still_trying"  # the reporting server goes on trying: nothing
HOLD = "hold"  # not proven: staff review, nothing changes

#: Headers naming the address a mail was delivered to (our VERP address).
VERP_HEADERS = (
    "To",
    "Cc",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
)
STATUS_RE = re.compile(r"([245])\.\d{1,3}\.\d{1,3}(?![\d.])")
#: Fields of a per-recipient block kept in the detail shown to staff.
DETAIL_FIELDS = ("final-recipient", "action", "status", "remote-mta", "diagnostic-code")


def _bounce(parsed: ParsedMail) -> Classification | None:
    """The signed VERP token first: a ``+bounce-`` address that does not
    verify makes the mail ordinary automatic mail, whatever it contains. A
    verified token and a delivery-status report about the row's recipient
    decide the row's fate; a report reaching us any other way is reviewed."""
    tokens = verp.candidates(
        [value for name in VERP_HEADERS for value in parsed.headers(name)]
    )
    if tokens:
        row = _signed_outbound(tokens)
        if row is None:
            return Classification("auto", "bounce_unverified")
        return _judge(parsed, row)
    if _delivery_reports(parsed) is None:
        return None
    row = _reported_outbound(parsed)
    if row is None:
        return Classification("auto", "bounce_unmatched")
    return _unconfirmed(row, "delivery-status report not sent to a signed address")


#: ``+bounce-`` addresses looked at in one mail (a real bounce names one).
MAX_TOKENS = 20


def _signed_outbound(tokens: list[str]) -> OutboundEmail | None:
    for token in tokens[:MAX_TOKENS]:
        pk = verp.verified_pk(token)
        if pk is not None:
            row = OutboundEmail.objects.filter(pk=pk).first()
            if row is not None:
                return row
    return None


def _unconfirmed(row: OutboundEmail, why: str) -> Classification:
    return Classification(
        "bounce", "bounce_unconfirmed", outbound=row, effect=HOLD, detail=why
    )


def _judge(parsed: ParsedMail, row: OutboundEmail) -> Classification:
    """What a bounce to ``row``'s signed address proves."""
    reports = _delivery_reports(parsed)
    if reports is None:
        return _unconfirmed(row, "no delivery-status report")
    recipient = row.recipient.strip().lower()
    fields = next((f for f in reports if _final_recipient(f) == recipient), None)
    if fields is None:
        named = ", ".join(f.get("final-recipient", "?") for f in reports) or "-"
        return _unconfirmed(row, f"report is about {named}, not about {row.recipient}")
    detail = "\n".join(
        f"{name.title()}: {fields[name]}" for name in DETAIL_FIELDS if name in fields
    )
    effect = _effect(fields)
    if effect == HOLD:
        return _unconfirmed(row, f"neither a failure nor a delay:\n{detail}")
    reason = {PERMANENT: "bounce", TRANSIENT: "bounce_transient"}.get(
        effect, "bounce_delayed"
    )
    return Classification("bounce", reason, outbound=row, effect=effect, detail=detail)


def _effect(fields: dict[str, str]) -> str:
    """RFC 3464/3463: ``failed`` with 5.x.x is permanent, with 4.x.x it gave
    up on a temporary problem (we try again); ``delayed`` with 4.x.x means
    the reporting server still tries (nothing to do). Anything else: review."""
    found = STATUS_RE.match(fields.get("status", ""))
    action = fields.get("action", "").lower()
    status_class = found.group(1) if found else ""
    if action == "failed" and status_class == "5":
        return PERMANENT
    if action == "failed" and status_class == "4":
        return TRANSIENT
    if action == "delayed" and status_class == "4":
        return STILL_TRYING
    return HOLD


def _final_recipient(fields: dict[str, str]) -> str:
    """``rfc822; <Kunde@Example.com>`` → ``kunde@example.com`` (else "")."""
    kind, sep, address = fields.get("final-recipient", "").partition(";")
    if not sep or kind.strip().lower() != "rfc822":
        return ""
    return address.strip().strip("<>").strip().lower()


def _delivery_reports(parsed: ParsedMail) -> list[dict[str, str]] | None:
    """The per-recipient fields of a delivery-status report, or ``None``
    unless the mail *is* one: ``multipart/report; report-type=delivery-status``
    with a ``message/delivery-status`` part of its own (not one nested in an
    attached mail)."""
    message = parsed.message
    if message.get_content_type() != "multipart/report" or (
        (message.get_param("report-type") or "").lower() != "delivery-status"
    ):
        return None
    children = message.get_payload()
    part = next(
        (
            child
            for child in (children if isinstance(children, list) else [])
            if child.get_content_type() == "message/delivery-status"
        ),
        None,
    )
    if part is None:
        return None
    return [f for f in _field_blocks(part) if "final-recipient" in f]


def _field_blocks(part) -> list[dict[str, str]]:
    """The header blocks of a ``message/delivery-status`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        raw_blocks = [list(block.items()) for block in payload]
    else:
        text = payload if isinstance(payload, str) else ""
        raw_blocks = [
            re.findall(r"(?m)^([\w-]+):[ \t]*(.*(?:\n[ \t]+.*)*)", block)
            for block in re.split(r"\r?\n[ \t]*\r?\n", text)
        ]
    blocks = []
    for items in raw_blocks:
        fields: dict[str, str] = {}
        for key, value in items:
            fields.setdefault(key.lower(), " ".join(header_text(value).split()))
        blocks.append(fields)
    return blocks


def _reported_outbound(parsed: ParsedMail) -> OutboundEmail | None:
    """The outbox row a report quotes (the original's Message-ID), for
    staff to see; it proves nothing."""
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
    return OutboundEmail.objects.filter(message_id__in=ids[:50]).first()


def _report_part(parsed: ParsedMail, ctype: str):
    for part in parsed.message.walk():
        if part.get_content_type() == ctype:
            return part
    return None


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
