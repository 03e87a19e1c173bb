"""Rules and alerts: the IOC's rule engine on live data.

Rules are data (:mod:`saola.rules.definitions`), stored with versions and enabled or disabled in the
console or through ``/api/v1/rules``; the engine evaluates them incrementally on the change-event
stream (``ngsi.entity.*``, ``device.*``) and raises and clears alerts (``/api/v1/alerts``).
"""
