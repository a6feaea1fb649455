"""Helpers shared by the text-module tests (the admin's and the browser's)."""

from __future__ import annotations

#: A group that writes and translates text modules, as Wagtail's "Editors"
#: are: admin access, the text-module permissions (migration 0020) and
#: wagtail-localize's "submit translation".
WRITE = (
    "wagtailadmin.access_admin",
    "vivadesk_wagtail.add_textmodule",
    "vivadesk_wagtail.change_textmodule",
    "vivadesk_wagtail.delete_textmodule",
    "vivadesk_wagtail.view_textmodule",
    "wagtail_localize.submit_translation",
)
