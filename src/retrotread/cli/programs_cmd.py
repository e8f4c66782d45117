"""`retrotread programs` (placeholder: its owner replaces this module)."""
