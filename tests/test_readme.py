"""What the README promises a reader who clones the repository (issue 16, 12): how to run
the dependency audit where the network allows it, and that the audit is strict."""

from __future__ import annotations

from tests.conftest import REPO


def test_the_readme_says_how_and_where_to_run_the_audit():
    readme = (REPO / "README.md").read_text()
    assert "`make audit`" in readme
    assert "run it where the network allows" in readme
    makefile = (REPO / "Makefile").read_text()
    audit = makefile[makefile.index("\naudit:") :].split("\n\n")[0]
    assert "pip-audit --strict" in audit  # an unreachable service fails, never passes
    assert "ci: " in makefile
    assert "audit" not in makefile[makefile.index("\nci:") :].split("\n")[1]  # not in CI
