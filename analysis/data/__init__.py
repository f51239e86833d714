"""The data stage: raw sources -> cleaned frames -> harmonised LA entities -> derived tables.

``sources`` (registry, fetch, sha256) -> ``clean`` (one loader per source) -> ``geography``
(LA register, boundary rules) -> ``panel`` / ``inspections`` -> ``schema`` + ``dictionary`` ->
``build`` (``make data``: validate and write ``data/derived/`` atomically). Models and outputs never
import this package: they read the committed tables through :mod:`analysis.derived`.
"""
