"""The organisation directory: agencies, administrative units (current and former) and agency contacts."""
