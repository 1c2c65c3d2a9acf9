"""Audits: where a model's bytes are, what a cut keeps and removes, and what will break in Serving, as data.

``audit(model, ...)`` (report.py) builds the report; render.py draws it for a terminal. Reads no weights.
"""
from graphsurgeon.audit.report import AuditReport, audit

__all__ = ["AuditReport", "audit"]
