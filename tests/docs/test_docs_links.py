"""A link checker over README.md and docs/: every relative link or image points to a file that exists (anchors and
the web are not followed: the tests run offline; web links must at least be well formed)."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _links(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code is not prose
    return LINK.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_links_resolve(page):
    broken = []
    for target in _links(page):
        if target.startswith(("http://", "https://")):
            if not re.match(r"https?://[\w.-]+\.[a-z]{2,}(/\S*)?$", target):
                broken.append(f"{target} (malformed web address)")
            continue
        if target.startswith(("#", "mailto:")):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_the_checker_finds_links():
    assert len(_links(ROOT / "README.md")) >= 30  # the docs and tutorial links: the pattern still matches them
