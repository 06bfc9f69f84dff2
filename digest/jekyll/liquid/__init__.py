"""Jekyll's dialect of Liquid: python-liquid with Jekyll's tags, filters, includes and limits (:mod:`.engine`),
and what Liquid sees of the site (:mod:`.site`).
"""
