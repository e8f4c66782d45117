"""`retrotread scan` (placeholder: its owner replaces this module)."""
