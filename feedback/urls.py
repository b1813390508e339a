"""URLs of feedback/. ``workspace_patterns`` are mounted under /w/<slug>/ and
``public_patterns`` at the site root (pages reached without an account)."""

workspace_patterns: list = []
public_patterns: list = []
