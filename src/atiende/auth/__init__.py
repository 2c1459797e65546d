"""Users, memberships (a user's role and license in a client), tokens and permission checks."""
