"""Tickets remember when their customer last opened them in the portal.

Existing tickets count as seen now, so "My requests" does not mark every
old staff reply as new.
"""

from django.db import migrations, models
from django.db.models.functions import Now


def seen_now(apps, schema_editor):
    apps.get_model("vivadesk_wagtail", "Ticket").objects.update(customer_seen_at=Now())


class Migration(migrations.Migration):
    dependencies = [
        ("vivadesk_wagtail", "0014_contact_field_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="customer_seen_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="seen by the customer",
            ),
        ),
        migrations.RunPython(seen_now, migrations.RunPython.noop, elidable=True),
    ]
