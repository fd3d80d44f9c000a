"""Haven referral service: Routing survivors of trafficking to shelter, care, counselling and legal
aid, with consent-scoped sharing, offers to partners, deadlines and a closed loop.
"""
