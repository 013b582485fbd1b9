# `make docs` redraws the graph pictures (draw.py, which needs Graphviz's
# `dot` program) and the digits chapter's plots (digits_pictures.py, which
# trains the network for a few seconds), and renders the tutorial into
# docs/, one page per module, in reading order. tests/test_docs.py renders
# into a scratch folder with `make pages DOCS=...`, which needs no Graphviz,
# and fails if docs/ differs.
PAGES = main.py graph.py tensor.py ops.py session.py tf_test.py
DOCS ?= docs

.PHONY: docs pages pictures

docs: pictures pages

pages:
	pycco -d $(DOCS) $(PAGES) > /dev/null

pictures:
	python draw.py $(DOCS)
	python digits_pictures.py $(DOCS)
