"""The shared case engine: citizen reports (1022 hotline) and administrative dossiers are both cases.

A case has a workflow (registered as data in :mod:`saola.cases.definitions`), an owner agency,
a deadline counted in Vietnamese working time (:mod:`saola.cases.deadlines`), an append-only
history and an outcome (early / on time / late). Use cases live in :mod:`saola.cases.service`.
"""
