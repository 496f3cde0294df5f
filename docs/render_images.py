"""Render the figures the docs pages draw and link each from its page.

Runs every python block of every page under docs/ in order (as tests/docs/test_docs_pages.py does), in a temporary
folder; each PNG a block writes is copied to ``images/<chapter>/`` beside the page, and a Markdown image link to it is
put right after that block if the page does not link it yet. English and Chinese pages of a chapter share the folder
(their code is the same). Run it after changing a page that plots: ``python docs/render_images.py``.
"""

import os
import pathlib
import re
import shutil
import tempfile

import matplotlib

matplotlib.use("Agg")

DOCS = pathlib.Path(__file__).resolve().parent
BLOCK = re.compile(r"```python\n(.*?)```", flags=re.S)


def chapter(page):
    return page.name.split(".")[0]


def render(page):
    text = page.read_text(encoding="utf-8")
    images = page.parent / "images" / chapter(page)
    namespace = {"__name__": page.stem}
    inserts = []  # (position after the block, [png names])
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            for index, match in enumerate(BLOCK.finditer(text)):
                before = set(os.listdir(tmp))
                exec(compile(match.group(1), f"{page.name} block {index}", "exec"), namespace)
                new = sorted(n for n in set(os.listdir(tmp)) - before if n.endswith(".png"))
                if new:
                    images.mkdir(parents=True, exist_ok=True)
                    for name in new:
                        shutil.copyfile(os.path.join(tmp, name), images / name)
                    inserts.append((match.end(), new))
        finally:
            os.chdir(cwd)
    for end, names in reversed(inserts):
        links = [f"![{name[:-4]}](images/{chapter(page)}/{name})" for name in names
                 if f"](images/{chapter(page)}/{name})" not in text]
        if links:
            text = text[:end] + "\n\n" + "\n".join(links) + text[end:]
    page.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    for page in sorted(DOCS.rglob("*.md")):
        if BLOCK.search(page.read_text(encoding="utf-8")):
            render(page)
            print("rendered", page.relative_to(DOCS))
