"""draw.py: the DOT text it writes for a known graph, its determinism, and
the SVG pictures Graphviz renders from it.

The DOT tests need only the `graphviz` Python package, which writes DOT by
itself; the rendering tests also need Graphviz's `dot` program. Without
them the tests skip (helpers.need), except under CI, which installs both
and must really run them."""

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import need, need_dot

graphviz = need("graphviz", "requirements-docs.txt")

import draw  # noqa: E402  (draw imports graphviz: only after the check)
from graph import Graph  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
PICTURES = ["xor_forward", "xor_backward", "example_gradient", "digits_loss_forward",
            "digits_loss_backward"]


# The tests that render SVG need Graphviz's dot program too.
@pytest.fixture
def dot():
    need_dot()


FORWARD, GRADIENT, UPDATE = "#d6e6f5", "#fdd9b5", "#e2daf0"


def parse(source):
    """The nodes ({id: {attribute: value}}) and edges ([(from, to,
    {attribute: value})]) of DOT text as draw writes it, in its order."""
    attributes = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')

    def read(text):
        return {k: v.strip('"') for k, v in attributes.findall(text or "")}

    nodes, edges = {}, []
    for line in source.splitlines():
        if edge := re.fullmatch(r'\s*"(\S+)" -> "(\S+)"(?: \[(.*)\])?', line):
            edges.append((edge[1], edge[2], read(edge[3])))
        elif node := re.fullmatch(r'\s*"(\S+)" \[(.*)\]', line):
            nodes[node[1]] = read(node[2])
    return nodes, edges


def product_with_update():
    """y = a * b, its gradients, and an update of a: every stage once."""
    graph = Graph()
    a, b = graph.tensor(np.ones(2)), graph.tensor(np.ones(2))
    y = a * b
    da, db = graph.gradients(y, [a, b])
    update = graph.assign(a, a - da)
    return draw.draw([update, db], forward=[y], gradients=[da, db], names={a: "a", y: "y"})


def test_a_known_graph_gives_known_nodes_edges_and_styles():
    nodes, edges = parse(product_with_update().source)
    labels = {name: attrs["label"] for name, attrs in nodes.items()}
    assert labels == {
        "variable#1": r"a\n(2,)",
        "variable#2": r"variable\n(2,)",
        "mul#3": r"mul\ny",
        "constant#4": "1",  # the seed, ones shaped like y
        "broadcast_to#5": "broadcast_to",
        "mul#6": "mul",  # ∂y/∂a = seed * b
        "mul#7": "mul",  # ∂y/∂b = seed * a
        "sub#8": "sub",
        "assign#9": "assign",
    }
    # Nodes come in the order the tensors were made, and edges after them.
    assert list(nodes) == sorted(nodes, key=lambda name: int(name.split("#")[1]))
    assert [(a, b) for a, b, _ in edges] == [
        ("variable#1", "mul#3"), ("variable#2", "mul#3"),
        ("constant#4", "broadcast_to#5"), ("mul#3", "broadcast_to#5"),
        ("broadcast_to#5", "mul#6"), ("variable#2", "mul#6"),
        ("broadcast_to#5", "mul#7"), ("variable#1", "mul#7"),
        ("variable#1", "sub#8"), ("mul#6", "sub#8"),
        ("variable#1", "assign#9"), ("sub#8", "assign#9"),
    ]
    # Only the shape of y reaches broadcast_to: that edge alone is dotted.
    assert [(a, b) for a, b, attrs in edges if attrs.get("style") == "dotted"] == [
        ("mul#3", "broadcast_to#5")]

    def ops(fill):
        return [name for name, attrs in nodes.items() if attrs.get("fillcolor") == fill]

    assert ops(FORWARD) == ["mul#3"]
    assert ops(GRADIENT) == ["broadcast_to#5", "mul#6", "mul#7"]
    assert ops(UPDATE) == ["sub#8", "assign#9"]
    for name in ops(GRADIENT) + ops(UPDATE):
        assert nodes[name]["style"] == "filled,dashed"
    assert "style" not in nodes["mul#3"]  # the default: filled, solid


def test_the_three_kinds_of_leaf_look_different():
    graph = Graph()
    x, w = graph.tensor(), graph.tensor(np.zeros((4, 3)))
    nodes, _ = parse(draw.draw([x * w + 2.5]).source)
    assert nodes["placeholder#1"] == {"label": "placeholder", "shape": "box"}
    assert nodes["variable#2"]["label"] == r"variable\n(4, 3)"
    assert nodes["variable#2"]["shape"] == "cylinder"
    assert nodes["constant#4"] == {"label": "2.5", "fontcolor": "#666666",
                                   "shape": "plaintext"}


def test_without_forward_every_op_is_forward():
    graph = Graph()
    a = graph.tensor(np.ones(2))
    [da] = graph.gradients(a * a, [a])
    nodes, _ = parse(draw.draw([da]).source)
    fills = {attrs["fillcolor"] for name, attrs in nodes.items() if "variable" not in name
             and "constant" not in name}
    assert fills == {FORWARD}


def test_values_join_the_names_in_the_labels():
    graph = Graph()
    a = graph.tensor(np.ones(2))
    y = graph.sum(a * 1.5)
    nodes, _ = parse(draw.draw([y], names={a: "a", y: "y"}, values={y: 3.0}).source)
    assert nodes["variable#1"]["label"] == r"a\n(2,)"  # named, no value
    assert nodes["sum#4"]["label"] == r"sum\ny = 3"


# The worked example of graph.py carries the names and numbers its prose
# uses, which a session computed: y = (a + b)(b + 1) = 9 at a = 1, b = 2.
def test_the_worked_example_shows_every_value_and_gradient():
    nodes, _ = parse(draw.example_picture()["example_gradient"].source)
    labels = {attrs["label"] for attrs in nodes.values()}
    assert {"a = 1", "b = 2", r"add\nu = 3", r"add\nv = 3", r"mul\ny = 9",
            "∂y/∂y = 1", r"mul\n∂y/∂u = ∂y/∂a = 3",
            r"mul\n∂y/∂v = 3", r"add\n∂y/∂b = 6"} <= labels
    # The forward ops are blue, the gradient ops orange.
    fills = {attrs["label"].split("\\n")[-1]: attrs.get("fillcolor") for attrs in
             nodes.values()}
    assert {fills[n] for n in ["u = 3", "v = 3", "y = 9"]} == {FORWARD}
    assert {fills[n] for n in ["∂y/∂u = ∂y/∂a = 3", "∂y/∂v = 3",
                               "∂y/∂b = 6"]} == {GRADIENT}


def test_building_the_same_graph_twice_gives_the_same_text():
    assert product_with_update().source == product_with_update().source
    first, second = draw.xor_pictures(), draw.xor_pictures()
    first.update(draw.example_picture())
    second.update(draw.example_picture())
    for name in first:
        assert first[name].source == second[name].source


# Walking the graph keeps its own stack, so depth is no problem.
def test_a_deep_graph_draws():
    graph = Graph()
    t = graph.tensor(np.ones(2))
    for _ in range(5_000):
        t = -t
    nodes, edges = parse(draw.draw([t]).source)
    assert len(nodes) == 5_001 and len(edges) == 5_000


@pytest.mark.usefixtures("dot")
def test_rendering_gives_the_same_svg_every_time():
    svg = product_with_update().pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # Each node's id becomes the title of its group in the SVG.
    for title in ["variable#1", "broadcast_to#5", "assign#9"]:
        assert f"<title>{title}</title>" in svg
    assert product_with_update().pipe(format="svg").decode() == svg


# The committed pictures show the graphs the current code builds. The
# positions of things depend on font metrics, which vary between machines,
# so those are left out of the comparison; everything else (nodes, labels,
# colours, edges) must match. A different Graphviz version may write SVG
# differently, so the test runs only with the version that drew them.
GEOMETRY = re.compile(r'\b(points|x|y|cx|cy|rx|ry|width|height|viewBox|transform|d)="[^"]*"')


@pytest.mark.usefixtures("dot")
@pytest.mark.parametrize("name", PICTURES)
def test_the_committed_pictures_are_fresh(tmp_path, name):
    committed = (DOCS / f"{name}.svg").read_text()
    drawn_by = re.search(r"Generated by graphviz version (\S+)", committed)[1]
    installed = ".".join(map(str, graphviz.version()))
    if drawn_by != installed:
        pytest.skip(f"docs/{name}.svg was drawn by Graphviz {drawn_by}, not {installed}")
    draw.save(tmp_path)
    fresh = (tmp_path / f"{name}.svg").read_text()
    assert GEOMETRY.sub("", fresh) == GEOMETRY.sub("", committed), \
        f"docs/{name}.svg is stale: run `python make_docs.py` and commit it"
