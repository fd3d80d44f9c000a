"""Use cases of the registry: one handler per use case, each in its own unit of work."""
