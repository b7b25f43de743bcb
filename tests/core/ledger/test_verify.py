"""verify_ledger: passes on an honest record, and names the first entry or forecast that
someone with database access rewrote."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from forecasts.core.ledger.verify import LedgerMismatch, ledger_verify
from forecasts.models import Estimate, LedgerEntry, LedgerHead, Resolution
from tests.ledger import full_history, tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    return full_history()


def verify():
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_ledger", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(match):
    with pytest.raises(CommandError, match=match) as caught:
        verify()
    return str(caught.value)


def entry(history, kind):
    return LedgerEntry.objects.get(forecast=history.forecast, kind=kind)


def test_an_honest_record_verifies_with_a_one_line_summary(history):
    out, err = verify()
    assert re.fullmatch(
        r"Ledger verified: 6 entries, 1 forecasts, 2 estimates in \d+\.\d s "
        r"\(heads: record #6 [0-9a-f]{12}, synthetic #0 0{12}\)\.\n",
        out,
    )
    assert "record chain 6/6 entries (100 %)" in err


def test_an_empty_database_verifies(db):
    assert ledger_verify().entries == 0


def test_a_rewritten_payload_is_named_by_chain_and_seq(history):
    estimate = entry(history, "estimate")
    payload = estimate.payload.replace('"probability":0.45', '"probability":0.95')
    assert payload != estimate.payload
    tamper("UPDATE forecasts_ledgerentry SET payload = %s WHERE id = %s", [payload, estimate.pk])
    assert fails(f"Ledger entry record #{estimate.seq}: the hash does not follow")


def test_a_rewritten_payload_with_its_hash_recomputed_breaks_the_next_link(history):
    from forecasts.core.ledger.canonical import chain_hash

    estimate = entry(history, "estimate")
    previous = LedgerEntry.objects.get(seq=estimate.seq - 1)
    payload = estimate.payload.replace('"probability":0.45', '"probability":0.95')
    tamper(
        "UPDATE forecasts_ledgerentry SET payload = %s, hash = %s WHERE id = %s",
        [payload, chain_hash(previous.hash, payload), estimate.pk],
    )
    assert fails(f"Ledger entry record #{estimate.seq + 1}: the hash does not follow")


def test_a_payload_that_is_not_canonical_is_named(history):
    publication = entry(history, "publication")
    tamper(
        "UPDATE forecasts_ledgerentry SET payload = %s WHERE id = %s",
        [publication.payload.replace(",", ", ", 1), publication.pk],
    )
    assert fails(r"Ledger entry record #1: the payload is not canonical JSON\.")


def test_a_rewritten_hash_is_named(history):
    amendment = entry(history, "amendment")
    tamper("UPDATE forecasts_ledgerentry SET hash = %s WHERE id = %s", ["f" * 64, amendment.pk])
    assert fails(f"Ledger entry record #{amendment.seq}: the hash does not follow")


def test_a_deleted_entry_is_named_as_missing(history):
    amendment = entry(history, "amendment")
    tamper("DELETE FROM forecasts_ledgerentry WHERE id = %s", [amendment.pk])
    assert fails(
        rf"Ledger entry record #{amendment.seq} is missing \(next is #{amendment.seq + 1}\)\."
    )


def test_a_deleted_last_entry_leaves_the_head_pointing_past_the_chain(history):
    last = LedgerEntry.objects.order_by("-seq").first()
    tamper("DELETE FROM forecasts_ledgerentry WHERE id = %s", [last.pk])
    assert fails(r"The record chain's head \(#6 .*\) is not its last entry \(#5 ")


def test_a_column_that_disagrees_with_its_payload_is_named(history):
    resolution = entry(history, "resolution")
    tamper("UPDATE forecasts_ledgerentry SET actor = 'import' WHERE id = %s", [resolution.pk])
    assert fails(f"Ledger entry record #{resolution.seq}: the payload's actor")


def test_a_moved_head_is_named(history):
    tamper("UPDATE forecasts_ledgerhead SET hash = %s WHERE chain = 'record'", ["0" * 64])
    assert fails("The record chain's head")


def test_a_rewritten_statement_names_the_forecast_and_the_term(history):
    forecast = history.forecast
    tamper(
        "UPDATE forecasts_forecast SET statement = 'A deal was never likely.' WHERE id = %s",
        [forecast.pk],
    )
    message = fails(f"Forecast {forecast.pk} \\(deal-by-2025\\): statement is")
    # The amended statement is what the ledger says now.
    assert "the ledger says 'A deal <script>x</script> is signed.'" in message


def test_a_moved_deadline_names_the_forecast(history):
    forecast = history.forecast
    tamper("UPDATE forecasts_forecast SET resolve_by = '2030-01-01' WHERE id = %s", [forecast.pk])
    assert fails(f"Forecast {forecast.pk} \\(deal-by-2025\\): resolve_by is '2030-01-01'")


def test_a_rewritten_probability_names_the_forecast_and_the_estimate(history):
    estimate = Estimate.objects.filter(forecast=history.forecast).order_by("pk").first()
    tamper("UPDATE forecasts_estimate SET probability = 0.9 WHERE id = %s", [estimate.pk])
    assert fails(
        rf"Forecast {history.forecast.pk} \(deal-by-2025\): estimate {estimate.pk} differs "
        r"from the ledger \(probability is 0\.9, the ledger says 0\.3\)"
    )


def test_a_deleted_estimate_is_named(history):
    estimate = Estimate.objects.filter(forecast=history.forecast).order_by("pk").last()
    tamper("DELETE FROM forecasts_estimate WHERE id = %s", [estimate.pk])
    assert fails(f"estimate {estimate.pk} is on the ledger but not in the database")


def test_an_estimate_slipped_in_is_named(history):
    tamper(
        "INSERT INTO forecasts_estimate (forecast_id, probability, basis, phrase, negated, "
        "made_on, note, created_at, historical) "
        "SELECT forecast_id, 0.99, basis, phrase, negated, made_on, note, created_at, "
        "historical FROM forecasts_estimate WHERE forecast_id = %s LIMIT 1",
        [history.forecast.pk],
    )
    assert fails(r"\(deal-by-2025\): estimate \d+ is not on the ledger")


def test_a_rewritten_outcome_names_the_forecast_and_both_resolutions(history):
    current = Resolution.objects.get(forecast=history.forecast, is_current=True)
    tamper("UPDATE forecasts_resolution SET outcome = 'NO' WHERE id = %s", [current.pk])
    assert fails(
        rf"Forecast {history.forecast.pk} \(deal-by-2025\): the current resolution is "
        rf"#{current.pk} NO known on .*, the ledger says #{current.pk} YES"
    )


def test_a_draft_published_behind_the_ledger_is_named(history):
    draft = history.draft
    tamper("UPDATE forecasts_forecast SET published_at = created_at WHERE id = %s", [draft.pk])
    assert fails(f"Forecast {draft.pk} \\(deal-by-2025-draft\\) is published but has no")


def test_a_forecast_unpublished_behind_the_ledger_is_named(history):
    forecast = history.forecast
    tamper("UPDATE forecasts_forecast SET published_at = NULL WHERE id = %s", [forecast.pk])
    assert fails(f"Forecast {forecast.pk} \\(deal-by-2025\\) is a draft, yet the ledger has")


def test_the_service_raises_and_reports_the_first_difference_only(history):
    tamper("UPDATE forecasts_ledgerhead SET seq = 99 WHERE chain = 'record'")
    tamper("UPDATE forecasts_forecast SET statement = 'x' WHERE id = %s", [history.forecast.pk])
    with pytest.raises(LedgerMismatch, match=r"^The record chain's head"):
        ledger_verify()
    assert LedgerHead.objects.get(chain="record").seq == 99
