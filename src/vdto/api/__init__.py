"""The vdto HTTP API: public read-only endpoints and token-authenticated agency endpoints.

The web application lives in :mod:`vdto.api.app` (``create_app``; it needs FastAPI). Tokens
(:mod:`vdto.access.tokens`) and the audit log (:mod:`vdto.access.audit`) are plain library code over
the store, used by the server and by ``vdto tokens``; importing them does not import FastAPI.
See docs/api.md.
"""
