"""Jekyll's dialect of Liquid for digest: self-contained (standard library and third-party
libraries only), wired into the pipeline by the caller."""
from .liquid import DEFAULT_LABELS, Limits, LiquidProblem, LiquidRenderer, LiquidResult
from .site import (
    DataLimits,
    JekyllSite,
    SiteData,
    link_resolver,
    load_site_data,
    post_resolver,
)

__all__ = [
    "DEFAULT_LABELS", "DataLimits", "JekyllSite", "Limits", "LiquidProblem", "LiquidRenderer", "LiquidResult",
    "SiteData", "link_resolver", "load_site_data", "post_resolver",
]
