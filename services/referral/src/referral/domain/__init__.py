"""The referral domain: routing needs to providers, the referral lifecycle, offers and legal clocks.

Pure Python: no framework, database or Kafka imports (the service layer and adapters do that).
"""
