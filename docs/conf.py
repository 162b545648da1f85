"""Sphinx configuration: the documentation site, built from the Markdown pages in docs/.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` after
``pip install -e '.[docs]'``; the test suite builds it the same way, warnings as errors.
"""

from __future__ import annotations

import points_ledger

project = "points_ledger"
author = "points_ledger contributors"
copyright = "points_ledger contributors, Apache-2.0"
release = points_ledger.__version__
version = release

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
language = "en"

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"points_ledger {release}"


def setup(app: object) -> None:
    """Show ``csv`` code blocks (a roster file in the how-tos) as plain text."""
    from pygments.lexers.special import TextLexer
    from sphinx.highlighting import lexers

    lexers["csv"] = TextLexer()
