"""kramdown-compatible Markdown on markdown-it-py (:mod:`.markdown`, options in :mod:`.options`), maths to
MathML and SVG (:mod:`.math`) and highlighted code (:mod:`.highlight`).
"""
