"""The dbt package run by dlt on the pipeline's destination: its environment (`venv`), the
run itself and what it reports (`runner`), the profiles it runs with (`profiles.yml`)."""
