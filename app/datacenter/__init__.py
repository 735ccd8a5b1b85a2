"""The vendor's data center (R2, R25, R31): a simulated server and the poll of connected tenants."""
