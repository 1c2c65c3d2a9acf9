"""Scripts the README and CI run (not installed with graphsurgeon)."""
