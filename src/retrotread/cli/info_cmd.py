"""`retrotread info` (placeholder: its owner replaces this module)."""
