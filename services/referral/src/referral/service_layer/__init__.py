"""Use cases of the referral service: one handler per use case, committed by the unit of work."""
