"""The approver function: audit-trail readouts that a second programming key approves (R29)."""
