"""`retrotread run` (placeholder: its owner replaces this module)."""
