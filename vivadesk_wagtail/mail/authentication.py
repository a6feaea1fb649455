"""What our own mail server said about a mail's sender (RFC 8601):
the DMARC verdict of our MX for the sender's domain (:func:`dmarc_verdict`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import conf
from .parsing import ParsedMail, ascii_domain

#: :func:`dmarc_verdict`: our MX confirmed the sender's domain.
PASS = "pass"
#: Our MX said ``dmarc=fail`` (for whatever domain).
FAIL = "fail"
#: Our MX judged DMARC, but only for another domain than the sender's.
OTHER_DOMAIN = "other_domain"
#: Nothing that counts either way (no authserv-id set, no result of ours,
#: ``none``, ``temperror``, …).
UNKNOWN = ""


@dataclass(frozen=True)
class Result:
    """One ``method=result`` of an Authentication-Results header and its
    properties (``{"header.from": "example.com"}``)."""

    method: str
    result: str
    properties: dict


def _words(value: str) -> list[list[str]]:
    """The header split at ``;`` into parts, each a list of words: comments
    dropped, quoted strings unquoted, ``=`` a word of its own."""
    parts: list[list[str]] = [[]]
    word: list[str] = []
    depth, quoted = 0, False

    def flush() -> None:
        if word:
            parts[-1].append("".join(word))
            word.clear()

    chars = iter(value)
    for char in chars:
        if quoted:
            if char == "\\":
                word.append(next(chars, ""))
            elif char == '"':
                quoted = False
            else:
                word.append(char)
        elif depth:
            if char == "\\":
                next(chars, None)
            else:
                depth += {"(": 1, ")": -1}.get(char, 0)
        elif char == '"':
            quoted = True
        elif char == "(" or char.isspace() or char in ";=":
            flush()
            depth = 1 if char == "(" else 0
            if char == ";":
                parts.append([])
            elif char == "=":
                parts[-1].append("=")
        else:
            word.append(char)
    flush()
    return parts


def _pairs(words: list[str]) -> list[tuple[str, str]]:
    """``key = value`` triples of one part as ``(key, value)``."""
    pairs = []
    for index in range(1, len(words) - 1):
        if words[index] == "=" and words[index - 1] != "=":
            pairs.append((words[index - 1].lower(), words[index + 1]))
    return pairs


def parse(value: str) -> tuple[str, list[Result]]:
    """``(authserv-id, results)`` of one Authentication-Results header."""
    parts = _words(value)
    head = parts[0]
    authserv_id = head[0].lower() if head else ""
    results = []
    for part in parts[1:]:
        pairs = _pairs(part)
        if not pairs:
            continue
        method, result = pairs[0]
        results.append(
            Result(
                method=method.split("/", 1)[0],
                result=result.lower(),
                properties=dict(pairs[1:]),
            )
        )
    return authserv_id, results


def our_results(parsed: ParsedMail) -> list[Result] | None:
    """The results of the top-most header of our authserv-id, or ``None``
    when none is set or the mail has no such header.

    Only the top-most ``Authentication-Results`` header with our MX's
    authserv-id (``VIVADESK["MAIL_AUTHSERV_ID"]``) counts: our MX adds it
    above every header the mail arrived with, so one lower down, whoever
    wrote it, is never believed."""
    ours = conf.get("MAIL_AUTHSERV_ID")
    if not ours:
        return None
    for value in parsed.headers("Authentication-Results"):
        authserv_id, results = parse(value)
        if authserv_id == ours.strip().lower():
            return results
    return None


def _domain(value: str) -> str:
    """A ``header.from`` value as the sender's domain is spelt."""
    domain = value.rpartition("@")[2].strip().rstrip(".")
    try:
        return ascii_domain(domain)
    except ValueError:
        return domain.lower()


def sender_domain(parsed: ParsedMail) -> str:
    return parsed.sender.rpartition("@")[2] if parsed.sender else ""


def dmarc_verdict(parsed: ParsedMail) -> str:
    """:data:`PASS`, :data:`FAIL`, :data:`OTHER_DOMAIN` or :data:`UNKNOWN`
    for the sender's domain, as our MX judged DMARC.

    The ``dmarc`` results are judged for the domain the sender is matched by
    (``ParsedMail.sender``, lower-case IDNA): a pass for another domain is no
    pass, and a DMARC result for another domain means our MX read a
    different ``From`` than we do."""
    results = [r for r in our_results(parsed) or () if r.method == "dmarc"]
    if any(r.result == FAIL for r in results):
        return FAIL
    domain = sender_domain(parsed)
    judged = {_domain(r.properties.get("header.from", "")) for r in results}
    judged.discard("")
    if judged and (not domain or judged != {domain}):
        return OTHER_DOMAIN
    if domain and any(
        r.result == PASS and _domain(r.properties.get("header.from", "")) == domain
        for r in results
    ):
        return PASS
    return UNKNOWN
