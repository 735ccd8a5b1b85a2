"""A software stand-in for the hardware: simulated programming keys that hold their private
keys in a local state file, so that demos, the CLI and tests can act as a key holder (R5).
"""
