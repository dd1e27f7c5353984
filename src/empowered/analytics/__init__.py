"""Models that help adults ask better questions: pure functions over mart tables.

Nothing here decides or labels a child. Every result carries the counts it rests on, a
plain-English range and a ``summary`` sentence a teacher can read; alerts also carry the
rule that fired and the data behind it. See docs/analytics.md and ../shared/ANALYTICS.md.
"""
