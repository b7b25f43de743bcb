"""slug_path() gives exactly what reverse() gives, for every slug route and prefix."""

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from forecasts.core.paths import slug_path
from tests.factories import ForecastFactory, TagFactory

ROUTES = ("forecasts:detail", "forecasts:forecaster", "forecasts:source", "forecasts:tag")
SLUGS = ("a", "seed-2019-dprk-waits", "synthetic_source_0240", "0slug-marker0", "X" * 200)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("slug", SLUGS)
def test_the_same_path_as_reverse(route, slug):
    assert slug_path(route, slug) == reverse(route, args=[slug])


@pytest.mark.parametrize("route", ROUTES)
def test_a_script_prefix_is_kept(route):
    set_script_prefix("/tracker/")
    try:
        assert slug_path(route, "some-slug") == reverse(route, args=["some-slug"])
        assert slug_path(route, "some-slug").startswith("/tracker/")
    finally:
        clear_script_prefix()
    assert not slug_path(route, "some-slug").startswith("/tracker/")


@pytest.mark.parametrize("value", ["", "two words", "a/b", "ünïcode", "x?y"])
def test_what_is_not_a_slug_is_refused_as_reverse_refuses_it(value):
    with pytest.raises(NoReverseMatch):
        reverse("forecasts:detail", args=[value])
    with pytest.raises(NoReverseMatch):
        slug_path("forecasts:detail", value)


def test_the_models_link_to_their_pages(db):
    forecast = ForecastFactory()
    tag = TagFactory()
    assert tag.get_absolute_url() == reverse("forecasts:tag", args=[tag.slug])
    assert forecast.get_absolute_url() == reverse("forecasts:detail", args=[forecast.slug])
    assert forecast.forecaster.get_absolute_url() == reverse(
        "forecasts:forecaster", args=[forecast.forecaster.slug]
    )
    assert forecast.source.get_absolute_url() == reverse(
        "forecasts:source", args=[forecast.source.key]
    )
