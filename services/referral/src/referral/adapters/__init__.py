"""Adapters: tables, repositories and mapping between rows and domain objects."""
