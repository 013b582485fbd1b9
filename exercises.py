# # exercises.py: change the engine, and check your change
#
# You have now read all of it: a graph that records a computation, ops
# that know their derivatives, a backward pass that strings those
# derivatives together with the chain rule, and a session that runs the
# result. The surest test of having understood it is to change it. Each
# exercise below asks for a small change or a small program on top of the
# engine, says what you should see when it works, and gives a hint.
#
# Every exercise has a worked solution in the project's
# `tests/test_exercises.py`, rendered as the next page,
# [solutions](solutions.html), and checked the way the engine itself is checked:
# gradients against finite differences, training against main.py's known
# numbers or against the same arithmetic written out in NumPy. Try each
# one before you look. The same tests check your own solutions too: see
# the last section, "Checking your solutions".
#
# To check a gradient of your own, use the tests' helper,
# `check_gradients(build, *values)` from tests/helpers.py: it builds
# `y = build(*xs)` from one tensor per value, and compares every gradient
# `graph.gradients(y, xs)` returns with central finite differences,
# `(f(x + ε) − f(x − ε)) / 2ε`, element by element.
#
# ## Exercise 0: A scalar engine, from nothing
#
# Before changing this engine, write a small one: graph mode for single
# numbers, in about 60 lines. A `Node` holds a number (a variable) or an
# op and its input nodes; `+`, `*`, `-` and a `sigmoid` method build nodes;
# `evaluate(node)` computes a node's value (recursion is fine at this
# size); and `gradients(y, xs)` returns *nodes* for $∂y/∂x$, built with
# Kahn's algorithm as graph.py's are, so that `gradients` of a gradient
# gives a second derivative. Check it against central differences, and
# check that $y = x^3$ at $x = 3$ gives 27, 27 and 18 for $y$, $y'$ and
# $y''$.
#
# *Hint:* give each op a forward rule on numbers and a backward rule that
# builds nodes: for `mul`, $(g \cdot b,\ g \cdot a)$. Count each node's
# uses on a walk back from `y` first; a node joins the queue when its last
# use has sent its gradient.
#
# ## Exercise 1: Biases, and where `sum_to` comes from
#
# Give main.py's network a bias in each layer, a vector `b0` of 4 numbers
# added to the hidden layer's inputs and `b1` of one number added to the
# output's: `σ(X · weights0 + b0)` and `σ(activations0 · weights1 + b1)`.
# Train all four tensors with the same update as main.py. Then walk back
# from the gradient of `b0` and list the kinds of the ops you meet: there
# is now a `sum_to`, and there was none in main.py's backward pass.
#
# *Hint:* `X · weights0` has shape (4, 4) and `b0` shape (4,), so the add
# broadcasts `b0` over the 4 rows: each element of `b0` is used four times,
# and its gradient is the sum of four. ops.py's `AddOp.gradient` sums
# every input's gradient back to that input's shape; the sum is only
# built when the shapes differ, which is why main.py, where nothing
# broadcasts, has none.
#
# ## Exercise 2: A `tanh` op
#
# Add an op `tanh(x)`, the hyperbolic tangent, with its forward rule and
# its gradient, and check the gradient against finite differences on a
# scalar, a vector and a matrix, fed as placeholders too. Then check its
# *second* derivative, `tanh''(x) = −2 tanh(x) (1 − tanh²(x))`, without
# writing any more code.
#
# *Hint:* `tanh'(x) = 1 − tanh²(x)`, a function of the op's own output,
# just like the sigmoid's `σ(1 − σ)`: write `gradient` as `SigmoidOp`'s is
# written. A new op is a subclass of `BaseOp`; `TanhOp([x], graph).output`
# builds one without touching graph.py. The second derivative comes free
# because the gradient you wrote is made of ops, which have gradients of
# their own (tests/helpers.py's `derivative_of` builds it for you).
#
# ## Exercise 3: The learning rate as a placeholder
#
# main.py's update subtracts the whole gradient: a learning rate of 1,
# fixed when the graph is built. Make the rate a placeholder, `rate =
# graph.tensor()`, and the update `w − rate · g`. Feed `{rate: 1.0}` and
# you should get main.py's losses to the last digit (0.400740028636 in the
# first epoch, 0.000823083078 in the last); then change the rate from one
# epoch to the next, a schedule that decays, without building anything new.
#
# *Hint:* a placeholder must be fed in every run that needs it, and the
# update needs it; fetching `loss` alone does not. Forget it and the
# session tells you which tensor has no value.
#
# ## Exercise 4: Minibatches through `feed_dict`
#
# Make the inputs and the targets placeholders instead of variables, and
# feed them in every run. Feeding all four rows every epoch must give
# main.py's losses exactly. Then train on minibatches: each epoch, feed two
# rows chosen at random. The network should still learn XOR (a loss below
# 0.01 on all four rows after 5,000 such steps).
#
# *Hint:* nothing in the model says how many rows there are. With
# placeholders the static shapes are unknown, so the shape checks and the
# mean's division happen at run time: `spread`, the mean's gradient,
# reads the size of the batch it was fed when it runs.
#
# ## Exercise 5: Momentum, built from `assign`
#
# Gradient descent with momentum keeps a velocity `v` for each weight, a
# running sum of past gradients, and steps along it:
#
#     v ← μ v + g
#     w ← w − rate · v
#
# Build it with what the engine has: one variable per velocity, starting
# at zeros, and four `assign`s in one `group`. With μ = 0.9 and a rate of
# 0.5, check it epoch by epoch against the same updates in NumPy, and
# compare its loss after 1,000 epochs with plain gradient descent's.
#
# *Hint:* all the assignments of one run read the values from *before* the
# run, and the session writes them only after it. So the weight's update
# must use the new velocity tensor, `μ v + g`, not the variable `v`, which
# still holds the old one.
#
# ## Exercise 6: A Hessian-vector product
#
# The Hessian `H` of a scalar `y` is the matrix of its second derivatives,
# `H[i, j] = ∂²y/∂x_i∂x_j`: n² numbers for n inputs, too many to form for a
# real network. But `H v`, for one vector `v`, costs about as much as a
# gradient. Compute it with two calls to `gradients`, and check it two
# ways: on `y = mean((A x)²)`, whose Hessian is `(2/3) AᵀA` for a 3-by-3
# `A`, and on main.py's loss against finite differences of the gradient,
# `(∇y(x + εv) − ∇y(x − εv)) / 2ε`.
#
# *Hint:* `gradients(y, xs)` differentiates the *sum* of `y`'s elements.
# With `g = ∇y`, the sum of `g · v` is `Σ_j g_j v_j`, and its gradient
# with respect to `x_i` is `Σ_j H[i, j] v_j`: exactly `(H v)_i`.
#
# ## Exercise 7: The naive queue, and what it costs
#
# graph.py's `gradients` holds a tensor back until every use of it has
# reported. Write the naive pass it replaces (graph.py sketches it): a
# queue of (tensor, gradient) pairs, where each op's `gradient` is called
# for every partial gradient the moment it arrives, and the parts that
# reach `x` are added up at the end. Check that it gives the same
# gradient. Then count the ops each version adds (`graph.count` before and
# after) on a chain of diamonds, each level using the one before twice:
#
#     t = x
#     for _ in range(levels):
#         t = t * c + t * c
#
# *Hint:* with `c = 0.75` every level multiplies by 1.5, so the gradient
# is `1.5 ** levels`. `gradients` adds the same number of ops per level;
# the naive pass adds twice as many at each level as at the one before,
# about a hundred times more than `gradients` by ten levels, and over a
# million times more by thirty.
#
# ## Checking your solutions
#
# The tests in tests/test_exercises.py reach each exercise's solution
# through its functions, by name. Write yours with the same names, the
# same arguments and the same results, in a file of your own, say
# `mine.py`:
#
# - exercise 0: `Node`, `evaluate(node)` and `gradients(y, xs)`, your
#   scalar engine;
# - exercise 1: `model_with_biases(graph, w0, b0, w1, b1)`, the loss,
#   built in `graph` from those four tensors;
# - exercise 2: `tanh(x)`, the output tensor of your tanh op applied to
#   `x`;
# - exercise 3: `model_with_rate()`, returning `(loss, update, rate, (w0,
#   w1))`: main.py's model with the rate a placeholder;
# - exercise 4: `model_on_placeholders(w0, w1)`, returning `(inputs,
#   targets, loss, update, (w0, w1))`, from the starting weights' values;
# - exercise 5: `model_with_momentum(momentum)`, returning `(loss, update,
#   weights, velocities)`, the last two lists of two variables, at a rate
#   of 0.5;
# - exercise 6: `hessian_vector_product(y, x, v)`, the tensor `H v`;
# - exercise 7: `naive_gradients(y, x)`, the tensor of dy/dx, by the
#   naive queue.
#
# Then run
#
#     python exercises.py mine.py
#
# and the tests call your functions in place of the project's. An exercise
# your file lacks a function for is skipped, so you can check them one at a
# time; further arguments go to pytest (`-k exercise_2` runs one
# exercise's tests). `python exercises.py` alone checks the project's
# solutions. The file's path reaches the tests in the environment
# variable `SOLUTIONS`.
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    import pytest

    args = sys.argv[1:]
    if args and args[0].endswith(".py"):
        os.environ["SOLUTIONS"] = str(Path(args.pop(0)).resolve())
    tests = Path(__file__).resolve().parent / "tests" / "test_exercises.py"
    sys.exit(pytest.main([str(tests), *args]))


# ## Further reading
#
# - Atılım Güneş Baydin, Barak Pearlmutter, Alexey Radul and Jeffrey
#   Siskind, ["Automatic Differentiation in Machine Learning: a
#   Survey"](https://arxiv.org/abs/1502.05767) (JMLR, 2018): forward and
#   reverse mode, and how they relate to symbolic and numeric
#   differentiation, with the field's own names for everything here.
# - Andrej Karpathy, [micrograd](https://github.com/karpathy/micrograd):
#   reverse mode for scalars in about 100 lines, recording as it computes,
#   as a tape does (eager.py), where exercise 0 builds a graph first.
# - Christopher Olah, ["Calculus on Computational Graphs:
#   Backpropagation"](https://colah.github.io/posts/2015-08-Backprop/)
#   (2015): forward and reverse accumulation on small graphs, with
#   pictures, and why reverse wins when there are many inputs and one
#   output.
# - Ian Goodfellow, Yoshua Bengio and Aaron Courville, [*Deep
#   Learning*](https://www.deeplearningbook.org) (2016), §6.5,
#   "Back-Propagation and Other Differentiation Algorithms": the same
#   algorithm as graph.py's, symbol-to-symbol derivatives included.
# - TensorFlow's own `gradients`, in its source file
#   `tensorflow/python/ops/gradients_util.py`: `_MarkReachedOps` finds
#   the ops that depend on the xs, as the walk that makes graph.py's `live`
#   does, and `_PendingCount` gives each op the number of gradients still
#   to arrive, which is graph.py's `waiting` (counted per op there, per
#   tensor here). Its loop releases an op when that count reaches zero, as
#   ours does.
#
# Next: the worked [solutions](solutions.html).
