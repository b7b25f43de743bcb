"""Publishing a draft (issue 17, 10): refused while its terms are unmade, whichever door
it comes in by, and under an address made from its statement, which then never changes."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from forecasts.core import services as core_services
from forecasts.core.services.publication import (
    EXTRACTION_PLACEHOLDER,
    publication_refusals,
    publication_slug,
)
from forecasts.extraction import ingest
from forecasts.models import Forecast
from tests.core.test_services_editing import terms
from tests.factories import ForecasterFactory, ForecastFactory, SourceFactory

pytestmark = pytest.mark.django_db

PLACEHOLDER_CRITERIA = f"YES if: rates are cut (by 31 March 2025). {EXTRACTION_PLACEHOLDER}"


def draft(**fields):
    return ForecastFactory(published_at=None, **fields)


class TestRefusals:
    def test_extractions_drafts_carry_the_placeholder_the_check_looks_for(self):
        text = "Officials met on Monday. A deal is likely by June 2025."
        source = SourceFactory(text=text, published_on=dt.date(2025, 1, 8))
        drafts = ingest.source_extract(source=source).created
        assert drafts
        assert all(EXTRACTION_PLACEHOLDER in d.resolution_criteria for d in drafts)
        assert all("resolution_criteria" in publication_refusals(d) for d in drafts)

    @pytest.mark.parametrize(
        ("statement", "found"),
        [
            ("A recession in 2027 is unlikely.", "unlikely"),
            ("Rates will PROBABLY fall by June.", "PROBABLY"),
            ("The bill is not likely to pass.", "not likely"),
            ("Unemployment may exceed 5 per cent.", "may"),
            ("There is little doubt the deal closes.", "little doubt"),
        ],
    )
    def test_a_hedge_of_the_lexicon_in_the_statement_is_named(self, statement, found):
        refusal = publication_refusals(draft(statement=statement))["statement"]
        assert f"“{found}”" in refusal

    @pytest.mark.parametrize(
        "statement",
        [
            "The Fed cuts rates in May 2025.",  # the month, not the modal
            "The likelihood ratio test is adopted by the agency.",  # not a whole word
            "Certain officials resign before June.",  # "certain" as "particular"
            "Rates will fall below 3 per cent by June.",  # "will" is no hedge
        ],
    )
    def test_words_that_only_look_like_hedges_pass(self, statement):
        assert publication_refusals(draft(statement=statement)) == {}


class TestDoors:
    def test_publishing_one_draft_is_refused_naming_each_term_to_fix(self):
        unmade = draft(
            statement="A recession in 2027 is unlikely.", resolution_criteria=PLACEHOLDER_CRITERIA
        )
        with pytest.raises(ValidationError) as refused:
            core_services.forecast_publish(forecast=unmade)
        errors = refused.value.message_dict
        assert "“unlikely”" in errors["statement"][0]
        assert "Proposed by extraction" in errors["resolution_criteria"][0]
        unmade.refresh_from_db()
        assert unmade.published_at is None

    def test_saving_with_publish_is_refused_and_nothing_is_saved(self):
        unmade = draft(statement="Typed.")
        with pytest.raises(ValidationError, match="probably"):
            core_services.forecast_update(
                **terms(unmade, statement="Rates will probably fall.", publish=True)
            )
        unmade.refresh_from_db()
        assert (unmade.statement, unmade.published_at) == ("Typed.", None)

    def test_creating_published_is_refused_too(self):
        with pytest.raises(ValidationError, match="likely"):
            core_services.forecast_create(
                slug="deal",
                source=SourceFactory(),
                forecaster=ForecasterFactory(),
                statement="A deal is likely by June.",
                resolution_criteria="YES if a deal is signed by 30 June 2025.",
                made_on=dt.date(2025, 1, 8),
                resolve_by=dt.date(2025, 6, 30),
                probability=0.7,
                publish=True,
            )
        assert not Forecast.objects.filter(slug="deal").exists()

    def test_the_bulk_publish_leaves_unmade_drafts_drafts(self):
        made = draft(statement="Rates fall below 3 per cent by June 2025.")
        unmade = draft(resolution_criteria=PLACEHOLDER_CRITERIA)
        published = core_services.forecasts_publish(
            forecasts=Forecast.objects.filter(pk__in=[made.pk, unmade.pk])
        )
        assert published == 1
        made.refresh_from_db(), unmade.refresh_from_db()
        assert made.published_at is not None
        assert unmade.published_at is None


class TestSlug:
    def test_a_draft_is_published_under_the_slug_of_its_edited_statement(self):
        extracted = draft(slug="rates-outlook-the-pivot-is-coming-x147", statement="Typed.")
        core_services.forecast_update(
            **terms(extracted, statement="The Fed cuts rates at its March 2025 meeting.")
        )
        published = core_services.forecast_publish(forecast=extracted)
        assert published.slug == "the-fed-cuts-rates-at-its-march-2025-meeting"
        assert Forecast.objects.get(pk=extracted.pk).slug == published.slug
        assert published.get_absolute_url() == (
            "/forecasts/the-fed-cuts-rates-at-its-march-2025-meeting/"
        )

    def test_the_slug_stays_unique_and_long_statements_are_cut_at_a_word(self):
        statement = "The Fed cuts rates at its March 2025 meeting."
        ForecastFactory(slug="the-fed-cuts-rates-at-its-march-2025-meeting")
        second, third = draft(statement=statement), draft(statement=statement)
        assert core_services.forecast_publish(forecast=second).slug.endswith("-meeting-2")
        assert core_services.forecast_publish(forecast=third).slug.endswith("-meeting-3")
        long = draft(statement="The central bank " + "raises rates again " * 10 + "in 2025.")
        slug, whole = publication_slug(long), slugify(long.statement)
        assert len(slug) <= 70
        assert whole.startswith(slug + "-")  # cut between words

    def test_an_editor_changing_the_slug_as_they_publish_keeps_it(self):
        typed = draft(slug="x147", statement="The Fed cuts rates in March 2025.")
        core_services.forecast_update(**terms(typed, slug="fed-march-cut", publish=True))
        assert Forecast.objects.get(pk=typed.pk).slug == "fed-march-cut"

    def test_a_published_slug_never_changes(self):
        published = ForecastFactory(slug="kept-address", statement="Old wording.")
        with pytest.raises(ValidationError, match="already published"):
            core_services.forecast_publish(forecast=published)
        assert Forecast.objects.get(pk=published.pk).slug == "kept-address"
