"""Use cases. Each opens its own short session, owns its transaction, checks the acting user's rights,
writes the audit log and returns plain data (frozen dataclasses), never ORM objects."""
