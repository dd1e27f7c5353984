"""The EHC evidence pack's appendix: the rows under each of its sections, one sheet each.

The same :class:`~empowered.documents.ehc_evidence_pack.EhcPack` as the PDF, so every
figure in the workbook is the PDF's. Dates are ISO dates and money plain numbers, so an
authority's officer can sort and add them up.
"""

from __future__ import annotations

from empowered.documents.ehc_completeness import NOTHING_MISSING, Gap
from empowered.documents.ehc_evidence_pack import EhcPack, area_words
from empowered.exports import Sheet


def _day(d: object) -> object:
    return d.isoformat() if hasattr(d, "isoformat") else d


def _plans(pack: EhcPack) -> Sheet:
    page = pack.plan
    versions = [*([page.current] if page.current else []), *page.history, *page.other_plans]
    return Sheet(
        "Plans",
        ("Plan", "Version", "Type", "Start", "Next review due", "Status", "Current"),
        [
            (
                v.plan_id,
                v.number,
                v.type_label,
                _day(v.start_date),
                _day(v.next_review_due),
                v.status or "imported",
                "yes" if v.is_current else "no",
            )
            for v in versions
        ],
    )


def _status(pack: EhcPack) -> Sheet:
    return Sheet(
        "SEN status over time",
        ("From", "To", "Status", "Primary need"),
        [(_day(s.start), _day(s.end), s.status, s.need) for s in pack.status_history],
    )


def _outcomes(pack: EhcPack) -> Sheet:
    return Sheet(
        "Outcomes",
        ("Outcome", "Area of need", "Target date", "Baseline", "Provision", "Who", "How often"),
        [
            (
                o.text,
                o.area_of_need,
                _day(o.target_date),
                pack.baseline(o.area_of_need),
                o.provision,
                o.who,
                o.how_often,
            )
            for o in pack.outcomes
        ],
    )


def _reviews(pack: EhcPack) -> Sheet:
    rows = [
        (
            c.number,
            c.plan_kind,
            _day(c.plan_started),
            _day(c.review.held_on),
            g.outcome,
            g.area_of_need,
            pack.baseline(g.area_of_need, c.review.held_on),
            g.progress,
            g.note,
        )
        for c in pack.cycles
        for g in c.review.progress or ()
    ]
    return Sheet(
        "Reviews and progress",
        (
            "Cycle",
            "Plan",
            "Plan started",
            "Reviewed on",
            "Outcome",
            "Area of need",
            "Baseline",
            "Progress",
            "Note",
        ),
        rows,
    )


def _provision(pack: EhcPack) -> Sheet:
    return Sheet(
        "Provision",
        (
            "Intervention",
            "Area of need",
            "Start",
            "End",
            "Academic year",
            "Sessions planned",
            "Sessions delivered",
            "Sessions",
            "Staff time",
            "Cost per pupil (£)",
            "This school year",
        ),
        [
            (
                (e := line.enrolment).intervention_name,
                e.area_of_need,
                _day(e.start_date),
                _day(e.end_date),
                line.academic_year,
                e.sessions_planned,
                line.delivered,
                line.sessions,
                line.staff_time,
                round(e.cost_per_pupil, 2) if e.cost_per_pupil is not None else None,
                "yes" if line.this_year else "no",
            )
            for line in pack.provision
        ],
    )


def _costs(pack: EhcPack) -> Sheet:
    return Sheet(
        "Cost by school year",
        ("School year", "Interventions", "Total cost (£)", "This school year"),
        [
            (y.year, y.interventions, round(y.total, 2), "yes" if y.year == pack.year else "no")
            for y in pack.cost_by_year
        ],
    )


def _assessments(pack: EhcPack) -> Sheet:
    return Sheet(
        "Assessments",
        ("Date", "Subject", "Assessment", "Measure", "Result", "Change since the first"),
        [
            (
                _day(r["assessed_on"]),
                r["subject"],
                r["assessment"],
                r["measure"],
                r["value"],
                r["change_since_first"],
            )
            for r in reversed(pack.picture.assessments.results)
        ],
    )


def _attendance(pack: EhcPack) -> Sheet:
    return Sheet(
        "Attendance by term",
        (
            "Academic year",
            "Term",
            "Sessions possible",
            "Attended",
            "Authorised absence",
            "Unauthorised absence",
            "Attendance (%)",
        ),
        [
            (
                t["academic_year"],
                t["term"],
                t["possible"],
                t["present"],
                t["authorised"],
                t["unauthorised"],
                None if t["attendance_rate"] is None else round(100 * t["attendance_rate"], 1),
            )
            for t in pack.picture.attendance.terms
        ],
    )


def _behaviour(pack: EhcPack) -> Sheet:
    return Sheet(
        "Behaviour by term",
        ("Academic year", "Term", "Incidents", "Rated 4 or 5 for intensity"),
        [
            (b["academic_year"], b["term"], b["incidents"], b["serious"])
            for b in pack.behaviour_terms
        ],
    )


def _contributions(pack: EhcPack) -> Sheet:
    return Sheet(
        "Professional reports",
        ("Date", "Title", "By", "Role", "Organisation", "About", "Report", "File attached"),
        [
            (
                _day(c.visited_on),
                c.title,
                c.provenance.who,
                c.provenance.role,
                c.provenance.organisation,
                area_words(c.area),
                c.note,
                c.file_name,
            )
            for c in pack.contributions
        ],
    )


def _views(pack: EhcPack) -> Sheet:
    return Sheet(
        "Views",
        ("Review held on", "The child's views", "The parents' or carers' views"),
        [(_day(r.held_on), r.pupil_views, r.parent_views) for r in pack.views],
    )


def _completeness(found: tuple[Gap, ...]) -> Sheet:
    rows = [(g.what, g.fix) for g in found] or [(NOTHING_MISSING, "")]
    return Sheet("Completeness", ("What an authority will find missing", "What to do"), rows)


def sheets(pack: EhcPack, found: tuple[Gap, ...]) -> list[Sheet]:
    """The workbook's sheets, the completeness check first as in the PDF."""
    return [
        _completeness(found),
        _status(pack),
        _plans(pack),
        _outcomes(pack),
        _reviews(pack),
        _provision(pack),
        _costs(pack),
        _assessments(pack),
        _attendance(pack),
        _behaviour(pack),
        _contributions(pack),
        _views(pack),
    ]
