"""Factory data: the vendor's signed extension files, their import and activation (R31, R32)."""
