"""A clone anywhere but this workplace has no ../shared: the tests that read the seed
article's text skip there, saying why, and fail in CI, which has it (issue 16, 11)."""

from __future__ import annotations

import pytest

from tests.conftest import SEED_ARTICLE, seed_article_text


def test_without_the_article_its_tests_skip_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    missing = tmp_path / "shared" / "seeds" / "article.txt"
    with pytest.raises(pytest.skip.Exception, match="not part of the repository"):
        seed_article_text(missing)


def test_in_ci_a_missing_article_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI provides it"):
        seed_article_text(tmp_path / "article.txt")


def test_the_article_is_read_when_it_is_there(tmp_path):
    article = tmp_path / "article.txt"
    article.write_text("The most likely scenario is that a deal will remain out of reach.")
    assert seed_article_text(article).startswith("The most likely scenario")
    assert SEED_ARTICLE.name.endswith(".txt")
