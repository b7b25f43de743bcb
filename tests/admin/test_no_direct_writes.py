"""No admin module writes rows itself: every write goes through a domain's service.

Read from the source, so a new ``obj.save()`` in an admin fails here before review.
A dictionary merge is written ``{**a, **b}`` in these modules, not ``.update()``.
Django's own defaults write rows too, unseen in the source: every admin of this app
derives from the site's ModelAdmin, whose defaults refuse instead.
"""

import ast
from pathlib import Path

import pytest
from django.contrib import admin

from forecasts.admin.site import ModelAdmin

ADMIN = Path(__file__).resolve().parents[2] / "forecasts" / "admin"

#: Model, queryset, manager, related-manager and formset methods that write rows.
WRITES = {
    "save",
    "delete",
    "update",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "save_m2m",
    "set",
    "add",
    "remove",
    "clear",
}


def _writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.name}:{node.lineno}: .{node.func.attr}(…)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]


def test_the_admin_modules_are_all_read():
    assert {path.name for path in ADMIN.glob("*.py")} >= {"site.py", "forecasts.py", "core.py"}


@pytest.mark.parametrize("path", sorted(ADMIN.glob("*.py")), ids=lambda path: path.name)
def test_no_admin_module_writes_rows_itself(path):
    assert _writes(path) == []


def test_the_guard_finds_a_write(tmp_path):
    module = tmp_path / "sneaky.py"
    module.write_text(
        "def save_model(self, request, obj, form, change):\n"
        "    obj.save()\n"
        "    Tag.objects.filter(pk=1).update(name='x')\n"
        "    obj.tags.set([])\n"
    )
    assert _writes(module) == [
        "sneaky.py:2: .save(…)",
        "sneaky.py:3: .update(…)",
        "sneaky.py:4: .set(…)",
    ]


def test_every_admin_of_this_app_refuses_djangos_default_writes():
    ours = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "forecasts"
    ]
    assert len(ours) >= 10
    assert [type(a).__name__ for a in ours if not isinstance(a, ModelAdmin)] == []
