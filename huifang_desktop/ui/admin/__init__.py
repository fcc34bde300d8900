"""Administrator dialogs: backup and restore."""
