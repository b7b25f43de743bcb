"""The doors other than the admin write nothing themselves: pages, the API, tasks and
commands call a domain's service, and extraction stores drafts through core's services.

Read from the source, like the admin's guard (tests/admin/test_no_direct_writes.py).
Here caches, sets and dicts are used freely, so a method that also means something
else (``add``, ``set``, ``update``, ...) counts as a write only on a manager or a
queryset (a chain through ``.objects``); the unambiguous ones always count.
"""

import ast
from pathlib import Path

import pytest

FORECASTS = Path(__file__).resolve().parents[2] / "forecasts"
DOORS = sorted(
    {
        *FORECASTS.glob("*/views.py"),
        *FORECASTS.glob("*/tasks.py"),
        *(FORECASTS / "web").rglob("*.py"),
        *(FORECASTS / "management" / "commands").glob("*.py"),
        FORECASTS / "extraction" / "ingest.py",
    }
)
ALWAYS = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
ON_QUERIES = {"create", "update", "add", "set", "remove", "clear"}


def _through_objects(node: ast.expr) -> bool:
    """Whether an expression is a chain through ``.objects`` (``Model.objects.filter(...)``)."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager"):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def writes(source: str, name: str) -> list[str]:
    return [
        f"{name}:{node.lineno}: .{node.func.attr}(…)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (
            node.func.attr in ALWAYS
            or (node.func.attr in ON_QUERIES and _through_objects(node.func.value))
        )
    ]


def test_every_door_is_read():
    names = {path.relative_to(FORECASTS).as_posix() for path in DOORS}
    assert {
        "reviews/views.py",
        "digests/views.py",
        "web/views.py",
        "web/api/endpoints.py",
        "scores/tasks.py",
        "management/commands/ingest_article.py",
        "extraction/ingest.py",
    } <= names


@pytest.mark.parametrize("path", DOORS, ids=lambda path: path.relative_to(FORECASTS).as_posix())
def test_no_door_writes_rows_itself(path):
    assert writes(path.read_text(encoding="utf-8"), path.name) == []


def test_the_guard_finds_writes_and_leaves_caches_alone():
    source = (
        "def view(request, forecast):\n"
        "    forecast.save(update_fields=['slug'])\n"
        "    Forecast.objects.filter(pk=1).update(slug='x')\n"
        "    ReviewLinkUse.objects.create(digest='d')\n"
        "    cache.set('key', 1)\n"
        "    seen.add(forecast.pk)\n"
        "    headers.update({'a': 'b'})\n"
    )
    assert writes(source, "door.py") == [
        "door.py:2: .save(…)",
        "door.py:3: .update(…)",
        "door.py:4: .create(…)",
    ]
