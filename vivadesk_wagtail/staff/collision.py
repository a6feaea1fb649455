"""The collision warning of the ticket screen: which other agents have the
ticket open (a banner, refreshed by ``js/collision.js`` through the
``presence`` heartbeat), and the stale-form check that keeps a reply or note
from going out over messages the agent has not seen (:func:`unless_stale`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from .. import conf
from ..models import Ticket
from ..services import presence
from .forms import MessageForm, display_name

#: Raised by :func:`unless_stale` when the thread has unseen messages.
StaleForm = presence.NewerMessages

#: The id of the stale-form warning (``_stale.html``).
STALE_ANCHOR = "vd-stale"

#: Longest time between two heartbeats of an open screen (seconds); shorter
#: when ``PRESENCE_TIMEOUT`` is short, so that three beats fit into it.
HEARTBEAT_SECONDS = 30


def heartbeat_seconds() -> int:
    timeout = conf.get("PRESENCE_TIMEOUT").total_seconds()
    return max(1, min(HEARTBEAT_SECONDS, int(timeout // 3)))


def banner_text(names: list[str]) -> str:
    """ "Also open by: …" for the other agents' names ("" for nobody)."""
    if not names:
        return ""
    return _("Also open by: %(names)s") % {"names": ", ".join(names)}


def notice_text(count: int) -> str:
    """What the page says when messages arrived after it was shown."""
    if not count:
        return ""
    return ngettext(
        "A new message arrived since this page was loaded.",
        "%(count)d new messages arrived since this page was loaded.",
        count,
    ) % {"count": count}


def newest_id(thread) -> int:
    """The id of the newest message of a thread as the screen shows it
    (``thread.thread_items``); the forms carry it (``seen_message``)."""
    return max((item.message.pk for item in thread), default=0)


def screen_context(view) -> dict:
    """Note the viewing agent on the ticket and name the other viewers."""
    ticket, user = view.object, view.request.user
    seen_at = presence.touch(ticket, user)
    names = [display_name(other) for other in presence.others(ticket, user)]
    return {
        "collision_banner": banner_text(names),
        "collision_seen_at": seen_at.isoformat(),
        "collision_interval": heartbeat_seconds(),
        "collision_url": reverse(
            f"{view.request.resolver_match.namespace}:presence", args=(ticket.pk,)
        ),
    }


@contextmanager
def unless_stale(request, form) -> Iterator[None]:
    """Run the block (``form.apply``) only if no message arrived in the
    thread since the form was shown, other than the agent's own; else raise
    :data:`StaleForm` with ``form.stale_ids`` set and a warning for the
    page. A form without ``seen_message`` is not checked."""
    seen = (
        form.cleaned_data.get("seen_message") if isinstance(form, MessageForm) else None
    )
    if seen is None:
        yield
        return
    try:
        with presence.unless_newer(
            form.ticket, request.user, seen=seen, key=form.service_key()
        ):
            yield
    except StaleForm as stale:
        form.stale_ids = stale.ids
        messages.warning(
            request,
            _("Nothing was sent: new messages arrived in the meantime."),
            buttons=[messages.button(f"#{STALE_ANCHOR}", _("Show them"))],
        )
        raise


@never_cache
@require_POST
def heartbeat(request, pk):
    """The open screen's sign of life (``js/collision.js``): touches the
    agent's presence and answers with the other viewers and the number of
    messages newer than ``since`` not written by the agent. With ``leave``
    (the page's ``sendBeacon`` when it closes) it removes the agent instead.
    Agents only (the tickets viewset wraps it, ``permissions.agents_only``);
    CSRF-protected like every POST."""
    ticket = get_object_or_404(Ticket.objects.only("pk"), pk=pk)
    if request.POST.get("leave"):
        presence.leave(ticket, request.user, seen_at=_datetime(request.POST))
        return HttpResponse(status=204)
    seen_at = presence.touch(ticket, request.user)
    names = [display_name(other) for other in presence.others(ticket, request.user)]
    since = _int(request.POST.get("since"))
    count = (
        presence.newer_messages(ticket, since, request.user).count()
        if since is not None
        else 0
    )
    return JsonResponse(
        {
            "viewers": names,
            "banner": banner_text(names),
            "new_messages": count,
            "notice": notice_text(count),
            "seen_at": seen_at.isoformat(),
        }
    )


def _datetime(data):
    """The page's last touch (``seen_at``), or ``None`` if unreadable."""
    try:
        return parse_datetime(data.get("seen_at") or "")
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def urlpatterns(viewset) -> list:
    """This part's URLs under the tickets viewset (agents only)."""
    return [path("<int:pk>/presence/", heartbeat, name="presence")]
