"""Haven intake service: Cases, missing-person reports, found persons, unidentified remains,
trafficking screening, needs assessments and consent, filed by NGO caseworkers.
"""
