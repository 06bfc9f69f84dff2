"""The output folder as an archive: build records, covers, index.html, the Atom feed and the OPDS catalog."""
