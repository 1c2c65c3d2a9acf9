"""audit(model): the Plan rendered as data (report.py), and as text (render.py) and a page (html.py).

    report = graphsurgeon.audit.audit(model, inputs=["images_ph"], outputs=["encoder/out"])
    report.kept.nodes, report.kept.bytes.total      # what `cut` keeps, computed without reading a weight
"""
from graphsurgeon.audit.report import AuditReport, audit

__all__ = ["AuditReport", "audit"]
