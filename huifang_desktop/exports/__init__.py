"""Excel export and import with openpyxl (write-only / read-only modes for large sheets)."""
