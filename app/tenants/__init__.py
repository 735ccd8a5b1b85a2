"""Tenancy (R1): scoping every statement to one tenant, in the application and in PostgreSQL."""
