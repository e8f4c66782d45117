"""`retrotread stop` (placeholder: its owner replaces this module)."""
