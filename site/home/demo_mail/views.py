"""Views of the "Demo mail" page (development only, see the package)."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from vivadesk_wagtail import conf

from . import mail

#: Mails shown on the page (newest first).
MAX_LISTED = 100


def enabled() -> bool:
    return bool(settings.DEBUG and getattr(settings, "VIVADESK_DEMO_MAIL", False))


def demo_only(view):
    """404 unless ``DEBUG`` and ``VIVADESK_DEMO_MAIL`` are both on."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not enabled():
            raise Http404("The demo mail page is off.")
        return view(request, *args, **kwargs)

    return wrapper


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 6})
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)


class NewMailForm(forms.Form):
    sender = forms.EmailField(
        label=_("From (your address)"),
        help_text=_(
            "Mail from an unknown or unconfirmed address is held for staff "
            "(Help desk › Held mail) instead of opening a ticket."
        ),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))
    attachment = forms.FileField(label=_("Attachment"), required=False)


def _context(**extra) -> dict:
    return {
        "sent_dir": mail.sent_mail_path(),
        "inbox_dir": mail.target_inbox(),
        "helpdesk_email": conf.helpdesk_email(),
        **extra,
    }


@demo_only
def index(request):
    directory = mail.sent_mail_path()
    mails = mail.sent_mails(directory)[:MAX_LISTED] if directory else []
    staff = mail.staff_addresses()
    entries = [(m, mail.is_to_customer(m, staff)) for m in mails]
    return render(request, "home/demo_mail/index.html", _context(entries=entries))


@demo_only
@require_http_methods(["GET", "POST"])
def reply(request, file: str, index: int):
    directory = mail.sent_mail_path()
    original = mail.find(directory, f"{file}/{index}") if directory else None
    if original is None or not mail.is_to_customer(original):
        raise Http404("No such mail to a customer.")
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        message = mail.build_reply(
            original, form.cleaned_data["text"], form.cleaned_data["attachment"]
        )
        mail.deliver(message)
        return redirect(reverse("demo_mail:done") + "?placed=reply")
    return render(
        request,
        "home/demo_mail/reply.html",
        _context(original=original, form=form),
    )


@demo_only
@require_http_methods(["GET", "POST"])
def new(request):
    form = NewMailForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        message = mail.build_new(
            data["sender"], data["subject"], data["text"], data["attachment"]
        )
        mail.deliver(message)
        return redirect(reverse("demo_mail:done") + "?placed=new")
    return render(request, "home/demo_mail/new.html", _context(form=form))


@demo_only
def done(request):
    return render(
        request,
        "home/demo_mail/done.html",
        _context(is_reply=request.GET.get("placed") == "reply"),
    )
