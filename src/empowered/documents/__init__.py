"""Documents that leave the school (issue 16): the parent report, the one-page profile,
the EHC needs-assessment evidence pack and the termly register review pack.

How one is made, whichever it is:

1. ``access.policy.may_make_document`` decides who may make it; ``documents.scope`` gives
   the view services a scope narrowed to what the document may hold (the redaction rules
   in ``access.documents``), so nothing a document must not hold is ever read for it.
2. The document's module (``parent_report``, ``profile``, ``ehc_evidence``,
   ``review_pack``) asks the same view services as the pages and renders a Jinja template
   from ``documents/templates`` (extending ``_document.html``, with the pages' own
   partials and filters where they fit).
3. ``documents.pdf`` turns the HTML into a tagged, accessible A4 PDF with WeasyPrint (no
   network: only the document's own inline styles and images are read).
4. ``documents.made`` is what the command line and the web hand out, and every document
   made is an audited export (``access.audit.DocumentMade``).
"""
