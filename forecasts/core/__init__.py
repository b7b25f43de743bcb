"""The record: sources, forecasters, tags, forecasts, estimates, resolutions, extensions and
reviewer assignments; who may resolve what; the phrase lexicon; the seed. Every other
domain builds on this one, and this one imports none of them."""
