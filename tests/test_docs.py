"""The README stays an entry page, and the documents it links to exist."""

from __future__ import annotations

import re

import pytest

from stack.settings import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
PENDING: set[str] = set()
"""Paths linked before they exist (none now: `make screenshot` writes docs/board.png)."""


def test_readme_is_an_entry_page() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(page) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)\)", page.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        path = (page.parent / target).resolve()
        if path.relative_to(REPO_ROOT).as_posix() not in PENDING:
            assert path.exists(), f"{page.name} links to missing {target}"
