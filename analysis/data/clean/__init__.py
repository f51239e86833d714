"""Loaders: one per raw source, each returning a tidy frame plus its suppression counts."""
