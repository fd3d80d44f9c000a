"""Adapters of the registry: database tables and repositories, HSDS mapping."""
