import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("vivadesk_wagtail", "0012_inbound_retry"),
    ]

    operations = [
        migrations.AddField(
            model_name="caughtsubmission",
            name="contact_page",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="vivadesk_wagtail.contactpage",
                verbose_name="contact page",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="contact_page",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="vivadesk_wagtail.contactpage",
                verbose_name="contact page",
            ),
        ),
    ]
