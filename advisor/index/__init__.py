"""Where chunks live: the catalog (truth), the vector index and the lexical index (both derived)."""
