"""The company behind the help desk, as editors maintain it: a Wagtail site
setting ("Settings → Company details") read by the mails' signature and legal
footer and by the site's footer."""

from __future__ import annotations

import re

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site

from .. import conf


@register_setting(icon="site")
class CompanyDetails(BaseSiteSetting):
    """Name, postal address, phone and legal line of the company, per site.

    Site settings are not translated: the legal line (register court, managing
    directors, VAT ID) reads the same in every language."""

    name = models.CharField(
        _("company name"),
        max_length=200,
        default="VIVA",
        help_text=_("As it appears in the signature of every mail and in the footer."),
    )
    address = models.TextField(
        _("postal address"),
        blank=True,
        help_text=_("One line of the address per line."),
    )
    phone = models.CharField(
        _("phone"),
        max_length=40,
        blank=True,
        help_text=_(
            "The help desk's phone number, e.g. +49 30 1234567. Left empty, "
            "the number from the server's settings is used, if any."
        ),
    )
    legal_line = models.CharField(
        _("legal line"),
        max_length=300,
        blank=True,
        help_text=_(
            "Register court and number, managing directors, VAT ID: shown in "
            "the footer of the site and under every mail."
        ),
    )

    class Meta:
        verbose_name = _("company details")
        verbose_name_plural = _("company details")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls, site: Site | None = None) -> CompanyDetails:
        """The details of ``site`` (default: the default site). Without any
        site, unsaved defaults, so a mail can always be rendered."""
        site = site or Site.objects.filter(is_default_site=True).first()
        if site is None:
            return cls()
        return cls.for_site(site)

    @property
    def phone_number(self) -> str:
        """The phone number to show: this setting, else ``HELPDESK_PHONE``."""
        return self.phone.strip() or conf.get("HELPDESK_PHONE") or ""

    @property
    def phone_uri(self) -> str:
        number = self.phone_number
        return "tel:" + re.sub(r"[^0-9+]", "", number) if number else ""

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]
