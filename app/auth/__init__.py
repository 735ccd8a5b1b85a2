"""Credentials and rights: programming-key login, API tokens, roles (R5–R9)."""
