"""Portal and account pages are never cached; site and portal pages carry a
Content-Security-Policy without inline script (issue 15, item 11).

Wagtail's admin is left without our policy (it needs inline script), and
attachment downloads keep their own stricter one (DESIGN.md decision 5).
The templates of site and portal pages hold no inline script, style or
event handler, so the policy needs no ``'unsafe-inline'``.
"""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from tests import factories
from tests.portal_support import PDF, alice, staff_reply, url
from tests.staff_support import agents_group
from vivadesk_wagtail.models import TicketAttachment

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[1]


def directives(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    found = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        found[name] = values
    return found


def assert_private(response, what: str) -> None:
    control = {v.strip() for v in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= control, f"{what}: {control}"
    assert "public" not in control, what


def assert_strict_csp(response, what: str) -> None:
    policy = directives(response)
    assert policy.get("default-src") == ["'self'"], f"{what}: {policy}"
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy.get(name, []), what
        assert "'unsafe-eval'" not in policy.get(name, []), what
    assert policy.get("object-src") == ["'none'"], what
    assert policy.get("frame-ancestors") == ["'none'"], what


ANONYMOUS_ACCOUNT_PAGES = [
    ("login", ()),
    ("activation_resend", ()),
    ("password_reset", ()),
    ("password_reset_done", ()),
    ("password_reset_complete", ()),
    ("activate", ("MQ", "set-password")),
    ("password_reset_confirm", ("MQ", "set-password")),
]


@pytest.mark.parametrize(("name", "args"), ANONYMOUS_ACCOUNT_PAGES)
def test_account_pages_are_private_and_carry_the_policy(client, name, args):
    response = client.get(url(name, *args, lang="en"), follow=True)
    assert response.status_code in (200, 400), name  # 400: a stale link
    assert_private(response, name)
    assert_strict_csp(response, name)


def test_portal_pages_are_private_and_carry_the_policy(client):
    user = alice()
    ticket = factories.ticket(user)
    # Signed out: the redirect to the login page is private too.
    assert_private(client.get(url("my_requests")), "redirect to login")
    client.force_login(user)
    pages = {
        "my_requests": url("my_requests"),
        "search": url("my_requests") + "?q=Drucker",
        "ticket": url("ticket", ticket.reference),
        "new_request": url("new_request"),
        "account": url("account"),
        "unknown ticket": url("ticket", "VIVA-999999"),
    }
    for what, path in pages.items():
        response = client.get(path)
        assert response.status_code in (200, 404), what
        assert_private(response, what)
        assert_strict_csp(response, what)
    invalid = client.post(url("comment", ticket.reference), {"body": ""})
    assert_private(invalid, "comment form shown again")
    changed = client.post(url("change_password"), {"old_password": "x"})
    assert_private(changed, "password change form shown again")


def test_attachment_download_keeps_its_own_stricter_policy(client):
    user = alice()
    ticket = factories.ticket(user)
    staff_reply(ticket, files=[("anleitung.pdf", PDF)])
    attachment = TicketAttachment.objects.get()
    client.force_login(user)
    response = client.get(url("attachment", ticket.reference, attachment.pk))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert_private(response, "download")


def test_site_pages_carry_the_policy_and_stay_cacheable(site):
    client = Client()
    for path in ("/de/", "/de/kontakt/", "/en/contact/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response, path)
        assert "no-store" not in response.get("Cache-Control", ""), path


def test_wagtail_admin_is_left_without_our_policy(client):
    agent = factories.StaffFactory(username="csp-agent")
    agent.groups.add(agents_group())
    client.force_login(agent)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


# --- no inline code -------------------------------------------------------------


class InlineCode(HTMLParser):
    """Collects inline scripts, style elements, style attributes and event
    handler attributes of a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        kind = dict(attrs).get("type") or "text/javascript"
        # A data block (``application/json``) is no script and never runs.
        if tag == "script" and "src" not in names and "javascript" in kind:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name == "style"]
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on")]
        for name, value in attrs:
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_site_and_portal_pages_have_no_inline_code(site):
    visitor = Client()
    pages = ["/de/", "/de/kontakt/", url("login"), url("password_reset")]
    for path in pages:
        assert inline_code(visitor.get(path).content.decode()) == [], path
    user = alice()
    ticket = factories.ticket(user)
    customer = Client()
    customer.force_login(user)
    for path in (url("my_requests"), url("ticket", ticket.reference), url("account")):
        assert inline_code(customer.get(path).content.decode()) == [], path
    # Staff see Wagtail's userbar on site pages: its scripts are files too.
    agent = factories.StaffFactory(username="csp-userbar")
    agent.groups.add(agents_group())
    staff = Client()
    staff.force_login(agent)
    page = staff.get("/de/kontakt/").content.decode()
    assert "wagtail-userbar" in page
    assert inline_code(page) == []


#: Templates of pages outside Wagtail's admin (mails, the staff screens, the
#: page editor's panels under ``admin/`` and the index page of a customer's
#: data export under ``privacy/``, opened from the customer's own disk, are
#: not pages under our policy).
PAGE_TEMPLATES = [
    *sorted((REPO / "templates" / "vivadesk_wagtail").rglob("*.html")),
    *sorted((REPO / "site").rglob("templates/**/*.html")),
]
EXPORT_TEMPLATES = REPO / "templates" / "vivadesk_wagtail" / "privacy"
INLINE_RE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:",
    re.IGNORECASE,
)


@pytest.mark.django_db(transaction=False)
def test_page_templates_have_no_inline_code():
    checked = [
        path
        for path in PAGE_TEMPLATES
        if not {"mail", "staff", "admin"} & set(path.relative_to(REPO).parts)
        and EXPORT_TEMPLATES not in path.parents
    ]
    assert len(checked) > 20
    found = {
        str(path.relative_to(REPO)): INLINE_RE.findall(path.read_text())
        for path in checked
    }
    assert {name: hits for name, hits in found.items() if hits} == {}
