"""PySide6 user interface. Talks to services only; no SQL and no business rules here."""
