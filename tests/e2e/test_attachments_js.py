"""The attachment check in a real browser (Chromium via Playwright) on the
contact form: one allowed and one forbidden file picked together; the
forbidden one is named with its type in the live region and left out, the
allowed one stays chosen and is uploaded; one click sends the form once.
The customer's ticket page shows image thumbnails, each file once under
"All attachments", and inline previews. Screenshots at desktop and phone
width (375 px), German and English, under ``test-artifacts/e2e/``; axe-core
checks the pages."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import factories
from tests.e2e.conftest import VIEWPORTS
from tests.portal_support import PDF, PNG
from vivadesk_wagtail.models import Channel, MessageKind, Ticket, TicketAttachment
from vivadesk_wagtail.services import tickets, uploads

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PHONE = VIEWPORTS["phone"]
DESKTOP = VIEWPORTS["desktop"]
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
PAGES = {"de": ("/de/kontakt/", "de-DE"), "en": ("/en/contact/", "en-GB")}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_forbidden_file_is_named_and_the_allowed_one_is_sent(
    live_site, new_page, check_a11y, shot, lang
):
    path, locale = PAGES[lang]
    page = new_page(locale)
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.goto(live_site.url + path)
    page.fill("[name=name]", "Erika Mustermann")
    page.fill("[name=email]", f"erika-{lang}@example.com")
    page.fill("[name=subject]", "Drucker druckt nicht")
    page.fill("[name=message]", "Seit gestern druckt der Drucker nicht mehr.")
    field = page.locator("input[type=file][data-vd-attachments]")
    field.set_input_files(
        [
            {"name": "fehler.png", "mimeType": "image/png", "buffer": PNG},
            {
                "name": "setup_tool.exe",
                "mimeType": "application/x-msdownload",
                "buffer": EXE,
            },
        ]
    )

    status = page.locator(".vivadesk-attachments__messages")
    expected = field.get_attribute("data-msg-type").replace(
        "%(name)s", "setup_tool.exe"
    )
    assert status.get_attribute("aria-live") == "polite"
    assert status.inner_text().strip() == expected
    assert "setup_tool.exe" in expected
    if lang == "en":
        assert expected.startswith(
            "The file type of “setup_tool.exe” is not allowed (allowed: PDF, "
        )
    chosen = page.locator(".vivadesk-attachments__list li")
    assert chosen.count() == 1
    assert "fehler.png" in chosen.inner_text()
    names = field.evaluate("input => Array.from(input.files, f => f.name)")
    assert names == ["fehler.png"]
    remove = chosen.locator("button")
    assert "fehler.png" in remove.get_attribute("aria-label")

    field.scroll_into_view_if_needed()
    shot(page, f"{lang}-desktop-refused")
    check_a11y(page, f"contact form with a refused file ({lang})")
    page.set_viewport_size(PHONE)
    shot(page, f"{lang}-phone-refused")
    page.set_viewport_size(DESKTOP)

    # Two clicks in a row: the first disables the button, the second does
    # nothing; the form is sent once.
    state = page.evaluate(
        """() => {
          const form = document.querySelector("form.vivadesk-form");
          const button = form.querySelector("button[type=submit]");
          button.click();
          const after = [button.disabled, button.textContent.trim()];
          button.click();
          return after;
        }"""
    )
    disabled, label = state
    assert disabled is True
    assert label == field.get_attribute("data-label-sending")
    if lang == "en":
        assert label == "Sending …"
    page.wait_for_selector("body.template-contactpage-landing")
    shot(page, f"{lang}-desktop-sent")
    page.set_viewport_size(PHONE)
    shot(page, f"{lang}-phone-sent")
    assert len(posts) == 1, posts
    ticket = Ticket.objects.get(customer__email=f"erika-{lang}@example.com")
    files = TicketAttachment.objects.filter(ticket=ticket)
    assert [f.original_name for f in files] == ["fehler.png"]
    assert page.url.endswith(path)


def test_a_removed_file_leaves_the_input(live_site, new_page):
    page = new_page("en-GB")
    page.goto(live_site.url + "/en/contact/")
    field = page.locator("input[type=file][data-vd-attachments]")
    field.set_input_files(
        [
            {"name": "a.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "b.png", "mimeType": "image/png", "buffer": PNG + b"\x00"},
        ]
    )
    chosen = page.locator(".vivadesk-attachments__list li")
    assert chosen.count() == 2
    chosen.nth(0).locator("button").click()
    assert chosen.count() == 1
    names = field.evaluate("input => Array.from(input.files, f => f.name)")
    assert names == ["b.png"]
    # Still a plain multipart form: without the script it posts as it is.
    form = page.locator("form.vivadesk-form")
    assert form.get_attribute("method") == "post"
    assert form.get_attribute("enctype") == "multipart/form-data"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 500), (11, 79, 138)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_ticket_page_shows_thumbnails_and_each_file_once(
    live_site, new_page, check_a11y, shot, lang
):
    user = factories.customer(f"kunde-{lang}@example.com", language=lang)
    files = [("foto.jpg", _jpeg()), ("rechnung.pdf", PDF)]
    ticket = factories.ticket(
        user, attachments=uploads.validate(uploads.from_bytes(n, d) for n, d in files)
    )
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Danke, hier noch einmal das Foto.",
            kind=MessageKind.CUSTOMER,
            channel=Channel.EMAIL,
            author=user,
            attachments=uploads.validate([uploads.from_bytes(*files[0])]),
        ),
    )
    page = new_page("de-DE" if lang == "de" else "en-GB")
    page.goto(f"{live_site.url}/{lang}/helpdesk/login/")
    page.fill("[name=username]", user.email)
    page.fill("[name=password]", "kunden-pass-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector(".vivadesk-table, .vivadesk-portal")
    page.goto(f"{live_site.url}/{lang}/helpdesk/requests/{ticket.reference}/")
    listed = page.locator(".vivadesk-files--all .vivadesk-file")
    assert listed.count() == 2
    thumb = listed.nth(0).locator("img.vivadesk-file__thumb")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert listed.nth(1).locator("img").count() == 0
    assert listed.nth(1).locator(".vivadesk-file__preview").count() == 1
    shot(page, f"{lang}-desktop-ticket")
    check_a11y(page, f"ticket page with attachments ({lang})")
    page.set_viewport_size(PHONE)
    shot(page, f"{lang}-phone-ticket")
    # The preview shows the image itself, at its own address.
    page.set_viewport_size(DESKTOP)
    listed.nth(0).locator(".vivadesk-file__preview").click()
    page.wait_for_url("**/preview/")
    assert page.evaluate("() => document.contentType") == "image/jpeg"
    assert page.evaluate("() => document.images[0].naturalWidth") == 800
    page.go_back()
    listed.nth(1).locator(".vivadesk-file__preview").click()
    page.wait_for_url("**/preview/")
    assert page.evaluate("() => document.contentType") == "application/pdf"
    # Chromium's PDF viewer shows it, inside the sandbox.
    for _ in range(100):
        if any(frame.url.startswith("chrome-extension://") for frame in page.frames):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the PDF viewer did not open the preview")
