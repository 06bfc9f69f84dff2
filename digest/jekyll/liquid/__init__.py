"""Jekyll's dialect of Liquid (python-liquid with Jekyll's tags, filters, includes and limits)."""
from ._embeds import embed_html, embed_target
from .engine import DEFAULT_LABELS, Limits, LiquidProblem, LiquidRenderer, LiquidResult
from .site import DataLimits, JekyllSite, SiteData, link_resolver, load_site_data, post_resolver

__all__ = ["DEFAULT_LABELS", "DataLimits", "JekyllSite", "Limits", "LiquidProblem", "LiquidRenderer", "LiquidResult",
           "SiteData", "embed_html", "embed_target", "link_resolver", "load_site_data", "post_resolver"]
