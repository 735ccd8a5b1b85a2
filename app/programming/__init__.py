"""Programming jobs on programming keys: assigned, loaded onto the key, reported back (R17)."""
