"""Inline SVG icons for navigation and buttons (drawn here: no icon font, nothing downloaded).

A navigation entry names its icon (``NavItem(icon="users")``). Emoji given by older code are
mapped to the same drawings, so pages look the same on machines without an emoji font.
"""

from __future__ import annotations

from markupsafe import escape

ICONS: dict[str, str] = {
    "home": '<path d="M3 11l9-8 9 8"/><path d="M5 10v10h14V10"/><path d="M10 20v-6h4v6"/>',
    "map": '<path d="M9 4L3 6v14l6-2 6 2 6-2V4l-6 2-6-2z"/><path d="M9 4v14M15 6v14"/>',
    "users": '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6"/>'
             '<path d="M16 4.5a3.5 3.5 0 010 7"/><path d="M18 14.5c2.2.6 3.5 2.6 3.5 5.5"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7"/>',
    "log": '<path d="M6 3h9l4 4v14H6z"/><path d="M14 3v5h5"/><path d="M9 12h7M9 16h7"/>',
    "building": '<path d="M4 21V5l8-3v19"/><path d="M12 8l8 3v10"/><path d="M2 21h20"/>'
                '<path d="M7 8h2M7 12h2M7 16h2M15 13h2M15 17h2"/>',
    "key": '<circle cx="7.5" cy="15.5" r="4"/><path d="M10.5 12.5L20 3"/><path d="M16 7l3 3"/><path d="M14 9l2 2"/>',
    "logout": '<path d="M9 4H5v16h4"/><path d="M14 8l4 4-4 4"/><path d="M18 12H8"/>',
    "globe": '<circle cx="12" cy="12" r="9"/><path d="M3 12h18"/>'
             '<path d="M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9z"/>',
    "shield": '<path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z"/>',
    "chart": '<path d="M4 20V4"/><path d="M4 20h16"/><path d="M8 16v-5M12 16V8M16 16v-8"/>',
    "pulse": '<path d="M3 12h4l3-7 4 14 3-7h4"/>',
    "bell": '<path d="M6 16v-5a6 6 0 0112 0v5l2 2H4z"/><path d="M10 20a2 2 0 004 0"/>',
    "phone": '<path d="M5 4h4l2 5-2.5 1.5a11 11 0 005 5L15 13l5 2v4a2 2 0 01-2 2A16 16 0 013 6a2 2 0 012-2z"/>',
    "folder": '<path d="M3 6h6l2 2h10v11H3z"/>',
    "lightbulb": '<path d="M9 18h6M10 21h4"/>'
                 '<path d="M12 3a6 6 0 00-3.5 10.9c.6.5 1 1.2 1 2.1h5c0-.9.4-1.6 1-2.1A6 6 0 0012 3z"/>',
    "camera": '<path d="M4 8h3l2-3h6l2 3h3v11H4z"/><circle cx="12" cy="13" r="3.5"/>',
    "alert": '<path d="M12 3l10 18H2z"/><path d="M12 10v5M12 18v.01"/>',
    "check": '<path d="M5 12l5 5L20 7"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "copy": '<rect x="8" y="8" width="12" height="12" rx="2"/>'
            '<path d="M16 8V5a1 1 0 00-1-1H5a1 1 0 00-1 1v10a1 1 0 001 1h3"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="M20 20l-4-4"/>',
    "sliders": '<path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12"/><circle cx="16" cy="6" r="2"/>'
               '<circle cx="10" cy="12" r="2"/><circle cx="18" cy="18" r="2"/>',
    "leaf": '<path d="M5 19C5 10 10 5 20 4c-1 10-6 15-15 15z"/><path d="M5 19l8-8"/>',
    "bolt": '<path d="M13 2L4 14h7l-1 8 9-12h-7z"/>',
    "traffic": '<rect x="8" y="2" width="8" height="20" rx="3"/><circle cx="12" cy="7" r="1.5"/>'
               '<circle cx="12" cy="12" r="1.5"/><circle cx="12" cy="17" r="1.5"/>',
    "school": '<path d="M2 9l10-5 10 5-10 5z"/><path d="M6 11v5c3 2 9 2 12 0v-5"/>',
    "message": '<path d="M4 4h16v12H8l-4 4z"/><path d="M8 9h8M8 12h5"/>',
    "ticket": '<path d="M3 7h18v3a2 2 0 000 4v3H3v-3a2 2 0 000-4z"/><path d="M14 7v10"/>',
    "device": '<rect x="6" y="6" width="12" height="12" rx="2"/>'
              '<path d="M9 2v4M15 2v4M9 18v4M15 18v4M2 9h4M2 15h4M18 9h4M18 15h4"/>',
    "database": '<ellipse cx="12" cy="5" rx="8" ry="3"/><path d="M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5"/>'
                '<path d="M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "calendar": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>',
    "menu": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "chevron-down": '<path d="M6 9l6 6 6-6"/>',
    "arrow-right": '<path d="M5 12h14M13 6l6 6-6 6"/>',
    "lock": '<rect x="4" y="10" width="16" height="11" rx="2"/><path d="M8 10V7a4 4 0 018 0v3"/>',
    "dot": '<circle cx="12" cy="12" r="3"/>',
}

EMOJI: dict[str, str] = {
    "🏠": "home", "🗺️": "map", "🗺": "map", "📜": "log", "👥": "users", "👤": "user", "🏢": "building",
    "📇": "phone", "📞": "phone", "🔑": "key", "📊": "chart", "📈": "chart", "🚨": "alert", "⚠️": "alert",
    "🔔": "bell", "💡": "lightbulb", "📷": "camera", "🎥": "camera", "🚦": "traffic", "🚗": "traffic",
    "⚡": "bolt", "🔌": "bolt", "🌿": "leaf", "🌳": "leaf", "🌫️": "leaf", "🎓": "school", "🏫": "school",
    "📁": "folder", "🗂️": "folder", "🎫": "ticket", "📡": "device", "📨": "message", "💬": "message",
    "📋": "log", "🛡️": "shield", "⚙️": "sliders", "🕒": "clock", "📅": "calendar", "🗄️": "database",
}


def icon_svg(name: str, size: int = 18) -> str:
    """The SVG markup of icon ``name`` (or of the emoji's equivalent); empty for no icon."""
    if not name:
        return ""
    key = EMOJI.get(name, name)
    body = ICONS.get(key)
    if body is None:
        if key.isascii():
            body = ICONS["dot"]
        else:  # an emoji we have no drawing for: show it as text
            return f'<span class="icon icon-text" aria-hidden="true">{escape(name)}</span>'
    return (
        f'<svg class="icon" width="{size}" height="{size}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        f'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">{body}</svg>'
    )
