"""Load the demo data of the reference site (idempotent: creates what is
missing): locales, the German pages (home, contact, "So funktioniert unser
HelpDesk", imprint, privacy policy) with their English translations, the
company details, a staff user and the demo inbox (a local maildir polled like
a real mailbox)."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from wagtail.models import Page

from home.models import ContentPage, HomePage, ImprintPage, PrivacyPage
from vivadesk_wagtail import conf
from vivadesk_wagtail.models import (
    Category,
    CompanyDetails,
    ContactFormField,
    ContactPage,
)
from vivadesk_wagtail.permissions import AGENTS_GROUP

from .. import demo, demo_content

HOME_DE = {
    "title": "Willkommen bei VIVA",
    "intro": (
        "<p>Schön, dass Sie da sind. Bei Fragen hilft Ihnen das VIVA HelpDesk.</p>"
    ),
}
HOME_EN = {
    "Willkommen bei VIVA": "Welcome to VIVA",
    "Schön, dass Sie da sind. Bei Fragen hilft Ihnen das VIVA HelpDesk.": (
        "Good to have you here. The VIVA HelpDesk helps with any question."
    ),
    "willkommen-bei-viva": "welcome-to-viva",
}
CONTACT_DE = {
    "title": "Kontakt",
    "slug": "kontakt",
    "intro": "<p>Schreiben Sie uns – wir antworten so schnell wie möglich.</p>",
    "thank_you_text": "<p>Wir melden uns bei Ihnen.</p>",
}
CONTACT_EN = {
    "Kontakt": "Contact",
    "kontakt": "contact",
    "Schreiben Sie uns – wir antworten so schnell wie möglich.": (
        "Write to us – we will answer as soon as we can."
    ),
    "Wir melden uns bei Ihnen.": "We will get back to you.",
    "Kundennummer (falls vorhanden)": "Customer number (if you have one)",
}
PRIVACY_NOTICE_DE = (
    "<p>Mit dem Absenden stimmen Sie zu, dass wir Ihre Angaben zur Bearbeitung "
    "Ihrer Anfrage speichern. Mehr dazu in unserer "
    '<a linktype="page" id="{privacy}">Datenschutzerklärung</a>.</p>'
)
PRIVACY_NOTICE_EN = {
    "Mit dem Absenden stimmen Sie zu, dass wir Ihre Angaben zur Bearbeitung "
    "Ihrer Anfrage speichern. Mehr dazu in unserer "
    '<a id="a1">Datenschutzerklärung</a>.': (
        "By sending this form you agree that we store your details to handle "
        'your request. More about this in our <a id="a1">privacy policy</a>.'
    ),
}
STAFF_USERNAME = "agent"
STAFF_PASSWORD_ENV = "VIVADESK_DEMO_PASSWORD"
STAFF_PASSWORD_DEFAULT = "viva-demo-agent"


class Command(BaseCommand):
    help = "Create the demo site data (safe to run again)."

    def handle(self, *args, **options):
        locales = demo.locales()
        home = self.home_page(locales["de"])
        demo.ensure_site_root(home)
        self.company_details()
        if not home.has_translation(locales["en"]):
            demo.translate(home, locales["en"], HOME_EN)
        home = HomePage.objects.get(pk=home.pk)  # fresh tree position
        email = conf.helpdesk_email()
        texts = demo_content.Texts()
        imprint, _created = self.child_page(
            home, ImprintPage, demo_content.imprint_page(texts, email)
        )
        privacy, _created = self.child_page(
            home, PrivacyPage, demo_content.privacy_page(texts, email)
        )
        contact = self.contact_page(home, privacy)
        if not contact.has_translation(locales["en"]):
            demo.translate(
                ContactPage.objects.get(pk=contact.pk),
                locales["en"],
                {**CONTACT_EN, **PRIVACY_NOTICE_EN},
            )
        helpdesk, created = self.child_page(
            home,
            ContentPage,
            demo_content.helpdesk_page(texts, contact.pk, email),
            show_in_menus=True,
        )
        for page in (helpdesk, imprint, privacy):
            if not page.has_translation(locales["en"]):
                page = type(page).objects.get(pk=page.pk)  # fresh tree position
                demo.translate(page, locales["en"], texts.en)
        if created:
            # after wagtail-localize has published the translations (on commit)
            transaction.on_commit(lambda: self.menu_order(helpdesk, contact))
        self.home_body(home, contact, email, locales["en"])
        self.privacy_notice(contact, privacy, locales["en"])
        self.staff_user()
        self.demo_inbox()

    def child_page(self, home, model, fields, **extra):
        """The German page of ``model`` under ``home``, created if missing;
        ``(page, created)``."""
        pages = model.objects.child_of(home).filter(locale=home.locale)
        if model.max_count_per_parent != 1:
            pages = pages.filter(slug=fields["slug"])
        page = pages.first()
        if page is not None:
            return page, False
        page = model(locale=home.locale, **fields, **extra)
        HomePage.objects.get(pk=home.pk).add_child(instance=page)
        page.save_revision().publish()
        return page, True

    def menu_order(self, helpdesk, contact):
        """A new help-desk page stands before the contact page in the menu,
        in every language."""
        for page in helpdesk.get_translations(inclusive=True):
            other = contact.get_translation_or_none(page.locale)
            if other is not None and page.path > other.path:
                page.specific.move(other, pos="left")

    def home_body(self, home, contact, email, locale_en):
        """The home page's sections (added to a home page that has none, and
        its English translation brought up to date)."""
        home = HomePage.objects.get(pk=home.pk)
        if home.body:
            return
        texts = demo_content.Texts()
        home.body = demo_content.home_body(texts, contact.pk, email)
        home.show_in_menus = True
        home.save_revision().publish()
        demo.translate(
            HomePage.objects.get(pk=home.pk), locale_en, {**HOME_EN, **texts.en}
        )

    def privacy_notice(self, contact, privacy, locale_en):
        """The note under the contact form linking the privacy policy, added
        to a contact page of an earlier demo that has none (its translation
        brought up to date)."""
        contact = ContactPage.objects.get(pk=contact.pk)
        if contact.privacy_notice:
            return
        contact.privacy_notice = PRIVACY_NOTICE_DE.format(privacy=privacy.pk)
        contact.save_revision().publish()
        demo.translate(
            ContactPage.objects.get(pk=contact.pk),
            locale_en,
            {**CONTACT_EN, **PRIVACY_NOTICE_EN},
        )

    def company_details(self):
        """The demo company's details for the default site (left alone once
        an editor has filled in an address)."""
        details = CompanyDetails.current()
        if details.pk is None or details.address:
            return
        for field, value in demo_content.COMPANY.items():
            setattr(details, field, value)
        details.save()

    def home_page(self, locale_de):
        home = HomePage.objects.filter(locale=locale_de, depth=2).first()
        if home:
            return home
        root = demo.tree_root(locale_de)
        for page in root.get_children().filter(depth=2):
            if page.specific_class is Page:
                page.delete()
        home = HomePage(locale=locale_de, slug="willkommen-bei-viva", **HOME_DE)
        root.add_child(instance=home)
        home.save_revision().publish()
        return home

    def contact_page(self, home, privacy):
        contact = ContactPage.objects.filter(locale=home.locale, slug="kontakt").first()
        if contact:
            return contact
        category, _created = Category.objects.get_or_create(name="Allgemein")
        contact = ContactPage(
            locale=home.locale,
            show_in_menus=True,
            category=category,
            privacy_notice=PRIVACY_NOTICE_DE.format(privacy=privacy.pk),
            **CONTACT_DE,
        )
        contact.form_fields = [
            ContactFormField(
                label="Kundennummer (falls vorhanden)",
                clean_name="customer_number",
                field_type="singleline",
                required=False,
            )
        ]
        home.add_child(instance=contact)
        contact.save_revision().publish()
        return contact

    def staff_user(self):
        password = os.environ.get(STAFF_PASSWORD_ENV, STAFF_PASSWORD_DEFAULT)
        user, created = get_user_model().objects.get_or_create(
            username=STAFF_USERNAME,
            defaults={
                "email": "agent@viva.de",
                "is_staff": True,
                "first_name": "Demo",
                "last_name": "Agent",
            },
        )
        if created:
            user.set_password(password)
            user.save()
        group = Group.objects.filter(name=AGENTS_GROUP).first()
        if group:
            user.groups.add(group)
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Staff login for /admin/: {STAFF_USERNAME} / {password}"
            )
        )

    def demo_inbox(self):
        box = demo.demo_inbox()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo inbox (maildir, polled every minute): {box.location}"
            )
        )
