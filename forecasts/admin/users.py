"""Django's user admin, saying plainly why someone who acted on the record is not deleted.

Who resolved, extended, amended or recorded something is kept with it (PROTECT). Django
would list those rows under "your account doesn't have permission to delete", since no
one may delete them; here it lists them as what they are, protected records
(deactivate the account instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

if TYPE_CHECKING:
    _UserAdmin = UserAdmin[User]
else:
    _UserAdmin = UserAdmin  # generic only in django-stubs


class TrackerUserAdmin(_UserAdmin):
    def get_deleted_objects(
        self, objs: Sequence[User] | QuerySet[User], request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # The record's rows are protected, not merely beyond this account's permissions.
        return deleted, counts, (set() if protected else perms_needed), protected


admin.site.unregister(User)
admin.site.register(User, TrackerUserAdmin)
