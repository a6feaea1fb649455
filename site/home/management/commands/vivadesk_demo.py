"""Load the demo data of the reference site (idempotent): locales, the German
home page with its English translation, a staff user and the demo inbox (a
local maildir polled like a real mailbox)."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from wagtail.models import Page

from home.models import HomePage
from vivadesk_wagtail.models import Category, ContactFormField, ContactPage
from vivadesk_wagtail.permissions import AGENTS_GROUP

from .. import demo

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
STAFF_USERNAME = "agent"
STAFF_PASSWORD_ENV = "VIVADESK_DEMO_PASSWORD"
STAFF_PASSWORD_DEFAULT = "viva-demo-agent"


class Command(BaseCommand):
    help = "Create the demo site data (safe to run again)."

    def handle(self, *args, **options):
        locales = demo.locales()
        home = self.home_page(locales["de"])
        demo.ensure_site_root(home)
        if not home.has_translation(locales["en"]):
            demo.translate(home, locales["en"], HOME_EN)
        home = HomePage.objects.get(pk=home.pk)  # fresh tree position
        contact = self.contact_page(home)
        if not contact.has_translation(locales["en"]):
            demo.translate(
                ContactPage.objects.get(pk=contact.pk), locales["en"], CONTACT_EN
            )
        self.staff_user()
        self.demo_inbox()

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

    def contact_page(self, home):
        contact = ContactPage.objects.filter(locale=home.locale, slug="kontakt").first()
        if contact:
            return contact
        category, _created = Category.objects.get_or_create(name="Allgemein")
        contact = ContactPage(
            locale=home.locale, show_in_menus=True, category=category, **CONTACT_DE
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
