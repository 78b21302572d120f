"""Reference data: the org tree (loading, walking as of a date), units by name, phases and quotas."""
