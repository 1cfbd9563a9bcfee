"""The documentation site builds with ``mkdocs --strict`` and holds what it promises.

The build uses the notebooks this session already executed (``conftest.executed_notebooks``):
they are written as ``.ipynb`` into a copy of ``docs/`` and rendered without executing again
(``GT_DOCS_EXECUTE=false``); everything else is the real ``mkdocs.yml``. ``make docs`` builds the
same site and executes the notebooks itself.
"""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import api_coverage
import nbformat
import pytest
from notebook_runner import NOTEBOOKS, ROOT, image_outputs


def _site_config(text: str, root: Path) -> str:
    """``mkdocs.yml`` for a copy of ``docs/`` beside it: notebooks as executed ``.ipynb`` and
    the packages read from the repository."""
    replacements = [("paths: [.]", f"paths: [{root}]")]
    replacements += [(f"notebooks/{p.name}", f"notebooks/{p.stem}.ipynb") for p in NOTEBOOKS]
    for old, new in replacements:
        assert old in text, f"mkdocs.yml changed: {old!r} not found"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def site(executed_notebooks, tmp_path_factory):
    """Build the site once; returns ``(site_dir, {notebook stem: image outputs}, seconds)``."""
    work = tmp_path_factory.mktemp("docs_build")
    shutil.copytree(ROOT / "docs", work / "docs",
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    for page in (work / "docs").rglob("*.md"):  # links to the notebooks follow them
        text = page.read_text(encoding="utf-8")
        for path in NOTEBOOKS:
            text = text.replace(f"{path.name})", f"{path.stem}.ipynb)")
        page.write_text(text, encoding="utf-8")
    images = {}
    for path, (notebook, _) in executed_notebooks.all().items():
        (work / "docs" / "notebooks" / path.name).unlink()
        nbformat.write(notebook, work / "docs" / "notebooks" / f"{path.stem}.ipynb")
        images[path.stem] = image_outputs(notebook)
    (work / "mkdocs.yml").write_text(_site_config((ROOT / "mkdocs.yml").read_text(), ROOT))
    env = dict(os.environ, GT_DOCS_EXECUTE="false", NO_MKDOCS_2_WARNING="1")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                           str(work / "mkdocs.yml"), "-d", str(work / "site")],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-4000:]}"
    return work / "site", images, seconds


def test_site_builds_strict(site):
    site_dir, _, seconds = site
    print(f"mkdocs build --strict (notebooks pre-executed): {seconds:.1f} s")
    assert (site_dir / "index.html").is_file()
    assert (site_dir / "benchmarks" / "index.html").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_page_shows_its_plots(site, path):
    site_dir, images, _ = site
    page = (site_dir / "notebooks" / path.stem / "index.html").read_text(encoding="utf-8")
    embedded = page.count('src="data:image/png;base64,')
    assert images[path.stem] >= 1
    assert embedded == images[path.stem], (
        f"{path.stem}: the page embeds {embedded} PNG plots, the notebook drew "
        f"{images[path.stem]}")
    assert "Traceback" not in page


def test_api_reference_covers_every_public_name(site):
    site_dir, _, _ = site
    names = api_coverage.public_names()
    assert len(names) > 200
    assert api_coverage.missing(site_dir) == []
    for page in (site_dir / "api").rglob("*.html"):  # Sphinx roles rewritten (griffe_roles.py)
        assert ":func:`" not in page.read_text(encoding="utf-8"), page


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value and tag in ("a", "img", "link", "script"):
                self.links.append(value)
            if key == "id" and value:
                self.ids.add(value)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_no_broken_internal_link(site):
    # mkdocs --strict checks the links of Markdown pages; this also covers the notebook pages
    # (rendered HTML) and the fragments of every page.
    site_dir, _, _ = site
    pages = {p: _parse(p) for p in site_dir.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith(("//", "data:", "mailto:")):
                continue
            if not parts.path:
                target = page
            elif parts.path.startswith("/"):  # 404.html links from the site root
                target = (site_dir / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site_dir)}: {link}")
            elif parts.fragment and target.suffix == ".html" and target in pages:
                if unquote(parts.fragment) not in pages[target].ids:
                    broken.append(f"{page.relative_to(site_dir)}: {link} (no such anchor)")
    assert not broken, "\n".join(broken[:20])
