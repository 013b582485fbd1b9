"""The rendered tutorial in docs/: fresh, linked, and in reading order."""

import filecmp
import functools
import re
import subprocess
import sys
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import pytest
from helpers import missing, need
from packaging.requirements import Requirement

from make_docs import PAGES_NEED, READING_ORDER, source_of

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [DOCS / f"{name}.html" for name in READING_ORDER]


class Links(HTMLParser):
    """Collects every href and every id or name an anchor can point at."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.anchors = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):  # links, and pictures
            if key in attrs:
                self.hrefs.append(attrs[key])
        for key in ("id", "name"):
            if key in attrs:
                self.anchors.add(attrs[key])


# Each page is parsed once, however many links point into it.
@functools.cache
def parse(page):
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def render(folder, *options):
    """Run the README's docs command, as a reader would, into folder."""
    subprocess.run([sys.executable, "make_docs.py", str(folder), *options],
                   cwd=ROOT, check=True)


def test_the_reading_order_is_every_rendered_module():
    # Every page in the reading order is a module, and every page in docs/
    # (but the index, a copy of the first) is in the reading order.
    assert all(source_of(name).is_file() for name in READING_ORDER)
    rendered = {p.stem for p in DOCS.glob("*.html")} - {"index"}
    assert rendered == set(READING_ORDER)


# The committed pages are byte-identical to a fresh render only with the
# pygments and markdown that rendered them: their ranges in
# requirements-docs.txt. Outside them a difference says nothing about docs/.
def check_the_renderers_are_the_committed_pages_ones():
    lines = (ROOT / "requirements-docs.txt").read_text(encoding="utf-8").splitlines()
    pinned = [Requirement(line) for line in lines if line.startswith(("pygments", "markdown"))]
    assert sorted(r.name for r in pinned) == ["markdown", "pygments"]
    for requirement in pinned:
        installed = version(requirement.name)
        if installed not in requirement.specifier:
            missing(f"docs/ was rendered with {requirement}, not {installed}, which "
                    f"renders it differently: pip install -r requirements-docs.txt")


def test_another_pygments_is_named_rather_than_called_stale(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setitem(globals(), "version",
                        lambda name: "2.19.1" if name == "pygments" else version(name))
    with pytest.raises(pytest.skip.Exception,
                       match=r"rendered with pygments<2.21,>=2.20, not 2.19.1"):
        check_the_renderers_are_the_committed_pages_ones()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not 2.19.1"):
        check_the_renderers_are_the_committed_pages_ones()


def test_committed_docs_equal_a_fresh_render(tmp_path):
    for module in PAGES_NEED:
        need(module, "requirements-docs.txt")
    check_the_renderers_are_the_committed_pages_ones()
    render(tmp_path, "--pages-only")
    rendered = sorted(p.name for p in tmp_path.iterdir())
    assert rendered == sorted([f"{name}.html" for name in READING_ORDER]
                              + ["index.html", "pycco.css"])
    committed = sorted(p.name for p in DOCS.iterdir() if p.suffix in (".html", ".css"))
    assert committed == rendered
    match, mismatch, errors = filecmp.cmpfiles(DOCS, tmp_path, rendered, shallow=False)
    assert mismatch == [] and errors == [], \
        "docs/ is stale: run `python make_docs.py` and commit it"


def test_the_index_opens_the_tutorial():
    # Serving docs/ shows the first page at `/`: the index is that page,
    # byte for byte, so that all its relative links work from there too.
    first = DOCS / f"{READING_ORDER[0]}.html"
    assert (DOCS / "index.html").read_bytes() == first.read_bytes()


def test_our_stylesheet_comes_after_pycco_s():
    css = (DOCS / "pycco.css").read_text(encoding="utf-8")
    ours = (ROOT / "style.css").read_text(encoding="utf-8")
    assert css.endswith(ours)
    assert css.index("#background") < css.index(ours)


# The plots are drawn by matplotlib from a training run; with the version
# that drew them, a fresh drawing is the same file byte for byte.
def test_the_committed_plots_are_fresh(tmp_path):
    matplotlib = need("matplotlib", "requirements-docs.txt")
    import plots

    committed = {name: (DOCS / f"{name}.svg").read_bytes()
                 for name in ["xor_loss", "xor_output"]}
    for name, svg in committed.items():
        drawn_by = re.search(rb"Matplotlib v(\S+),", svg)[1].decode()
        if drawn_by != matplotlib.__version__:
            pytest.skip(f"docs/{name}.svg was drawn by matplotlib {drawn_by}")
    plots.save(tmp_path)
    for name, svg in committed.items():
        assert (tmp_path / f"{name}.svg").read_bytes() == svg, \
            f"docs/{name}.svg is stale: run `python make_docs.py` and commit it"


@pytest.mark.parametrize("page", PAGES, ids=READING_ORDER)
def test_every_local_link_and_anchor_resolves(page):
    for href in parse(page).hrefs:
        if re.match(r"[a-z]+:", href):  # http:, https:, mailto: are not ours to check
            continue
        target, _, anchor = href.partition("#")
        target_page = DOCS / target if target else page
        assert target_page.is_file(), f"{page.name} links to missing {href}"
        if anchor:
            assert anchor in parse(target_page).anchors, f"{page.name}: no #{anchor}"


@pytest.mark.parametrize("index", range(len(PAGES)), ids=READING_ORDER)
def test_each_page_opens_with_the_navigation_and_points_to_the_next(index):
    hrefs = [h for h in parse(PAGES[index]).hrefs if h.endswith(".html")]
    # The navigation line comes first and lists every page, in reading order.
    assert hrefs[: len(PAGES)] == [p.name for p in PAGES]
    # After it, the page links onward: to the next page, the last back to main.
    following = PAGES[(index + 1) % len(PAGES)].name
    assert following in hrefs[len(PAGES):], f"{PAGES[index].name} has no link to {following}"


@pytest.mark.parametrize("name", READING_ORDER)
def test_every_class_and_function_is_shown_as_code(name):
    # Pycco takes a line that starts with three quotes for a docstring's
    # end, and renders what follows as prose: a class swallowed that way
    # would be missing from the code column.
    source = source_of(name).read_text(encoding="utf-8")
    page = (DOCS / f"{name}.html").read_text(encoding="utf-8")
    names = re.findall(r"^(?:class|def) (\w+)", source, re.MULTILINE)
    shown = re.findall(r'class="(?:nc|nf)">(\w+)<', page)
    assert "DIVIDER" not in page and set(names) <= set(shown), set(names) - set(shown)


@pytest.mark.parametrize("name", READING_ORDER)
def test_code_fits_the_code_column(name):
    # Pycco's code column shows about 85 characters; longer lines are cut off.
    lines = source_of(name).read_text(encoding="utf-8").splitlines()
    wide = [i for i, line in enumerate(lines, 1) if len(line) > 85]
    assert wide == [], f"{name}.py lines {wide} are wider than the rendered code column"


@pytest.mark.parametrize("name", READING_ORDER)
def test_blocks_in_the_prose_fit_the_prose_column(name):
    # At 1024 px the prose column has 320 px for text, room for 46 characters
    # of its 11 px monospace: a longer line of a preformatted block (a comment
    # line indented four spaces past the #) would run under the code.
    lines = source_of(name).read_text(encoding="utf-8").splitlines()
    blocks = [(i, m.group(1)) for i, line in enumerate(lines, 1)
              if (m := re.match(r"\s*# {5}(.*)$", line))]
    wide = [i for i, text in blocks if len(text) > 46]
    assert wide == [], f"{name}.py lines {wide}: prose blocks wider than 46 characters"
