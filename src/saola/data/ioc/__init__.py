"""Data files of the Intelligent Operations Center (incident types and their SOP checklists)."""
