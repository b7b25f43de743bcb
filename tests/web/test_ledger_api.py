"""The ledger's public doors: /api/ledger and its head, the feeds' head, the page cache,
and the verifier docs/LEDGER.md gives to anyone, run on an export."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import get_args

import pytest
from django.conf import settings

from forecasts.core.ledger.canonical import GENESIS_HASH, chain_hash
from forecasts.core.ledger.models import ActorRole, EventKind, LedgerChain
from forecasts.core.services import estimate_record
from forecasts.core.services.forecasts import forecasts_publish
from forecasts.models import Forecast, LedgerEntry
from forecasts.web.api import schemas
from forecasts.web.feeds import LEDGER_NS
from tests.conftest import REPO
from tests.ledger import full_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    return full_history()


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def export(client, path="/api/ledger?limit=2"):
    """Every item of every page, following the ``next`` links."""
    items = []
    while path:
        page = get(client, path)
        items += page["items"]
        path = page["next"] and page["next"].removeprefix(settings.SITE_URL)
    return items


def test_the_ledger_lists_entries_in_order_with_their_exact_payloads(client, history):
    items = export(client)
    entries = list(LedgerEntry.objects.filter(chain="record").order_by("seq"))
    assert [item["seq"] for item in items] == [1, 2, 3, 4, 5, 6]
    assert [item["kind"] for item in items] == [
        "publication",
        "estimate",
        "amendment",
        "extension",
        "resolution",
        "correction",
    ]
    for item, entry in zip(items, entries, strict=True):
        assert item["payload"] == entry.payload
        assert item["hash"] == entry.hash
        assert item["forecast"] == "deal-by-2025"
        assert item["actor"] in {"editor", "reviewer"}
        assert set(item) == {"seq", "recorded_at", "kind", "forecast", "actor", "payload", "hash"}
    # Role terms only: no user name or e-mail anywhere.
    assert "alice" not in json.dumps(items)


def test_schema_enums_are_the_models_choices():
    assert list(get_args(schemas.ChainValue)) == LedgerChain.values
    assert list(get_args(schemas.KindValue)) == EventKind.values
    assert list(get_args(schemas.ActorValue)) == ActorRole.values


def test_the_ledger_filters_by_after_and_by_forecast(client, history):
    page = get(client, "/api/ledger?after=4")
    assert [item["seq"] for item in page["items"]] == [5, 6]
    assert page["count"] == 2
    assert get(client, "/api/ledger?forecast=deal-by-2025")["count"] == 6
    assert get(client, "/api/ledger?forecast=no-such-forecast")["count"] == 0
    assert get(client, "/api/ledger?chain=synthetic")["count"] == 0


def test_the_head_is_the_last_entry(client, history):
    last = LedgerEntry.objects.order_by("-seq").first()
    assert get(client, "/api/ledger/head") == {"chain": "record", "seq": 6, "hash": last.hash}
    assert get(client, "/api/ledger/head?chain=synthetic") == {
        "chain": "synthetic",
        "seq": 0,
        "hash": GENESIS_HASH,
    }


@pytest.mark.parametrize(
    ("query", "param"),
    [("chain=nope", "chain"), ("after=-1", "after"), ("after=x", "after")],
)
def test_bad_parameters_get_a_400_naming_them(client, db, query, param):
    response = client.get(f"/api/ledger?{query}")
    assert response.status_code == 400
    assert [error["param"] for error in response.json()["errors"]] == [param]


def test_a_new_entry_changes_the_cached_head_and_pages(
    client, history, django_capture_on_commit_callbacks
):
    before = get(client, "/api/ledger/head")
    count = get(client, "/api/ledger")["count"]
    # A draft's estimate is not public: no entry, the cached head stands.
    estimate_record(forecast=history.draft, probability=0.6, basis="number")
    assert get(client, "/api/ledger/head") == before
    with django_capture_on_commit_callbacks(execute=True):
        forecasts_publish(forecasts=Forecast.objects.filter(pk=history.draft.pk))
    after = get(client, "/api/ledger/head")
    assert after["seq"] == before["seq"] + 1
    assert after["hash"] == LedgerEntry.objects.get(seq=after["seq"]).hash
    assert get(client, "/api/ledger")["count"] == count + 1


@pytest.mark.parametrize("path", ["/feeds/forecasts.atom", "/feeds/resolutions.atom"])
def test_the_feeds_carry_the_head_in_their_own_namespace(client, history, path):
    response = client.get(path)
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed, not untrusted)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    head = root.find(f"{{{LEDGER_NS}}}ledgerHead")
    last = LedgerEntry.objects.order_by("-seq").first()
    assert head.attrib == {"chain": "record", "seq": "6", "hash": last.hash}


# --- The verifier of docs/LEDGER.md ----------------------------------------------------


def verifier(tmp_path):
    text = (REPO / "docs" / "LEDGER.md").read_text(encoding="utf-8")
    code = re.findall(r"```python\n(.*?)```", text, re.S)[-1]
    assert len(code.strip().splitlines()) <= 20
    path = tmp_path / "verify.py"
    path.write_text(code, encoding="utf-8")
    return path


def run(script, items, tmp_path, *head):
    saved = tmp_path / "export.json"
    saved.write_text(json.dumps(items), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), str(saved), *map(str, head)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_documented_verifier_accepts_an_honest_export_and_a_kept_head(
    client, history, tmp_path
):
    script = verifier(tmp_path)
    kept = get(client, "/api/ledger/head")
    # Later entries do not change what the kept head vouches for.
    forecasts_publish(forecasts=Forecast.objects.filter(pk=history.draft.pk))
    items = export(client)
    result = run(script, items, tmp_path, kept["seq"], kept["hash"])
    assert result.returncode == 0, result.stderr
    last = LedgerEntry.objects.order_by("-seq").first()
    assert result.stdout.strip() == f"OK: 7 entries, head 7 {last.hash}"


def test_the_documented_verifier_refuses_a_rewritten_past(client, history, tmp_path):
    script = verifier(tmp_path)
    kept = get(client, "/api/ledger/head")
    items = export(client)

    # A rewritten payload: its hash no longer follows.
    forged = [dict(item) for item in items]
    forged[1]["payload"] = forged[1]["payload"].replace('"probability":0.45', '"probability":0.95')
    result = run(script, forged, tmp_path)
    assert result.returncode == 1
    assert "entry 2: out of order, not canonical JSON, or its hash does not follow" in result.stderr

    # The whole chain re-hashed after the forgery is consistent, but misses the kept head.
    previous = GENESIS_HASH
    for item in forged:
        item["hash"] = previous = chain_hash(previous, item["payload"])
    assert run(script, forged, tmp_path).returncode == 0
    result = run(script, forged, tmp_path, kept["seq"], kept["hash"])
    assert result.returncode == 1
    assert "the head you kept (#6) is not in this chain" in result.stderr

    # A missing entry, and a payload that is not canonical.
    assert run(script, items[:2] + items[3:], tmp_path).returncode == 1
    loose = [dict(item) for item in items]
    loose[0]["payload"] = loose[0]["payload"].replace(",", ", ", 1)
    assert "entry 1:" in run(script, loose, tmp_path).stderr
