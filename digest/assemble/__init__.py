"""Posts → one frozen :class:`~digest.model.Digest`: rendered (cached), de-duplicated, grouped, ordered."""
