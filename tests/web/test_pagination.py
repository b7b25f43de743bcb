"""forecasts/web/pagination.py: one core for the API's paginator and the HTML pages' pages."""

import datetime as dt

import pytest
from django.urls import reverse

from forecasts.models import Forecast
from forecasts.web.pagination import (
    IdsFirst,
    Window,
    checked_page,
    numbered_page,
    page_number,
    window,
)
from tests.factories import ForecasterFactory, ForecastFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("text", "number"), [(None, 1), ("", 1), ("1", 1), ("12", 12)])
def test_page_number_reads_a_whole_number_from_one(text, number):
    assert page_number(text) == number


@pytest.mark.parametrize("text", ["0", "-1", "x", "1.5", "٣", "9" * 10, " 2"])
def test_page_number_refuses_anything_else_with_a_message(text):
    with pytest.raises(ValueError, match="Page must be a whole number from 1, not "):
        page_number(text)


def test_window_counts_and_slices_a_list_and_a_queryset(django_assert_num_queries):
    assert window(list(range(7)), offset=5, limit=5) == Window(7, [5, 6])
    assert window(list(range(7)), offset=7, limit=5) == Window(7, [])
    ForecastFactory.create_batch(3)
    forecasts = Forecast.objects.order_by("pk")
    every = list(Forecast.objects.order_by("pk"))
    with django_assert_num_queries(2):
        assert window(forecasts, offset=1, limit=5).items == every[1:]
    with django_assert_num_queries(1):  # past the end: no page query
        assert window(forecasts, offset=3, limit=5) == Window(3, [])


def test_ids_first_fetches_only_the_page_rows(django_assert_num_queries):
    ForecastFactory.create_batch(5)
    fetched: list[list[int]] = []

    def rows(ids):
        fetched.append(sorted(ids))
        return Forecast.objects.filter(pk__in=ids).order_by("pk")

    every = list(Forecast.objects.order_by("pk").values_list("pk", flat=True))
    paged = IdsFirst(matching=Forecast.objects.order_by("pk"), rows=rows)
    with django_assert_num_queries(3):  # the count, the page's ids, their rows
        found = window(paged, offset=2, limit=2)
    assert (found.count, [f.pk for f in found.items]) == (5, every[2:4])
    assert fetched == [every[2:4]]
    with django_assert_num_queries(1):  # past the end: the count alone
        assert window(paged, offset=5, limit=2) == Window(5, [])
    assert len(fetched) == 1


def test_numbered_page_has_the_names_of_djangos_page():
    page = numbered_page(list(range(120)), number=2, per_page=50)
    assert page.object_list == list(range(50, 100))
    assert (page.paginator.count, page.paginator.num_pages) == (120, 3)
    assert (page.has_previous(), page.has_next(), page.has_other_pages()) == (True, True, True)
    assert (page.previous_page_number(), page.next_page_number()) == (1, 3)
    only = numbered_page([], number=1, per_page=50)
    assert (only.paginator.num_pages, only.has_other_pages()) == (1, False)


def test_a_page_past_the_last_is_refused_with_a_message():
    with pytest.raises(ValueError, match=r"^Page 4 is past the last page \(3\)\.$"):
        numbered_page(list(range(101)), number=4, per_page=50)
    with pytest.raises(ValueError, match="past the last page"):
        checked_page(Window(0, []), number=2, per_page=50)
    with pytest.raises(ValueError, match="whole number from 1"):
        numbered_page([1], number=0, per_page=50)


@pytest.mark.parametrize("page", ["3", "0", "x"])
def test_the_forecast_list_refuses_a_page_it_does_not_have(client, page):
    for number in range(51):
        ForecastFactory(statement=f"Listed event {number:02d}.", resolve_by=dt.date(2030, 1, 1))
    assert (
        client.get(reverse("forecasts:list"), {"page": "2"}).content.decode().count("Listed event")
        == 1
    )
    response = client.get(reverse("forecasts:list"), {"page": page})
    assert response.status_code == 400
    assert "Page " in response.content.decode()


def test_scope_pages_share_the_message(client):
    person = ForecasterFactory(slug="few")
    ForecastFactory(forecaster=person)
    response = client.get(reverse("forecasts:forecaster", args=["few"]), {"page": 2})
    assert response.status_code == 400
    assert "Page 2 is past the last page (1)." in response.content.decode()
