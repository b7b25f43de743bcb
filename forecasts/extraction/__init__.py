"""Article text -> candidate forecasts (pure, no Django), and the ingest service that stores
them as drafts (:mod:`forecasts.extraction.ingest`, the one module here that imports Django).

:mod:`~forecasts.extraction.pipeline` puts the steps together and its docstring describes
them; each step is a module: :mod:`~forecasts.extraction.sentences`,
:mod:`~forecasts.extraction.deadlines`, :mod:`~forecasts.extraction.hedges`,
:mod:`~forecasts.extraction.numbers`, :mod:`~forecasts.extraction.propositions` and
:mod:`~forecasts.extraction.confidence`.  :mod:`~forecasts.extraction.quality` measures the
result against hand labels.
"""
