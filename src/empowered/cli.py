"""The ``empowered`` command: a thin face over the same services the web app will use."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from empowered.backup.errors import BackupProblem
from empowered.settings import get_settings, use_warehouse
from empowered.upgrade_backup import backup_before_upgrade
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.runner import BuildResult, ModelResult
from empowered.warehouse.upgrade import NewerWarehouse, UpgradeFailed

if TYPE_CHECKING:
    from empowered.access.policy import Scope
    from empowered.access.users import User
    from empowered.backup import BackupInfo
    from empowered.documents.made import Made
    from empowered.imports import ImportOutcome
    from empowered.keys import Keys
    from empowered.sources.mapping import Mapping

app = typer.Typer(
    help="EmpowerED+: a data warehouse for special educational needs.",
    no_args_is_help=True,
    add_completion=False,
)
# soft_wrap: progress lines stay one line each in narrow terminals and CI logs.
# Logs and CI are not terminals: give them room for file names and reasons.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 150)


def _choose_warehouse(path: Path | None) -> Path | None:
    # Every setting read later in the command (the key file beside the warehouse above all)
    # follows the file chosen here.
    if path is not None:
        use_warehouse(path)
    return path


WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="The DuckDB warehouse file (default: EMPOWERED_WAREHOUSE or ./empowered.duckdb);"
        " its key file is the one beside it (<warehouse>.keys) unless EMPOWERED_KEY_FILE is set.",
        callback=_choose_warehouse,
    ),
]


def _open(warehouse: Path | None) -> duckdb.DuckDBPyConnection:
    settings = get_settings()
    path = warehouse or settings.warehouse
    try:
        return open_warehouse(
            path,
            threads=settings.duckdb_threads,
            memory_limit=settings.duckdb_memory_limit,
            backup=backup_before_upgrade(settings, Path(path)),
        )
    except (NewerWarehouse, UpgradeFailed, BackupProblem) as err:
        # Upgrading a file made by an older release: what happened, what was kept, what next.
        console.print(f"Cannot open the warehouse: {err}", style="red", markup=False)
        raise typer.Exit(2) from err
    except duckdb.IOException as err:
        console.print(
            f"[red]Cannot open the warehouse {path}: {err}[/red]\n"
            "If the EmpowerED+ server is running it holds the file: use the server, or stop it."
        )
        raise typer.Exit(2) from err


def _progress(result: ModelResult, index: int, total: int) -> None:
    colour = {"ok": "green", "skipped": "yellow"}.get(result.status, "red")
    rows = "" if result.rows is None else f"{result.rows:>10,} rows"
    console.print(
        f"  [{index:>3}/{total}] [{colour}]{result.status:<7}[/{colour}] "
        f"{result.model.name:<45} {rows} {result.seconds:6.2f}s"
    )


def _report_build(result: BuildResult) -> None:
    if result.after_interrupted:
        console.print(
            "The last build was stopped part-way (its process ended), leaving some tables"
            " rebuilt and others not: this build rebuilt every model in full.",
            style="yellow",
            markup=False,
        )
    # Messages hold SQL and sample rows: print them as text, not as rich markup.
    for failure in result.failures():
        console.print(f"\n[red]{failure.model.name} {failure.status}[/red]")
        console.print(failure.message, markup=False)
    warned = [
        c for r in result.results for c in r.checks if not c.passed and c.check.severity == "warn"
    ]
    for check in warned:
        console.print("[yellow]warning[/yellow] ", end="")
        console.print(check.describe(), markup=False)
    layers = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds_by_layer().items())
    verdict = "[green]build ok[/green]" if result.ok else "[red]build FAILED[/red]"
    console.print(f"{verdict} ({result.engine}, run {result.run_id}): {layers}")


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the trust's files into.")],
    schools: Annotated[int, typer.Option(min=1)] = 3,
    pupils: Annotated[
        int, typer.Option(min=10, help="Pupils on roll (at least 10 a school).")
    ] = 1500,
    years: Annotated[int, typer.Option(min=1)] = 1,
    seed: Annotated[int, typer.Option(min=0)] = 1,
    first_year: Annotated[
        int | None,
        typer.Option(
            help="First academic year, e.g. 2024 for 2024/25 (default: the latest completed years)."
        ),
    ] = None,
    through: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Cut the trust off at this day, YYYY-MM-DD: nothing is dated after it, and "
            "(without --first-year) the last year is the one holding it.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes making schools side by side (default: one per core from 5,000 "
            "pupils); the files are the same whatever the number.",
        ),
    ] = None,
) -> None:
    """Write a synthetic trust (canonical CSV files and a manifest of planted patterns)."""
    from empowered.synth import generate_trust
    from empowered.synth.parallel import WorkerFailed

    started = time.perf_counter()
    try:
        summary = generate_trust(
            out,
            schools=schools,
            pupils=pupils,
            years=years,
            seed=seed,
            first_academic_year=first_year,
            through=through.date() if through else None,
            workers=workers,
        )
    except ValueError as err:
        console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from err
    except WorkerFailed as err:
        console.print(str(err), style="red", markup=False)
        raise typer.Exit(1) from err
    console.print(
        f"Wrote {sum(summary.counts.values()):,} rows to {out} in "
        f"{time.perf_counter() - started:.1f}s; manifest: {summary.manifest_path}"
    )


def _report_dir(warehouse: Path | None) -> Path:
    path = Path(warehouse or get_settings().warehouse)
    return path.with_name(path.stem + "-reports")


def _print_report(outcome: ImportOutcome) -> None:
    """Per file and entity: landed, accepted, quarantined; then why rows were quarantined."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for line in outcome.report:
        if line.entity:
            counts = totals.setdefault((line.file, line.entity), {})
            counts[line.outcome] = counts.get(line.outcome, 0) + line.rows
    table = Table(title="Import report")
    for column in ("file", "entity", "landed", "accepted", "quarantined", "warnings"):
        table.add_column(column, justify="left" if column in ("file", "entity") else "right")
    for (file, entity), counts in totals.items():
        if not counts.get("landed"):
            continue  # a file with a header and no rows: nothing to say
        table.add_row(
            file,
            entity,
            *(f"{counts.get(k, 0):,}" for k in ("landed", "accepted", "quarantined", "warning")),
        )
    console.print(table)
    reasons: dict[tuple[str, str, str, str], int] = {}
    for line in outcome.report:
        if line.outcome not in ("landed", "accepted", "already imported"):
            key = (line.file, line.outcome, line.column, line.reason)
            reasons[key] = reasons.get(key, 0) + line.rows
    if reasons:
        detail = Table(title="Quarantined, warned and skipped rows, by reason")
        for column in ("file", "outcome", "column", "reason", "rows"):
            detail.add_column(column, justify="right" if column == "rows" else "left")
        for (file, kind, column, reason), rows in reasons.items():
            detail.add_row(file, kind, column, reason, f"{rows:,}" if rows else "")
        console.print(detail)
    already = [f.path.name for f in outcome.result.files if f.already_imported]
    if already:
        console.print(f"Already imported, nothing changed: {', '.join(already)}")
    for name in outcome.result.unrecognised_files:
        console.print(f"[yellow]{name}: not a format EmpowerED+ recognises; skipped[/yellow]")
    if outcome.report_path:
        console.print(f"Report saved to {outcome.report_path}")


def _is_iso_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to import.")],
    warehouse: WarehouseOption = None,
    source: Annotated[
        str,
        typer.Option(
            help="auto, canonical, ctf, sims, arbor, bromcom, json (Wonde or Assembly "
            "students), observations, provision, a mapping .yml file for any other layout, "
            "or saved:NAME for a mapping the school saved on the upload page (with --school)."
        ),
    ] = "auto",
    school: Annotated[
        str | None, typer.Option(help="The school's URN, for exports that do not carry it.")
    ] = None,
    export_date: Annotated[
        str | None,
        typer.Option(
            help="When the files were exported (e.g. 2026-12-01 or 01/12/2026), for exports "
            "whose title lines do not say: characteristics take effect on that day."
        ),
    ] = None,
) -> None:
    """Import files into the warehouse (one transaction), rebuild what they touch, report."""
    from empowered.imports import ImportNotSaved, audit_problem, nothing_taken, run_import
    from empowered.sources.dates import to_iso
    from empowered.sources.errors import SourceError

    exported_on = to_iso(export_date) if export_date else None
    if exported_on is not None and not _is_iso_date(exported_on):
        console.print(f"--export-date must be a date like 2026-12-01, not {export_date!r}.")
        raise typer.Exit(2)
    con = _open(warehouse)
    # Closed on every way out: a test, or a script, may open the warehouse next.
    with closing(con):
        saved = _saved_mapping(con, source, school)
        try:
            outcome = run_import(
                con,
                paths,
                keys=get_settings().keys(),
                source="auto" if saved else source,
                school=school,
                report_dir=_report_dir(warehouse),
                max_bytes=get_settings().max_import_bytes,
                progress=_progress,
                export_date=exported_on,
                mapping=saved,
            )
        except SourceError as err:
            console.print("[red]Import refused, nothing was changed:[/red] ", end="")
            console.print(str(err), markup=False)
            audit_problem(con, err, via="command line")
            raise typer.Exit(1) from err
        except ImportNotSaved as err:
            if err.build is not None and err.build.stopped:
                _report_build(err.build)
            console.print(f"Import failed: {err}.", style="red", markup=False)
            raise typer.Exit(1) from err
    taken_nothing = nothing_taken(outcome)
    if taken_nothing:
        # The reason first, before the tables: it is what decides the next step.
        console.print(taken_nothing, style="red", markup=False, highlight=False)
    _print_report(outcome)
    if taken_nothing:
        raise typer.Exit(1)
    if outcome.build is not None:
        _report_build(outcome.build)
        if not outcome.build.ok:
            raise typer.Exit(1)
    else:
        console.print("Nothing new to import.")


def _saved_mapping(
    con: duckdb.DuckDBPyConnection, source: str, school: str | None
) -> Mapping | None:
    """The school's saved mapping ``--source saved:NAME`` names (None for other sources)."""
    if not source.startswith("saved:"):
        return None
    from empowered.sources.saved_mappings import find_saved, saved_mappings

    name = source.removeprefix("saved:")
    if not school:
        console.print("--source saved:NAME needs the school it was saved for: --school URN.")
        raise typer.Exit(2)
    found = find_saved(con, f"{school}:{name}", None)
    if found is None:
        names = ", ".join(m.name for m in saved_mappings(con, frozenset({school}))) or "none"
        console.print(
            f"School {school} has no saved mapping called {name!r} (its mappings: {names}).",
            markup=False,
        )
        raise typer.Exit(2)
    return found.mapping


@app.command()
def watch(
    inbox: Annotated[Path, typer.Argument(help="The folder scheduled MIS reports drop into.")],
    warehouse: WarehouseOption = None,
    school: Annotated[str | None, typer.Option(help="URN for exports without one.")] = None,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between looks.")] = 10.0,
    once: Annotated[bool, typer.Option(help="Look once, import what is there, stop.")] = False,
) -> None:
    """Import every file dropped into INBOX, then move it to imported/ or failed/."""
    from empowered.imports import audit_problem, process_inbox

    inbox.mkdir(parents=True, exist_ok=True)
    con = _open(warehouse)
    keys = get_settings().keys()
    console.print(f"Watching {inbox} (Ctrl+C to stop)" if not once else f"Importing from {inbox}")
    try:
        while True:
            for item in process_inbox(
                con,
                inbox,
                keys=keys,
                school=school,
                quiet_seconds=0.0 if once else 2.0,
                max_bytes=get_settings().max_import_bytes,
            ):
                if item.error:
                    # A refused file is deleted; one not saved (a full disk) is kept.
                    how = (
                        "refused"
                        if item.problem is not None
                        else f"not saved, kept as {item.moved_to}"
                    )
                    console.print(f"[red]{item.file}: {how}[/red] ", end="")
                    console.print(item.error, markup=False)
                    if item.problem is not None:
                        audit_problem(con, item.problem, via="inbox")
                else:
                    assert item.outcome is not None
                    rows = item.outcome.result.rows_landed
                    console.print(f"{item.file}: {rows:,} rows landed -> {item.moved_to}")
            if once:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        console.print("Stopped.")


LakeOption = Annotated[
    str | None,
    typer.Option(
        help="A lake folder (or file:// URI) holding the tables as Parquet: a mounted "
        "object store too (/dbfs/..., /lakehouse/default/Files/...)."
    ),
]


@app.command()
def build(
    warehouse: WarehouseOption = None,
    engine: Annotated[str, typer.Option(help="duckdb or spark")] = "duckdb",
    master: Annotated[
        str, typer.Option(help="Spark master URL (with --engine spark).")
    ] = "local[2]",
    lake: LakeOption = None,
    full: Annotated[
        bool, typer.Option(help="With --lake: rebuild every model, not only what changed.")
    ] = False,
) -> None:
    """Build every model in dependency order and run its checks.

    With --engine spark --lake, Spark builds the lake from the sources published to it
    (empowered lake publish); without --lake, the warehouse's sources are published to a
    temporary lake and built there, to compare the engines."""
    if engine == "duckdb":
        if lake is not None:
            console.print("[red]--lake is built by Spark: add --engine spark[/red]")
            raise typer.Exit(2)
        from empowered.warehouse.build import build_duckdb

        result = build_duckdb(_open(warehouse), progress=_progress)
    elif engine == "spark":
        result = _build_on_spark(warehouse, lake, master, full)
    else:
        console.print("[red]--engine must be duckdb or spark[/red]")
        raise typer.Exit(2)
    _report_build(result)
    if not result.ok:
        raise typer.Exit(1)


def _build_on_spark(
    warehouse: Path | None, lake_uri: str | None, master: str, full: bool
) -> BuildResult:
    from empowered.warehouse.build import prepare
    from empowered.warehouse.lake import Lake, LakeError
    from empowered.warehouse.lake_publish import publish
    from empowered.warehouse.spark import SparkUnavailable, build_spark, spark_session

    with tempfile.TemporaryDirectory(prefix="empowered-spark-") as tmp:
        try:
            lake = Lake(lake_uri or Path(tmp) / "lake")
        except LakeError as err:
            console.print(str(err), style="red", markup=False)
            raise typer.Exit(2) from err
        if lake_uri is None:
            con = _open(warehouse)
            prepare(con)
            publish(con, lake)
        elif not lake.current().tables:
            console.print(
                f"{lake_uri} holds no sources to build: publish the warehouse's first "
                f"(empowered lake publish --lake {lake_uri}).",
                style="red",
                markup=False,
            )
            raise typer.Exit(2)
        try:
            spark = spark_session(master, Path(tmp))
        except SparkUnavailable as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from err
        try:
            result = build_spark(spark, lake, progress=_progress, full=full)
        except FileNotFoundError as err:
            console.print(str(err), style="red", markup=False)
            raise typer.Exit(2) from err
        finally:
            spark.stop()
        if lake_uri is not None:
            # Files no recent snapshot names (a purge's old batches among them) go now.
            removed = lake.vacuum()
            console.print(f"Lake snapshot {lake.version()} committed; {removed} old files removed.")
        return result


lake_app = typer.Typer(
    help="The lake: the warehouse's tables as Parquet, built by Spark and served by the app.",
    no_args_is_help=True,
)
app.add_typer(lake_app, name="lake")


@lake_app.command("publish")
def lake_publish(
    lake: Annotated[str, typer.Option(help="The lake folder.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Copy the warehouse's sources (raw rows, reference data, rules) to the lake, only
    the batches it does not hold yet, for Spark to build from."""
    from empowered.warehouse.build import prepare
    from empowered.warehouse.lake import Lake
    from empowered.warehouse.lake_publish import publish

    con = _open(warehouse)
    prepare(con)
    snapshot = publish(con, Lake(lake))
    console.print(f"Lake snapshot {snapshot.version}: {len(snapshot.tables)} tables.")


@lake_app.command("show")
def lake_show(lake: Annotated[str, typer.Option(help="The lake folder.")]) -> None:
    """The lake's latest snapshot: its tables, rows and files, and its latest builds."""
    from empowered.warehouse.lake import Lake

    snapshot = Lake(lake).current()
    table = Table(title=f"Lake snapshot {snapshot.version}")
    for column in ("table", "rows", "files", "split by"):
        table.add_column(column)
    for name, entry in sorted(snapshot.tables.items()):
        rows = "view" if entry.view else f"{entry.rows:,}"
        table.add_row(name, rows, str(len(entry.files)), ", ".join(entry.partitioned_by))
    console.print(table)
    for build, _ in snapshot.builds[-5:]:
        console.print(f"build {build}")


@lake_app.command("vacuum")
def lake_vacuum(lake: Annotated[str, typer.Option(help="The lake folder.")]) -> None:
    """Remove files no recent snapshot names (older than an hour)."""
    from empowered.warehouse.lake import Lake

    removed = Lake(lake).vacuum()
    console.print(f"Removed {removed} files.")


@lake_app.command("detach")
def lake_detach(warehouse: WarehouseOption = None) -> None:
    """Stop serving a lake: the warehouse builds its own tables again (a full build)."""
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.lake_attach import detach

    con = _open(warehouse)
    detach(con)
    result = build_duckdb(con, progress=_progress)
    _report_build(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command("show-sql")
def show_sql(
    model: Annotated[str, typer.Argument(help="A model, e.g. stg_canonical_attendance.")],
    spark: Annotated[bool, typer.Option(help="Show it as Spark SQL instead.")] = False,
) -> None:
    """Print the SQL a model runs, with its declaration and project functions expanded."""
    import sqlglot

    from empowered.warehouse.models import discover_models

    models = discover_models()
    found = [m for m in models.values() if model in (m.name, m.table)]
    if not found:
        console.print(f"[red]No model named {model}.[/red]")
        raise typer.Exit(2)
    sql = found[0].sql
    if spark:
        sql = sqlglot.transpile(sql, read="duckdb", write="spark", pretty=True)[0]
    typer.echo(sql)


@app.command()
def demo(
    warehouse: WarehouseOption = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Where to write the synthetic trust (default: a temp folder)."),
    ] = None,
    serve: Annotated[
        bool, typer.Option(help="Serve the web app afterwards (when it lands).")
    ] = True,
    through: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The demo's last day of records, YYYY-MM-DD (default: yesterday).",
        ),
    ] = None,
) -> None:
    """Generate a small synthetic trust, import it, build the warehouse and show what loaded."""
    from datetime import date, timedelta

    from empowered.demo import DEMO_PUPILS, DEMO_SCHOOLS, is_demo_warehouse, run_demo

    # The school year so far: records up to the last day before today (or the day given).
    last_day = through.date() if through else date.today() - timedelta(days=1)

    path = Path(warehouse or get_settings().warehouse)
    if path.exists():
        # The demo starts from an empty warehouse, but it must never delete a school's real
        # one, nor a file the server is serving.
        try:
            replaceable = is_demo_warehouse(path)
        except duckdb.Error as err:
            console.print(
                f"[red]Cannot open {path}: {err}[/red]\n"
                "If the EmpowerED+ server is running it holds the file: stop it first."
            )
            raise typer.Exit(2) from err
        if not replaceable:
            console.print(
                f"[red]{path} is not a demo warehouse, so the demo will not replace it.[/red]\n"
                "Give the demo a file of its own: empowered demo --warehouse demo.duckdb"
            )
            raise typer.Exit(2)
        path.unlink()
    con = _open(path)
    started = time.perf_counter()
    console.print(
        f"Generating a synthetic trust ({DEMO_SCHOOLS} schools, {DEMO_PUPILS:,} pupils) as "
        "schools hold it: MIS exports, a CTF, a forms export, a tracker..."
    )
    with tempfile.TemporaryDirectory(prefix="empowered-demo-") as tmp:
        folder = data or Path(tmp)
        result = run_demo(
            con,
            folder,
            keys=get_settings().keys(),
            through=last_day,
            report_dir=_report_dir(path),
            progress=_progress,
        )
        _print_report(result.imported)
    build = result.imported.build
    assert build is not None
    _report_build(build)
    _summarise(con)
    planted = sum(1 for m in result.formats.mess if m.reason != "accepted")
    console.print(
        f"The synthetic files carried {planted} planted problems (a bad UPN, a duplicated row, "
        "an unknown code...): the report above shows each quarantined with its reason."
    )
    console.print(f"Demo finished in {time.perf_counter() - started:.1f}s; warehouse: {path}")
    if not build.ok:
        raise typer.Exit(1)
    from empowered.demo import DEMO_SEED, create_demo_accounts
    from empowered.synth.app_sources import land_demo_records

    accounts = create_demo_accounts(con)
    # What staff would have entered in the app since the files came in (plans, reviews,
    # actions, sessions, concerns), landed through the app's own services and built.
    app_build = land_demo_records(
        con, keys=get_settings().keys(), today=last_day + timedelta(days=1), seed=DEMO_SEED
    )
    if app_build is not None:
        _report_build(app_build)
    table = Table(title="Demo accounts (synthetic pupils only; new passwords every run)")
    for column in ("username", "password", "role", "sees"):
        table.add_column(column)
    for a in accounts:
        table.add_row(a.username, a.password, a.role, a.sees)
    console.print(table)
    con.close()
    if serve:
        _serve(Path(path), host="127.0.0.1", port=8000)


def _summarise(con: duckdb.DuckDBPyConnection) -> None:
    landed = con.execute(
        "SELECT entity, sum(rows_read) FROM meta.batches GROUP BY entity ORDER BY entity"
    ).fetchall()
    rejected = dict(
        con.execute(
            "SELECT entity, count(*) FROM quarantine.rejected_rows GROUP BY entity"
        ).fetchall()
    )
    table = Table(title="Imported", show_lines=False)
    for column in ("file", "rows landed", "accepted", "quarantined"):
        table.add_column(column, justify="right" if column != "file" else "left")
    for entity, rows in landed:
        bad = int(rejected.get(entity, 0))
        table.add_row(f"{entity}.csv", f"{rows:,}", f"{rows - bad:,}", f"{bad:,}")
    console.print(table)
    names = [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('core', 'marts') UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE schema_name IN ('core', 'marts') ORDER BY 1, 2"
        ).fetchall()
    ]
    built = []
    for name in names:
        counted = con.execute(f"SELECT count(*) FROM {name}").fetchone()
        built.append((name, int(counted[0]) if counted else 0))
    table = Table(title="Built")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in built:
        table.add_row(name, f"{rows:,}")
    console.print(table)


def main() -> None:  # pragma: no cover
    sys.exit(app())


@app.command()
def docs(
    out: Annotated[Path, typer.Option(help="Where to write the document.")] = Path(
        "docs/data-model.md"
    ),
) -> None:
    """Regenerate the data-model document from the models' headers."""
    from empowered.warehouse.catalog import data_model_markdown
    from empowered.warehouse.models import discover_models

    out.write_text(data_model_markdown(discover_models()), encoding="utf-8")
    console.print(f"Wrote {out}")


@app.command()
def evaluate(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic trust.")] = 1,
    schools: Annotated[int, typer.Option(help="Schools in the synthetic trust.")] = 3,
    pupils: Annotated[int, typer.Option(help="Pupils on roll at the start.")] = 1500,
) -> None:
    """Score the analytics against the patterns planted in a synthetic trust.

    Exits with status 1 when a target is missed, so CI can run it.
    """
    from empowered.evaluate import evaluate as run_evaluation

    console.print(
        f"Generating a synthetic trust ({schools} schools, {pupils:,} pupils, seed {seed}), "
        "building it and running the analytics..."
    )
    result = run_evaluation(seed=seed, schools=schools, pupils=pupils)
    table = Table(title="How well the analytics find the planted patterns")
    for column in ("measure", "value", "target", "met", "detail"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for m in result.metrics:
        met = {True: "yes", False: "NO", None: "-"}[m.met]
        value = "-" if m.value is None else f"{m.value:.3f}"
        table.add_row(m.name, value, m.target or "-", met, m.detail)
    console.print(table)
    console.print(f"{result.summary} ({result.seconds:.0f}s)")
    if not result.targets_met:
        raise typer.Exit(1)


@app.command("load-national-figures")
def load_national_figures(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CSV files as downloaded from Explore Education Statistics: 'Pupils in all "
            "schools, by type of SEN provision' (Special educational needs in England) or "
            "absence by pupil characteristics (Pupil absence in schools in England).",
            exists=True,
            dir_okay=False,
        ),
    ],
    geography: Annotated[
        str | None,
        typer.Option(help="Also keep this level's rows: region or la (England always)."),
    ] = None,
    code: Annotated[
        str | None,
        typer.Option(
            help="With --geography: the one region (E12000007) or local authority (E09000010 "
            "or its 3-digit code) to keep; every one when left out."
        ),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Load England's, a region's or a local authority's SEN and absence figures from the
    DfE's published CSV files, with their year and source, for the register to compare."""
    from empowered.reference.dfe_csv import PUBLICATIONS, DfEFileError
    from empowered.reference.loaded_figures import load_national_figures as load

    levels = {"region": "regional", "la": "la"}
    if geography is not None and geography not in levels:
        console.print("[red]Nothing loaded:[/red] --geography is region or la.")
        raise typer.Exit(2)
    if code is not None and geography is None:
        console.print("[red]Nothing loaded:[/red] --code goes with --geography region or la.")
        raise typer.Exit(2)
    keep = {levels[geography]: code} if geography else None
    with closing(_open(warehouse)) as con:
        try:
            result = load(con, files, keep=keep)
        except DfEFileError as err:
            console.print("[red]Nothing loaded:[/red] ", end="")
            console.print(
                f"{err}. The figures already loaded are unchanged; correct the file (or "
                "download it again) and run the command again.",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(1) from err
    for f in result.files:
        console.print(
            f"{f.file} ({PUBLICATIONS[f.publication]}): {len(f.figures):,} figures loaded; "
            f"{f.not_available:,} cells the DfE marks as not available were left out.",
            markup=False,
        )
    if not result.figures:
        console.print("No figure matched: check --geography and --code.", markup=False)
    console.print(
        "The register shows them after the next build (empowered build) or when the web "
        "app starts.",
        markup=False,
    )


school_app = typer.Typer(
    help="The schools in this warehouse: set one up (the first step), list them.",
    no_args_is_help=True,
)
app.add_typer(school_app, name="school")


# The option that gives each detail, named after the reason ``school add`` refuses one.
SCHOOL_FLAGS = {
    "name": " Give it with --name (or --from-gias FILE).",
    "phase": " Give it with --phase.",
    "la": " (--la)",
    "estab": " (--estab)",
}


@school_app.command("add")
def school_add(
    urn: Annotated[str, typer.Argument(help="The school's URN (6 digits).")],
    name: Annotated[str | None, typer.Option(help="The school's name.")] = None,
    phase: Annotated[
        str | None,
        typer.Option(help="primary, secondary, all-through, special or alternative provision."),
    ] = None,
    la: Annotated[str | None, typer.Option("--la", help="Local authority code (3 digits).")] = None,
    estab: Annotated[
        str | None, typer.Option(help="Establishment number (4 digits); with --la, the DfE number.")
    ] = None,
    trust: Annotated[str | None, typer.Option(help="The multi-academy trust, if any.")] = None,
    from_gias: Annotated[
        Path | None,
        typer.Option(
            "--from-gias",
            help="The DfE's 'Get Information About Schools' establishment CSV: fills name, "
            "phase, type, LA and trust from the school's row (what you type wins).",
        ),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Set up a school (or change its details): the first step before importing its files."""
    from empowered.access.audit import SchoolSetUp, record
    from empowered.access.store import ensure_access_tables
    from empowered.schools import SchoolError, add_school, details
    from empowered.sources.errors import SourceError

    try:
        school = details(
            urn, name=name, phase=phase, la_code=la, estab=estab, trust_name=trust, gias=from_gias
        )
    except (SchoolError, SourceError) as err:
        console.print("[red]School not added:[/red] ", end="")
        flag = SCHOOL_FLAGS.get(err.field, "") if isinstance(err, SchoolError) else ""
        console.print(f"{err}{flag}", markup=False, highlight=False)
        raise typer.Exit(1) from err
    with closing(_open(warehouse)) as con:
        added = add_school(con, school, keys=get_settings().keys())
        ensure_access_tables(con)
        record(con, SchoolSetUp(school_urn=school.urn, batch_id=added.batch_id), user=None)
    if not added.build.ok:
        _report_build(added.build)
        raise typer.Exit(1)
    dfe = f", DfE number {school.la_code}{school.estab}" if school.la_code and school.estab else ""
    console.print(f"School {school.urn} set up: {school.name} ({school.phase}{dfe}).", markup=False)
    console.print(f"Next: empowered import YOUR-EXPORT.csv --school {school.urn}", markup=False)


@school_app.command("list")
def school_list(warehouse: WarehouseOption = None) -> None:
    """List the schools set up in this warehouse, with their pupils on roll."""
    from empowered.schools import list_schools

    with closing(_open(warehouse)) as con:
        schools = list_schools(con)
    if not schools:
        console.print(
            "No school yet. Set one up: empowered school add URN --name NAME --phase PHASE"
        )
        return
    table = Table(title="Schools")
    for column in ("URN", "name", "phase", "DfE number", "trust", "pupils on roll"):
        table.add_column(column, justify="right" if column == "pupils on roll" else "left")
    for s in schools:
        table.add_row(
            s.urn, s.name, s.phase, s.dfe_number or "", s.trust_name or "", f"{s.pupils:,}"
        )
    console.print(table)


@school_app.command("letterhead")
def school_letterhead(
    urn: Annotated[str, typer.Argument(help="The school's URN.")],
    contact: Annotated[
        str | None,
        typer.Option(
            help='Who parents should contact, as the documents print it: "Ms Green, special'
            ' needs co-ordinator, 01234 567890".'
        ),
    ] = None,
    logo: Annotated[
        Path | None, typer.Option(help="The school's logo: a .png, .jpg or .svg under 512 KB.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """What the school's documents carry at their head: the contact line and the logo
    (what is not given is kept)."""
    from empowered.access.audit import Changed, record
    from empowered.documents.letterhead import LetterheadRefused, set_letterhead

    with closing(_open_access(warehouse)) as con:
        try:
            done = set_letterhead(con, urn.strip(), contact=contact, logo=logo)
        except LetterheadRefused as err:
            console.print(f"Letterhead not changed: {err}.", style="red", markup=False)
            raise typer.Exit(1) from None
        detail = {"contact": contact is not None, "logo": logo is not None}
        record(con, Changed(what="school_letterhead", detail=detail), user=None)
    logo_words = "with" if done.logo_data_uri else "without"
    console.print(f"{done.school_name}: documents carry the contact line", markup=False)
    console.print(f"  {done.contact or '(none yet)'}", markup=False)
    console.print(f"  and are printed {logo_words} a logo.", markup=False)


user_app = typer.Typer(
    help="Staff accounts for the web app: add, list, reset a password, switch off.",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so scripts can pipe a generated password in without a terminal.
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _open_access(warehouse: Path | None) -> duckdb.DuckDBPyConnection:
    from empowered.access.store import ensure_access_tables

    con = _open(warehouse)
    ensure_access_tables(con)
    return con


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name (an email address works).")],
    role: Annotated[
        str,
        typer.Option(
            help="trust_admin, senco, dsl, teacher, teaching_assistant, "
            "visiting_professional or trust_analyst."
        ),
    ],
    school: Annotated[
        str | None, typer.Option(help="The school's URN (every role but the trust ones).")
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option(help="A class or group they teach (repeatable).")
    ] = None,
    pupil: Annotated[
        list[str] | None, typer.Option(help="A pupil key they work with (repeatable).")
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option(help="An area a visiting professional may see (repeatable)."),
    ] = None,
    expires: Annotated[
        str | None, typer.Option(help="Last day of access, YYYY-MM-DD (visitors need one).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Add a staff account; asks for the password twice."""
    from datetime import date

    from empowered.access.audit import UserAdded, record
    from empowered.access.users import AccessError, add_user

    try:
        expires_on = date.fromisoformat(expires) if expires else None
    except ValueError as err:
        console.print(f"[red]--expires must be a date like 2027-03-31, not {expires!r}[/red]")
        raise typer.Exit(2) from err
    password = _read_password(password_stdin)
    con = _open_access(warehouse)
    try:
        user = add_user(
            con,
            username,
            password,
            role,
            school_urn=school,
            groups=group or (),
            pupils=pupil or (),
            areas=area or (),
            expires_on=expires_on,
        )
    except AccessError as err:
        console.print("[red]Not added:[/red] ", end="")
        console.print(str(err), markup=False, highlight=False)
        raise typer.Exit(1) from err
    record(con, UserAdded(target_user_id=user.user_id, role=user.role.value), user=None)
    console.print(f"Added {user.username} ({user.role.label}), user id {user.user_id}.")


@user_app.command("list")
def user_list(warehouse: WarehouseOption = None) -> None:
    """List staff accounts (never their passwords)."""
    from empowered.access.users import list_users

    con = _open_access(warehouse)
    table = Table(title="Staff accounts")
    for column in ("id", "username", "role", "school", "groups", "pupils", "areas", "expires"):
        table.add_column(column)
    table.add_column("second factor")
    table.add_column("status")
    for user in list_users(con):
        table.add_row(
            str(user.user_id),
            user.username,
            user.role.label,
            user.school_urn or "all",
            ", ".join(user.groups),
            str(len(user.pupils)) if user.pupils else "",
            ", ".join(user.areas),
            user.expires_on.isoformat() if user.expires_on else "",
            "yes" if user.totp_enabled else "no",
            "switched off" if user.disabled else "active",
        )
    console.print(table)


@user_app.command("reset-password")
def user_reset_password(
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Set a new password for an account (this also lifts a lock-out)."""
    from empowered.access.audit import PasswordReset, record
    from empowered.access.users import AccessError, reset_password

    con = _open_access(warehouse)
    user = _account(con, username)
    password = _read_password(password_stdin)
    try:
        reset_password(con, user.user_id, password)
    except AccessError as err:
        console.print("[red]Not changed:[/red] ", end="")
        console.print(str(err), markup=False, highlight=False)
        raise typer.Exit(1) from err
    record(con, PasswordReset(target_user_id=user.user_id), user=None)
    console.print(f"New password set for {user.username}.")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument()],
    warehouse: WarehouseOption = None,
) -> None:
    """Switch an account off (it is kept so the audit log still names who did what)."""
    from empowered.access.audit import UserChanged, record
    from empowered.access.users import disable_user

    con = _open_access(warehouse)
    user = _account(con, username)
    disable_user(con, user.user_id)
    record(con, UserChanged(target_user_id=user.user_id, what="disabled"), user=None)
    console.print(f"Switched off {user.username}.")


def _serve(warehouse: Path, *, host: str, port: int) -> None:
    import uvicorn

    from empowered.web.app import create_app

    console.print(f"Serving EmpowerED+ on http://{host}:{port} (Ctrl+C to stop)")
    uvicorn.run(create_app(warehouse), host=host, port=port, log_level="warning")


@app.command()
def serve(
    warehouse: WarehouseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    lake: Annotated[
        str | None,
        typer.Option(
            help="Serve the tables Spark built in this lake (the warehouse keeps the app's "
            "own records and publishes what staff enter to the lake)."
        ),
    ] = None,
) -> None:
    """Serve the staff web app. The server owns the warehouse file while it runs."""
    from empowered.warehouse.lake_attach import served_lake

    path = Path(warehouse or get_settings().warehouse)
    con = _open(path)  # a clear message if another process holds the file; upgrades it
    try:
        # A warehouse served from a lake before (or restored from a backup of one) is
        # served from it again, pointed at its latest build.
        served = served_lake(con)
        if lake is None and served is not None:
            lake = str(served.root)
        if lake is not None:
            _attach_lake(con, lake)
        else:
            _rebuild_out_of_date(con)
    finally:
        con.close()
    _serve(path, host=host, port=port)


def _attach_lake(con: duckdb.DuckDBPyConnection, uri: str) -> None:
    from empowered.warehouse.build import prepare
    from empowered.warehouse.lake import Lake, LakeError
    from empowered.warehouse.lake_attach import attach
    from empowered.warehouse.lake_publish import publish

    try:
        lake = Lake(uri)
    except LakeError as err:
        console.print(str(err), style="red", markup=False)
        raise typer.Exit(2) from err
    prepare(con)
    publish(con, lake)  # what was entered since the last publish
    attached = attach(con, lake)
    if not attached.version or not lake.current().builds:
        console.print(
            "The lake has no Spark build yet: pages show no built tables until "
            f"empowered build --engine spark --lake {uri} has run."
        )
    console.print(f"Serving lake snapshot {attached.version}.")


def _rebuild_out_of_date(con: duckdb.DuckDBPyConnection) -> None:
    """Before serving, rebuild the models this release changed (and what reads them), or
    everything after a build stopped part-way: pages would otherwise read tables made by
    other SQL, with other columns."""
    from empowered.warehouse.build import build_duckdb, out_of_date

    stale = out_of_date(con)
    if not stale:
        return
    console.print(
        f"{len(stale)} of the warehouse's models were built by another release (or the last"
        " build was stopped part-way): rebuilding them and what reads them before serving."
    )
    result = build_duckdb(con, touched=set(), progress=_progress)
    _report_build(result)


def _account(con: duckdb.DuckDBPyConnection, username: str) -> User:
    """The named account, or a plain message and exit status 1."""
    from empowered.access.users import find_user

    user = find_user(con, username)
    if user is None:
        console.print(f"There is no account called {username!r}.", markup=False, style="red")
        raise typer.Exit(1)
    return user


retention_app = typer.Typer(
    help="How long records are kept: show what is past retention, delete it.",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")


@retention_app.command("show")
def retention_show(warehouse: WarehouseOption = None) -> None:
    """The retention period per category and how many records are past it (counts only)."""
    from empowered.access.retention import SOURCE, WHOLE_RECORD, preview, pupils_past

    con = _open_access(warehouse)
    table = Table(title="Retention")
    for column in ("category", "kept for", "counted from", "past retention"):
        table.add_column(column)
    for expired in preview(con):
        c = expired.category
        table.add_row(
            c.label,
            f"{expired.years} years",
            "leaving the school" if c.basis == "left" else "the record's date",
            str(expired.total),
        )
    whole = pupils_past(con)
    table.add_row(
        WHOLE_RECORD, f"{whole.years} years", "leaving their last school", f"{whole.pupils} pupils"
    )
    console.print(table)
    console.print(SOURCE, markup=False, highlight=False)


@retention_app.command("apply")
def retention_apply(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before deleting.")] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Delete every record past its retention period, then rebuild what is built from it."""
    from empowered.access.audit import RetentionApplied, record
    from empowered.access.retention import apply, preview, pupils_past
    from empowered.imports import stored_file_folders

    settings = get_settings()
    con = _open_access(warehouse)
    total = sum(e.total for e in preview(con))
    pupils = pupils_past(con).pupils
    if total == 0 and pupils == 0:
        console.print("Nothing is past its retention period.")
        return
    question = f"Delete {total} records past retention and everything about {pupils} pupils?"
    if not yes and not typer.confirm(question, default=False):
        console.print("Nothing deleted.")
        raise typer.Exit(1)
    files = stored_file_folders(warehouse or settings.warehouse, settings.inbox)
    applied = apply(con, files=files)
    event = RetentionApplied(
        deleted=applied.deleted,
        years=applied.years,
        pupils_purged=applied.pupils_purged,
        files_deleted=applied.files_deleted,
    )
    record(con, event, user=None)
    for key, n in applied.deleted.items():
        console.print(f"{key}: {n} deleted")
    console.print(f"pupils removed whole: {applied.pupils_purged}")
    console.print(f"stored import files deleted: {applied.files_deleted}")
    if applied.rebuilt and not applied.build_ok:
        console.print("[red]The rebuild afterwards failed: run empowered build.[/red]")
        raise typer.Exit(1)


@app.command("subject-access")
def subject_access(
    pupil_key: Annotated[str, typer.Argument(help="The pupil's key (as in /pupils/<key>).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the zip into.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Everything held about one pupil, for a subject access request: one CSV per table
    in every layer, where it came from and how long it is kept (summary.html), zipped."""
    from empowered.access.audit import SubjectAccessExported, record
    from empowered.access.subject_access import NothingHeld, export
    from empowered.crypto import IdentityCipher

    con = _open_access(warehouse)
    cipher = IdentityCipher(get_settings().keys().identity_keys)
    try:
        done = export(con, pupil_key.strip(), out, cipher=cipher)
    except NothingHeld:
        console.print("Nothing is held about that pupil key.", style="red")
        raise typer.Exit(1) from None
    event = SubjectAccessExported(pupil_key=done.pupil_key, tables=len(done.tables), rows=done.rows)
    record(con, event, user=None)
    console.print(f"{done.rows} rows from {len(done.tables)} tables written to", markup=False)
    console.print(str(done.path), markup=False, highlight=False, soft_wrap=True)


@app.command("leaving-export")
def leaving_export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the zip(s) into.")],
    school: Annotated[
        list[str] | None,
        typer.Option("--school", help="The school's URN (give it again for more schools)."),
    ] = None,
    every_school: Annotated[
        bool, typer.Option("--all", help="Every school in the warehouse, one zip each.")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Everything a school entered in EmpowerED+ (plans, reviews, actions, registers,
    concerns, notes) as CSV files and readable documents, zipped, for a school that stops
    using it. What came from its MIS is left out: the school already holds it."""
    from empowered.access.audit import record
    from empowered.leaving import UnknownSchool, audit_event, export, schools
    from empowered.leaving.records import BY_NAME

    if bool(school) == every_school:
        console.print("Name the school with --school URN, or give --all for every school.")
        raise typer.Exit(2)
    con = _open_access(warehouse)
    keys = get_settings().keys()
    for urn in schools(con) if every_school else [s.strip() for s in school or []]:
        try:
            done = export(con, urn, out, keys=keys)
        except UnknownSchool:
            console.print(
                f"No school with URN {urn} is in the warehouse: nothing was written for it. "
                "`empowered school list` shows the schools.",
                markup=False,
            )
            raise typer.Exit(1) from None
        record(con, audit_event(done), user=None)
        console.print(f"School {urn}: {done.pupils} pupils, written to", markup=False)
        console.print(str(done.path), markup=False, highlight=False, soft_wrap=True)
        for kind, rows in done.counts.items():
            console.print(f"  {rows:>6}  {BY_NAME[kind].title}", markup=False)
        console.print(f"  {done.files:>6}  Reports attached (PDF files)", markup=False)


audit_app = typer.Typer(
    help="The audit log of who saw and changed what: check it has not been tampered with.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            help="A head hash noted earlier (printed by this command): it must still be in "
            "the chain, which catches a log rewritten from start to end.",
        ),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first entry that does not
    fit (changed, deleted, inserted, or the end cut off)."""
    from empowered.access.audit import verify

    con = _open_access(warehouse)
    result = verify(con, expect_hash=expect)
    console.print(
        f"{result.entries} entries checked, {result.gaps} retention gaps stepped over"
        + (f", {result.unchained} older entries from before the chain" if result.unchained else "")
    )
    if result.head_hash:
        console.print(f"head: entry {result.head_id} {result.head_hash}")
    if result.broken is not None:
        b = result.broken
        where = "the end of the log" if b.event_id is None else f"entry {b.event_id} ({b.at})"
        console.print(f"[red]BROKEN at {where}[/red]: ", end="")
        console.print(b.problem, markup=False)
        raise typer.Exit(1)
    if result.expected_head_found is False:
        console.print("[red]BROKEN[/red]: the hash given with --expect is not in the chain")
        raise typer.Exit(1)
    console.print("[green]audit log intact[/green]")


keys_app = typer.Typer(
    help="The secrets kept outside the warehouse: rotate the identity key.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")


@keys_app.command("rotate")
def keys_rotate(warehouse: WarehouseOption = None) -> None:
    """Make a new identity key, re-encrypt every name, UPN and date of birth with it, then
    drop the old key. Stop the server first; back the key file up afterwards."""
    from empowered.keys import KeyProblem
    from empowered.rotation import rotate_identity_key

    settings = get_settings()
    if settings.identity_key is not None:
        console.print(
            "[red]The identity key comes from EMPOWERED_IDENTITY_KEY, so it cannot be"
            " rotated in the key file.[/red] Unset it to keep the key in the key file"
            f" ({settings.key_path}), or rotate it where it is set."
        )
        raise typer.Exit(2)
    con = _open(warehouse)
    try:
        rotated = rotate_identity_key(con, settings.key_path)
    except KeyProblem as err:
        console.print(f"[red]{err}[/red]", markup=False)
        raise typer.Exit(1) from err
    finally:
        con.close()
    console.print(
        f"Identity key rotated (new key id {rotated.new_key_id}): {rotated.values:,} values"
        f" re-encrypted in {len(rotated.columns)} columns; the old key is gone."
        f" Back up {settings.key_path} now: the warehouse cannot be read without it."
    )


# --- backups (empowered.backup) ---------------------------------------------------------

backup_app = typer.Typer(
    help="Back the warehouse up into an encrypted file, or check that a backup restores.",
)
app.add_typer(backup_app, name="backup")


def _backup_failed(problem: Exception) -> typer.Exit:
    console.print(str(problem), style="red", markup=False)
    return typer.Exit(1)


@backup_app.callback(invoke_without_command=True)
def backup(
    ctx: typer.Context,
    to: Annotated[
        Path | None, typer.Option("--to", help="The folder to write the backup into.")
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Write a consistent, encrypted backup of raw, app and meta into a folder (--to)."""
    if ctx.invoked_subcommand is not None:
        return
    from empowered.backup import BackupProblem, take_backup
    from empowered.backup.keys import backup_key

    if to is None:
        console.print("Say where to write the backup: empowered backup --to FOLDER")
        raise typer.Exit(2)
    settings = get_settings()
    path = warehouse or settings.warehouse
    if not path.is_file():
        console.print(f"[red]There is no warehouse at {path}.[/red] Nothing was backed up.")
        raise typer.Exit(1)
    try:
        con = open_warehouse(path, read_only=True, threads=settings.duckdb_threads)
    except duckdb.IOException as err:
        if _backup_through_server(path, to):
            return
        console.print(
            f"[red]Cannot open the warehouse {path}: another process holds it.[/red]\n"
            "If it is the EmpowerED+ server, the server takes backups itself: set"
            " EMPOWERED_BACKUP_DIR for it, or stop the server and run this again."
        )
        raise typer.Exit(2) from err
    try:
        with closing(con):
            info = take_backup(con, to, settings.keys(), backup_key(settings, create=True))
    except BackupProblem as problem:
        raise _backup_failed(problem) from problem
    _backup_written(info, settings.key_path)


def _backup_through_server(warehouse: Path, to: Path) -> bool:
    """The running server holds the file: ask it, over its control socket, to take the
    backup (``server_control``). False when no server answers there."""
    from datetime import datetime

    from empowered.backup import BackupInfo
    from empowered.server_control import ServerNotListening, ask_server

    try:
        answer = ask_server(warehouse, {"command": "backup", "to": str(to.absolute())})
    except ServerNotListening:
        return False
    if not answer.get("ok"):
        console.print(str(answer.get("error")), style="red", markup=False)
        raise typer.Exit(1)
    taken = answer["backup"]
    console.print("The running server holds the warehouse; it took the backup.")
    info = BackupInfo(
        Path(taken["path"]),
        datetime.fromisoformat(taken["created_at"]),
        int(taken["size_bytes"]),
        str(taken["sha256"]),
        dict(taken["row_counts"]),
        float(taken["seconds"]),
    )
    _backup_written(info, get_settings().key_path)
    return True


def _backup_written(info: BackupInfo, key_path: Path) -> None:
    console.print(f"Backup written: {info.path}", markup=False)
    console.print(
        f"  {info.size_bytes / 1e6:,.1f} MB, {len(info.row_counts)} tables,"
        f" {sum(info.row_counts.values()):,} rows, {info.seconds:.1f}s"
    )
    console.print(
        f"Keep the key file ({key_path}) apart from the backups: without it they cannot be read.",
        markup=False,
    )


def _restore_keys() -> tuple[Keys, bytes]:
    """The keys a restore reads with; never makes a key file (new keys could not read it)."""
    from empowered.backup import BackupProblem
    from empowered.backup.keys import backup_key

    settings = get_settings()
    given = (settings.pseudonym_key, settings.identity_key, settings.session_secret)
    if None in given and not settings.key_path.exists():
        raise BackupProblem(
            f"there is no key file at {settings.key_path}: put the key file that was kept"
            " with the old warehouse there (or set EMPOWERED_KEY_FILE). Nothing was restored."
        )
    return settings.keys(), backup_key(settings)


@backup_app.command("verify")
def backup_verify(
    backup: Annotated[Path, typer.Argument(help="The .backup file to check.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Restore a backup into a temporary folder, rebuild it, and compare its row counts
    with its manifest; nothing is kept. The keys are the warehouse's (--warehouse)."""
    from empowered.backup import BackupProblem, verify_backup

    try:
        keys, key = _restore_keys()
    except BackupProblem as problem:
        raise _backup_failed(problem) from problem
    report = verify_backup(backup, keys, key)
    if not report.ok:
        console.print(f"Backup NOT verified: {report.problem}", style="red", markup=False)
        raise typer.Exit(1)
    console.print(
        f"Backup verified: {len(report.row_counts)} tables and"
        f" {sum(report.row_counts.values()):,} rows restored and built as recorded"
        f" ({report.seconds:.1f}s)."
    )


@app.command()
def restore(
    backup: Annotated[Path, typer.Argument(help="The .backup file to restore.")],
    warehouse: Annotated[
        Path,
        typer.Option(
            "--warehouse",
            help="The NEW warehouse file to make (refused if it exists); the key file is the"
            " one beside it (<warehouse>.keys) unless EMPOWERED_KEY_FILE is set.",
            callback=_choose_warehouse,
        ),
    ],
) -> None:
    """Restore a backup into a new warehouse file and rebuild staging, core and marts."""
    from empowered.backup import BackupProblem, restore_backup

    try:
        keys, key = _restore_keys()
        report = restore_backup(backup, warehouse, keys, key)
    except BackupProblem as problem:
        raise _backup_failed(problem) from problem
    made = report.backup_created_at.strftime("%Y-%m-%d %H:%M UTC")
    console.print(f"Restored the backup made {made} into {warehouse}", markup=False)
    console.print(
        f"  {report.tables} tables, {report.rows:,} rows; staging, core and marts rebuilt"
        f" from raw in {report.build_seconds:.1f}s ({report.seconds:.1f}s in all)"
    )


report_app = typer.Typer(
    help="Documents that leave the school: a parent report, a one-page profile, the evidence"
    " for an EHC needs assessment, the termly register review pack (PDF, some also XLSX).",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

OutOption = Annotated[
    Path,
    typer.Option("--out", help="The file to write: .pdf (or .xlsx where the document has one)."),
]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Make it as this account (the policy decides what it may hold, and the account"
        " is named as who prepared it); without it, as the school's SEN team.",
    ),
]
ByOption = Annotated[
    str | None,
    typer.Option("--prepared-by", help="Who prepared it, in words (default: the account)."),
]


def _make_report(
    kind: str,
    out: Path,
    *,
    warehouse: Path | None,
    as_user: str | None,
    by: str | None,
    pupil_key: str | None = None,
    school_urn: str | None = None,
    term: str | None = None,
) -> None:
    """Make one document, write it to ``out`` and record it in the audit log."""
    from empowered.access.audit import record
    from empowered.access.policy import scope_for

    fmt = out.suffix.lower().lstrip(".")
    today = date.today()
    with closing(_open_access(warehouse)) as con:
        user = _account(con, as_user) if as_user else None
        scope = scope_for(con, user, today=today) if user is not None else None
        made = _made(con, kind, fmt, scope, today, pupil_key, school_urn, term, by, as_user)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(made.body)
        record(con, made.audit_event("command line"), user=user)
    unit = "pages" if made.format == "pdf" else "rows"
    console.print(f"{made.pages} {unit} written to", markup=False)
    console.print(str(out), markup=False, highlight=False, soft_wrap=True)


def _made(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    fmt: str,
    scope: Scope | None,
    today: date,
    pupil_key: str | None,
    school_urn: str | None,
    term: str | None,
    by: str | None,
    as_user: str | None,
) -> Made:
    """The document, or a plain message and exit status 1 (not allowed) or 2 (format)."""
    from empowered.access.documents import DocumentKind
    from empowered.documents.asking import NotAllowed, ask_for
    from empowered.documents.registry import NoSuchFormat, make_document
    from empowered.documents.terms import UnknownTerm
    from empowered.views import OutOfScope

    try:
        ask = ask_for(
            con,
            DocumentKind(kind),
            fmt,
            scope=scope,
            made_on=today,
            pupil_key=pupil_key,
            school_urn=school_urn,
            term=term,
            keys=get_settings().keys(),
            by=by,
        )
        return make_document(con, ask)
    except (NotAllowed, OutOfScope):
        who = f"The account {as_user}" if as_user else "The command line"
        what = f"pupil {pupil_key}" if pupil_key else f"school {school_urn or 'the trust'}"
        console.print(f"{who} cannot make this document for {what}.", style="red", markup=False)
        raise typer.Exit(1) from None
    except NoSuchFormat as err:
        console.print(f"{err}: give --out a file ending in one of those.", markup=False)
        raise typer.Exit(2) from None
    except UnknownTerm as err:
        console.print(f"Nothing was made: {err}.", style="red", markup=False)
        raise typer.Exit(2) from None


PupilArgument = Annotated[str, typer.Argument(help="The pupil's key (as in /pupils/<key>).")]


# The documents about one child: the same arguments, each its own command and help.
PUPIL_REPORTS = {
    "parent": "A report for the child's parents or carers (SEN Code of Practice 6.75): plain"
    " English, their child's outcomes and progress, the support they receive, what was agreed"
    " at the last review and what happens next. Never safeguarding or staff notes.",
    "profile": "A one-page profile (pupil passport) for staff new to the child and supply staff.",
    "ehc-evidence": "The evidence a local authority asks for with a request for an EHC needs"
    " assessment (or for an EHC plan's annual review), with what it will find missing; .xlsx"
    " gives the rows underneath.",
}


def _pupil_report(kind: str) -> Callable[..., None]:
    def command(
        pupil_key: PupilArgument,
        out: OutOption,
        as_user: AsOption = None,
        by: ByOption = None,
        warehouse: WarehouseOption = None,
    ) -> None:
        _make_report(kind, out, warehouse=warehouse, as_user=as_user, by=by, pupil_key=pupil_key)

    return command


for _kind, _help in PUPIL_REPORTS.items():
    report_app.command(_kind, help=_help)(_pupil_report(_kind))


@report_app.command("review-pack")
def report_review_pack(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The file to write: .pdf or .xlsx (not with --due)."),
    ] = None,
    school: Annotated[str | None, typer.Option("--school", help="The school's URN.")] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="The whole trust, school by school (suppressed).")
    ] = False,
    term: Annotated[
        str | None,
        typer.Option("--term", help='The term ahead, as "spring 2027" (default: the next term).'),
    ] = None,
    due: Annotated[
        bool,
        typer.Option(
            "--due",
            help="Write every pack due (its term starts within two weeks) into --folder, once.",
        ),
    ] = False,
    folder: Annotated[
        Path | None, typer.Option("--folder", help="Where --due writes the packs.")
    ] = None,
    as_user: AsOption = None,
    by: ByOption = None,
    warehouse: WarehouseOption = None,
) -> None:
    """The termly register review pack for a school (or, with --trust, the trust); with
    --due --folder DIR, every school's and the trust's pack due before the next term (for
    cron: run it daily, each pack is written once)."""
    if due:
        if folder is None or out or school or trust or term:
            console.print("Give --due with --folder DIR only (it writes every pack that is due).")
            raise typer.Exit(2)
        _write_due_packs(folder, warehouse)
        return
    if bool(school) == trust or out is None:
        console.print(
            "Name the school with --school URN, or give --trust for the trust, and the file "
            "with --out."
        )
        raise typer.Exit(2)
    _make_report(
        "trust-review-pack" if trust else "review-pack",
        out,
        warehouse=warehouse,
        as_user=as_user,
        by=by,
        school_urn=school,
        term=term,
    )


def _write_due_packs(folder: Path, warehouse: Path | None) -> None:
    """``report review-pack --due``: the packs the server's schedule would write."""
    from datetime import date

    from empowered.access.audit import record
    from empowered.documents.review_pack_schedule import write_due

    con = _open_access(warehouse)
    written = 0
    try:
        for path, made in write_due(con, folder, date.today(), keys=get_settings().keys()):
            # Run by cron, it is the schedule, as the server's would be.
            record(con, made.audit_event("schedule"), user=None)
            console.print(str(path), markup=False, highlight=False, soft_wrap=True)
            written += 1
    except OSError as err:
        console.print(
            f"The packs could not be written into {folder} ({err.strerror or err}); "
            f"{written} were written before. Check the folder can be written to and run "
            "the command again: packs already written are not written twice.",
            style="red",
            markup=False,
        )
        raise typer.Exit(1) from None
    finally:
        con.close()
    if not written:
        console.print("No pack is due: none starts within two weeks, or each is written.")
