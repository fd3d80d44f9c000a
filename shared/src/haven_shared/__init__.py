"""haven_shared."""
