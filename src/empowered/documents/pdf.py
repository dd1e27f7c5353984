"""HTML to a tagged, accessible A4 PDF (WeasyPrint: docs/design/pdf-engine.md says why).

The PDF is tagged (headings, paragraphs, real tables, figures with their alternative
text, the language from ``<html lang>``) and identifies itself as PDF/UA-1. Nothing is
fetched while rendering: every style and image a document uses is inline (the logo as a
``data:`` URI), and the fetcher allows the ``data:`` scheme only, so a document cannot
reach the network or read a file because of what a template or a user's text holds.
"""

from __future__ import annotations

# WeasyPrint takes about half a second to import (Pango, fontTools): it is imported on
# first use, so the web app and the command line start without it.


def render_pdf(html: str) -> tuple[bytes, int]:
    """The PDF of one document's HTML, and how many pages it has."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    laid_out = HTML(string=html, url_fetcher=fetcher, base_url="about:blank").render(
        pdf_tags=True, pdf_variant="pdf/ua-1"
    )
    pdf: bytes = laid_out.write_pdf(pdf_tags=True, pdf_variant="pdf/ua-1")
    return pdf, len(laid_out.pages)
