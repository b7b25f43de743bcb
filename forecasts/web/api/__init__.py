"""The read-only JSON API: endpoints (:mod:`.endpoints`, where ``api`` is), response and
query schemas (:mod:`.schemas`), the 400 for bad parameters (:mod:`.errors`) and the docs
page (:mod:`.docs`). The forecast filters and the paginator are the public side's own
(:mod:`forecasts.web.filters`, :mod:`forecasts.web.pagination`): the CSV export and the
pages share them."""
