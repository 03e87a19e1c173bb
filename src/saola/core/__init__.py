"""Core services shared by every Saola package: settings, database, auth, audit, i18n, errors."""
