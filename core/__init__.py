"""Shared by every app and importing none: roles, middleware, request context, logging, locks,
pagination, time and payload decoding, formatting, the audit-row helper and the AWS client factory."""
