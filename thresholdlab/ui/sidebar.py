"""The sidebar: data source, detected column roles with overrides, decision rule.

Loading happens at the top of a run, before any data widget is drawn, so that a failed load can
put the override widgets back to the settings still in effect. Widgets only record what was
asked (``on_change`` sets ``LOAD_REQUEST``); ``load_requested`` does the work, shows progress and
either commits the new data set or keeps the old one with one ``st.error`` sentence.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import streamlit as st

from thresholdlab.decisions import (
    NO_PREDICTION_NAMES, NO_PREDICTION_OPTIONS, RULE_NAMES, RULES, DecisionRule,
)
from thresholdlab.memory_fit import too_large_sentence
from thresholdlab.predictions import DataError
from thresholdlab.sketch import is_binned
from thresholdlab.ui import data, sketch_rules, state, uploads
from thresholdlab.ui.data import Dataset, Overrides, Source

TASK_NAMES = {"binary": "binary", "multiclass": "multi-class", "multilabel": "multi-label"}


# A new file whose columns were read but whose roles were not found: it waits here, with the
# columns the mapper offers and the overrides tried last, until a choice there loads it.
PENDING_SOURCE = "pending_source"  # Source, or None
PENDING_COLUMNS = "pending_columns"  # list of its column names
PENDING_OVERRIDES = "pending_overrides"  # Overrides tried last
# A threshold config dropped on the data uploader: (name, bytes), offered for restore.
DROPPED_CONFIG = "dropped_config"
DROPPED_CONFIG_NOTE = "dropped_config_note"
SHOWN_WARNINGS = 3
"""Warnings about the data shown one by one in the sidebar; the rest are listed, folded."""
# The sha256 of the last file refused as too large for memory in exact mode (not parsed at all).
TOO_LARGE = "too_large_sha256"


def _request(kind: str) -> None:
    ss = st.session_state
    if kind == "sample" and ss[state.W_SAMPLE] is None:
        return
    ss[state.LOAD_REQUEST] = kind
    if kind == "sample":
        ss[state.SAMPLE_CHOICE] = ss[state.W_SAMPLE]


# ----------------------------------------------------------------------------------- loading
def load_requested() -> Dataset:
    """Carry out the data source / override / rule change asked for since the last run.

    Returns the committed data set (the previous one when the new data fails to load).
    """
    ss = st.session_state
    request = ss[state.LOAD_REQUEST]
    ss[state.LOAD_REQUEST] = None
    current: Dataset | None = ss[state.DATASET]

    source, overrides = None, None
    first_error = None
    from_uploader = request == "upload"  # the source, if any, is the uploader's file
    if current is None:
        (source, first_error), overrides = _first_source(), ss[state.OVERRIDES]
    elif request == "sample":
        _forget_pending()
        source, overrides = Source.sample(ss[state.SAMPLE_CHOICE]), Overrides()
    elif request == "upload":
        upload = ss.get(state.W_UPLOAD)
        _forget_pending()
        if upload is None:
            # The uploader holds one file: the last one tried. Removing a file that was refused
            # (or a config) only clears its error; removing the file shown goes back to the
            # chosen sample.
            removed_shown = ss[state.UPLOAD_SEEN] == ss.get(state.UPLOAD_SHOWN)
            ss[state.UPLOAD_SEEN] = None
            ss[state.LOAD_ERROR] = None
            if current.source.kind == "upload" and removed_shown:
                source, overrides = Source.sample(ss[state.SAMPLE_CHOICE]), Overrides()
        elif upload.file_id != ss[state.UPLOAD_SEEN]:
            ss[state.UPLOAD_SEEN] = upload.file_id
            raw = upload.getvalue()
            if _looks_like_config(upload.name, raw):
                ss[DROPPED_CONFIG] = (upload.name, raw)
                ss[state.LOAD_ERROR] = None
            else:
                source, overrides = Source.upload(upload.name, raw), Overrides()
    elif request == "overrides":
        pending = ss.get(PENDING_SOURCE)
        source, overrides = pending or current.source, _overrides_from_widgets()
        # A file waiting for its columns is the uploader's last one: shown once it opens.
        from_uploader = pending is not None and pending.kind == "upload"

    if source is not None:
        opened = _try_open(source, overrides, current)
        if opened is not None:
            _forget_pending()
            if from_uploader:
                ss[state.UPLOAD_SHOWN] = ss[state.UPLOAD_SEEN]
            elif opened.source.kind != "upload":  # a sample; new overrides keep the upload
                ss[state.UPLOAD_SHOWN] = None
        elif current is not None and source != current.source:
            _keep_pending(source, overrides)
        dataset = opened or current
        if dataset is None:
            # The first data failed (a link's override, the command line's file): the sample.
            error = ss[state.LOAD_ERROR]
            ss[state.SAMPLE_CHOICE] = data.DEFAULT_SAMPLE
            dataset = _try_open(Source.sample(data.DEFAULT_SAMPLE), Overrides(), None)
            if dataset is None:
                # Nothing loaded at all (the bundled samples are missing or unreadable): every
                # page needs data, so say why once and draw nothing else.
                st.error(f"{error} The bundled sample could not be read either: check that "
                         "sample_data/ is complete, or open a readable file with "
                         "`thresholdlab app FILE`.")
                st.stop()
            ss[state.LOAD_ERROR] = f"{error} The default sample is shown instead."
        elif first_error:
            ss[state.LOAD_ERROR] = first_error
    else:
        dataset = current
        rule = _rule_from_widgets(dataset.task, binned=dataset.binned)
        if rule != dataset.rule:
            try:
                with st.spinner("Indexing the scores under the new decision rule…"):
                    dataset = data.open_dataset(dataset.source, dataset.overrides, rule)
            except DataError as e:  # the server dropped its copy of the upload meanwhile
                ss[state.LOAD_ERROR] = f"{e} The previous decision rule stays."

    dataset = _countable(dataset, current)
    ss[state.DATASET] = dataset
    ss[state.OVERRIDES] = dataset.overrides
    _seed_widgets(dataset, ss.get(PENDING_OVERRIDES) if ss.get(PENDING_SOURCE) else None)
    state.ensure_thresholds(dataset)
    return dataset


def _countable(dataset: Dataset, current: Dataset | None) -> Dataset:
    """``dataset``, unless it is a sketch whose bins cannot tell the decisions of the thresholds
    in effect under its rule; then, with the core's sentence under the rule picker, the data
    set as it was when only the rule changed, or else (a new file, a link) the same data under
    its task's default rule, which a sketch always counts. The thresholds stay either way."""
    if not dataset.binned:
        return dataset
    state.ensure_thresholds(dataset)
    thresholds = state.thresholds(dataset)
    sentence = sketch_rules.refusal(dataset.index, thresholds)
    if sentence is None:
        return dataset
    if (current is not None and current.data_key == dataset.data_key
            and sketch_rules.refusal(current.index, thresholds) is None):
        sketch_rules.refuse_rule(current.key, thresholds,
                                 f"{sentence} The previous decision rule stays.")
        return current
    rule = DecisionRule.default(dataset.task)
    dataset = data.open_dataset(dataset.source, dataset.overrides, rule)
    sketch_rules.refuse_rule(dataset.key, thresholds, (
        f"{sentence} The rule “{RULE_NAMES[rule.rule]}” with "
        f"“{NO_PREDICTION_NAMES[rule.no_prediction]}” is used instead."
    ))
    return dataset


def _forget_pending() -> None:
    ss = st.session_state
    for key in (PENDING_SOURCE, PENDING_COLUMNS, PENDING_OVERRIDES, DROPPED_CONFIG):
        ss[key] = None


def _keep_pending(source: Source, overrides: Overrides) -> None:
    """A file that failed to load waits for the column mapper, when its columns can be read
    (a wrong role, not a broken file): the mapper then lists its columns, not the old data's."""
    ss = st.session_state
    same = ss.get(PENDING_SOURCE) == source
    if not same and ss.get(TOO_LARGE) == source.sha256:
        _forget_pending()  # reading its columns would parse the whole file: the sketch is the way
        return
    columns = ss[PENDING_COLUMNS] if same else data.table_columns(source)
    if not columns:
        _forget_pending()
        return
    ss[PENDING_SOURCE] = source
    ss[PENDING_COLUMNS] = columns
    ss[PENDING_OVERRIDES] = overrides


def _looks_like_config(name: str, raw: bytes) -> bool:
    """A threshold config (JSON with thresholds) rather than predictions."""
    if not name.lower().endswith(".json"):
        return False
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(doc, dict) and "thresholds" in doc


def _first_source() -> tuple[Source, str | None]:
    """The session's first data: `thresholdlab app FILE`'s file, unless a link names a sample;
    and the sentence saying why that file could not be read, if so."""
    ss = st.session_state
    path = ss[state.PRELOAD]
    awaited = ss[state.AWAITED_UPLOAD]
    if awaited and awaited["sha"] and (kept := uploads.find(awaited["sha"])) is not None:
        # A link to an uploaded view, opened while the server still keeps the file.
        return Source("upload", kept.name, kept.sha256), None
    if path:
        try:
            # Before reading it: a file too large for exact mode is never read into memory.
            if (too_large := too_large_sentence(path)) is not None:
                return Source.sample(ss[state.SAMPLE_CHOICE]), too_large
            return Source.file(path), None
        except OSError as e:
            error = f"Could not read {path!r}: {e.strerror or e}. The sample is shown instead."
            return Source.sample(ss[state.SAMPLE_CHOICE]), error
    return Source.sample(ss[state.SAMPLE_CHOICE]), None


def _too_large(source: Source) -> str | None:
    """The core's sentence when a new file would not fit in memory in exact mode (it then
    names the sketch command), checked before the file is parsed; None otherwise."""
    ss = st.session_state
    if source.raw is None or source.kind in ("sample", "file"):
        # A kept upload that loaded before, a bundled sample, or `thresholdlab app FILE`'s file,
        # which _first_source checked on disk before reading it.
        return None
    sentence = too_large_sentence(source.raw, source.file_name)
    ss[TOO_LARGE] = source.sha256 if sentence else None
    return sentence


def _try_open(source: Source, overrides: Overrides, current: Dataset | None) -> Dataset | None:
    ss = st.session_state
    label = f"Loading {source.file_name}"
    slot = st.empty()  # progress while loading; cleared once the data is in
    with slot.status(label, expanded=False) as status:
        try:
            too_large = _too_large(source)
            if too_large is not None:
                raise DataError(too_large)
            predictions = data.load_predictions(source, overrides)
            rule = _rule_from_widgets(predictions.task, binned=is_binned(predictions))
            dataset = data.open_dataset(source, overrides, rule, progress=status)
        except DataError as e:
            message = sidebar_words(str(e))
        except Exception as e:  # noqa: BLE001 - the boundary: never a traceback for user data
            detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            message = f"Could not read {source.file_name!r}: {detail.rstrip('.')}."
        else:
            message = None
    slot.empty()  # done: the data speaks for itself, or the error shows under the uploader
    if message is None:
        # The upload's bytes go to the server's store (a link to this view finds them there
        # after a reload); the session keeps its name and hash only.
        dataset = replace(dataset, source=uploads.keep(source))
        ss[state.LOAD_ERROR] = None
        if current is None or current.source != source:
            ss[state.RESTORE_NOTE] = None
        return dataset
    if current is not None:
        message += " The previous data and thresholds stay loaded."
    ss[state.LOAD_ERROR] = message
    return None


_FLAGS = re.compile(r"--(label-cols?|score-cols|task|score-kind)\b")


def sidebar_words(sentence: str) -> str:
    """The core's sentence, which names the command line's options, and where the same
    choices are in the dashboard when it does not say so itself."""
    if _FLAGS.search(sentence) and "sidebar" not in sentence:
        return (f"{sentence} Here the same choices are under “Columns and detection” in the "
                "sidebar.")
    return sentence


def _rule_from_widgets(task: str, binned: bool = False) -> DecisionRule:
    ss = st.session_state
    rule = ss.get(state.W_RULE)
    no_prediction = ss.get(state.W_NOPRED)
    rules, options = _choices(task, binned)
    return DecisionRule.default(
        task,
        rule if rule in rules else None,
        no_prediction if no_prediction in options else None,
    )


def _choices(task: str, binned: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The decision rules and no-prediction options offered: every one, for rows and for a
    sketch alike. A sketch counts the rules that weigh classes against each other wherever its
    bins tell each row's decision; thresholds, or a rule, chosen where they do not are not
    taken, with the core's sentence (``ui.sketch_rules``)."""
    return RULES[task], NO_PREDICTION_OPTIONS[task]


def _overrides_from_widgets() -> Overrides:
    ss = st.session_state
    pick = lambda key: None if ss.get(key) in (None, state.AUTO) else ss[key]  # noqa: E731
    return Overrides(
        task=pick(state.W_TASK),
        score_kind=pick(state.W_KIND),
        label_col=pick(state.W_LABEL_COL),
        label_cols=tuple(ss.get(state.W_LABEL_COLS) or ()),
        score_cols=tuple(ss.get(state.W_SCORE_COLS) or ()),
    )


def _seed_widgets(dataset: Dataset, pending: Overrides | None = None) -> None:
    """Show the settings in effect (after a failed load, the previous ones); ``pending``: the
    overrides last tried on a file waiting in the column mapper, kept while the user works."""
    ss = st.session_state
    ov = pending or dataset.overrides
    ss[state.W_TASK] = ov.task or state.AUTO
    ss[state.W_KIND] = ov.score_kind or state.AUTO
    ss[state.W_LABEL_COL] = ov.label_col or state.AUTO
    ss[state.W_LABEL_COLS] = list(ov.label_cols)
    ss[state.W_SCORE_COLS] = list(ov.score_cols)
    ss[state.W_RULE] = dataset.rule.rule
    ss[state.W_NOPRED] = dataset.rule.no_prediction


# ------------------------------------------------------------------------------------ drawing
def draw(dataset: Dataset) -> None:
    """The sidebar's widgets for ``dataset`` (already loaded by :func:`load_requested`)."""
    ss = st.session_state
    st.header("Data")
    options = data.samples()
    # While a file of the user's is shown, the box shows no sample: it says which file is in
    # use, and picking a sample goes back to it.
    in_use = dataset.source.kind != "sample"
    ss[state.W_SAMPLE] = None if in_use else ss[state.SAMPLE_CHOICE]
    st.selectbox(
        "Sample data",
        options=list(options),
        format_func=options.get,
        key=state.W_SAMPLE,
        on_change=_request,
        args=("sample",),
        placeholder=(
            f"In use: {dataset.source.file_name} "
            f"({'uploaded' if dataset.source.kind == 'upload' else 'from the command line'})"
            if in_use else "Choose a sample"
        ),
        help="Validation-set scores of small PyTorch models on scikit-learn datasets."
             + (" Pick one to leave your file." if in_use else ""),
    )
    # No ``type=``: Streamlit would refuse other extensions with an exception of its own; the
    # loader names the file and says which formats it reads instead.
    st.file_uploader(
        "Or upload predictions (CSV, TSV, Parquet, NPZ, .pt) or a sketch",
        key=state.W_UPLOAD,
        on_change=_request,
        args=("upload",),
        help=(
            "Scores and true labels of a validation set: CSV/TSV (one score column per class, "
            "a label column or 0/1 truth columns; compressed too, as .csv.gz, .bz2, .xz or "
            ".zip), Parquet, NPZ or a PyTorch .pt dict with "
            "`scores`, `labels` and optional `classes`. A sketch file written by "
            "`thresholdlab sketch` opens the same way."
        ),
    )
    if ss[state.LOAD_ERROR]:
        st.error(ss[state.LOAD_ERROR])
    _dropped_config()
    if ss.get(PENDING_SOURCE) is not None:
        _pending_mapper()
    awaited = ss[state.AWAITED_UPLOAD]
    if awaited and dataset.source.kind == "sample":
        gone = (
            f" The server no longer keeps it (uploads are {uploads.store().describe()})."
            if awaited["sha"] else ""
        )
        st.info(
            f"This link was made with the uploaded file {awaited['name']!r}.{gone} Upload it "
            "again to restore its view; a sample is shown until then."
        )
    if ss[state.URL_NOTES]:
        st.warning(" ".join(ss[state.URL_NOTES]))
        ss[state.URL_NOTES] = []

    _describe(dataset)
    _decision_rule(dataset)


def _describe(dataset: Dataset) -> None:
    p = dataset.predictions
    shown = dataset.source.file_name
    where = {"upload": "uploaded", "file": "from the command line", "sample": "sample"}[
        dataset.source.kind
    ]
    classes = (
        f"positive class `{p.classes[0]}`" if p.task == "binary"
        else f"{p.n_classes} {'class' if p.n_classes == 1 else 'classes'}"
    )
    st.markdown(f"**{shown}** ({where}): {p.n_rows:,} rows, {TASK_NAMES[p.task]}, {classes}")
    if dataset.source.kind == "upload":
        st.caption("Pick a sample above, or remove the upload, to go back to a sample.")
    if dataset.binned:
        st.info(
            f"**Binned data**: a sketch of {p.n_bins:,} bins of width {p.bin_width:.6g}. Every "
            "number is exact at bin edges, and the sliders snap to them.",
            icon=":material/view_week:",
        )
    for sentence in p.notes:
        st.caption(sentence)
    for sentence in p.warnings[:SHOWN_WARNINGS]:
        st.warning(sentence)
    if more := p.warnings[SHOWN_WARNINGS:]:
        # A file of thousands of labels can have a warning for each: one list, folded.
        with st.expander(f"{len(more):,} more warnings", icon=":material/warning:"):
            st.markdown("\n".join(f"- {sentence}" for sentence in more))
    if st.session_state.get(PENDING_SOURCE) is not None:
        return  # the override widgets are in the mapper of the file waiting to load
    if dataset.binned:
        # A sketch's column roles were fixed when it was computed: nothing to override.
        return
    with st.expander("Columns and detection", expanded=dataset.overrides.any):
        _roles_and_overrides(dataset)


def _pending_mapper() -> None:
    """The column mapper for a new file whose roles were not found: its own columns."""
    ss = st.session_state
    source: Source = ss[PENDING_SOURCE]
    with st.container(border=True):
        st.markdown(f"**Finish loading {source.file_name}**: say which columns hold what.")
        _override_widgets(list(ss[PENDING_COLUMNS]))
        st.button("Keep the previous data", key="pending_cancel", on_click=_cancel_pending)


def _cancel_pending() -> None:
    _forget_pending()
    st.session_state[state.LOAD_ERROR] = None


def _dropped_config() -> None:
    """A config dropped on the data uploader: offer to restore it instead of refusing it."""
    ss = st.session_state
    if note := ss.pop(DROPPED_CONFIG_NOTE, None):  # the outcome of a restore, shown once
        kind, sentence = note
        (st.error if kind == "error" else st.success)(sentence)
    dropped = ss.get(DROPPED_CONFIG)
    if not dropped:
        return
    name, _ = dropped
    st.info(f"{name!r} is a threshold config, not predictions.")
    st.button(f"Restore the thresholds of {name}", key="dropped_config_restore",
              on_click=_restore_dropped, type="primary")


def _restore_dropped() -> None:
    from thresholdlab.ui.controls import restore_config

    ss = st.session_state
    name, raw = ss[DROPPED_CONFIG]
    ss[DROPPED_CONFIG] = None
    restore_config(raw, name)
    # Said once, here: the Export page's config uploader would say it again.
    ss[DROPPED_CONFIG_NOTE], ss[state.RESTORE_NOTE] = ss[state.RESTORE_NOTE], None


def _roles_and_overrides(dataset: Dataset) -> None:
    p = dataset.predictions
    cols = p.columns or {}
    lines = []
    if cols.get("scores"):
        lines.append(f"- scores: {_names(cols['scores'])}")
    if cols.get("label"):
        lines.append(f"- labels: `{cols['label']}`")
    if cols.get("labels"):
        lines.append(f"- 0/1 truth: {_names(cols['labels'])}")
    if cols.get("id"):
        lines.append(f"- id (ignored): `{cols['id']}`")
    if cols.get("ignored"):
        lines.append(f"- ignored: {_names(cols['ignored'])}")
    if p.label_mapping:
        pairs = list(p.label_mapping.items())
        shown = ", ".join(f"`{k}` → {v}" for k, v in pairs[:6])
        lines.append(f"- label mapping: {shown}{' …' if len(pairs) > 6 else ''}")
    if lines:
        st.markdown("\n".join(lines))
    _override_widgets(_all_columns(cols))


def _override_widgets(columns: list[str]) -> None:
    """Task, score kind and the column roles, choosing among ``columns``."""
    override = {"on_change": _request, "args": ("overrides",)}
    st.selectbox(
        "Task",
        [state.AUTO, "binary", "multiclass", "multilabel"],
        format_func=lambda v: TASK_NAMES.get(v, v),
        key=state.W_TASK,
        **override,
    )
    st.selectbox(
        "Score kind",
        [state.AUTO, "probability", "logit"],
        key=state.W_KIND,
        help=(
            "Probabilities are used as they are. Logits become probabilities by softmax "
            "(multi-class: classes compete, each row sums to 1) or sigmoid (binary, multi-label: "
            "each class on its own). Thresholds always live on the probability."
        ),
        **override,
    )
    if columns:
        st.selectbox("Label column", [state.AUTO, *columns], key=state.W_LABEL_COL, **override)
        st.multiselect(
            "Score columns",
            columns,
            key=state.W_SCORE_COLS,
            placeholder="detected",
            help="One per class, in class order. Leave empty to use the detected ones.",
            **override,
        )
        st.multiselect(
            "Multi-label truth columns",
            columns,
            key=state.W_LABEL_COLS,
            placeholder="detected",
            help="0/1 columns, one per score column, in the same order.",
            **override,
        )


def _all_columns(cols: dict) -> list[str]:
    out: list[str] = []
    for role in ("id", "label", "labels", "scores", "ignored"):
        value = cols.get(role)
        for name in [value] if isinstance(value, str) else (value or []):
            if name not in out:
                out.append(name)
    return out


def _names(names, limit: int = 6) -> str:
    names = list(names)
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _decision_rule(dataset: Dataset) -> None:
    task = dataset.task
    rules, options = _choices(task, dataset.binned)
    st.header("Decision rule")
    if task == "binary":
        st.caption("A row is predicted positive when its probability ≥ the threshold.")
        return
    if len(rules) > 1:
        st.selectbox(
            "Rule",
            rules,
            format_func=RULE_NAMES.get,
            key=state.W_RULE,
            help=(
                "Argmax: predict the most probable class if its probability reaches that "
                "class's threshold. Its counts depend on its own threshold only, so per-class "
                "optimisation is exact. The other rule lets a less probable class win when the "
                "top one misses its threshold."
            ),
        )
    st.selectbox(
        "When no class passes" if task == "multiclass" else "Rows with no label passing",
        options,
        format_func=NO_PREDICTION_NAMES.get,
        key=state.W_NOPRED,
        help=(
            "Abstaining trades coverage for accuracy on the rows you do predict."
            if task == "multiclass"
            else "Give every row its most probable label even when none passes."
        ),
    )
    if dataset.binned:
        st.caption(sketch_rules.rule_caption(task))
        sketch_rules.show_refused_rule(dataset.key, state.thresholds(dataset))
