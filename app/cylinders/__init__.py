"""Cylinders as the administration changes them: security relevance, defects (R10, R11, R19)."""
