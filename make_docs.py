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
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# The pages, in the order a reader reads them. Adding a page is one line
# here (and the navigation line at the top of every module).
READING_ORDER = [
    "main",
    "graph",
    "tensor",
    "ops",
    "session",
    "compiler",
    "eager",
    "digits",
    "tf_test",
    "tf_digits",
    "exercises",
]

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
    import pycco.main
    import pycco_resources

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in READING_ORDER:
        html = pycco.main.generate_documentation(
            str(ROOT / f"{name}.py"), outdir=str(folder), preserve_paths=False)
        (folder / f"{name}.html").write_bytes(html)
    css = pycco_resources.css + "\n/* Ours, after Pycco's: style.css */\n\n"
    (folder / "pycco.css").write_text(css + STYLE.read_text(encoding="utf-8"),
                                      encoding="utf-8")
    shutil.copyfile(folder / f"{READING_ORDER[0]}.html", folder / "index.html")


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
