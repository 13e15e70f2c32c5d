"""kb's storage: the only package that imports Whoosh (schema, writer, reader)."""
