"""Who may do what: users with roles, password hashes, sessions and API tokens."""
