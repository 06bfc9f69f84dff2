"""Jekyll as it is: its Liquid dialect (:mod:`.liquid`), kramdown-compatible Markdown with maths and
highlighted code (:mod:`.kramdown`).

Self-contained: these modules import only the standard library and third-party packages; the rendering
stage (:mod:`digest.render`) wires them into the pipeline. Import from the modules themselves: importing one
(say, the highlighter) loads no other.
"""
