"""The access model: who opens what, when, and for how long (R11–R16)."""
