"""Contact-form fields get structured choices, ``options``: a label per
language and a stable value shared by all languages.

The ``choices`` text of every existing row becomes ``options`` (Wagtail's
rule: one choice a line, or comma separated on a single line). A field's
rows share a ``translation_key``; the row created first is the source (a
translation is always copied from an existing source row). The source's
values are ``slugify(label)``, made unique within the field; a translated row
keeps its own labels and takes the source's values and block ids by position,
so the values are the same in every language and wagtail-localize finds the
same choices when the source is synchronised again. A translated choice
beyond the source's count gets a value by the same slug rule. Where
wagtail-localize translated the page, each translated label is also stored
as the translation of its source label in the context of its choice (the old
translation was one string for the whole list, a segment that is gone): the
next synchronisation keeps the translated labels instead of falling back to
the source's.

``choices`` is emptied after the conversion, not dropped: the column belongs
to Wagtail's abstract ``AbstractFormField`` (dropping it would mean
redefining Wagtail's model), and an empty text is what nothing reads: the
form builder uses ``options`` only, and wagtail-localize offers no segment
for it, so no stale list is translated or shown again. Going back rebuilds
``choices`` from the labels, one a line.
"""

import uuid

import wagtail.fields
from django.apps import apps as installed_apps
from django.db import migrations
from django.utils.text import slugify

VALUE_MAX_LENGTH = 100
#: wagtail-localize's hash namespaces of ``String.data_hash`` and
#: ``TranslationContext.path_id``.
STRING_NAMESPACE = uuid.UUID("59ed7d1c-7eb5-45fa-9c8b-7a7057ed56d7")
PATH_NAMESPACE = uuid.UUID("fcab004a-2b50-11ea-978f-2e728ce88125")
LOCALIZE = installed_apps.is_installed("wagtail_localize")


def split_choices(text):
    """Wagtail's ``_split_by_newline_or_comma``, empty entries left out."""
    lines = text.strip().splitlines()
    if len(lines) > 1:
        items = [line.strip().rstrip(",").strip() for line in lines]
    else:
        items = [item.strip() for item in text.split(",")]
    return [item for item in items if item]


def slug_value(label, taken):
    """The value of a choice without one: its label's slug, unique in ``taken``
    (the rule of ``models.pages.choice_value`` when this was written)."""
    base = slugify(label)[: VALUE_MAX_LENGTH - 4].strip("-") or "choice"
    value, number = base, 1
    while value in taken:
        number += 1
        value = f"{base}-{number}"
    taken.add(value)
    return value


def source_options(labels):
    """``options`` data of a source row: one block per label."""
    taken = set()
    return [
        {
            "type": "choice",
            "id": str(uuid.uuid4()),
            "value": {"label": label, "value": slug_value(label, taken)},
        }
        for label in labels
    ]


def translated_options(labels, source):
    """``options`` data of a translated row: its own labels, the source's
    values and block ids by position."""
    taken = {block["value"]["value"] for block in source}
    options = []
    for index, label in enumerate(labels):
        if index < len(source):
            block_id, value = source[index]["id"], source[index]["value"]["value"]
        else:
            block_id, value = str(uuid.uuid4()), slug_value(label, taken)
        options.append(
            {
                "type": "choice",
                "id": block_id,
                "value": {"label": label, "value": value},
            }
        )
    return options


def convert_choices(apps, schema_editor):
    """``choices`` text to ``options`` for every locale's rows, then
    ``choices`` emptied."""
    ContactFormField = apps.get_model("vivadesk_wagtail", "ContactFormField")
    rows = ContactFormField.objects.exclude(choices="").order_by("pk")
    sources = {}
    for row in rows:
        labels = split_choices(row.choices)
        source = sources.get(row.translation_key)
        if source is None:
            options = source_options(labels)
            sources[row.translation_key] = (row, options)
        else:
            options = translated_options(labels, source[1])
            keep_label_translations(apps, source[0], row, options, source[1])
        row.options = options
        row.choices = ""
        row.save(update_fields=["options", "choices"])


def keep_label_translations(apps, source_row, row, options, source):
    """Store each translated label of ``row`` as wagtail-localize's
    translation of the source label at the same position, if wagtail-localize
    knows the page."""
    if not LOCALIZE:
        return
    Page = apps.get_model("wagtailcore", "Page")
    TranslatableObject = apps.get_model("wagtail_localize", "TranslatableObject")
    String = apps.get_model("wagtail_localize", "String")
    TranslationContext = apps.get_model("wagtail_localize", "TranslationContext")
    StringTranslation = apps.get_model("wagtail_localize", "StringTranslation")
    page_key = Page.objects.filter(pk=source_row.page_id).values("translation_key")
    page_object = TranslatableObject.objects.filter(
        translation_key__in=page_key
    ).first()
    if page_object is None:
        return
    for block, source_block in zip(options, source, strict=False):
        source_label = source_block["value"]["label"]
        path = f"form_fields.{row.translation_key}.options.{block['id']}.label"
        string, _created = String.objects.get_or_create(
            locale_id=source_row.locale_id,
            data_hash=uuid.uuid5(STRING_NAMESPACE, source_label),
            defaults={"data": source_label},
        )
        context, _created = TranslationContext.objects.get_or_create(
            object=page_object,
            path_id=uuid.uuid5(PATH_NAMESPACE, path),
            defaults={"path": path, "field_path": ""},
        )
        StringTranslation.objects.get_or_create(
            translation_of=string,
            locale_id=row.locale_id,
            context=context,
            defaults={"data": block["value"]["label"], "translation_type": "manual"},
        )


def restore_choices(apps, schema_editor):
    """``options`` labels back into ``choices``, one a line."""
    ContactFormField = apps.get_model("vivadesk_wagtail", "ContactFormField")
    for row in ContactFormField.objects.all():
        labels = [
            child.value["label"]
            for child in row.options
            if child.block_type == "choice"
        ]
        if labels:
            row.choices = "\n".join(labels)
            row.save(update_fields=["choices"])


class Migration(migrations.Migration):
    dependencies = [
        ("vivadesk_wagtail", "0013_ticket_contact_page"),
    ] + (
        [("wagtail_localize", "0016_rename_page_revision_translationlog_revision")]
        if LOCALIZE
        else []
    )

    operations = [
        migrations.AlterModelOptions(
            name="contactformfield",
            options={
                "ordering": ["sort_order"],
                "verbose_name": "form field",
                "verbose_name_plural": "form fields",
            },
        ),
        migrations.AddField(
            model_name="contactformfield",
            name="options",
            field=wagtail.fields.StreamField(
                [("choice", 2)],
                blank=True,
                block_lookup={
                    0: (
                        "wagtail.blocks.CharBlock",
                        (),
                        {"label": "label", "max_length": 255},
                    ),
                    1: (
                        "vivadesk_wagtail.models.pages.ChoiceValueBlock",
                        (),
                        {
                            "help_text": "What requests store for this choice. Left empty, it is made from the label on saving. Once requests have arrived, keep it as it is.",
                            "label": "stored value",
                            "max_length": 100,
                            "required": False,
                        },
                    ),
                    2: (
                        "wagtail.blocks.StructBlock",
                        [[("label", 0), ("value", 1)]],
                        {},
                    ),
                },
                help_text="For drop-down lists, multiple selects, radio buttons and checkboxes: one entry per choice.",
                verbose_name="choices",
            ),
        ),
        migrations.RunPython(convert_choices, restore_choices),
    ]
