"""Jekyll as it is: its Liquid dialect, kramdown-compatible Markdown, maths and highlighted code.

Self-contained: these modules import only the standard library and third-party packages; the rendering
stage (:mod:`digest.render`) wires them into the pipeline.
"""
from .kramdown import (
    Code,
    MarkdownConfigError,
    MarkdownError,
    MarkdownOptions,
    MarkdownRenderer,
    MarkdownResult,
    Math,
    fill,
)
from .liquid import (
    DEFAULT_LABELS,
    DataLimits,
    JekyllSite,
    Limits,
    LiquidProblem,
    LiquidRenderer,
    LiquidResult,
    SiteData,
    embed_html,
    embed_target,
    link_resolver,
    load_site_data,
    post_resolver,
)

__all__ = [
    "DEFAULT_LABELS", "Code", "DataLimits", "JekyllSite", "Limits", "LiquidProblem", "LiquidRenderer",
    "LiquidResult", "MarkdownConfigError", "MarkdownError", "MarkdownOptions", "MarkdownRenderer", "MarkdownResult",
    "Math", "SiteData", "embed_html", "embed_target", "fill", "link_resolver", "load_site_data", "post_resolver",
]
