# # draw.py: pictures of a graph
#
# A graph is easier to follow as a picture than as a list of ops. This
# module draws one with [Graphviz](https://graphviz.org): `draw` turns the
# tensors that some fetches depend on into a Graphviz description (the DOT
# language), and Graphviz lays it out and renders it, here as SVG. Run
# `python draw.py docs` to redraw the pictures that the tutorial shows.
#
# It reads the graph from outside and changes nothing in it, so the four
# core modules know nothing about it.
import sys
from pathlib import Path

import graphviz
import numpy as np

import main
from graph import Graph
from session import Session

# ## How things look
#
# An op is an ellipse labelled with its kind, filled by the stage that built
# it: blue for the forward graph, orange for what `gradients` added, purple
# for the update that applies the gradients. Ops added after the forward
# graph also have a dashed outline, so the difference survives printing in
# grey.
#
# The three kinds of leaf get three shapes: a placeholder is an empty box, a
# slot to feed; a variable is a green cylinder, a store that keeps its value
# between runs; a constant, the plain number that `graph.convert` wrapped
# (the 1 in `x + 1`), is just its value in grey.
STAGES = {
    "forward": {"fillcolor": "#d6e6f5"},
    "gradient": {"fillcolor": "#fdd9b5", "style": "filled,dashed"},
    "update": {"fillcolor": "#e2daf0", "style": "filled,dashed"},
}
LEAVES = {
    "placeholder": {"shape": "box"},
    "variable": {"shape": "cylinder", "style": "filled", "fillcolor": "#dcefd6",
                 "margin": "0.04,0.04"},
    "constant": {"shape": "plaintext", "fontcolor": "#666666"},
}

# `sum_to`, `broadcast_to`, `expand` and `spread` read only the *shape* of their
# second input, `like`. Its edge is dotted, since no value flows along it, and
# drawn at least two ranks long, so that the dots can be seen.
SHAPE_ONLY = {"sum_to", "broadcast_to", "expand", "spread"}
SHAPE_EDGE = {"style": "dotted", "penwidth": "1.5", "minlen": "2"}


# ## Walking the graph
#
# No list of all tensors exists: a graph is known only through the tensors
# we hold, and each op's inputs lead further back. `walk` follows them with
# an explicit stack (graphs can be 100,000 ops deep, too deep for
# recursion) and returns every tensor that `tensors` depend on, themselves
# included.
def walk(tensors):
    seen = set()
    stack = list(tensors)
    while stack:
        t = stack.pop()
        if t not in seen:
            seen.add(t)
            stack.extend(t.op.inputs if t.op else ())
    return seen


# ## Drawing
#
# `draw(fetches)` draws everything the fetches depend on. The engine keeps
# no record of which ops `gradients` made, but what we hold tells us. Every
# op that the tensors in `forward` (the model's output, say) depend on is
# forward; every other op that the tensors in `gradients` depend on was
# made by `gradients`; what remains was built later still, the update.
# Without `forward`, every op counts as forward.
#
# `names` maps tensors to labels: a name replaces a leaf's kind and goes
# under an op's. `values` maps named scalar tensors to the numbers a
# session computed for them, which join their names: `u = 3`, or `add`
# above `u = 3`.
#
# Node ids are the tensors' own names, such as `dot#5`, and nodes and edges
# are written in the order the tensors were made. Building the same graph
# again gives the same numbers, and so the same DOT text, and Graphviz
# turns the same text into the same SVG, byte for byte.
def draw(fetches, forward=None, gradients=(), names=None, values=None):
    values = values or {}
    names = {t: f"{name} = {values[t]:g}" if t in values else name
             for t, name in (names or {}).items()}
    tensors = sorted(walk(fetches), key=lambda t: t.number)
    forward = walk(forward) if forward is not None else set(tensors)
    backward = walk(gradients) - forward

    picture = graphviz.Digraph(
        graph_attr={"rankdir": "TB", "nodesep": "0.08", "ranksep": "0.25", "margin": "0"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "height": "0.3",
                   "margin": "0.02,0.01", "style": "filled", "fillcolor": "white"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"},
    )
    for t in tensors:
        if t.op is not None:
            stage = "forward" if t in forward else "gradient" if t in backward else "update"
            label = f"{t.op.kind}\\n{names[t]}" if t in names else t.op.kind
            picture.node(repr(t), label, **STAGES[stage])
        else:  # a leaf's name, such as `variable#2`, starts with its kind
            kind = repr(t).split("#")[0]
            picture.node(repr(t), leaf_label(t, kind, names.get(t)), **LEAVES[kind])
    for t in tensors:
        for i, x in enumerate(t.op.inputs if t.op else ()):
            shape_only = i == 1 and t.op.kind in SHAPE_ONLY
            picture.edge(repr(x), repr(t), **(SHAPE_EDGE if shape_only else {}))
    return picture


# A leaf's label is its name, or else its kind, with its shape beneath
# unless it is a scalar. An unnamed scalar constant shows its value (`1`,
# `2`), which says more than the word "constant" would.
def leaf_label(t, kind, name):
    if kind == "placeholder":
        return name or kind
    if np.ndim(t.initial_value) == 0:
        return name or (f"{t.initial_value:g}" if kind == "constant" else kind)
    return f"{name or kind}\\n{np.shape(t.initial_value)}"


# ## The tutorial's pictures
#
# The XOR model of main.py, built exactly as training builds it. Its leaves
# are found by their values, so that they can carry the names main.py gives
# them. `build_model` keeps the gradients to itself, but the update reveals
# them: it groups two assignments, each of `w - g` to its `w`.
def xor_pictures():
    weights = main.initial_weights()
    loss, update, output = main.build_model(*weights)
    values = {"inputs": main.X, "targets": main.y,
              "weights0": weights[0], "weights1": weights[1]}
    names = {loss: "loss", output: "activations1"}
    for t in walk([loss]):
        for name, value in values.items():
            if np.array_equal(t.initial_value, value):
                names[t] = name
    gradients = [assign.op.inputs[1].op.inputs[1] for assign in update.op.inputs]
    names.update(zip(gradients, ["∂loss/∂weights0", "∂loss/∂weights1"]))
    return {
        "xor_forward": draw([loss], names=names),
        "xor_backward": draw([update, loss], forward=[loss], gradients=gradients,
                             names=names),
    }


# The worked example of graph.py: `y = (a + b) * (b + 1)` at a = 1, b = 2,
# differentiated with respect to both of its inputs, drawn with the names
# the prose gives its tensors: u = a + b, v = b + 1, and ∂y/∂t for the
# gradients. The adds pass their gradient on unchanged, so the tensor that
# is ∂y/∂u is also ∂y/∂a; `b` is used twice, so its gradient is a sum.
# The other gradients are found among the ops that `gradients` added
# (those ∂y/∂b depends on but `y` does not): ∂y/∂y is the seed,
# `broadcast_to`, and ∂y/∂v = ∂y/∂y · u is the `mul` that reads `u`.
#
# Every number in the picture is one a session computed, not one typed
# here: all the named tensors are run, and their values join the labels.
def example_picture():
    graph = Graph()
    a, b = graph.tensor(1.0), graph.tensor(2.0)
    u, v = a + b, b + 1
    y = u * v
    du, db = graph.gradients(y, [a, b])
    backward = [t for t in walk([db]) - walk([y]) if t.op is not None]
    dy = next(x for t in backward for x in t.op.inputs if x.constant)  # the seed, 1
    dv = next(t for t in backward if t.op.kind == "mul" and u in t.op.inputs)
    names = {a: "a", b: "b", u: "u", v: "v", y: "y", dy: "∂y/∂y",
             du: "∂y/∂u = ∂y/∂a", dv: "∂y/∂v", db: "∂y/∂b"}
    values = dict(zip(names, Session(graph).run(list(names))))
    return {"example_gradient": draw([y, du, db], forward=[y], gradients=[du, db],
                                     names=names, values=values)}


# The loss of the digits chapter (digits.py): the fused cross-entropy of a
# batch of logits against its labels, averaged, before and after
# `gradients(loss, [logits])`. Logits and labels are placeholders, as in
# training, so no shape is known while building, and the backward pass
# keeps its `spread` and `expand`.
def digits_loss_pictures():
    graph = Graph()
    labels, logits = graph.tensor(), graph.tensor()
    losses = graph.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    loss = graph.mean(losses)
    (grad,) = graph.gradients(loss, [logits])
    names = {labels: "labels", logits: "logits", loss: "loss", grad: "∂loss/∂logits"}
    return {
        "digits_loss_forward": draw([loss], names=names),
        "digits_loss_backward": draw([loss, grad], forward=[loss], gradients=[grad],
                                     names=names),
    }


# `python draw.py FOLDER` writes each picture to FOLDER as SVG, at the size
# Graphviz lays it out, with 11-point labels: about the size of the
# prose's letters when a page shows the picture at that size (style.css
# gives a picture the width of the page, and shrinks only one wider).
def save(folder):
    pictures = {**xor_pictures(), **example_picture(), **digits_loss_pictures()}
    for name, picture in pictures.items():
        Path(folder, f"{name}.svg").write_bytes(picture.pipe(format="svg"))


if __name__ == "__main__":
    save(*sys.argv[1:] or ["docs"])
