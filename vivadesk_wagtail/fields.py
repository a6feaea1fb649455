"""Form fields shared by the contact page, the portal and the admin."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .services import uploads


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Any number of files in one ``<input type="file" multiple>``, cleaned
    into a list of checked ``uploads.Upload`` (count, size, content). A
    refused file makes the form invalid before anything is written."""

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
            raise ValidationError(exc.messages) from exc
