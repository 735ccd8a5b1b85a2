"""Firmware: signed images, certificate bundles, roll-out to devices and keys (R25, R26)."""
