"""The public face: pages, the JSON API, feeds, the CSV export, charts and the page cache.
It reads any domain; nothing below imports it."""
