"""The 1022 citizen feedback hotline: channels, Open311, classification, duplicates, routing."""
