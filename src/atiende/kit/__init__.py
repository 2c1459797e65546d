"""Small shared building blocks: pagination, CRUD plumbing, JSON columns."""
