"""Pure rules: no Flask, no Prefect, no database, no I/O."""
