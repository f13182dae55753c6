"""Loaders that map public data sets (MovieLens-100K, Amazon Games) onto the jobtrail contracts.

Nothing here downloads at import time; each loader fetches or reads its source only when called.
"""
