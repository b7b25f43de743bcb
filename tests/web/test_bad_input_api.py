"""Bad input on the API's query strings and paths, beyond what schemathesis generates from
the schema: bytes that are not UTF-8, NUL, lone surrogates, and absurd numbers.

(tests/test_api.py runs schemathesis against /api/openapi.json; it only sends
values the schema can describe, which never includes invalid UTF-8.)
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.bad_input import bad_bytes, examples, nasty_text, percent_encoded, stored
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db

PARAMETERS = {
    "/api/forecasts": [
        "q",
        "status",
        "tag",
        "forecaster",
        "source",
        "resolve_by_after",
        "limit",
        "offset",
    ],
    "/api/forecasters": ["limit", "offset"],
    "/api/sources": ["limit", "offset"],
    "/api/scores": ["kind"],
    "/api/snapshots": ["scope_kind", "scope_id", "limit"],
}
ENDPOINTS = [(path, name) for path, names in PARAMETERS.items() for name in names]


def values() -> st.SearchStrategy[bytes]:
    """A query-string value, already percent-encoded."""
    return st.one_of(
        bad_bytes().map(percent_encoded),
        nasty_text().map(lambda text: percent_encoded(text.encode("utf-8"))),
        st.sampled_from(
            [b"%00", b"%ED%A0%80", b"9" * 30, b"-1", b"1e309", b"NaN", b"0x10", b"%FF"]
        ),
    )


@examples
@given(endpoint=st.sampled_from(ENDPOINTS), value=values())
def test_query_strings_are_answered_without_a_server_error(client, endpoint, value):
    ForecastFactory()
    path, name = endpoint
    before = stored()
    response = client.get(f"{path}?{name}=" + value.decode("ascii"))
    assert response.status_code in (200, 400), (path, name, value, response.status_code)
    if response.status_code == 400:  # says which parameter is wrong
        assert [error["param"] for error in response.json()["errors"]] == [name]
    assert stored() == before


@examples
@given(slug=values())
def test_detail_paths_are_answered_without_a_server_error(client, slug):
    response = client.get("/api/forecasts/" + slug.decode("ascii"))
    assert response.status_code in (400, 404), (slug, response.status_code)
