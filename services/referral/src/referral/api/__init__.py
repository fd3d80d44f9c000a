"""REST API of the referral service."""
