"""The nightly pipeline's stages: land, validate, resolve (match), roll up, reconcile, push, and the run
that orders them. Free of Prefect; imports the floors below (reference, store, text) and the edges."""
