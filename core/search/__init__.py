"""Semantic and hybrid search: embeddings, vectors, fusion."""
