"""The hardware Keywarden talks to: programming keys, keys and cylinders, reached through the
bridge agent at a customer site or, for demos and tests, through the simulator (``hardware.sim``).
"""
