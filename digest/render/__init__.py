"""One post rendered: Markdown, sanitising, links, attribution, summary."""
