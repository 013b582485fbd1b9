# `make docs` renders the tutorial into docs/, one page per module, in reading
# order. tests/test_docs.py renders into a scratch folder with
# `make pages DOCS=...` and fails if docs/ differs from the result.
PAGES = main.py graph.py tensor.py ops.py session.py tf_test.py
DOCS ?= docs

.PHONY: docs pages

docs: pages

pages:
	pycco -d $(DOCS) $(PAGES) > /dev/null
