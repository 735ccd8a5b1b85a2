"""Audit trails (event logs) read out of cylinders and out of E2/E3 keys (R28)."""
