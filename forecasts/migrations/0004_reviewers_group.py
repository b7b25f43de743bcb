"""The "Reviewers" group, holding the permission to resolve forecasts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Reviewers"


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure ours exists
    # now. The historical app config lacks models_module, which create_permissions
    # checks only to skip apps without models.
    app_config = apps.get_app_config("forecasts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label="forecasts",
        codename__in=["resolve_forecast", "view_forecast", "view_resolution", "add_resolution"],
    )
    group.permissions.add(*permissions)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("forecasts", "0003_review_workflow"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
