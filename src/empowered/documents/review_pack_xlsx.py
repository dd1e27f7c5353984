"""The review packs as workbooks: the same tables as the PDF, suppressed the same way (every
count is a table's display text, never its true figure)."""

from __future__ import annotations

from collections.abc import Sequence

from empowered.analytics.disclosure import DisclosedTable
from empowered.documents.review_pack_school import NeedsSinceLastTerm, SchoolPack
from empowered.documents.review_pack_trust import TrustPack
from empowered.exports import Sheet
from empowered.views.provision import ProvisionPage
from empowered.views.register import RegisterQuestions


def table_sheet(name: str, first: str, t: DisclosedTable) -> Sheet:
    """A suppressed table as a sheet: its display rows, then its legend where it hides any."""
    rows = t.rows()
    header = list(rows[0]) if rows else ["label"]
    body: list[Sequence[object]] = [[r[h] for h in header] for r in rows]
    if t.hidden.any():
        body += [[], [f"{t.hidden_text}: {t.legend}"]]
    return Sheet(name, [first, *header[1:]], body)


def question_sheets(q: RegisterQuestions | None, *, training_table: bool) -> list[Sheet]:
    if q is None:
        return []
    hidden = q.national.table.hidden_text
    national = Sheet(
        "Against national",
        ["measure", "here (%)", "England (%)", *(a.label for a in q.national.areas), "year"],
        [
            [
                r["measure"],
                hidden if r["ours"] is None else round(r["ours"], 1),
                r["national"],
                *r["areas"],
                r["national_period"] or r["national_year"],
            ]
            for r in q.national.rows
        ],
    )
    out = [national]
    if q.by_sen_status is not None:
        out.append(
            Sheet(
                "By SEN status",
                ["measure", "SEN status", "here (%)", f"{q.by_sen_status.compared_with} (%)"],
                [
                    [f.measure, f.status, hidden if f.ours is None else f.ours, f.national]
                    for f in q.by_sen_status.rows
                ],
            )
        )
    if q.need_provision is not None:
        out.append(table_sheet("Provision against need", "primary need", q.need_provision.table))
    if training_table:
        out.append(table_sheet("Training against need", "primary need", q.training.table))
    return out


def needs_sheet(n: NeedsSinceLastTerm) -> Sheet:
    return table_sheet("Needs since last term", "primary need", n.table)


def interventions_sheet(pm: ProvisionPage, school_names: dict[str, str] | None) -> Sheet:
    header = ["verdict", "intervention", *(["school"] if school_names else [])]
    rows = [
        [
            verdict,
            i.intervention_name,
            *([school_names.get(i.school_urn, i.school_urn)] if school_names else []),
            i.measure,
            i.pupils,
            i.with_scores,
            i.evidence,
        ]
        for verdict, found in (("worth keeping", pm.keep), ("worth reviewing", pm.review))
        for i in found
    ]
    return Sheet("Interventions", [*header, "measure", "pupils", "with scores", "evidence"], rows)


def school_sheets(p: SchoolPack) -> list[Sheet]:
    return [
        table_sheet("Register by need", "primary need", p.register.by_need),
        *question_sheets(p.questions, training_table=True),
        needs_sheet(p.needs),
        Sheet(
            "Attendance",
            [
                "pupil key",
                "name",
                "year",
                "primary need",
                "attendance",
                "change",
                "plan addresses attendance",
            ],
            [
                [a.pupil_key, a.name, a.year, a.need, a.attendance, a.change, a.plan_words]
                for a in p.attendance
            ],
        ),
        interventions_sheet(p.provision, None),
        Sheet(
            "Overdue reviews",
            ["pupil key", "name", "plan", "review was due"],
            [[o.pupil_key, o.name, o.kind, o.due_on] for o in p.overdue],
        ),
        Sheet(
            "Open actions",
            ["pupil key", "name", "action", "who", "due", "overdue"],
            [
                [a.pupil_key, a.pupil_name, a.description, a.owner_name, a.due_date, a.overdue]
                for a in p.actions
            ],
        ),
        Sheet(
            "Notes",
            ["pupil key", "name", "year", "SEN status", "note", "written"],
            [[n.pupil_key, n.name, n.year, n.status, n.note, n.written_at] for n in p.notes],
        ),
    ]


def trust_sheets(p: TrustPack) -> list[Sheet]:
    s = p.schools
    columns = [
        *(["attendance with SEN", "attendance without SEN"] if s.shows_attendance else []),
        *(["pupils with provision", "cost", "intervention results"] if s.shows_provision else []),
        *(["support plan reviews overdue", "EHC reviews overdue"] if s.shows_reviews else []),
    ]
    side = Sheet(
        "Schools side by side",
        ["school", "URN", *columns],
        [
            [
                r.school_name,
                r.school_urn,
                *([r.attendance_sen, r.attendance_no_sen] if s.shows_attendance else []),
                *(
                    [r.provision_pupils, r.provision_cost, "; ".join(r.impact)]
                    if s.shows_provision
                    else []
                ),
                *([r.support_reviews_overdue, r.ehc_reviews_overdue] if s.shows_reviews else []),
            ]
            for r in s.rows
        ]
        + ([[], [s.legend]] if s.legend else []),
    )
    return [
        table_sheet("Register by school", "school", p.counts.by_status),
        side,
        table_sheet("Needs in each school", "primary need", p.counts.by_need),
        table_sheet("Trust register by need", "primary need", p.register.by_need),
        *question_sheets(p.questions, training_table=False),
        needs_sheet(p.needs),
        interventions_sheet(p.provision, p.school_names),
    ]
