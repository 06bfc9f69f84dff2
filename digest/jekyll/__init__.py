"""Jekyll's Markdown (kramdown), maths and highlighted code, for digest's rendering stage.

Self-contained: these modules import only the standard library and third-party packages.
"""
from .markdown import (
           Code,
           MarkdownError,
           MarkdownOptions,
           MarkdownRenderer,
           MarkdownResult,
           Math,
           fill,
)
from .options import MarkdownConfigError

__all__ = ["Code", "MarkdownConfigError", "MarkdownError", "MarkdownOptions", "MarkdownRenderer", "MarkdownResult",
           "Math", "fill"]
