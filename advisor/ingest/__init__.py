"""Turning files into documents, chunks and index entries."""
