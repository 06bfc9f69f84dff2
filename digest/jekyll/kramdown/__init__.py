"""kramdown-compatible Markdown on markdown-it-py, with maths (MathML, SVG) and highlighted code (Pygments)."""
from .markdown import Code, MarkdownError, MarkdownOptions, MarkdownRenderer, MarkdownResult, Math, fill
from .options import MarkdownConfigError

__all__ = ["Code", "MarkdownConfigError", "MarkdownError", "MarkdownOptions", "MarkdownRenderer", "MarkdownResult",
           "Math", "fill"]
