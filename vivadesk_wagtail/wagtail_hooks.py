"""Wagtail hooks: registration only; the pieces live in ``staff/``."""

from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet

from .models import CaughtSubmission, InboundMail, OutboundEmail, Ticket
from .pages.requests import without_contact_pages
from .permissions import ServiceWrittenPolicy
from .staff.admin_routes import localize_snippet_api_urls
from .staff.bulk_actions import AssignBulkAction, StatusBulkAction
from .staff.log_actions import register_log_actions
from .staff.panels import add_helpdesk_panel
from .staff.privacy import admin_urls as privacy_admin_urls
from .staff.privacy import register_menu_item as privacy_register_menu_item
from .staff.reports import admin_urls as reports_admin_urls
from .staff.reports import register_menu_item as reports_register_menu_item
from .staff.text_modules import TextModuleViewSet
from .staff.views import refuse_bulk_delete
from .staff.viewsets import HelpDeskViewSetGroup
from .translation_admin import (
    annotate_outdated,
    outdated_listing_buttons,
    translation_admin_urls,
)

register_permission_policy(Ticket, ServiceWrittenPolicy(Ticket))
register_permission_policy(OutboundEmail, ServiceWrittenPolicy(OutboundEmail))
register_permission_policy(InboundMail, ServiceWrittenPolicy(InboundMail))
register_permission_policy(CaughtSubmission, ServiceWrittenPolicy(CaughtSubmission))
register_snippet(HelpDeskViewSetGroup)
register_snippet(TextModuleViewSet)
hooks.register("register_log_actions", register_log_actions)
hooks.register("construct_homepage_panels", add_helpdesk_panel)
hooks.register("register_bulk_action", AssignBulkAction)
hooks.register("register_bulk_action", StatusBulkAction)
hooks.register("before_delete_snippet", refuse_bulk_delete)
hooks.register("filter_form_submissions_for_user", without_contact_pages)
# Ahead of wagtail-localize's own snippet API URLs (the first match answers).
hooks.register("register_admin_urls", localize_snippet_api_urls, order=-100)
# Translations under moderation, also ahead of wagtail-localize's URLs.
hooks.register("register_admin_urls", translation_admin_urls, order=-100)
hooks.register("construct_explorer_page_queryset", annotate_outdated)
hooks.register("register_page_listing_buttons", outdated_listing_buttons)
# The data-protection register (Reports) and the agents' erase page.
hooks.register("register_admin_urls", privacy_admin_urls)
hooks.register("register_reports_menu_item", privacy_register_menu_item)
# The help desk's service reports (Reports).
hooks.register("register_admin_urls", reports_admin_urls)
hooks.register("register_reports_menu_item", reports_register_menu_item)


@hooks.register("insert_global_admin_css")
def helpdesk_admin_css():
    return format_html(
        '<link rel="stylesheet" href="{}">',
        static("vivadesk_wagtail/css/admin.css"),
    )
