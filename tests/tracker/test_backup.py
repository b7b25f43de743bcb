"""The README's PostgreSQL backup and restore commands, run for real."""

import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from forecasts.models import Estimate, Forecast, Resolution
from tests.conftest import require_postgresql, skip_outside_ci

pytestmark = pytest.mark.django_db(transaction=True)


def _url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"


def test_pg_dump_and_pg_restore_round_trip_the_data(seeded, tmp_path):
    require_postgresql("the documented backup and restore is PostgreSQL's.")
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if not (pg_dump and pg_restore):
        skip_outside_ci(
            "pg_dump and pg_restore are not installed (apt-get install postgresql-client)."
        )
    dump = tmp_path / "forecasts.dump"
    source = _url(connection.settings_dict["NAME"])
    subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={dump}", source], check=True)
    restored = f"restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(restored)))
    try:
        subprocess.run(
            [pg_restore, "--no-owner", "--exit-on-error", f"--dbname={_url(restored)}", dump],
            check=True,
        )
        with psycopg.connect(_url(restored)) as copy:
            for model in (Forecast, Estimate, Resolution):
                table = model._meta.db_table
                count_rows = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                (count,) = copy.execute(count_rows).fetchone()
                assert count == model.objects.count() > 0, table
            by_slug = sql.SQL("SELECT statement FROM {} WHERE slug = %s").format(
                sql.Identifier(Forecast._meta.db_table)
            )
            (statement,) = copy.execute(by_slug, ["trump-wins-second-term"]).fetchone()
            assert statement == Forecast.objects.get(slug="trump-wins-second-term").statement
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(restored))
            )
