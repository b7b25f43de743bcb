"""The record's fixed vocabularies."""

from django.db import models


class DatePrecision(models.TextChoices):
    DAY = "day", "exact day"
    MONTH = "month", "month (day estimated)"
    YEAR = "year", "year (month and day estimated)"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    DUE = "due", "Due"
    RESOLVED = "resolved", "Resolved"
    ANNULLED = "annulled", "Annulled"


class Outcome(models.TextChoices):
    YES = "YES", "Yes"
    NO = "NO", "No"
    ANNULLED = "ANNULLED", "Annulled"


class Basis(models.TextChoices):
    NUMBER = "number", "stated as a number"
    PHRASE = "phrase", "derived from a verbal phrase"
