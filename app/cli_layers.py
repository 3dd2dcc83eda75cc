"""``flask layers import FILE --kind K [--crs EPSG:…] [--replace]`` and ``flask layers remove
--kind K``: the workspace's layer import from the command line (same checks, same report,
same transaction and audit entry)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.services import layer_import

layers_group = AppGroup("layers", help="Import and remove map layers (transit, childcare, …).")

#: Files at least this large get a progress bar (unless --no-progress).
PROGRESS_BYTES = 1024 * 1024


def _print_report(report: layer_import.Report) -> None:
    labels = layer_import.problem_labels()
    crs = f" ({report.crs})" if report.crs else ""
    click.echo(f"{report.filename}: {report.format}{crs}, {report.total} rows.")
    click.echo(f"Valid: {len(report.accepted)}.")
    for code, count in report.counts.items():
        if count:
            click.echo(f"  {labels.get(code, code)}: {count}")
    if "lines_partial" in report.notes:
        click.echo("  Lines per stop are partial (stop_times.txt is very long).")
    for problem in report.problems[:20]:
        click.echo(f"  row {problem.number} {problem.name!r}: {labels.get(problem.code)}")
    if len(report.problems) > 20:
        click.echo(f"  … and {len(report.problems) - 20} more.")


@layers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, help="The layer kind, e.g. transit.")
@click.option("--crs", default=None, help="The file's CRS if it names none, e.g. EPSG:25832.")
@click.option("--replace", is_flag=True, help="Replace the kind's features (default: append).")
@click.option("--dry-run", is_flag=True, help="Only print the report; store nothing.")
@click.option("--progress/--no-progress", default=None, help="Show a progress bar.")
def import_command(file: Path, kind: str, crs, replace: bool, dry_run: bool, progress):
    """Import a layer file (GeoJSON, GeoPackage, zipped Shapefile, CSV, GTFS)."""
    from app.cli import needs_database

    size = file.stat().st_size
    if size > layer_import.MAX_FILE_BYTES:
        raise click.ClickException(
            f"{file.name} is too large: at most {layer_import.MAX_FILE_BYTES // 2**20} MB."
        )
    content = file.read_bytes()
    show = size >= PROGRESS_BYTES if progress is None else progress
    estimate = max(content.count(b"\n"), 1)
    mode = layer_import.REPLACE if replace else layer_import.APPEND

    @needs_database
    def run(update):
        try:
            if dry_run:
                return layer_import.check(
                    content, kind, filename=file.name, crs=crs, progress=update
                ), None
            result = layer_import.import_layer(
                content,
                kind,
                filename=file.name,
                mode=mode,
                actor=None,
                crs=crs,
                progress=update,
            )
            return result.report, result
        except layer_import.LayerImportError as error:
            raise click.ClickException(str(error)) from None

    if show:
        with click.progressbar(length=estimate, label="Reading") as bar:
            report, result = run(bar.update)
            bar.update(estimate)
    else:
        report, result = run(None)
    _print_report(report)
    if result is None:
        click.echo("Dry run: nothing stored.")
    else:
        click.echo(
            f"{result.added} features stored in {kind!r} ({result.mode}), {result.removed} removed."
        )


@layers_group.command("remove")
@click.option("--kind", required=True, help="The layer kind whose features are removed.")
def remove_command(kind: str):
    """Remove every feature of a layer kind."""
    from app.cli import needs_database

    @needs_database
    def run():
        try:
            return layer_import.remove_layer(kind, None)
        except layer_import.LayerImportError as error:
            raise click.ClickException(str(error)) from None

    click.echo(f"{run()} features of {kind!r} removed.")
