"""The sender of a mail: ``strict_sender`` accepts exactly one clean mailbox
and reads ordinary spellings as written (M3, M5)."""

from __future__ import annotations

import random
import re

import pytest

from vivadesk_wagtail.mail import parsing

#: Characters that make headers hard: specials, quotes, comments, groups,
#: encoded words, non-ASCII look-alikes and every atext character.
ALPHABET = 'abcXYZ019 .-_+\'=!#$%&*/?^`{|}~@<>()[]\\",;:\t"=?é?ıＡ'
NAMES = ["", "Kunde", "Kunde 42", "Anna Maria Schmidt", "A", "Dr. Who", "O'Neil"]
LOCALS = ["a", "anna.schmidt", "x+tag", "o'neil", "a..b", ".a", "a.", "", "ı", "a b"]
DOMAINS = [
    "example.com",
    "EXAMPLE.DE",
    "mail-1.example.co.uk",
    "-bad.de",
    "bad-.de",
    "localhost",
    "x.y",
    "a" * 63 + ".de",
    "a" * 64 + ".de",
    "xn--bcher-kva.de",
    "1.2.3.4",
    "b\u00fccher.de",
    "\uff45xample.com",
    "exam\u00adple.com",
    "ex\u0430mple.com",
]


def spellings():
    for name in NAMES:
        for local in LOCALS:
            for domain in DOMAINS:
                address = f"{local}@{domain}"
                yield address if not name else f"{name} <{address}>"
    rng = random.Random(20261127)
    for _ in range(5000):
        name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))
        local = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))
        domain = rng.choice(DOMAINS)
        yield rng.choice([f"{local}@{domain}", f"{name} <{local}@{domain}>"])


#: ``local@domain`` or ``Display Name <local@domain>`` in the plainest
#: spelling: a dot-atom local part, an ASCII host name, plain words.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@({_LABEL}(?:\.{_LABEL})+)"
PLAIN_FROM = re.compile(rf"(?:{_ADDRESS}|(?:[A-Za-z0-9]+ )*[A-Za-z0-9]+ <{_ADDRESS}>)")


def test_plain_spellings_give_the_address_as_written():
    plain = 0
    for raw in spellings():
        found = PLAIN_FROM.fullmatch(raw)
        if found is None:
            continue
        local, domain = found.group(1, 2) if found.group(1) else found.group(3, 4)
        if len(local) + len(domain) > 253:
            continue
        plain += 1
        assert parsing.strict_sender([raw]) == (f"{local}@{domain.lower()}", ""), raw
    # The generated headers include the ordinary spellings, not only rarely.
    assert plain > 200


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Kunde 42 <Anna.Schmidt@Example.COM>", ("Anna.Schmidt@example.com", "")),
        ("anna@example.com", ("anna@example.com", "")),
        ("alice@x)<bob@y.de>", ("", "ambiguous_from")),
        ("Anna <anna@example.com>, Bob <bob@example.com>", ("", "ambiguous_from")),
        ('"Schmidt, Anna" <anna@example.com>', ("anna@example.com", "")),
        ("=?utf-8?q?J=C3=BCrgen?= <j@example.com>", ("j@example.com", "")),
        ("anna@", ("", "malformed_from")),
        # IDNA folds these onto example.com: kept as written, never folded.
        ("K <kunde@\uff45xample.com>", ("kunde@\\uff45xample.com", "")),
        ("K <kunde@exam\u00adple.com>", ("kunde@exam\\xadple.com", "")),
        ("K <kunde@exa\u200bmple.com>", ("kunde@exa\\u200bmple.com", "")),
        # A Cyrillic letter among Latin ones, in Unicode or as an A-label.
        ("K <kunde@ex\u0430mple.com>", ("kunde@ex\\u0430mple.com", "")),
        ("K <kunde@xn--exmple-4nf.com>", ("kunde@xn--exmple-4nf.com", "")),
        ("K <kunde@B\u00fccher.DE>", ("kunde@xn--bcher-kva.de", "")),
    ],
)
def test_strict_sender(header, expected):
    assert parsing.strict_sender([header]) == expected


def test_two_from_headers_are_ambiguous():
    assert parsing.strict_sender(["a@example.com", "b@example.com"]) == (
        "",
        "ambiguous_from",
    )
