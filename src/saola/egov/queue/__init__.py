"""The queue at the Public Administration Service Centre: kiosk tickets, counters, the display board,
appointments and waiting/serving statistics.

``models`` (tables), ``numbering`` (daily ticket numbers), ``service`` (tickets and counters),
``setup`` (services and counters configured by admins), ``appointments`` (daily slots and bookings),
``stats`` (waiting and serving times), ``api`` / ``pages`` / ``public_pages`` / ``board`` (HTTP),
``events`` (what the queue publishes on the event bus).
"""
