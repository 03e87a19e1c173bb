"""Sunrise, sunset and "is it dark" for the street lights of the demo city.

``astral`` is not a dependency of Saola, so this uses the NOAA Global Monitoring Laboratory's
solar-position approximation (the "General Solar Position Calculations" sheet: fractional year,
equation of time, declination, hour angle), accurate to about a minute at Bắc Ninh's latitude,
which is plenty for deciding when lamps burn. Sunrise and sunset are when the sun's centre is
0.833° below the horizon (refraction plus the solar radius), the usual definition.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

HORIZON = -0.833  # degrees: apparent sunrise/sunset


def _solar(t: datetime) -> tuple[float, float]:
    """(equation of time in minutes, declination in radians) at ``t`` (NOAA)."""
    t = t.astimezone(UTC)
    day_of_year = t.timetuple().tm_yday
    hours = t.hour + t.minute / 60 + t.second / 3600
    year_days = 366 if t.year % 4 == 0 and (t.year % 100 != 0 or t.year % 400 == 0) else 365
    g = 2 * math.pi / year_days * (day_of_year - 1 + (hours - 12) / 24)
    eqtime = 229.18 * (0.000075 + 0.001868 * math.cos(g) - 0.032077 * math.sin(g)
                       - 0.014615 * math.cos(2 * g) - 0.040849 * math.sin(2 * g))
    decl = (0.006918 - 0.399912 * math.cos(g) + 0.070257 * math.sin(g) - 0.006758 * math.cos(2 * g)
            + 0.000907 * math.sin(2 * g) - 0.002697 * math.cos(3 * g) + 0.00148 * math.sin(3 * g))
    return eqtime, decl


def elevation(t: datetime, lat: float, lon: float) -> float:
    """The sun's elevation above the horizon in degrees at ``t`` seen from ``(lat, lon)``."""
    eqtime, decl = _solar(t)
    t = t.astimezone(UTC)
    minutes = t.hour * 60 + t.minute + t.second / 60
    true_solar = minutes + eqtime + 4 * lon
    hour_angle = math.radians(true_solar / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(hour_angle)
    return 90 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))


def is_dark(t: datetime, lat: float, lon: float) -> bool:
    """True from sunset to sunrise: when street lights are on."""
    return elevation(t, lat, lon) < HORIZON


def sunrise_sunset(day: date, lat: float, lon: float) -> tuple[datetime, datetime]:
    """Sunrise and sunset (UTC) of ``day`` (a UTC date near local noon at ``lon``)."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) - timedelta(hours=lon / 15)
    eqtime, decl = _solar(noon)
    phi = math.radians(lat)
    cos_ha = (math.cos(math.radians(90 - HORIZON)) / (math.cos(phi) * math.cos(decl))
              - math.tan(phi) * math.tan(decl))
    ha = math.degrees(math.acos(max(-1.0, min(1.0, cos_ha))))
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rise = base + timedelta(minutes=720 - 4 * (lon + ha) - eqtime)
    down = base + timedelta(minutes=720 - 4 * (lon - ha) - eqtime)
    return rise, down
