"""An editor's journey through the Wagtail admin in a real browser (Chromium
via Playwright) and the live server: building a contact page with extra
fields, having it published through moderation, translating it with
wagtail-localize, and a visitor sending the translated form.

The editor (Wagtail's "Editors" group: add and edit pages under the home
pages, no publishing, no help-desk rights) works in the German admin, the
moderator ("Moderators" group) in the English one:

1. the editor adds a contact page ("Kontaktseite") under the German home
   page, picks its ticket category with the category chooser and sees the
   fixed fields listed read-only;
2. an extra field labelled "Name" is refused at that field; renamed to a date
   field "Kaufdatum", with a required drop-down "Produkt" whose two choices
   get their stored values from their labels, each field headed by its label;
3. the editor submits the page for moderation, the moderator approves it and
   it is live;
4. the editor translates it into English in wagtail-localize's editor and
   submits the translation for moderation (it is not live until the
   moderator approves it);
5. a visitor sends the English form: empty first choice, a date input, and
   the ticket stores the same names and choice value as a German request;
6. a label renamed in the German source marks the translation out of date
   (translation editor and page explorer) until it is synced.

Each step leaves a screenshot in ``test-artifacts/e2e/``; a
Content-Security-Policy violation on any page fails the test (``new_page``
in conftest.py).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect
from wagtail.models import (
    GroupApprovalTask,
    GroupPagePermission,
    Locale,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from tests import staff_support
from tests.e2e import admin_support
from vivadesk_wagtail.models import Category, ContactPage, Ticket

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PASSWORD = "Redaktion-geheim-2026!"
#: The editor's English for the German page's strings (the last: its slug).
ENGLISH = {
    "Reklamation": "Complaint",
    "Kaufdatum": "Date of purchase",
    "Produkt": "Product",
    "Laserdrucker": "Laser printer",
    "Tintenstrahldrucker": "Inkjet printer",
    "reklamation": "complaint",
}


# The site, its people and its workflow.


@pytest.fixture
def site(live_site):
    return live_site


def german_home() -> Page:
    return Page.objects.get(depth=2, locale__language_code="de")


def english_home() -> Page:
    return german_home().get_translation(Locale.objects.get(language_code="en"))


def group(name: str, *permissions: str) -> Group:
    """A group with model permissions (a transactional test's flush removes
    what the migrations created, so the test makes sure it is there)."""
    submit_translation_permission()
    return staff_support.group(name, *permissions)


def submit_translation_permission() -> Permission:
    """wagtail-localize's "Can submit translations", which one of its
    migrations creates (a flush removes it; ``post_migrate`` does not bring
    it back)."""
    content_type, _created = ContentType.objects.get_or_create(
        app_label="wagtail_localize", model="translation"
    )
    permission, _created = Permission.objects.get_or_create(
        content_type=content_type,
        codename="submit_translation",
        defaults={"name": "Can submit translations"},
    )
    return permission


def grant_pages(group: Group, page: Page, *actions: str) -> None:
    """Page permissions (``add``, ``change``, ``publish``) on ``page`` and
    the pages below it."""
    for action in actions:
        GroupPagePermission.objects.get_or_create(
            group=group,
            page=page,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=f"{action}_page"
            ),
        )


@pytest.fixture
def editor(site):
    """An editor with a German admin: adds and edits pages under both home
    pages and submits translations; no publishing, no help-desk rights."""
    editors = group(
        "Editors",
        "wagtailadmin.access_admin",
        "wagtail_localize.submit_translation",
    )
    for home in (german_home(), english_home()):
        grant_pages(editors, home, "add", "change")
    return admin_support.staff("redakteurin", "de", groups=[editors], password=PASSWORD)


@pytest.fixture
def moderator(site):
    """A moderator with an English admin, the reviewer of the workflow."""
    moderators = group(
        "Moderators",
        "wagtailadmin.access_admin",
        "wagtail_localize.submit_translation",
    )
    grant_pages(moderators, Page.get_first_root_node(), "add", "change", "publish")
    workflow, _created = Workflow.objects.get_or_create(
        name="Moderators approval", defaults={"active": True}
    )
    task, _created = GroupApprovalTask.objects.get_or_create(name="Moderators approval")
    task.groups.set([moderators])
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.update_or_create(
        page=Page.get_first_root_node(), defaults={"workflow": workflow}
    )
    return admin_support.staff(
        "moderator", "en", groups=[moderators], password=PASSWORD
    )


@pytest.fixture
def category(db):
    return Category.objects.create(name="Reklamation")


# Browser steps.


def de(message: str) -> str:
    """``message`` as the German admin shows it."""
    with translation.override("de"):
        return gettext(message)


def admin_url(site, name: str, *args) -> str:
    return f"{site.url}{reverse(name, args=args)}"


def save_draft(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=de("Save draft")).click()


def submit_for_moderation(page) -> None:
    """The page editor's "Submit to …" (in the footer's more actions)."""
    page.locator("footer [data-w-dropdown-target=toggle]").click()
    with page.expect_navigation():
        page.locator("footer [name=action-submit]").click()


def approve_in_editor(page, edit_url: str) -> None:
    """The reviewer's "Approve and Publish" in the page editor's footer."""
    page.goto(edit_url)
    page.locator("footer [data-w-dropdown-target=toggle]").click()
    approve = page.locator(
        "footer [data-workflow-action-name=approve]"
        ":not([data-workflow-action-modal-url])"
    )
    with page.expect_navigation():
        approve.click()


def status_of(page, url: str) -> int:
    return page.request.get(url).status


def row_headings(page) -> list[str]:
    headings = page.locator(
        "[id^=inline_child_form_fields-]:not([id$=__prefix__]) "
        "[data-vd-form-field-heading-target=text]"
    )
    return [text.strip() for text in headings.all_inner_texts()]


def open_category_chooser(page, name: str):
    """Open the ticket category chooser; its modal, once it lists ``name``."""
    page.locator("#id_category-chooser [data-chooser-action-choose]").click()
    modal = page.locator(".modal-dialog")
    expect(modal.get_by_role("link", name=name)).to_be_visible()
    return modal


def add_choice(page, row: int, index: int, label: str) -> None:
    """Add a choice (StreamField block "choice") to extra field ``row``,
    leaving its stored value empty."""
    choices = page.locator(f"#form_fields-{row}-options-root")
    choices.locator(".c-sf-add-button").last.click()
    page.fill(f"[name=form_fields-{row}-options-{index}-value-label]", label)


def translate_segment(page, source: str, english: str) -> None:
    """Translate one string in wagtail-localize's translation editor."""
    text = page.locator("p").filter(has_text=re.compile(f"^{re.escape(source)}$"))
    segment = page.locator(".js-translation-editor li").filter(has=text).last
    segment.get_by_role("button", name=de("Translate")).click()
    segment.locator("textarea").fill(english)
    segment.get_by_role("button", name=de("Save")).click()
    expect(segment.locator("textarea")).to_have_count(0)
    expect(segment).to_contain_text(english)


def send_form(page, *, name: str, email: str, product: str) -> None:
    """Fill the fixed fields and the two extra ones, and send."""
    page.fill("[name=name]", name)
    page.fill("[name=email]", email)
    page.fill("[name=subject]", "Drucker defekt")
    page.fill("[name=message]", "Der Drucker zieht kein Papier ein.")
    page.fill("[name=kaufdatum]", "2026-11-20")
    page.select_option("[name=produkt]", label=product)
    with page.expect_navigation():
        page.locator("form.vivadesk-form button[type=submit]").click()


def extra_rows(ticket) -> dict[str, dict]:
    return {row["name"]: row for row in ticket.form_data}


def test_an_editor_builds_translates_and_publishes_a_request_form(
    site, editor, moderator, category, new_page, shot, check_a11y
):
    home = german_home()
    page = new_page("de-DE")

    # 1. The editor adds a contact page under the German home page, with a
    # category from the chooser; the fixed fields are listed read-only.
    admin_support.log_in(page, site, editor, password=PASSWORD)
    shot(page, "dashboard")
    page.goto(admin_url(site, "wagtailadmin_explore", home.pk))
    shot(page, "explorer")
    page.get_by_role("link", name=de("Add child page")).first.click()
    shot(page, "seitentyp")
    page.get_by_role("link", name=de("contact page")).first.click()
    expect(page.locator("[name=title]")).to_be_visible()
    page.fill("[name=title]", "Reklamation")
    fixed = page.locator("[data-fixed-field]")
    expect(fixed).to_have_count(5)
    names = [fixed.nth(n).get_attribute("data-fixed-field") for n in range(5)]
    assert names == ["name", "email", "subject", "message", "attachments"]
    for n in range(5):
        expect(fixed.nth(n)).to_contain_text(de("always present"))
    for label in ("Name", "E-Mail-Adresse", "Betreff", "Nachricht", "Anhänge"):
        expect(page.locator("[data-fixed-field]", has_text=label)).to_have_count(1)
    fixed.first.scroll_into_view_if_needed()
    shot(page, "neue-kontaktseite")
    modal = open_category_chooser(page, "Reklamation")
    shot(page, "kategorie-auswahl")
    modal.get_by_role("link", name="Reklamation").click()
    expect(page.locator("#id_category-title")).to_have_text("Reklamation")
    page.locator("#id_category-title").scroll_into_view_if_needed()
    shot(page, "kategorie-gewaehlt")

    # 2. An extra field "Name" is refused at its label; renamed to a date
    # field, with a required drop-down of two choices.
    page.locator("#id_form_fields-ADD").click()
    page.fill("[name=form_fields-0-label]", "Name")
    page.select_option("[name=form_fields-0-field_type]", "singleline")
    save_draft(page)
    label_errors = page.locator(
        "#inline_child_form_fields-0 [data-contentpath=label] [data-field-errors]"
    )
    refusal = de(
        "The field “%(fixed)s” is always on the form. Please choose another "
        "label for this extra field."
    ) % {"fixed": "Name"}
    expect(label_errors).to_contain_text(refusal)
    assert not ContactPage.objects.filter(slug="reklamation").exists()
    label_errors.scroll_into_view_if_needed()
    shot(page, "fehler-name")
    page.fill("[name=form_fields-0-label]", "Kaufdatum")
    page.select_option("[name=form_fields-0-field_type]", "date")
    page.uncheck("[name=form_fields-0-required]")
    page.locator("#id_form_fields-ADD").click()
    page.fill("[name=form_fields-1-label]", "Produkt")
    page.select_option("[name=form_fields-1-field_type]", "dropdown")
    expect(page.locator("[name=form_fields-1-required]")).to_be_checked()
    add_choice(page, 1, 0, "Laserdrucker")
    add_choice(page, 1, 1, "Tintenstrahldrucker")
    page.locator("#inline_child_form_fields-1").scroll_into_view_if_needed()
    shot(page, "produkt")
    save_draft(page)
    german = ContactPage.objects.get(slug="reklamation")
    edit_url = admin_url(site, "wagtailadmin_pages:edit", german.pk)
    expect(page).to_have_url(edit_url)
    date_type, dropdown_type = de("Date"), de("Drop down")
    assert row_headings(page) == [
        f"Kaufdatum ({date_type})",
        f"Produkt ({dropdown_type})",
    ]
    for text in row_headings(page):
        assert de("Extra form fields") not in text
    values = page.locator("[name^=form_fields-1-options-][name$=-value-value]")
    expect(values).to_have_count(2)
    expect(values.first).to_have_value("laserdrucker")
    expect(values.last).to_have_value("tintenstrahldrucker")
    assert german.category == category
    assert not german.live
    page.locator("#inline_child_form_fields-1").scroll_into_view_if_needed()
    shot(page, "gespeichert")

    # 3. Submitted for moderation; the moderator (English admin) approves it.
    submit_for_moderation(page)
    german.refresh_from_db()
    assert german.current_workflow_state is not None
    german_url = f"{site.url}{german.get_url()}"
    assert german_url.endswith("/de/reklamation/"), german_url
    assert status_of(page, german_url) == 404
    shot(page, "eingereicht")
    reviewer = new_page("en-GB")
    admin_support.log_in(reviewer, site, moderator, password=PASSWORD)
    expect(reviewer.locator("main")).to_contain_text("Reklamation")
    shot(reviewer, "moderator-dashboard")
    approve_in_editor(reviewer, edit_url)
    shot(reviewer, "moderator-freigegeben")
    german.refresh_from_db()
    assert german.live
    visitor = new_page("de-DE")
    visitor.goto(german_url)
    expect(visitor.locator("h1")).to_contain_text("Reklamation")
    shot(visitor, "live-de")

    # 4. The editor translates it; the translation waits for moderation.
    page.goto(edit_url)
    page.locator("[data-w-dropdown-target=toggle].w-h-slim-header").click()
    shot(page, "aktionen")
    page.get_by_role("link", name=de("Translate this page")).click()
    page.get_by_label(de("English")).check()
    shot(page, "uebersetzen")
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    expect(page.locator(".js-translation-editor")).to_contain_text(
        "Tintenstrahldrucker"
    )
    expect(page.locator("[data-vivadesk-outdated]")).to_have_count(0)
    translation_editor = page.url
    shot(page, "uebersetzungseditor")
    for source, english_text in ENGLISH.items():
        if source == "reklamation":  # the slug, on the "Promote" tab
            page.get_by_role("tab", name=de("Promote")).click()
        translate_segment(page, source, english_text)
    shot(page, "uebersetzt")
    with page.expect_navigation():
        page.locator("[data-vivadesk-submit-translation]").click()
    expect(page.locator(".messages")).to_contain_text("Complaint")
    shot(page, "uebersetzung-eingereicht")
    english = ContactPage.objects.get(
        translation_key=german.translation_key, locale__language_code="en"
    )
    assert not english.live
    assert english.current_workflow_state is not None
    english_url = f"{site.url}{english.get_url()}"
    assert english_url.endswith("/en/complaint/"), english_url
    response = visitor.goto(english_url)
    assert response.status == 404
    shot(visitor, "en-noch-nicht-live")
    reviewer.goto(f"{site.url}/admin/")
    row = reviewer.locator("tr", has_text="Complaint")
    row.get_by_role("button", name="Actions").click()
    approve = row.locator("[data-workflow-action-url]:not([data-launch-modal])")
    expect(approve).to_be_visible()
    shot(reviewer, "moderator-dashboard-en")
    with reviewer.expect_navigation():
        approve.click()
    english.refresh_from_db()
    assert english.live
    shot(reviewer, "moderator-freigegeben-en")

    # 5. A visitor sends the English form; the ticket stores the names and
    # the choice value a German request stores.
    visitor = new_page("en-GB")
    visitor.goto(english_url)
    expect(visitor.locator("h1")).to_contain_text("Complaint")
    product = visitor.locator("select[name=produkt]")
    expect(product.locator("option").first).to_have_text("Please choose …")
    expect(product.locator("option").first).to_have_attribute("value", "")
    expect(product).to_have_attribute("required", "")
    expect(visitor.locator("input[name=kaufdatum]")).to_have_attribute("type", "date")
    expect(visitor.locator("form.vivadesk-form")).to_contain_text("Date of purchase")
    check_a11y(visitor, "English request form")
    shot(visitor, "en-formular")
    send_form(
        visitor, name="John Smith", email="john@example.com", product="Inkjet printer"
    )
    english_ticket = Ticket.objects.get()
    expect(visitor.locator("body")).to_contain_text(english_ticket.reference)
    shot(visitor, "en-gesendet")
    customer = new_page("de-DE")
    customer.goto(german_url)
    check_a11y(customer, "Reklamationsformular")
    send_form(
        customer,
        name="Erika Mustermann",
        email="erika@example.com",
        product="Tintenstrahldrucker",
    )
    german_ticket = Ticket.objects.exclude(pk=english_ticket.pk).get()
    expect(customer.locator("body")).to_contain_text(german_ticket.reference)
    shot(customer, "de-gesendet")
    english_rows, german_rows = extra_rows(english_ticket), extra_rows(german_ticket)
    assert list(english_rows) == list(german_rows) == ["kaufdatum", "produkt"]
    assert english_rows["produkt"]["choices"] == ["tintenstrahldrucker"]
    assert german_rows["produkt"]["choices"] == ["tintenstrahldrucker"]
    assert english_rows["kaufdatum"]["value"] == german_rows["kaufdatum"]["value"]
    assert english_rows["produkt"]["value"] == "Inkjet printer"
    assert german_rows["produkt"]["value"] == "Tintenstrahldrucker"

    # 6. A label renamed in the German source marks the translation out of
    # date, in the page explorer and the translation editor, until synced.
    page.goto(edit_url)
    label = page.locator("input[name$='-label'][value=Kaufdatum]")
    label.fill("Kaufdatum laut Rechnung")
    label.scroll_into_view_if_needed()
    shot(page, "umbenannt")
    submit_for_moderation(page)
    approve_in_editor(reviewer, edit_url)
    page.goto(admin_url(site, "wagtailadmin_explore", english.get_parent().pk))
    row = page.locator("tr", has_text="Complaint")
    expect(row.locator("[data-vivadesk-outdated]")).to_contain_text(
        de("Source changed")
    )
    shot(page, "explorer-veraltet")
    page.goto(translation_editor)
    banner = page.locator("[data-vivadesk-outdated]")
    expect(banner).to_have_text(de("The source page has changed since the last sync."))
    shot(page, "editor-veraltet")
    page.locator(".vd-translation-status").get_by_role(
        "link", name=de("Sync translated pages")
    ).click()
    shot(page, "synchronisieren")
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    expect(page).to_have_url(translation_editor)
    expect(page.locator("[data-vivadesk-outdated]")).to_have_count(0)
    expect(page.locator(".js-translation-editor")).to_contain_text(
        "Kaufdatum laut Rechnung"
    )
    shot(page, "synchronisiert")
