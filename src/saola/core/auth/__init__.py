"""Users, roles and permissions, browser sessions, API tokens and login throttling."""
