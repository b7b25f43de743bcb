"""Article text → candidate forecasts (pure, no Django), and the ingest service that stores
them as drafts (:mod:`forecasts.extraction.ingest`)."""
