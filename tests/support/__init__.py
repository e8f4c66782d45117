"""Helpers shared by tests: nothing here is a test, and no test imports another test module."""
