"""Extraction is pure except the ingest service, its task and the page fetcher: no Django,
and of the project only the phrase lexicon (forecasts.core.phrases)."""

import pkgutil
import subprocess
import sys

import pytest

import forecasts.extraction

PURE = sorted(
    f"forecasts.extraction.{module.name}"
    for module in pkgutil.iter_modules(forecasts.extraction.__path__)
    if module.name not in {"ingest", "tasks", "fetch"}
)
STEPS = {"sentences", "deadlines", "hedges", "numbers", "propositions", "confidence", "pipeline"}


def test_every_step_of_the_pipeline_is_checked():
    assert {f"forecasts.extraction.{step}" for step in STEPS} <= set(PURE)


@pytest.mark.parametrize("module", ["forecasts.extraction", *PURE])
def test_module_imports_no_django_and_of_the_project_only_the_lexicon(module):
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'sklearn'} "
        "or m.startswith('forecasts.') and not m.startswith('forecasts.extraction.') "
        "and m not in {'forecasts.core', 'forecasts.core.phrases', 'forecasts.extraction'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert result.stdout.strip() == "[]"
