"""Every page under docs/ runs as written: its python blocks, in order, as one program, in a temporary folder.
Each figure a page draws (a PNG it writes) must be linked from the page and committed beside it
(``images/<chapter>/``, refreshed by ``python docs/render_images.py``).
(docs/keras.md has its own test, which also checks what it prints.)"""

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name != "keras.md")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_runs(page, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, f"{page.name} has no python block to run"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": page.stem}
    for index, block in enumerate(blocks):
        exec(compile(block, f"docs/{page.relative_to(DOCS)} block {index}", "exec"), namespace)
    text = page.read_text(encoding="utf-8")
    chapter = page.name.split(".")[0]
    for png in sorted(p.name for p in tmp_path.glob("*.png")):
        link = f"images/{chapter}/{png}"
        assert f"]({link})" in text, f"{page.name} draws {png} but does not link it as {link}"
        assert (page.parent / link).is_file(), f"{link} is not committed (run python docs/render_images.py)"
