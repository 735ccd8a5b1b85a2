"""The web manager's dashboard (issue 12 item 1): figures an administrator sees at a glance.

``figures`` counts in SQL what the session may see (R1, R8): elements, waiting
programming jobs per domain, offline remote devices, keys running out, the
blocking list's fill against its hardware limit (R11) and audit events per day.
"""
