"""The registry's domain: plain Python, no framework imports."""
