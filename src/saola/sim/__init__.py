"""The demo city and the simulator used by the demo and the benchmarks.

``city`` draws the city (entities of Bắc Ninh's wards), ``load`` stores it (demo steps), ``telemetry``
and ``sun`` are the pure reading models, ``scenario`` the injected events, ``runner`` the publishing
loop, ``cli`` the ``saola simulate`` command and ``wiring`` the simulator inside ``saola serve``.
"""
