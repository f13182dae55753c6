"""The Delta feature table of user embeddings: schema, writer, readers, point-in-time join, monitoring."""
