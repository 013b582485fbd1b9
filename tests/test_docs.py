"""The rendered tutorial in docs/: fresh, linked, and in reading order."""

import filecmp
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
READING_ORDER = ["main", "graph", "tensor", "ops", "session", "tf_test"]
PAGES = [DOCS / f"{name}.html" for name in READING_ORDER]


class Links(HTMLParser):
    """Collects every href and every id or name an anchor can point at."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.anchors = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        for key in ("id", "name"):
            if key in attrs:
                self.anchors.add(attrs[key])


def parse(page):
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def test_the_makefile_renders_the_pages_in_reading_order():
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"^PAGES = (.*)$", makefile, re.M).group(1).split()
    assert listed == [f"{name}.py" for name in READING_ORDER]


def test_committed_docs_equal_a_fresh_render(tmp_path):
    subprocess.run(["make", "-s", "pages", f"DOCS={tmp_path}"], cwd=ROOT, check=True)
    rendered = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in DOCS.iterdir() if p.suffix in (".html", ".css"))
    assert committed == rendered
    match, mismatch, errors = filecmp.cmpfiles(DOCS, tmp_path, rendered, shallow=False)
    assert mismatch == [] and errors == [], "docs/ is stale: run `make docs` and commit it"


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
def test_code_fits_the_code_column(name):
    # Pycco's code column shows about 85 characters; longer lines are cut off.
    lines = (ROOT / f"{name}.py").read_text(encoding="utf-8").splitlines()
    wide = [i for i, line in enumerate(lines, 1) if len(line) > 85]
    assert wide == [], f"{name}.py lines {wide} are wider than the rendered code column"
