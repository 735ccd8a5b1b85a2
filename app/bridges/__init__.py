"""Site bridges: the agent at a customer's PC that serves a desk programming device (R5, R22).

``service`` (enrolment, presence, the command queue, reports), ``auth`` (the
bridge's signed credential), ``commands`` (payloads and what reports do),
``login`` (browser login through a bridge), ``events`` (live announcements to
the bridge) and ``routes`` (the key firmware image download).
"""
