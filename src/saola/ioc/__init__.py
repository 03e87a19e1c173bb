"""The Intelligent Operations Center: incidents, KPIs and the operations console.

``incidents*`` own incidents (alerts, citizen reports, notes and dispatched units gathered about one
event, with standard operating procedure checklists and after-action reports); ``console*`` and
``kpis`` own the operator's live map, KPI tiles and alert feed.
"""
