"""Build the tutorial in docs/: the pictures, then one page per module.

    python make_docs.py               # everything, into docs/
    python make_docs.py FOLDER        # everything, into FOLDER
    python make_docs.py --pages-only  # the pages alone (no Graphviz, no matplotlib)

The pictures are the graphs that draw.py draws with Graphviz (which needs its
`dot` program) and the plots of real training runs that plots.py (XOR) and
digits_pictures.py (the digits chapter) draw with matplotlib. The pages are
the modules in READING_ORDER, rendered by Pycco with the prose beside the
code, plus:

- pycco.css, Pycco's stylesheet followed by ours (style.css), so that ours
  wins wherever the two disagree;
- index.html, a copy of the first page, so that serving the folder shows the
  tutorial at `/`.

Every output is a pure function of the sources, byte for byte: the tests
render the pages into a scratch folder and compare them with docs/.

What it needs beyond requirements.txt is in requirements-docs.txt, and
Graphviz's dot program for the pictures; without them it says in one line
what to install, and exits with status 1.
"""

import argparse
import importlib
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# The pages, in the order a reader reads them. Adding a page is one line
# here (and the navigation line at the top of every module).
PARTS = {
    "Part I, the engine": ["main", "graph", "tensor", "ops", "session"],
    "Part II, beyond the engine": ["eager", "control_flow", "nn_ops", "digits", "tf_test",
                                   "tf_digits", "compiler", "exercises", "solutions"],
}
READING_ORDER = [name for names in PARTS.values() for name in names]

# Every page is a module of the same name, but the exercises' solutions,
# which are the tests that check them.
SOURCES = {"solutions": "tests/test_exercises.py"}


def source_of(name):
    return ROOT / SOURCES.get(name, f"{name}.py")

STYLE = ROOT / "style.css"

# The Python packages each part needs, all from requirements-docs.txt.
PAGES_NEED = ["pycco", "pygments", "markdown", "latex2mathml"]
PICTURES_NEED = ["graphviz", "matplotlib"]
NO_DOT = ("Graphviz is not installed, and its dot program draws the pictures: "
          "apt-get install graphviz, or brew install graphviz; "
          "`python make_docs.py --pages-only` renders the pages without the pictures")


def missing(pictures):
    """One line saying what is missing to install, or None if nothing is."""
    for name in PAGES_NEED + (PICTURES_NEED if pictures else []):
        try:
            importlib.import_module(name)
        except ImportError:
            return f"{name} is not installed: pip install -r requirements-docs.txt"
    if pictures and shutil.which("dot") is None:
        return NO_DOT
    return None


def render_pages(folder):
    """Write every page of READING_ORDER, pycco.css and index.html to folder."""
    # The docs packages are imported where they are used, so that the
    # tests can read READING_ORDER without them, and `missing` can say
    # what to install before anything fails.
    import pycco_resources

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in READING_ORDER:
        (folder / f"{name}.html").write_bytes(render_page(name, folder))
    css = pycco_resources.css + "\n/* Ours, after Pycco's: style.css */\n\n"
    (folder / "pycco.css").write_text(css + STYLE.read_text(encoding="utf-8"),
                                      encoding="utf-8")
    shutil.copyfile(folder / f"{READING_ORDER[0]}.html", folder / "index.html")


def navigation(page):
    """The line every page opens with: both parts, every page, this one in bold."""
    link = lambda name: f"**[{name}]({name}.html)**" if name == page else f"[{name}]({name}.html)"
    return "<br>\n".join(f"*{part}:* " + "&nbsp;· ".join(map(link, names))
                          for part, names in PARTS.items())


# Formulas are written in the comments as LaTeX between dollar signs, $x^2$
# inline and $$x^2$$ on a line of their own, and typeset here as MathML,
# which browsers render natively: nothing is fetched when a page is read.
# Each formula is set aside before Markdown sees the prose (LaTeX's `_` and
# `*` would read as emphasis) and put back, typeset, afterwards.
FORMULA = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$([.,;:)]*)", re.S)


def render_page(name, folder):
    """One page's HTML: Pycco's, with the navigation, formulas and viewport."""
    import pycco.main
    from latex2mathml.converter import convert

    source = str(source_of(name))
    code = Path(source).read_text(encoding="utf-8")
    language = pycco.main.get_language(source, code)
    sections = pycco.main.parse(code, language)
    sections[0]["docs_text"] = navigation(name) + "\n\n" + sections[0]["docs_text"]
    formulas = []

    # An inline formula keeps the punctuation after it on its line.
    def set_aside(match):
        block, inline, punctuation = match.groups()
        mathml = convert(" ".join((block or inline).split()),
                         display="block" if block else "inline")
        # A thin space after log, exp and max, which MathML would set flush
        # against their argument.
        mathml = re.sub(r"(<mi>(?:log|exp|max)</mi>)", r'\1<mspace width="0.167em" />',
                        mathml)
        # A prime is already a raised glyph: set after its letter, not above.
        mathml = re.sub(r"<msup>(<mi>[^<]*</mi>|<mrow>.*?</mrow>)<mi>(&#x0203[23];)</mi></msup>",
                        r"\1<mo>\2</mo>", mathml)
        if punctuation:
            mathml = f'<span class="nowrap">{mathml}{punctuation}</span>'
        formulas.append(mathml)
        return f"FORMULA{len(formulas) - 1}X"

    for section in sections:
        section["docs_text"] = FORMULA.sub(set_aside, section["docs_text"])
    pycco.main.highlight(sections, language, preserve_paths=False, outdir=str(folder))
    # Every picture links to itself, to be seen full size.
    for section in sections:
        html = re.sub(r"FORMULA(\d+)X", lambda m: formulas[int(m[1])],
                      section["docs_html"])
        section["docs_html"] = re.sub(r'<img [^>]*src="([^"]+)"[^>]*>',
                                      r'<a href="\1">\g<0></a>', html)
    html = pycco.main.generate_html(source, sections, preserve_paths=False,
                                    outdir=str(folder)).decode("utf-8")
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    return html.replace("<head>", "<head>\n  " + viewport, 1).encode("utf-8")


def draw_pictures(folder):
    """Draw the graphs (Graphviz) and plot the training runs (matplotlib)."""
    import digits_pictures
    import draw
    import plots

    Path(folder).mkdir(parents=True, exist_ok=True)
    draw.save(folder)
    plots.save(folder)
    digits_pictures.save(folder)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "docs"),
                        help="where to write (default: docs/)")
    parser.add_argument("--pages-only", action="store_true",
                        help="render the pages without redrawing the pictures")
    args = parser.parse_args(argv)
    if problem := missing(pictures=not args.pages_only):
        sys.exit(problem)
    if not args.pages_only:
        draw_pictures(args.folder)
    render_pages(args.folder)


if __name__ == "__main__":
    main()
