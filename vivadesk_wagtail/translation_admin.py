"""Translations (wagtail-localize) under Wagtail's moderation: submitting a
translation's draft to the page's workflow, "Sync translated pages" and
"Convert to alias page" publishing only for publishers, and the "source
changed since the last sync" marker of translated pages in the translation
editor and the page explorer.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.widgets.button import Button
from wagtail.models import DraftStateMixin, Page, WorkflowState
from wagtail.snippets.permissions import get_permission_name
from wagtail_localize.models import Translation
from wagtail_localize.views import convert
from wagtail_localize.views.update_translations import UpdateTranslationsView

#: The annotation :func:`annotate_outdated` puts on explorer rows: the id of
#: the translation source whose page changed since its last sync, or None.
OUTDATED_SOURCE = "vivadesk_outdated_source_id"
SUBMIT_URL_NAME = "vivadesk_wagtail_submit_translation"


# Out of date: the source page was published after its last sync. A sync
# reads the source's published content, so a draft is not "newer" yet; its
# publication is, also when it happens after a sync.


def outdated_source_subquery() -> Subquery:
    """The id of the source of an enabled translation into the outer page,
    if the source page was published after the source's last sync."""
    source_page_published = Page.objects.filter(
        translation_key=OuterRef("source__object_id"),
        locale_id=OuterRef("source__locale_id"),
    ).values("last_published_at")[:1]
    return Subquery(
        Translation.objects.filter(
            enabled=True,
            target_locale_id=OuterRef("locale_id"),
            source__object_id=OuterRef("translation_key"),
            source__last_updated_at__lt=Subquery(source_page_published),
        ).values("source_id")[:1]
    )


def outdated_source_id(page: Page) -> int | None:
    """The source id if ``page`` is a translation whose source changed since
    the last sync (one query); else None."""
    if hasattr(page, OUTDATED_SOURCE):
        return getattr(page, OUTDATED_SOURCE)
    return (
        Page.objects.filter(pk=page.pk)
        .annotate(source_id=outdated_source_subquery())
        .values_list("source_id", flat=True)
        .first()
    )


def annotate_outdated(parent_page, pages, request):
    """``construct_explorer_page_queryset``: the explorer's rows carry their
    out-of-date marker, so the listing costs no query per row."""
    return pages.annotate(**{OUTDATED_SOURCE: outdated_source_subquery()})


def sync_url(user, source_id: int, next_url: str | None = None) -> str | None:
    """wagtail-localize's "Sync translated pages" form, for users who may."""
    if not user.has_perm("wagtail_localize.submit_translation"):
        return None
    url = reverse("wagtail_localize:update_translations", args=[source_id])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def outdated_listing_buttons(page, user, next_url=None):
    """``register_page_listing_buttons``: a translated page whose source
    changed since the last sync shows a marker linking to the sync form."""
    source_id = outdated_source_id(page)
    if source_id is None:
        return
    url = sync_url(user, source_id, next_url) or reverse(
        "wagtailadmin_pages:edit", args=[page.pk]
    )
    yield Button(
        _("Source changed"),
        url,
        icon_name="warning",
        classname="button button-small button-secondary vivadesk-translation-outdated",
        attrs={
            "title": _("The source page has changed since the last sync."),
            "data-vivadesk-outdated": "",
        },
        priority=5,
    )


# Moderation: submitting a translation's draft, publishing only for publishers.


def can_submit(user, page: Page) -> bool:
    """As Wagtail's page editor: edit permission and a workflow to submit to."""
    perms = page.permissions_for_user(user)
    return perms.can_edit() and perms.can_submit_for_moderation()


def save_translation_draft(translation: Translation, page: Page, user):
    """A new revision of ``page`` from the translation's current strings.

    A live page keeps its published content in its row (as in Wagtail's page
    editor, only the revision carries the draft); a page that is not live is
    written in full, as wagtail-localize's "save draft" does.
    """
    if not page.live:
        translation.save_target(user=user, publish=False)
        return
    draft = translation.source.get_ephemeral_translated_instance(
        translation.target_locale, fallback=True
    )
    draft.save_revision(user=user, log_action=True)


def start_workflow(page: Page, user) -> None:
    """Submit the page's latest revision to its workflow; a workflow waiting
    for changes is resumed (Wagtail's page editor does the same)."""
    state = page.current_workflow_state
    if state and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        state.resume(user)
    else:
        page.get_workflow().start(page, user)


@require_POST
def submit_translation_for_moderation(request, translation_id: int):
    """Save the translation's draft and submit it to the page's workflow."""
    translation = get_object_or_404(Translation, pk=translation_id, enabled=True)
    try:
        page = translation.get_target_instance()
    except ObjectDoesNotExist:
        page = None
    if not isinstance(page, Page) or not can_submit(request.user, page):
        raise PermissionDenied
    edit_url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    try:
        with transaction.atomic():
            save_translation_draft(translation, page, request.user)
            page = Page.objects.get(pk=page.pk).specific
            start_workflow(page, request.user)
    except ValidationError:
        messages.error(
            request,
            _("The translation of '%(title)s' could not be saved; please check it.")
            % {"title": page.get_admin_display_title()},
        )
        return redirect(edit_url)
    messages.success(
        request,
        _("Page '%(page_title)s' has been submitted for moderation.")
        % {"page_title": page.get_admin_display_title()},
    )
    return redirect(edit_url)


def can_publish_target(user, translation: Translation) -> bool:
    """Whether ``user`` may publish the translated object of ``translation``."""
    try:
        target = translation.get_target_instance()
    except ObjectDoesNotExist:
        return False
    if isinstance(target, Page):
        return target.permissions_for_user(user).can_publish()
    if isinstance(target, DraftStateMixin):
        return user.has_perm(get_permission_name("publish", type(target)))
    return True


class ModeratedUpdateTranslationsView(UpdateTranslationsView):
    """wagtail-localize's "Sync translated pages"; its "Publish immediately"
    only for users who may publish every translation, else it is left out
    (and a posted value ignored): the sync then updates the source only."""

    def may_publish(self) -> bool:
        user = self.request.user
        return user.is_superuser or all(
            can_publish_target(user, translation)
            for translation in self.object.translations.filter(enabled=True)
        )

    def get_form(self):
        form = super().get_form()
        if not self.may_publish():
            field = form.fields["publish_translations"]
            field.disabled = True
            field.widget = forms.HiddenInput()
        return form


def convert_to_alias(request, page_id: int):
    """wagtail-localize's "Convert to alias page", for publishers only: an
    alias mirrors its source's content and live status, so converting a
    translation publishes the source's content in its place."""
    page = get_object_or_404(Page, pk=page_id)
    if not page.permissions_for_user(request.user).can_publish():
        raise PermissionDenied
    return convert.convert_to_alias(request, page_id)


def translation_admin_urls() -> list:
    """``register_admin_urls``, ahead of wagtail-localize's own (the first
    matching pattern answers)."""
    return [
        path(
            "localize/update/<int:translation_source_id>/",
            ModeratedUpdateTranslationsView.as_view(),
        ),
        path("localize/page/<int:page_id>/convert_to_alias/", convert_to_alias),
        path(
            "localize/translate/<int:translation_id>/submit-for-moderation/",
            submit_translation_for_moderation,
            name=SUBMIT_URL_NAME,
        ),
    ]


def editor_status(request, translation: Translation, instance) -> dict:
    """What the translation editor shows above wagtail-localize's editor: the
    out-of-date banner with its sync link and the submit-for-moderation form."""
    if not isinstance(instance, Page):
        return {}
    user = request.user
    source_id = outdated_source_id(instance)
    edit_url = reverse("wagtailadmin_pages:edit", args=[instance.pk])
    return {
        "outdated": source_id is not None,
        "sync_url": sync_url(user, source_id, edit_url) if source_id else None,
        "submit_url": reverse(SUBMIT_URL_NAME, args=[translation.pk])
        if can_submit(user, instance)
        else None,
    }
