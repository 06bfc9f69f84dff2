"""Finding a site's post files, reading them (front matter, real dates), and the cached index."""
