"""The language server (`archdsl lsp`): the compiler's own checks, shapes and fixes where
people type. Needs the `lsp` extra (pygls, lsprotocol); nothing else in archdsl imports it.

    workspace.py   documents, checks (analysis.py), views, diagnostics per file
    text.py        protocol lines and positions, edits, offsets through edits
    convert.py     spans, diagnostics and URIs in protocol terms
    target.py      what the cursor is on;  nodes.py  the IR nodes behind an item
    hover.py  formulas.py  navigation.py  symbols.py  completion.py  actions.py  inlay.py
    server.py      pygls wiring (stdio)
"""
