"""Where rows go: validated, typed Parquet files."""
