"""Form fields shared by the contact page, the portal and the admin."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import conf
from .services import uploads

#: Stands for a file's name in the messages handed to the browser check.
NAME = "%(name)s"


def browser_check_attrs(max_total: int | None = None) -> dict[str, str]:
    """The ``data-*`` attributes of the file input that ``attachments.js``
    checks files with before they are sent: the limits the server validates
    with (``ATTACHMENT_MAX_SIZE``, ``ATTACHMENT_MAX_COUNT``,
    ``ATTACHMENT_ALLOWED_TYPES``, ``uploads.FORBIDDEN_EXTENSIONS``), read at
    render time, and the messages in the page's language (``%(name)s`` is
    the file's name). ``max_total`` is the room left in the customer's quota.
    """
    max_size = conf.get("ATTACHMENT_MAX_SIZE")
    count = conf.get("ATTACHMENT_MAX_COUNT")
    attrs = {
        "data-vd-attachments": "",
        "data-max-size": str(max_size),
        "data-max-count": str(count),
        "data-allowed-types": " ".join(conf.get("ATTACHMENT_ALLOWED_TYPES")),
        "data-forbidden-extensions": " ".join(sorted(uploads.FORBIDDEN_EXTENSIONS)),
        "data-msg-type": uploads.type_refused_message(NAME),
        "data-msg-size": gettext("“%(name)s” is larger than %(size)s.")
        % {"name": NAME, "size": filesizeformat(max_size)},
        "data-msg-empty": gettext("“%(name)s” is empty.") % {"name": NAME},
        "data-msg-count": gettext(
            "At most %(count)d files can be attached at once: “%(name)s” was not added."
        )
        % {"count": count, "name": NAME},
        "data-label-chosen": gettext("Chosen files"),
        "data-label-remove": gettext("Remove “%(name)s”") % {"name": NAME},
        "data-label-sending": gettext("Sending …"),
        "data-label-progress": gettext("Upload progress"),
    }
    if max_total is not None:
        attrs["data-max-total"] = str(max(max_total, 0))
        attrs["data-msg-total"] = gettext(
            "“%(name)s” does not fit into the storage space left for your "
            "attachments (%(size)s)."
        ) % {"name": NAME, "size": filesizeformat(max(max_total, 0))}
    return attrs


class MultipleFileInput(forms.ClearableFileInput):
    """``<input type="file" multiple>`` carrying the server's limits for the
    browser check (:func:`browser_check_attrs`)."""

    allow_multiple_selected = True
    #: Bytes the files of one post may take together (``None``: no limit);
    #: set per form, e.g. the room left in the customer's quota.
    max_total: int | None = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(browser_check_attrs(self.max_total))
        return context


class AttachmentsField(forms.FileField):
    """Any number of files in one ``<input type="file" multiple>``, cleaned
    into a list of checked ``uploads.Upload`` (count, size, content). A
    refused file makes the form invalid before anything is written; the
    errors name every refused file and ask to choose the files again."""

    default_error_messages = {
        "choose_again": _(
            "Nothing was sent yet. Please choose your files again (without "
            "the ones named above) and send the form once more."
        ),
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        single = super().clean
        files = [single(item, initial) for item in files if item]
        try:
            return uploads.validate(files)
        except ValidationError as exc:
            raise ValidationError(
                [*exc.messages, self.error_messages["choose_again"]]
            ) from exc
