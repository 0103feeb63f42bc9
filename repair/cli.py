"""The `repair` command line: thin commands that parse, call the library, and print.

Diagnostics go to stderr; a user error prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from repair.edits import KINDS, Edit
from repair.files.commit import write_all
from repair.files.outputs import default_outputs, read_inputs, recorded_references
from repair.files.textio import InputError, read_text
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE
from repair.views.terminal import printable, shown, text_shown

if TYPE_CHECKING:
    from repair.corpus.batch import Summary


class OneLineErrors(TyperGroup):
    """Usage errors (a value out of range, an unknown option) on one line and exit 2, as every user error is.

    Typer draws them as a boxed block of usage; scripts and logs want one line to read.
    Asked for no command, the help is shown as before.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        extra.update(complete_var=complete_var, windows_expand_args=windows_expand_args)
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except TyperException as exc:  # typer's own click raises these: ClickException and its kind
            if type(exc).__name__ == "NoArgsIsHelpError":
                return super().main(args, prog_name, **extra)  # prints the help, the ordinary way
            ctx = getattr(exc, "ctx", None)
            see = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            err.print(f"[bold red]error:[/] {shown(exc.format_message())}{shown(see)}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            err.print("aborted", highlight=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; an interrupt its own handler did not take (say, while its modules load) is said
        as every interrupt is, where typer would end with 130 and no word."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: nothing was written")
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=OneLineErrors,
    help=(
        "Find where a text was damaged by a machine (re-tokenized, words pasted over, dropped or doubled,"
        " mojibake) and repair it, with the evidence for every change.\n\n"
        "Example:\n\n"
        "  repair fix article.txt --ref other-outlet.txt --ref wire-copy.txt\n\n"
        "then open article.report.html to review each change."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
err = Console(stderr=True)
out = Console()

RefsOpt = Annotated[
    list[Path] | None,
    typer.Option("--ref", "-r", help="A clean(er) copy of the same story from another source; repeat for more."),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Language model: 'smollm2' (the embedded default) or a Hugging Face masked-LM folder or name.",
    ),
]
NoModelOpt = Annotated[
    bool,
    typer.Option(
        "--no-model",
        help="No language model: only the rule repairs and the references' readings, thousands of words a second.",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-j",
        min=1,
        show_default="the machine's cores, or REPAIR_WORKERS",
        help="Processes side by side, each loading the model once (a big file's chunks, a corpus's documents).",
    ),
]


class ExportFormat(StrEnum):
    """Formats of the edit list: ours, ERRANT's M2, and a TEI critical apparatus."""

    json = "json"
    m2 = "m2"
    tei = "tei"


class UserError(Exception):
    """Raised inside commands for anything the user can fix; exits 2."""


def refuse_model_with_no_model(model: str | None, no_model: bool) -> None:
    """The one usage error of `ModelOpt` and `NoModelOpt` given together (fix, batch, bench)."""
    if no_model and model is not None:
        raise UserError("give --model or --no-model, not both")


def _show_settings(value: bool) -> None:
    """`repair fix --show-settings`: the settings a run would use, as JSON on stdout; nothing is repaired."""
    if not value:
        return
    import json

    from repair.stages.settings import default_settings

    with user_errors():
        settings = default_settings()
    sys.stdout.write(json.dumps(settings.to_json(), ensure_ascii=False, indent=1) + "\n")
    raise typer.Exit()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one line on stderr and exit code 2."""
    from repair.lm import ModelError

    try:
        yield
    except (InputError, UserError, ModelError) as exc:
        err.print(f"[bold red]error:[/] {shown(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: nothing was written")
        raise typer.Exit(130) from None


def warn(note: str | None) -> None:
    """Print a note the library gave (say, how long a model run will take) in yellow; nothing for None."""
    if note is not None:
        err.print(f"[yellow]{shown(note)}[/]", highlight=False)


def load_lm(spec: str | None) -> Any:
    from repair.lm import load_model

    return load_model(spec, progress=lambda msg: err.print(f"[dim]{shown(msg)}[/]", highlight=False))


def counts_table(applied: Counter[str], held: Counter[str]) -> Table:
    table = Table(title="edits by kind", title_justify="left")
    table.add_column("kind")
    table.add_column("applied", justify="right")
    table.add_column("not applied", justify="right")
    for kind in [k for k in KINDS if k in applied or k in held] + sorted((set(applied) | set(held)) - set(KINDS)):
        table.add_row(shown(kind), str(applied[kind]), str(held[kind]))
    table.add_row("[bold]total", f"[bold]{sum(applied.values())}", f"[bold]{sum(held.values())}")
    return table


def _print_version(value: bool) -> None:
    if value:
        from repair import __version__

        out.print(f"repair {__version__}", highlight=False)
        raise typer.Exit()


def summary_tables(summary: Summary) -> list[Table]:
    """A batch's tables for stderr: edits by kind, and the documents skipped with the reason."""
    applied = Counter({kind: a for kind, a, _ in summary.edits})
    held = Counter({kind: h for kind, _, h in summary.edits})
    tables = [counts_table(applied, held)]
    if summary.skipped or summary.skipped_references:
        skipped = Table(title="skipped", title_justify="left")
        skipped.add_column("document")
        skipped.add_column("why")
        for ident, why in summary.skipped:
            skipped.add_row(shown(ident), shown(why))
        for ident, why in summary.skipped_references:
            skipped.add_row(f"reference {shown(ident)}", shown(why))
        tables.append(skipped)
    return tables


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Find where a text was damaged by a machine and repair it, with the evidence for every change."""


@app.command()
def fix(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The damaged text file (UTF-8).")],
    ref: RefsOpt = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Repaired text. Default: INPUT's stem + .repaired.txt.")
    ] = None,
    edits_path: Annotated[
        Path | None, typer.Option("--edits", help="Edit list (JSON). Default: INPUT's stem + .edits.json.")
    ] = None,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="HTML report. Default: INPUT's stem + .report.html.")
    ] = None,
    model: ModelOpt = None,
    min_confidence: Annotated[
        float,
        typer.Option(
            "--min-confidence",
            min=0.0,
            max=1.0,
            help="Apply only edits at least this confident; weaker ones stay in the edit list, marked not applied.",
        ),
    ] = DEFAULT_MIN_CONFIDENCE,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="Edit list format: json (read by report, diff and review), m2 (ERRANT) or tei (TEI apparatus).",
        ),
    ] = ExportFormat.json,
    no_model: NoModelOpt = False,
    workers: WorkersOpt = None,
    show_settings: Annotated[
        bool,
        typer.Option(
            "--show-settings",
            is_eager=True,
            callback=lambda value: _show_settings(value),
            help="Print the settings in force (every stage's numbers: the defaults, repair/data/ and the file"
            " REPAIR_SETTINGS names) as JSON, and exit.",
        ),
    ] = False,
) -> None:
    """Repair INPUT and write the repaired text, the edit list and a review report beside it.

    Example: [bold]repair fix article.txt --ref other1.txt --ref other2.txt[/]

    Without --ref the language model is the only witness; with references, passages
    they cover are restored to their wording where the input's is damaged.
    """
    from repair.corpus.runners import default_workers
    from repair.corpus.runners import no_model as no_model_factory
    from repair.fix import fix_file
    from repair.lm import load_model
    from repair.views.progress import Meter

    with user_errors():
        refuse_model_with_no_model(model, no_model)
        done = fix_file(
            input_path,
            list(ref or []),
            (lambda: None) if no_model else (lambda: load_lm(model)),
            model=None if no_model else model,
            out=out_path,
            edits=edits_path,
            report=report_path,
            fmt=fmt.value,
            min_confidence=min_confidence,
            progress=lambda words: Meter("repair", words, err),
            notify=None if no_model else warn,
            workers=workers or default_workers(),
            lm_factory=no_model_factory if no_model else partial(load_model, model),  # picklable, for workers
        )
    err.print(counts_table(done.applied, done.held))
    if done.questions or done.with_alternatives:
        note = f"{done.with_alternatives} held edits offer alternatives, {done.questions} flagged spans are questions"
        err.print(f"[dim]{note} (counted as not applied): repair review INPUT EDITS[/]", highlight=False)
    if done.streamed:
        skipped = f"the input has {done.streamed:,} chars (streamed in chunks)"
        err.print(f"        report: skipped: {skipped}", highlight=False)
    for what, path in done.targets.items():
        err.print(f"{what:>14}: {shown(path)}", highlight=False)


EditsArg = Annotated[Path, typer.Argument(metavar="EDITS", help="An edit list written by `repair fix` (JSON).")]


def load_edit_list(input_path: Path, edits_path: Path) -> tuple[str, dict[str, Any], list[Edit]]:
    """The input and a saved edit list made for it (its hash is checked), refusing edits that clash."""
    from repair.edits import EditError, apply_edits
    from repair.files.editlist import load_edits

    text = read_text(input_path, what="input")
    meta, edits = load_edits(read_text(edits_path, what="edit list"), text, name=str(edits_path))
    try:
        apply_edits(text, edits)
    except EditError as exc:
        raise InputError(f"{edits_path}: applied edits clash: {exc}") from exc
    return text, meta, edits


def saved_refs(input_path: Path, ref: list[Path] | None, meta: dict[str, Any]) -> list[tuple[str, str]]:
    """References named with --ref, else those recorded in the edit list that are still what the run read."""
    if ref:
        return read_inputs(input_path, ref)[1]
    found, notes = recorded_references(meta)
    for note in notes:
        err.print(f"[yellow]note:[/] {shown(note)}", highlight=False)
    return found


@app.command()
def report(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The damaged text file (UTF-8).")],
    edits_path: EditsArg,
    ref: RefsOpt = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML report. Default: INPUT's stem + .report.html.")
    ] = None,
) -> None:
    """Write the side-by-side HTML review report for INPUT from a saved edit list.

    Example: [bold]repair report article.txt article.edits.json --ref other.txt[/]

    Without --ref, the references recorded in the edit list are used where they can be read.
    """
    from repair.views.report import realign, render_report

    with user_errors():
        text, meta, edits = load_edit_list(input_path, edits_path)
        target = out_path or default_outputs(input_path)[2]
        doc, alignment = realign(text, saved_refs(input_path, ref, meta))
        page = render_report(
            text,
            edits,
            (),
            alignment,
            title=f"repair: {input_path.name}",
            doc=doc,
            min_confidence=float(meta.get("min_confidence") or 0.0),
            input_name=str(meta.get("input") or input_path),
        )
        write_all({target: page}, protect=(input_path, edits_path, *(ref or [])))
    err.print(f"report: {shown(target)}", highlight=False)


@app.command()
def diff(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The damaged text file (UTF-8).")],
    edits_path: Annotated[
        Path | None,
        typer.Argument(metavar="[EDITS]", help="The edit list. Default: INPUT's stem + .edits.json beside it."),
    ] = None,
    ref: RefsOpt = None,
) -> None:
    """Show input, repaired text and reference side by side in the terminal (paged when long).

    Example: [bold]repair diff article.txt[/]
    """
    import os

    from repair.views.diffview import render_diff
    from repair.views.report import realign
    from repair.views.sidebyside import build_view

    with user_errors():
        if edits_path is None:
            edits_path = default_outputs(input_path)[1]
            if not os.path.exists(edits_path) and os.path.exists(input_path):
                raise UserError(f"no edit list given and none at {edits_path}: run `repair fix {input_path}` first")
        text, meta, edits = load_edit_list(input_path, edits_path)
        doc, alignment = realign(text, saved_refs(input_path, ref, meta))
        view = render_diff(build_view(text, edits, alignment, doc), width=out.width)
    if out.is_terminal and len(out.render_lines(view, out.options, pad=False)) > out.height:
        os.environ.setdefault("LESS", "-R")  # let less show the colours
        with out.pager(styles=True):
            out.print(view)
    else:
        out.print(view)


@app.command()
def review(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The damaged text file (UTF-8).")],
    edits_path: EditsArg,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Repaired text as reviewed. Default: INPUT's stem + .reviewed.txt."),
    ] = None,
    edits_out: Annotated[
        Path | None,
        typer.Option(
            "--edits-out",
            help="Updated edit list. Default: INPUT's stem + .reviewed.edits.json (may be EDITS itself, to update it).",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="Ask only about edits of this kind (e.g. substitution); repeat for more."),
    ] = None,
    decisions_path: Annotated[
        Path | None,
        typer.Option("--decisions", help="Where decisions are kept as made. Default: INPUT's stem + .decisions.json."),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start over: forget the decisions saved by an earlier review.")
    ] = False,
    apply_path: Annotated[
        Path | None,
        typer.Option(
            "--apply",
            help="Apply a decisions file (saved by a review or downloaded from the HTML report) without asking.",
        ),
    ] = None,
) -> None:
    """Review edits one by one: a accept, r reject, 1-9 choose an alternative, t type one, s skip, u undo, q quit.

    Example: [bold]repair review article.txt article.edits.json[/]

    The text, the edit list and the decisions are saved after every key, so quitting loses
    nothing and the next `repair review` goes on where this one stopped (--restart: from the start).
    """
    import click

    from repair.files.reviewed import review_files
    from repair.views.review import run_review, seen, start

    def read_key() -> str:
        if sys.stdin.isatty():
            return click.getchar()
        line = sys.stdin.readline()
        return line if line else "q"  # the end of scripted input ends the review

    def read_line() -> str | None:
        """A typed replacement, or None at the end of the input (which ends the review, deciding nothing)."""
        if not sys.stdin.isatty():
            return sys.stdin.readline() or None
        try:
            return input("> ")
        except EOFError:
            return None

    with user_errors():
        if apply_path is None and sys.stdin is None:
            raise UserError("review reads its keys from standard input, which is closed: give --apply DECISIONS")
        text, meta, edits = load_edit_list(input_path, edits_path)
        files = review_files(
            input_path,
            text,
            meta,
            out=out_path,
            edits_out=edits_out,
            decisions=decisions_path,
            edit_list=edits_path,
            applied=apply_path,
        )
        files.check(with_decisions=apply_path is None)  # before the first key
        if apply_path is not None:
            given = files.read_decisions(apply_path)
            state = start(text, edits, (), given)
            files.save(state.edits, with_decisions=False)
            made_by = sum(1 for e in state.edits if e.decision)
            err.print(
                f"applied {len(given)} decisions from {shown(apply_path)}: {made_by} edits decided", highlight=False
            )
            err.print(f"  repaired text: {shown(files.text)}\n      edit list: {shown(files.edits)}", highlight=False)
            return
        state = start(text, edits, kind or (), [] if restart else files.saved_decisions())
        if not state.queue:
            err.print("no edits to review" + (f" of kind {shown(', '.join(kind))}" if kind else ""), highlight=False)
            return
        if state.index:
            going_on = f"going on from edit {state.index + 1} ({shown(files.decisions)}; --restart starts over)"
            err.print(going_on, highlight=False)
        first = state.index
        try:
            state = run_review(state, read_key, out.print, lambda s: files.save(s.edits, seen(s)), read_line)
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: the decisions made so far are saved")
            raise typer.Exit(130) from None
    err.print(f"reviewed {state.index} of {len(state.queue)} edits", highlight=False)
    if state.index > first or state.history:
        saved = (
            f"  repaired text: {shown(files.text)}\n      edit list: {shown(files.edits)}"
            f"\n      decisions: {shown(files.decisions)}"
        )
        err.print(saved, highlight=False)


@app.command("export")
def export_cmd(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The damaged text file (UTF-8).")],
    edits_path: EditsArg,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="json, m2 (ERRANT) or tei (TEI apparatus).")] = (
        ExportFormat.m2
    ),
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Output file. Default: standard output.")] = None,
) -> None:
    """Convert a saved edit list to M2 (ERRANT, applied edits only), TEI or JSON.

    Example: [bold]repair export article.txt article.edits.json --format tei -o article.tei.xml[/]
    """
    from repair.files.commit import check_outputs
    from repair.views.export import export

    with user_errors():
        if out_path is not None:
            check_outputs([out_path], protect=(input_path, edits_path))
        text, meta, edits = load_edit_list(input_path, edits_path)
        result = export(
            text,
            edits,
            fmt.value,
            input_name=str(meta.get("input") or input_path),
            refs=[str(r) for r in meta.get("references") or []],
            ref_sha256=[str(h) for h in meta.get("references_sha256") or []],
            model=str(meta.get("model") or ""),
            min_confidence=float(meta.get("min_confidence") or 0.0),
        )
        if out_path is not None:
            write_all({out_path: result}, protect=(input_path, edits_path))
    if out_path is None:
        # on a terminal the text is shown, and its control characters with it: written out, never acted on
        sys.stdout.write(text_shown(result) if sys.stdout.isatty() else result)


@app.command()
def align(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The damaged text file (UTF-8).")],
    ref: RefsOpt = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the alignment as JSON here.")] = None,
) -> None:
    """Show which reference covers which stretch of INPUT, and how their wording differs.

    Example: [bold]repair align article.txt --ref other1.txt --ref other2.txt --json alignment.json[/]

    Each difference is labelled damage (fix restores the reference's wording there)
    or variation (the outlet wrote it otherwise; left alone).
    """
    import json
    import time

    from repair.pipeline import align_references as align_texts
    from repair.pipeline import make_references
    from repair.stages.normalize import normalize
    from repair.views.alignment import alignment_json, alignment_tables

    refs = list(ref or [])
    with user_errors():
        if not refs:
            raise UserError("align needs at least one --ref file to align against")
        text, ref_texts = read_inputs(input_path, refs)
        doc, references = normalize(text), make_references(ref_texts)
        started = time.perf_counter()
        alignment = align_texts(doc, references)
        took = time.perf_counter() - started
        if json_path is not None:
            data = json.dumps(alignment_json(alignment), ensure_ascii=False, indent=1) + "\n"
            write_all({json_path: data}, protect=(input_path, *refs))
    for table in alignment_tables(alignment):
        out.print(table)
    err.print(f"[dim]aligned against {len(refs)} reference(s) in {took * 1000:.0f} ms[/]", highlight=False)
    if json_path is not None:
        err.print(f"alignment: {shown(json_path)}", highlight=False)


@app.command()
def corrupt(
    clean_path: Annotated[Path, typer.Argument(metavar="CLEAN", help="A clean text file (UTF-8) to damage.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same damage.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the damaged text.")],
    answers_path: Annotated[
        Path, typer.Option("--answers", help="Where to write the answer key (JSON): every damage and its original.")
    ],
    rate: Annotated[
        float, typer.Option("--rate", min=0.0, help="Damage rate; 1.0 is as dense as the bundled AP example.")
    ] = 1.0,
    kinds: Annotated[
        list[str] | None,
        typer.Option(
            "--kinds",
            help="Only these kinds of damage (repeat or comma-separate): tokenization, substitution,"
            " duplicate, gap, stray, and mojibake (only when asked for). Default: all but mojibake.",
        ),
    ] = None,
) -> None:
    """Damage CLEAN the way a broken machine pipeline does, and write the answer key.

    Example: [bold]repair corrupt story.txt --seed 1 --out damaged.txt --answers answers.json[/]

    Names of the text are pasted over words, words are doubled or dropped (leaving
    spaces), stray tokens appear, and the text is re-tokenized ("U. S.", " , ").
    """
    from repair.bench.corrupt import ALL_KINDS, CORRUPTION_KINDS
    from repair.bench.corrupt import corrupt as damage

    chosen = [k.strip() for spec in (kinds or []) for k in spec.split(",") if k.strip()] or list(CORRUPTION_KINDS)
    with user_errors():
        unknown = sorted(set(chosen) - set(ALL_KINDS))
        if unknown:
            raise UserError(f"unknown damage kind {', '.join(unknown)}; choose from {', '.join(ALL_KINDS)}")
        if out_path.resolve() == answers_path.resolve():
            raise UserError("--out and --answers must be two different files")
        text = read_text(clean_path, what="clean text")
        damaged = damage(text, seed, rate=rate, kinds=chosen)
        write_all({out_path: damaged.damaged, answers_path: damaged.to_json()}, protect=(clean_path,))
    counts = Counter(a.kind for a in damaged.answers)
    err.print(", ".join(f"{counts[k]} {k}" for k in ALL_KINDS if counts[k]) or "no damage", highlight=False)
    err.print(f"damaged text: {shown(out_path)}\n  answer key: {shown(answers_path)}", highlight=False)


@app.command()
def bench(
    refs: Annotated[
        bool, typer.Option("--refs/--no-refs", help="Give each case its references (the other clean versions).")
    ] = True,
    cases_dir: Annotated[
        Path | None,
        typer.Option(
            "--cases",
            help="A folder of case folders (input.txt, gold.txt, refs/*.txt, answers.json) instead of the example.",
        ),
    ] = None,
    stories: Annotated[
        Path | None,
        typer.Option(
            "--stories",
            help="A folder of real stories, one folder each with its outlets' versions (*.txt): damage one version"
            " per story, repair it with the others as references. Figures to report come from --split held-out.",
        ),
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="With --stories: held-out (the default, for reporting), fit, or all.")
    ] = "held-out",
    quick: Annotated[
        bool, typer.Option("--quick", help="With --stories: only the first few stories of the split, to iterate.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-j", min=1, help="Repair cases side by side in N processes (one model each).")
    ] = 1,
    seeds: Annotated[int, typer.Option("--seeds", min=1, help="Damaged copies per clean example text.")] = 3,
    first_seed: Annotated[
        int, typer.Option("--first-seed", min=0, help="Damage at seeds FIRST.. (fit on some seeds, test on others).")
    ] = 0,
    fit_calibration: Annotated[
        Path | None,
        typer.Option(
            "--fit-calibration",
            help="Fit the confidence calibration map on this run's edits (and --fit-with's) and write it here.",
        ),
    ] = None,
    fit_with: Annotated[
        list[Path] | None,
        typer.Option("--fit-with", help="An earlier --json result whose edits the fit also uses (repeatable)."),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the results as JSON here.")] = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="An earlier --json result: print what got better or worse.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a calibration plot (PNG): confidence against share right.")
    ] = None,
    model: ModelOpt = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Run without a language model.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Run only the first N cases.")] = None,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.0, max=1.0, help="As for fix.")
    ] = DEFAULT_MIN_CONFIDENCE,
    cloze: Annotated[
        bool,
        typer.Option(
            "--cloze", help="Also show, per damaged span of the answer key, whether its original words were proposed."
        ),
    ] = False,
) -> None:
    """Damage clean texts, repair them, and score the repairs: P/R/F0.5 per kind, error rates, false edits.

    Example: [bold]repair bench --json now.json --compare before.json --plot calibration.png[/]

    Fast check: [bold]repair bench --seeds 1 --limit 2[/]

    Many real stories, held out: [bold]repair bench --stories ../shared/stories -j 2 --json held.json[/]
    (add [bold]--quick[/] for a few stories, [bold]--no-refs[/] for the model alone).
    """
    from repair.bench.bench import BenchOptions, bench_run, bench_table, compare_table, text_table
    from repair.bench.cloze import loss_table
    from repair.bench.stories import SPLITS

    if split not in SPLITS:
        with user_errors():
            raise UserError(f"unknown --split {split}; choose from {', '.join(SPLITS)}")
    if stories is not None and cases_dir is not None:
        with user_errors():
            raise UserError("--stories and --cases are two sources of cases: give one")
    options = BenchOptions(
        cases_dir=cases_dir,
        stories_dir=stories,
        split=split,
        quick=quick,
        workers=workers,
        seeds=seeds,
        first_seed=first_seed,
        refs=refs,
        limit=limit,
        min_confidence=min_confidence,
        json_path=json_path,
        plot=plot,
        fit_calibration=fit_calibration,
        fit_with=tuple(fit_with or []),
        compare=compare,
        model=None if no_model else model,
        cloze=cloze,
    )
    with user_errors():
        refuse_model_with_no_model(model, no_model)
        run = bench_run(
            options,
            lambda: None if no_model else load_lm(model),
            progress=lambda msg: err.print(f"[dim]bench {shown(msg)}[/]", highlight=False),
        )
    result, old = run.result, run.before
    for c in result.cases:
        if c.error:
            err.print(f"[red]{shown(c.name)} crashed:[/] {shown(c.error)}", highlight=False)
    out.print(bench_table(result))
    out.print(text_table(result))
    if run.cloze:
        out.print(loss_table(run.cloze))
    if cloze:
        from repair.bench.cloze import cloze_table

        out.print(cloze_table(run.cloze))
    if old is not None:
        out.print(compare_table(old, result.metrics()))
    for what, path in (("results", json_path), ("calibration plot", plot), ("calibration map", fit_calibration)):
        if path is not None:
            err.print(f"{what}: {shown(path)}", highlight=False)


@app.command()
def batch(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help='A folder of text files, a JSONL file of {"id", "text"} lines, or a Parquet file (.parquet).',
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder; rerun into it to resume.")],
    refs: Annotated[
        Path | None,
        typer.Option("--refs", help="A folder, JSONL or Parquet of references to pick from. Default: the corpus."),
    ] = None,
    text_column: Annotated[
        str, typer.Option("--text-column", help="The text's field or column in JSONL or Parquet (and in --refs).")
    ] = "text",
    id_column: Annotated[
        str, typer.Option("--id-column", help="The id's field or column in JSONL or Parquet (and in --refs).")
    ] = "id",
    workers: WorkersOpt = None,
    model: ModelOpt = None,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.0, max=1.0, help="Apply only edits at least this confident.")
    ] = DEFAULT_MIN_CONFIDENCE,
    top_k: Annotated[int, typer.Option("--top-k", min=0, help="At most this many references per document.")] = 4,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Run on a local Dask cluster: local:N (pip install repair\\[cluster])."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Run on the Dask cluster whose scheduler is at this address.")
    ] = None,
    no_model: NoModelOpt = False,
    follow_links: Annotated[
        bool,
        typer.Option(
            "--follow-links", help="Also read the files that symlinks in the input folder lead to outside it."
        ),
    ] = False,
) -> None:
    """Repair every document of INPUT into OUT: repaired text and edit list per document, and a summary.

    Example: [bold]repair batch articles/ --out repaired/ --workers 2[/]

    Parquet: [bold]repair batch corpus.parquet --out out/ --text-column body --id-column url[/]
    (OUT/repaired.parquet keeps the two columns' names and adds edits, the edit list as JSON, and
    references; pip install repair\\[parquet]). A JSONL corpus gives OUT/repaired.jsonl, a folder
    one .repaired.txt and .edits.json per file.

    Each document's references are the other documents most like it, so a corpus holding
    several outlets' copies of a story repairs itself; with --refs they are the most
    similar ones there. Interrupted, the same command resumes where it stopped.
    """
    from repair.corpus.batch import Columns, execute, lm_choice, open_runner, plan_batch
    from repair.corpus.runners import default_workers
    from repair.files.commit import claim_folder
    from repair.views.estimate import model_time_note
    from repair.views.progress import documents_progress

    with user_errors():
        refuse_model_with_no_model(model, no_model)
        name, factory = lm_choice(model, no_model=no_model)
        workers = workers or default_workers()
        with claim_folder(out_dir):  # one run at a time; a refused run leaves nothing behind
            plan = plan_batch(
                input_path,
                out_dir,
                refs_path=refs,
                model=name,
                min_confidence=min_confidence,
                top_k=top_k,
                columns=Columns(id_column, text_column),
                follow_links=follow_links,
            )
            bad = sum(1 for d in plan.docs if d.problem)
            err.print(
                f"{len(plan.docs)} documents: {len(plan.done)} finished before,"
                f" {len(plan.tasks)} to repair, {bad} unreadable",
                highlight=False,
            )
            if not no_model:
                warn(model_time_note(plan.words, workers if cluster is None else 1))
            try:
                with (
                    open_runner(
                        workers=min(workers, max(1, len(plan.tasks))),  # no process waits for a document
                        cluster=cluster,
                        scheduler=scheduler,
                        lm_factory=factory,
                    ) as runner,
                    documents_progress(plan.words, len(plan.tasks), err) as advance,
                ):
                    summary = execute(plan, runner, lambda o: advance(o.words))
            except KeyboardInterrupt:
                err.print("[yellow]interrupted[/]: finished documents are saved; run the same command again to resume")
                raise typer.Exit(130) from None
    for table in summary_tables(summary):
        err.print(table)
    err.print(
        f"{summary.repaired} repaired ({summary.changed} changed), {len(summary.skipped)} skipped;"
        f" summary: {shown(plan.out_dir / 'summary.json')}",
        highlight=False,
    )
    if plan.parquet_schema is not None:
        err.print(f"repaired rows: {shown(plan.out_dir / 'repaired.parquet')}", highlight=False)


@app.command()
def cache(
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the converted models; the next run with the model converts again.")
    ] = False,
) -> None:
    """Show where the converted model is kept and how big it is; with --clear, remove it.

    Example: [bold]repair cache[/] then [bold]repair cache --clear[/]

    The first run with the embedded model converts it once (about 25 s) into
    $XDG_CACHE_HOME/repair/models (else ~/.cache/repair/models): about 540 MB.
    """
    from repair.lm.cache import cache_entries, clear_cache, human_size
    from repair.lm.load import default_cache_dir

    folder = default_cache_dir()
    with user_errors():
        entries = clear_cache(folder) if clear else cache_entries(folder)
    if not entries:
        what = "empty, nothing removed" if clear else "empty (the first run with the model fills it)"
        typer.echo(f"{folder}: {what}")
        return
    width = max(len(e.path.name) for e in entries)
    total = human_size(sum(e.size for e in entries))
    if clear:
        for e in entries:
            typer.echo(f"removed {e.path} ({human_size(e.size)})")
        typer.echo(f"freed {total} in {folder}")
        return
    typer.echo(str(folder))
    for e in entries:
        note = "  (left by an interrupted conversion)" if e.leftover else ""
        typer.echo(f"  {e.path.name:<{width}}  {human_size(e.size):>10}{note}")
    typer.echo(f"  {'total':<{width}}  {total:>10}")


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the `repair` script."""
    # a `kill` (SIGTERM) ends a run the way Ctrl-C does: temp files removed, nothing half-written; and
    # Ctrl-C works even when the shell that started us made background jobs ignore it
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:  # before a command's own handler is in place (say, while its modules load)
        err.print("[yellow]interrupted[/]: nothing was written")
        sys.exit(130)
    except Exception as exc:  # a bug, not a user error: say so in one line, keep the trace out of the way
        print(f"repair: internal error: {type(exc).__name__}: {printable(str(exc))}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
