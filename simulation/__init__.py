"""`grantflow simulate`: a call's whole lifecycle on the time-skipping server with a seeded population."""
