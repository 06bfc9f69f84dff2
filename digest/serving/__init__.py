"""The HTTP servers: the output folder read-only (``digest serve``), and the live preview of one day."""
