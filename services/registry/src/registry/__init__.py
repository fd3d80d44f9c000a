"""Haven registry service: The person index for tracing and identification, match review, family
links, and the service-provider directory.
"""
