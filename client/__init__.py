"""Client-side operations on a running Temporal: start calls and applications, ask, act, lockouts, the embedded stack."""
