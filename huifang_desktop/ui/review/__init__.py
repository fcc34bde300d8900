"""审阅 tab: supervisor sign-off, the clerk's returned items, the audit log viewer."""
