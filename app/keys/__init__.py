"""The key lifecycle (R10, R18–R20)."""
