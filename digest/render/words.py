"""The theme's words that a rendered body holds (so a body's cache key takes them, without loading the renderer)."""
from __future__ import annotations

# The theme's label keys for the words of a link card, by the Liquid library's names for them.
EMBED_LABELS = {"video": "embed_video", "tweet": "embed_tweet", "gist": "embed_gist", "embed": "embed",
                "dash": "embed_dash"}
