"""The web shell: page layout, templates, static assets, the public portal and the staff console."""
