"""Building blocks of the demo data: locales, pages and their translations,
the demo inbox."""

from __future__ import annotations

from wagtail.models import Locale, Page, Site


def locales() -> dict[str, Locale]:
    return {
        code: Locale.objects.get_or_create(language_code=code)[0]
        for code in ("de", "en")
    }


def translate(page: Page, locale: Locale, strings: dict[str, str]) -> Page:
    """Translate ``page`` through wagtail-localize, as an editor would: a
    translation source (brought up to date with the page), a translation, the
    strings, then publish the target."""
    from wagtail_localize.models import Translation, TranslationSource

    source, _created = TranslationSource.update_or_create_from_instance(page)
    translation, _created = Translation.objects.get_or_create(
        source=source, target_locale=locale, defaults={"enabled": True}
    )
    po = translation.export_po()
    for entry in po:
        entry.msgstr = strings.get(entry.msgid, entry.msgid)
    translation.import_po(po)
    translation.save_target(publish=True)
    return page.get_translation(locale)


def tree_root(locale: Locale) -> Page:
    """Wagtail's root node (its migration creates it; a flushed test database
    has none)."""
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
    return root


def ensure_site_root(home: Page) -> None:
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name="VIVA",
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = "VIVA"
        site.save()


def demo_inbox():
    """The demo inbox: the maildir ``<VAR_DIR>/inbox`` (``cur``/``new``/``tmp``)
    and the django-mailbox ``Mailbox`` row the scheduled poller reads."""
    from home.demo_mail.mail import ensure_inbox

    return ensure_inbox()
