"""Seed the ticket counter (so the first tickets never race to create it) and
create the "Help desk agents" group with the permissions it needs."""

from django.db import migrations

AGENT_PERMISSIONS = [
    ("wagtailadmin", "admin", "access_admin"),
    ("vivadesk_wagtail", "ticket", "view_ticket"),
    ("vivadesk_wagtail", "outboundemail", "view_outboundemail"),
    ("vivadesk_wagtail", "category", "view_category"),
    ("vivadesk_wagtail", "category", "add_category"),
    ("vivadesk_wagtail", "category", "change_category"),
]


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    apps.get_model("vivadesk_wagtail", "TicketCounter").objects.get_or_create(
        name="ticket", defaults={"value": 0}
    )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Help desk agents")
    for app_label, model, codename in AGENT_PERMISSIONS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model=model,
            codename=codename,
        ).first()
        if permission:
            group.permissions.add(permission)


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Help desk agents").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("vivadesk_wagtail", "0001_initial"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
