"""factory_boy factories for the forecasts app's models."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from forecasts.core.changes import scored_inputs_changed
from forecasts.models import Basis, Estimate, Forecast, Forecaster, Resolution, Source, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Analysis number {n}")
    url = factory.Sequence(lambda n: f"https://news.example.org/articles/{n}")
    publisher = "Example News"
    published_on = dt.date(2024, 1, 10)


class ForecasterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forecaster

    name = factory.Sequence(lambda n: f"Pundit {n}")
    slug = factory.Sequence(lambda n: f"pundit-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ForecastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Forecast
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"forecast-{n}")
    source = factory.SubFactory(SourceFactory)
    forecaster = factory.SubFactory(ForecasterFactory)
    statement = factory.Sequence(lambda n: f"Event number {n} happens.")
    quote = "It is likely that the event will happen."
    resolution_criteria = "YES if the event happens by the deadline."
    made_on = dt.date(2024, 1, 10)
    resolve_by = dt.date(2024, 12, 31)
    published_at = factory.LazyFunction(timezone.now)
    estimate = factory.RelatedFactory(
        "tests.factories.EstimateFactory", factory_related_name="forecast"
    )


class RecordFactory(factory.django.DjangoModelFactory):
    """Writes a row of the record directly, then announces it as the services do, so the
    live scores follow (a resolution is scored at once)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with transaction.atomic():
            row = super()._create(model_class, *args, **kwargs)
            scored_inputs_changed([row.forecast_id])
        return row


class EstimateFactory(RecordFactory):
    class Meta:
        model = Estimate

    forecast = factory.SubFactory(ForecastFactory, estimate=None)
    probability = 0.7
    basis = Basis.NUMBER
    made_on = factory.SelfAttribute("forecast.made_on")


class ResolutionFactory(RecordFactory):
    class Meta:
        model = Resolution

    forecast = factory.SubFactory(ForecastFactory)
    outcome = "YES"
    known_on = factory.SelfAttribute("forecast.resolve_by")
    evidence_note = "Reported by the wire services."
