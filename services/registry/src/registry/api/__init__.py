"""The registry's REST API: schemas, routes and the mapping of domain errors to problem+json."""
