"""Employees, the people who hold keys (R4), and their CSV import and export (R30)."""
