"""Who works with the agents' tools: agents use text modules and see
service targets; editors and moderators (Wagtail's default groups) write
and translate the text modules."""

from django.db import migrations

AGENT_PERMISSIONS = ("view_textmodule", "view_servicetarget")
EDITOR_PERMISSIONS = (
    "add_textmodule",
    "change_textmodule",
    "delete_textmodule",
    "view_textmodule",
)
EDITOR_GROUPS = ("Editors", "Moderators")


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("vivadesk_wagtail")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(codenames):
        return Permission.objects.filter(
            content_type__app_label="vivadesk_wagtail", codename__in=codenames
        )

    for group in Group.objects.filter(name="Help desk agents"):
        group.permissions.add(*permissions(AGENT_PERMISSIONS))
    for group in Group.objects.filter(name__in=EDITOR_GROUPS):
        group.permissions.add(*permissions(EDITOR_PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [
        ("vivadesk_wagtail", "0019_agent_tools"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
