"""The whole pipeline against datatrove, on one fixed corpus, in one command (issue 8).

Run from the repository root with the project's venv::

    python -m bench.bench_pipeline --docs 20000 --workers 1 2 [--rss-scale 10000 100000]

1. Builds a fixed corpus, deterministically for ``--seed``, under ``--work``
   (``bench/results/corpus``, git-ignored; reused when it is already there):

   - text: ``--docs`` news-sized texts (≈5.4 kB) as JSONL files of ``--docs-per-file``
     ``{"id", "text"}`` lines. The labelled near-duplicate set of ``bench/evals/neardup.py``
     (610 documents made from 171 real articles, hard negatives included) is part of it; the rest
     are sources composed of real text — paragraphs of the scrapinghub-aeb gold bodies and
     lingua-langid sentences of one language joined into paragraphs (English for half of them,
     70 other languages written with spaces for the rest) — each kept alone (80%) or with two to
     six documents derived from it: the original, variants by ``neardup.make_variant`` (word
     edits, sentence and paragraph reorders, truncation, boilerplate lines, case and whitespace
     changes), exact copies, and a few cp1252 mojibake variants. ``labels.json`` says which
     documents derive from the same source.
   - html: the HTML pages of scrapinghub-aeb and trafilatura-eval (481 pages).

2. Runs, for each ``--workers`` count, each run in a child process whose whole process tree is
   sampled for peak RSS (psutil when installed, else ``/proc``):

   - corpusclean's text path: JSONL → repair → exact and MinHash dedup → Parquet, with the
     language stage off (datatrove's recipe has none) and on. Boilerplate removal and passage
     detection are off in both: the recipe has neither (the documents are plain texts anyway);
   - datatrove 0.10.1's documented MinHash recipe on the same JSONL (``bench/datatrove_runner.py``)
     with the Python of its own venv, ``--datatrove-venv`` (created and installed on first use:
     datatrove pins an older trafilatura); skipped with a message when it cannot be installed;
   - the HTML path: corpusclean on the pages (extraction with metadata, repair, boilerplate,
     language; dedup off) against plain ``trafilatura.extract`` of the same files in a pool of as
     many processes, both in this interpreter.

   Wall time is measured inside the child (imports excluded, worker start-up included), the best
   of ``--repeat`` runs (``--html-repeat`` for the HTML path). The machine may be shared: before
   each run the script waits (at most ``--quiet-wait`` seconds) until other processes leave the
   cores idle, and it reports the share of the machine's CPU they used during each run ("other").
   Dedup quality: pairwise precision, recall and F1 of each tool's clusters against the labels
   (every pair of documents in one predicted cluster is a predicted pair), on the whole corpus and
   on the embedded neardup set.

   Before each text-path run, the machine's ceiling for that many workers (``--ceiling-docs``
   documents per process, 0: off): pass 1's per-record work on documents read before the clock,
   in that many processes at once, sharing nothing. Its N-to-1 throughput ratio is what any
   CPU-bound work gets from this machine's cores; a 2-worker run is reported against it too.

3. With ``--rss-scale N M …``: corpusclean's text path (language off) on corpora of those sizes,
   for peak RSS against corpus size.

Prints a table and writes ``--out`` (``bench/results/latest.json``). Figures vary ±20% between
runs on shared machines: compare the ratios, which are measured in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
DEFAULT_WORK = RESULTS / "corpus"
DEFAULT_RUNS = RESULTS / "runs"
DEFAULT_VENV = RESULTS / "datatrove-venv"
DEFAULT_OUT = RESULTS / "latest.json"
DATATROVE_REQUIREMENTS = ("datatrove[processing]==0.10.1", "spacy", "orjson")
DATATROVE_RUNNER = Path(__file__).resolve().with_name("datatrove_runner.py")

#: Bump when the corpus recipe changes, so that a cached corpus is rebuilt.
CORPUS_VERSION = 1
#: Scripts without spaces between words: left out of the composed sources (datatrove's English
#: word tokenizer would make one token of a whole sentence of them).
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th"})
#: The text-path configs (overrides of the defaults). datatrove's recipe has no language stage,
#: no boilerplate removal and no passage detection.
TEXT_CONFIGS: dict[str, dict[str, Any]] = {
    "language off": {
        "language": {"enabled": False},
        "boilerplate": {"enabled": False},
        "dedup": {"passages": False},
    },
    "language on": {
        "language": {"enabled": True},
        "boilerplate": {"enabled": False},
        "dedup": {"passages": False},
    },
}
HTML_CONFIG: dict[str, Any] = {"dedup": {"enabled": False}}


# --- the corpus ----------------------------------------------------------------------------------


@dataclass
class TextCorpus:
    directory: Path
    jsonl: Path
    groups: np.ndarray
    neardup: np.ndarray
    files: int
    mean_chars: float

    @property
    def docs(self) -> int:
        return len(self.groups)

    @property
    def ideal_removals(self) -> int:
        return self.docs - len(np.unique(self.groups))


def doc_index(doc_id: str) -> int:
    """The position of a document in the corpus, from its id (``doc-0001234``)."""
    return int(doc_id.rsplit("-", 1)[1])


def _english_like(paragraph: str) -> bool:
    letters = [c for c in paragraph if c.isalpha()]
    return len(letters) > 40 and sum(c.isascii() for c in letters) / len(letters) > 0.97


def _load_pools(data: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Lingua sentences per language (scripts with spaces only) and English-like aeb paragraphs."""
    sentences: dict[str, list[str]] = {}
    with gzip.open(data / "lingua-langid" / "sentences.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["expected"] not in NO_SPACE_LANGUAGES and len(case["input"].split()) >= 4:
                sentences.setdefault(case["expected"], []).append(case["input"].strip())
    with gzip.open(data / "scrapinghub-aeb" / "ground-truth.json.gz", "rt", encoding="utf-8") as handle:
        truth = json.load(handle)
    paragraphs = [
        p.strip()
        for key in sorted(truth)
        for p in truth[key]["articleBody"].split("\n")
        if len(p.strip()) >= 80 and _english_like(p)
    ]
    return {k: sentences[k] for k in sorted(sentences)}, paragraphs


def _compose_source(
    rng: random.Random, language: str, sentences: dict[str, list[str]], paragraphs: list[str]
) -> list[str]:
    """Paragraphs of a made-up article of about 5.4 kB: for English, aeb paragraphs and lingua
    paragraphs in turn at random; for other languages, lingua paragraphs of 2–5 sentences."""
    target = min(7200, max(3800, int(rng.gauss(5400, 700))))
    pool = sentences[language]
    out: list[str] = []
    length = 0
    while length < target:
        if language == "en" and rng.random() < 0.5:
            paragraph = rng.choice(paragraphs)
        else:
            paragraph = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
        out.append(paragraph)
        length += len(paragraph) + 2
    return out


def _mojibake(text: str) -> str | None:
    """UTF-8 read as cp1252 (the commonest mojibake), or None where cp1252 cannot decode it."""
    try:
        return text.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return None


def _make_texts(data: Path, docs: int, seed: int) -> tuple[list[str], list[int], list[bool]]:
    from bench.evals import neardup

    rng = random.Random(seed)
    dataset = neardup.build_dataset(data, seed=seed)
    take = min(len(dataset.texts), docs // 4)
    texts = list(dataset.texts[:take])
    groups = list(dataset.source[:take])
    labelled = [True] * take
    sentences, paragraphs = _load_pools(data)
    languages = [language for language in sentences if language != "en"]
    group = max(dataset.source) + 1
    while len(texts) < docs:
        language = "en" if rng.random() < 0.5 else rng.choice(languages)
        source = _compose_source(rng, language, sentences, paragraphs)
        size = 1 if rng.random() < 0.8 else rng.choice([2, 2, 3, 3, 4, 5, 6])
        size = min(size, docs - len(texts))
        members: list[str] = []
        if size == 1 or rng.random() < 0.5:
            members.append("\n\n".join(source))
        while len(members) < size:
            if members and rng.random() < 0.1:
                members.append(rng.choice(members))  # an exact copy
                continue
            text, _ = neardup.make_variant(source, rng)
            if rng.random() < 0.05:
                text = _mojibake(text) or text
            members.append(text)
        texts.extend(members)
        groups.extend([group] * len(members))
        labelled.extend([False] * len(members))
        group += 1
    order = list(range(docs))
    rng.shuffle(order)
    return [texts[i] for i in order], [groups[i] for i in order], [labelled[i] for i in order]


def build_text_corpus(data: Path, work: Path, docs: int, seed: int = 0, docs_per_file: int = 500) -> TextCorpus:
    """The text corpus of ``docs`` documents under ``work`` (built once, then reused)."""
    directory = work / f"text-{docs}-seed{seed}-per{docs_per_file}"
    jsonl = directory / "jsonl"
    labels_path = directory / "labels.json"
    if labels_path.exists():
        saved = json.loads(labels_path.read_text(encoding="utf-8"))
        if saved.get("version") == CORPUS_VERSION:
            return TextCorpus(
                directory,
                jsonl,
                np.array(saved["groups"], dtype=np.int64),
                np.array(saved["neardup"], dtype=bool),
                saved["files"],
                saved["mean_chars"],
            )
    print(f"building the text corpus ({docs:,} documents) under {directory} …", flush=True)
    started = time.perf_counter()
    shutil.rmtree(directory, ignore_errors=True)
    jsonl.mkdir(parents=True)
    texts, groups, labelled = _make_texts(data, docs, seed)
    files = 0
    for start in range(0, docs, docs_per_file):
        with open(jsonl / f"part-{files:05d}.jsonl", "w", encoding="utf-8") as handle:
            for index in range(start, min(docs, start + docs_per_file)):
                handle.write(json.dumps({"id": f"doc-{index:07d}", "text": texts[index]}, ensure_ascii=False) + "\n")
        files += 1
    mean_chars = sum(map(len, texts)) / docs
    labels = {
        "version": CORPUS_VERSION,
        "docs": docs,
        "seed": seed,
        "docs_per_file": docs_per_file,
        "files": files,
        "mean_chars": round(mean_chars, 1),
        "groups": groups,
        "neardup": labelled,
    }
    labels_path.write_text(json.dumps(labels), encoding="utf-8")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return TextCorpus(
        directory, jsonl, np.array(groups, dtype=np.int64), np.array(labelled, dtype=bool), files, mean_chars
    )


def build_html_set(data: Path, work: Path) -> list[Path]:
    """The scrapinghub-aeb and trafilatura-eval pages as ``.html`` files (built once)."""
    directory = work / "html"
    done = directory / ".complete"
    if not done.exists():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for prefix, folder in (("aeb", "scrapinghub-aeb"), ("te", "trafilatura-eval")):
            for path in sorted((data / folder / "html").glob("*.html.gz")):
                name = path.name.removesuffix(".html.gz")
                (directory / f"{prefix}-{name}.html").write_bytes(gzip.decompress(path.read_bytes()))
        done.write_text("", encoding="utf-8")
    return sorted(directory.glob("*.html"))


# --- running and measuring child processes -------------------------------------------------------


def _tree_rss_proc(root: int, cpu: dict[int, float]) -> tuple[int, int, int]:
    """(RSS of the tree, of the root, of the largest descendant) in bytes, from /proc; the CPU
    seconds of each process of the tree are recorded in ``cpu``."""
    page = os.sysconf("SC_PAGE_SIZE")
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * page
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    for pid in tree:
        if pid in times:
            cpu[pid] = times[pid]
    children = [rss.get(pid, 0) for pid in tree if pid != root]
    return sum(rss.get(pid, 0) for pid in tree), rss.get(root, 0), max(children, default=0)


def _tree_rss_psutil(root: Any, cpu: dict[int, float]) -> tuple[int, int, int]:
    import psutil

    with root.oneshot():
        total = root_rss = root.memory_info().rss
        times = root.cpu_times()
    cpu[root.pid] = times.user + times.system
    child_max = 0
    for child in root.children(recursive=True):
        try:
            with child.oneshot():
                rss = child.memory_info().rss
                times = child.cpu_times()
        except psutil.Error:
            continue
        cpu[child.pid] = times.user + times.system
        total += rss
        child_max = max(child_max, rss)
    return total, root_rss, child_max


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants until stopped; keeps the peaks, and
    the CPU seconds (user + system) of every process of the tree as last seen."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_tree = self.peak_root = self.peak_child = 0
        self.method = "/proc"
        self.cpu: dict[int, float] = {}
        #: (time.time(), RSS of the tree) of every sample
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        sample: Any = lambda: _tree_rss_proc(self.pid, self.cpu)  # noqa: E731
        try:
            import psutil

            process = psutil.Process(self.pid)
            sample = lambda: _tree_rss_psutil(process, self.cpu)  # noqa: E731
            self.method = "psutil"
        except Exception:  # noqa: BLE001 - psutil missing or the child gone: /proc it is
            pass
        while not self._stop_event.is_set():
            try:
                tree, root, child = sample()
            except Exception:  # noqa: BLE001 - the process ended between two reads
                tree = root = child = 0
            self.samples.append((time.time(), tree))
            self.peak_tree = max(self.peak_tree, tree)
            self.peak_root = max(self.peak_root, root)
            self.peak_child = max(self.peak_child, child)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``), or 0 elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait: float, threshold: float = 0.2, window: float = 2.0) -> float:
    """Wait (at most ``max_wait`` seconds) until the other processes of the machine use less than
    ``threshold`` of one core over ``window`` seconds; returns the seconds waited. The machine
    may be shared: a run that competes for the cores measures the other work, not the tool."""
    started = time.perf_counter()
    while time.perf_counter() - started < max_wait:
        before = busy_cpu_seconds()
        time.sleep(window)
        if (busy_cpu_seconds() - before) / window < threshold:
            break
    return time.perf_counter() - started


@dataclass
class Measured:
    ok: bool
    outer_seconds: float
    peak_rss_tree: int
    peak_rss_root: int
    peak_rss_child: int
    cpu_seconds: float
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    #: the 1-minute load average when the run ended (other processes on the machine)
    load: float = 0.0
    #: CPU seconds the rest of the machine used during the run (other processes)
    other_cpu_seconds: float = 0.0
    #: the wall seconds of every repeat, when the run was repeated
    repeats: list[float] = field(default_factory=list)
    #: (time.time(), RSS of the tree) samples
    samples: list[tuple[float, int]] = field(default_factory=list, repr=False)

    def peak_between(self, start: float, stop: float) -> int:
        return max((rss for t, rss in self.samples if start <= t <= stop), default=0)

    @property
    def seconds(self) -> float | None:
        seconds = self.result.get("seconds") if self.ok else None
        return seconds.get("total") if isinstance(seconds, dict) else seconds


#: Before each run, wait at most this many seconds for the machine to be quiet (--quiet-wait).
QUIET_WAIT = [60.0]


def best_of(repeat: int, run: Any) -> Measured:
    """The run with the shortest wall time of ``repeat`` runs (other work on a shared machine only
    ever slows a run down); a failed run ends the repeats."""
    runs: list[Measured] = []
    for _ in range(max(1, repeat)):
        if QUIET_WAIT[0] > 0:
            wait_for_quiet(QUIET_WAIT[0])
        runs.append(run())
        if not runs[-1].ok:
            return runs[-1]
    best = min(runs, key=lambda m: m.seconds or float("inf"))
    best.repeats = [round(m.seconds or 0.0, 2) for m in runs]
    return best


def run_measured(command: list[str], result_path: Path, log_path: Path, env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` (which writes JSON to ``result_path``), sampling its tree's RSS."""
    result_path.unlink(missing_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    busy_before = busy_cpu_seconds()
    own_before = sum(os.times()[:2])  # this process (the sampler) is not "other" work
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        # wait4: the CPU time of the child and of the descendants it waited for, exactly
        _, status, usage = os.wait4(process.pid, 0)
        returncode = process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        outer = time.perf_counter() - started
    cpu = max(sum(sampler.cpu.values()), usage.ru_utime + usage.ru_stime)
    measured = Measured(returncode == 0, outer, sampler.peak_tree, sampler.peak_root, sampler.peak_child, cpu)
    measured.load = os.getloadavg()[0]
    own = sum(os.times()[:2]) - own_before
    measured.other_cpu_seconds = max(0.0, busy_cpu_seconds() - busy_before - cpu - own)
    measured.samples = sampler.samples
    if returncode == 0 and result_path.exists():
        measured.result = json.loads(result_path.read_text(encoding="utf-8"))
    else:
        measured.ok = False
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        measured.error = f"exit code {returncode}; end of {log_path}:\n{tail}"
    return measured


# --- child processes (this module run with --child SPEC) -----------------------------------------


def _trafilatura_file(path: str) -> int:
    import trafilatura

    with open(path, "rb") as handle:
        text = trafilatura.extract(handle.read())
    return len(text or "")


def _ceiling_process(spec: dict[str, Any], barrier: Any, queue: Any) -> None:
    """One process of the machine-ceiling run: pass 1's per-record work (the stages, the schema
    check, the MinHash side table) on records read before the clock, with no reading, writing
    or coordination, so that N of these scale as well as the machine lets any CPU-bound work."""
    from corpusclean import PipelineConfig
    from corpusclean.engines.local import process_records
    from corpusclean.records import Record
    from corpusclean.sources import read_file
    from corpusclean.sources.files import expand_inputs
    from corpusclean.stages import build_stages

    config = PipelineConfig.from_dict(spec["config"])
    records = [
        item
        for file in expand_inputs(spec["inputs"])
        for item in read_file(file, config.read).items
        if isinstance(item, Record)
    ]
    stages = build_stages(config)
    size = config.output.batch_size
    process_records(stages, records[:size], config)  # loads what is loaded once (profiles, tables)
    barrier.wait()
    started = time.perf_counter()  # CLOCK_MONOTONIC: one clock for every process of the machine
    for start in range(0, len(records), size):
        process_records(stages, records[start : start + size], config)
    queue.put((started, time.perf_counter(), len(records)))


def _ceiling(spec: dict[str, Any]) -> dict[str, Any]:
    """``workers`` processes each doing the same fixed work at once (see ``_ceiling_process``);
    wall time from the first start to the last end."""
    context = mp.get_context("spawn")
    workers = spec["workers"]
    barrier = context.Barrier(workers)
    queue = context.Queue()
    processes = [context.Process(target=_ceiling_process, args=(spec, barrier, queue)) for _ in range(workers)]
    for process in processes:
        process.start()
    ends: list[tuple[float, float, int]] = []
    while len(ends) < workers:
        try:
            ends.append(queue.get(timeout=1.0))
        except Empty:
            if any(process.exitcode not in (None, 0) for process in processes):
                for process in processes:
                    process.kill()
                raise RuntimeError("a ceiling process failed (its traceback is above)") from None
    for process in processes:
        process.join()
    seconds = max(end for _, end, _ in ends) - min(start for start, _, _ in ends)
    records = sum(count for _, _, count in ends)
    return {"seconds": seconds, "records_in": records, "records_per_second": records / seconds}


def _child(spec_path: Path) -> int:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    result: dict[str, Any]
    if spec["kind"] == "corpusclean":
        from corpusclean import Pipeline, PipelineConfig

        config = PipelineConfig.from_dict(spec["config"])
        started_at = time.time()
        started = time.perf_counter()
        report = Pipeline(config).run(spec["inputs"], spec["out"], workers=spec["workers"], overwrite=True)
        seconds = time.perf_counter() - started
        result = {
            "seconds": seconds,
            "started_at": started_at,
            "records_in": report.records_in,
            "kept": report.kept,
            "rejected": report.rejected,
            "by_reason": report.by_reason,
            "timings": report.manifest["timings"],
            "counts": report.manifest["counts"],
        }
    elif spec["kind"] == "trafilatura":
        import trafilatura  # noqa: F401 - imported before the clock starts, like corpusclean

        pages = spec["pages"]
        started = time.perf_counter()
        if spec["workers"] <= 1:
            lengths = [_trafilatura_file(page) for page in pages]
        else:
            with mp.get_context("spawn").Pool(spec["workers"]) as pool:
                lengths = pool.map(_trafilatura_file, pages, chunksize=4)
        seconds = time.perf_counter() - started
        result = {"seconds": seconds, "records_in": len(pages), "kept": sum(1 for n in lengths if n)}
    elif spec["kind"] == "ceiling":
        result = _ceiling(spec)
    else:
        raise ValueError(f"unknown child kind {spec['kind']!r}")
    Path(spec["result"]).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


def run_child(spec: dict[str, Any], runs: Path, name: str) -> Measured:
    runs.mkdir(parents=True, exist_ok=True)
    spec_path = runs / f"{name}.spec.json"
    result_path = runs / f"{name}.result.json"
    spec = {**spec, "result": str(result_path)}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    command = [sys.executable, "-m", "bench.bench_pipeline", "--child", str(spec_path)]
    return run_measured(command, result_path, runs / f"{name}.log")


# --- datatrove's own environment -----------------------------------------------------------------


def ensure_datatrove(venv: Path, install: bool = True) -> tuple[Path | None, str]:
    """The Python of a venv with datatrove, created and installed when missing; (None, why) when
    that fails."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import datatrove, spacy, orjson, ftfy"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    if not install:
        return None, f"no datatrove in {venv} (and --no-install)"
    print(f"installing datatrove into its own venv {venv} (once) …", flush=True)
    base = shutil.which("python3") or sys.executable
    log = venv.with_name(venv.name + "-install.log")
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
        with open(log, "wb") as handle:
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *DATATROVE_REQUIREMENTS],
                check=True,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"could not install {' '.join(DATATROVE_REQUIREMENTS)} into {venv}: {exc} (see {log})"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, f"datatrove installed into {venv} but does not import (see {log})"
    return python, ""


def run_datatrove(python: Path, corpus: TextCorpus, runs: Path, workers: int) -> Measured:
    name = f"datatrove-{corpus.docs}-w{workers}"
    result_path = runs / f"{name}.result.json"
    command = [
        str(python),
        str(DATATROVE_RUNNER),
        "--input",
        str(corpus.jsonl),
        "--work",
        str(runs / name),
        "--workers",
        str(workers),
        "--result",
        str(result_path),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return run_measured(command, result_path, runs / f"{name}.log", env=env)


# --- dedup quality -------------------------------------------------------------------------------


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def pair_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Pairwise precision/recall/F1 of a clustering (``predicted`` labels) against ``truth``."""
    _, true_counts = np.unique(truth, return_counts=True)
    _, predicted_counts = np.unique(predicted, return_counts=True)
    joint = truth.astype(np.int64) * (int(predicted.max()) + 1) + predicted.astype(np.int64)
    _, joint_counts = np.unique(joint, return_counts=True)
    true_pairs, predicted_pairs, hits = _pairs(true_counts), _pairs(predicted_counts), _pairs(joint_counts)
    precision = hits / predicted_pairs if predicted_pairs else 1.0
    recall = hits / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
    }


def quality(corpus: TextCorpus, predicted: np.ndarray) -> dict[str, Any]:
    subset = corpus.neardup
    return {
        "all": pair_scores(corpus.groups, predicted),
        "neardup_set": pair_scores(corpus.groups[subset], predicted[subset]) if subset.any() else None,
    }


def corpusclean_clusters(out: Path, docs: int) -> np.ndarray:
    """Cluster label per document from a run's output: kept rows' ``near_dup_cluster`` and
    rejected rows' ``duplicate_of`` joined by union-find; every other document alone."""
    import pyarrow.parquet as pq

    parent = np.arange(docs)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    index_of: dict[str, int] = {}
    links: list[tuple[str, str]] = []
    for folder, column in (("documents", "near_dup_cluster"), ("rejected", "duplicate_of")):
        for path in sorted((out / folder).glob("*.parquet")):
            table = pq.read_table(path, columns=["doc_id", "source_id", column])
            for doc_id, source_id, other in zip(
                table["doc_id"].to_pylist(), table["source_id"].to_pylist(), table[column].to_pylist(), strict=True
            ):
                index_of[doc_id] = doc_index(source_id)
                if other is not None:
                    links.append((doc_id, other))
    for doc_id, other in links:
        a, b = find(index_of[doc_id]), find(index_of[other])
        if a != b:
            parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(docs)], dtype=np.int64)


def datatrove_clusters(kept: Path, removed: Path, docs: int) -> tuple[np.ndarray, int]:
    """Cluster label per document from ``metadata.minhash_cluster_id``; and the removed count."""
    labels = np.arange(docs, dtype=np.int64)
    removed_count = 0
    for folder in (kept, removed):
        for path in sorted(folder.glob("*.jsonl*")):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as handle:
                for line in handle:
                    row = json.loads(line)
                    cluster = row.get("metadata", {}).get("minhash_cluster_id", -1)
                    if cluster is not None and cluster >= 0:
                        labels[doc_index(row["id"])] = docs + int(cluster)
                    removed_count += folder == removed
    return labels, removed_count


def side_table_bytes(corpus: TextCorpus, sample: int = 512) -> dict[str, float]:
    """In-memory size per document of corpusclean's MinHash side table (what the global step
    loads for near-duplicate detection), measured on the first ``sample`` documents."""
    from corpusclean.config import DedupConfig
    from corpusclean.stages.dedup import minhash_table

    texts, ids = [], []
    with open(next(iter(sorted(corpus.jsonl.glob("*.jsonl")))), encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts.append(row["text"])
            ids.append(row["id"])
            if len(texts) >= sample:
                break
    params = DedupConfig().minhash_params()
    table = minhash_table([f"{i:0>32}" for i in ids], texts, params)
    per_column = {name: table[name].nbytes / table.num_rows for name in table.column_names}
    return {"total": round(table.nbytes / table.num_rows, 1), **{k: round(v, 1) for k, v in per_column.items()}}


# --- the benchmark -------------------------------------------------------------------------------


def _row(tool: str, config: str, workers: int, docs: int, measured: Measured, **extra: Any) -> dict[str, Any]:
    seconds = measured.seconds
    return {
        "tool": tool,
        "config": config,
        "workers": workers,
        "docs": docs,
        "ok": measured.ok,
        "seconds": round(seconds, 2) if seconds else None,
        "docs_per_second": round(docs / seconds, 1) if seconds else None,
        "process_seconds": round(measured.outer_seconds, 2),
        "cpu_seconds": round(measured.cpu_seconds, 2),
        "docs_per_cpu_second": round(docs / measured.cpu_seconds, 1) if measured.cpu_seconds else None,
        "repeats": measured.repeats or None,
        "load_average": round(measured.load, 2),
        # the share of the machine's cores used by other processes during the run (0.5 on two
        # cores: a whole core was busy elsewhere)
        "other_cpu_share": round(measured.other_cpu_seconds / (measured.outer_seconds * (os.cpu_count() or 1)), 3),
        "peak_rss_mb": round(measured.peak_rss_tree / 2**20, 1),
        "peak_rss_main_mb": round(measured.peak_rss_root / 2**20, 1),
        "peak_rss_largest_child_mb": round(measured.peak_rss_child / 2**20, 1),
        "error": measured.error or None,
        **extra,
    }


def phase_peaks(measured: Measured) -> dict[str, float]:
    """Peak RSS of the tree in pass 1, the global step and pass 2 of a corpusclean run, in MB."""
    timings = measured.result["timings"]
    start = measured.result["started_at"]
    peaks = {}
    for phase in ("pass1", "global", "pass2"):
        stop = start + timings[f"{phase}_seconds"]
        peaks[phase] = round(measured.peak_between(start, stop) / 2**20, 1)
        start = stop
    return peaks


def run_text_corpusclean(
    corpus: TextCorpus, runs: Path, config_name: str, workers: int, repeat: int = 1
) -> dict[str, Any]:
    name = f"corpusclean-{corpus.docs}-{config_name.replace(' ', '-')}-w{workers}"
    out = runs / name
    spec = {
        "kind": "corpusclean",
        "config": TEXT_CONFIGS[config_name],
        "inputs": [str(corpus.jsonl)],
        "out": str(out),
        "workers": workers,
    }
    measured = best_of(repeat, lambda: run_child(spec, runs, name))
    extra: dict[str, Any] = {}
    if measured.ok:
        by_reason = measured.result["by_reason"]
        extra = {
            "duplicates_removed": by_reason.get("exact_duplicate", 0) + by_reason.get("near_duplicate", 0),
            "exact_duplicates": by_reason.get("exact_duplicate", 0),
            "other_rejections": measured.result["rejected"]
            - by_reason.get("exact_duplicate", 0)
            - by_reason.get("near_duplicate", 0),
            "quality": quality(corpus, corpusclean_clusters(out, corpus.docs)),
            "timings": measured.result["timings"],
            "peak_rss_by_phase_mb": phase_peaks(measured),
        }
    return _row("corpusclean", config_name, workers, corpus.docs, measured, **extra)


def run_ceiling(
    corpus: TextCorpus, runs: Path, config_name: str, workers: int, docs: int, repeat: int = 1
) -> dict[str, Any]:
    """The machine's ceiling for ``workers``: each of that many processes does the per-record
    work of pass 1 on the same ``docs`` documents at once. Against the 1-process figure it says
    how far the cores of this machine scale CPU-bound work that shares nothing."""
    files = sorted(corpus.jsonl.glob("*.jsonl"))
    per_file = max(1, corpus.docs // max(1, len(files)))
    chosen = files[: max(1, -(-docs // per_file))]
    name = f"ceiling-{config_name.replace(' ', '-')}-w{workers}"
    spec = {
        "kind": "ceiling",
        "config": TEXT_CONFIGS[config_name],
        "inputs": [str(path) for path in chosen],
        "workers": workers,
    }
    measured = best_of(repeat, lambda: run_child(spec, runs, name))
    records = measured.result.get("records_in", 0) if measured.ok else 0
    row = _row("machine ceiling", config_name, workers, records, measured)
    row["note"] = "pass 1's per-record work, read before the clock, in that many processes at once"
    return row


def run_text_datatrove(python: Path, corpus: TextCorpus, runs: Path, workers: int, repeat: int = 1) -> dict[str, Any]:
    measured = best_of(repeat, lambda: run_datatrove(python, corpus, runs, workers))
    extra: dict[str, Any] = {}
    if measured.ok:
        labels, removed = datatrove_clusters(
            Path(measured.result["kept_dir"]), Path(measured.result["removed_dir"]), corpus.docs
        )
        extra = {
            "duplicates_removed": removed,
            "quality": quality(corpus, labels),
            "step_seconds": measured.result["seconds"],
            "datatrove_version": measured.result.get("datatrove_version"),
            "tasks": measured.result.get("tasks"),
        }
    return _row("datatrove", "MinHash recipe", workers, corpus.docs, measured, **extra)


def run_html(pages: list[Path], runs: Path, workers: int, repeat: int = 1) -> list[dict[str, Any]]:
    rows = []
    name = f"html-corpusclean-w{workers}"
    spec = {
        "kind": "corpusclean",
        "config": HTML_CONFIG,
        "inputs": [str(pages[0].parent)],
        "out": str(runs / name),
        "workers": workers,
    }
    measured = best_of(repeat, lambda: run_child(spec, runs, name))
    rows.append(
        _row(
            "corpusclean",
            "HTML: extract+metadata, repair, boilerplate, language",
            workers,
            len(pages),
            measured,
            kept=measured.result.get("kept"),
            timings=measured.result.get("timings"),
        )
    )
    name = f"html-trafilatura-w{workers}"
    spec = {"kind": "trafilatura", "pages": [str(p) for p in pages], "workers": workers}
    measured = best_of(repeat, lambda: run_child(spec, runs, name))
    rows.append(
        _row("trafilatura", "trafilatura.extract", workers, len(pages), measured, kept=measured.result.get("kept"))
    )
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def _stage_cpu(row: dict[str, Any]) -> float | None:
    """CPU seconds the run's stages took (its manifest's ``stage_cpu_seconds``), all workers."""
    seconds = (row.get("timings") or {}).get("stage_cpu_seconds")
    return sum(seconds.values()) if seconds else None


def ratios(
    text: list[dict[str, Any]],
    html: list[dict[str, Any]],
    workers: list[int],
    ceiling: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for w in workers:
        datatrove = _find(text, tool="datatrove", workers=w) or {}
        for config in TEXT_CONFIGS:
            ours = _find(text, tool="corpusclean", config=config, workers=w) or {}
            out[f"text docs/s corpusclean ({config}) / datatrove, {w} worker(s)"] = _ratio(
                ours.get("docs_per_second"), datatrove.get("docs_per_second")
            )
            out[f"text CPU seconds per document datatrove / corpusclean ({config}), {w} worker(s)"] = _ratio(
                datatrove.get("cpu_seconds"), ours.get("cpu_seconds")
            )
            if ours.get("peak_rss_mb") and datatrove.get("peak_rss_mb"):
                out[f"text peak RSS corpusclean ({config}) / datatrove, {w} worker(s)"] = _ratio(
                    ours["peak_rss_mb"], datatrove["peak_rss_mb"]
                )
        ours_html = _find(html, tool="corpusclean", workers=w) or {}
        plain = _find(html, tool="trafilatura", workers=w) or {}
        out[f"HTML time corpusclean / trafilatura.extract, {w} worker(s)"] = _ratio(
            ours_html.get("seconds"), plain.get("seconds")
        )
    if len(workers) >= 2:
        low, high = min(workers), max(workers)
        for tool, config in [("corpusclean", c) for c in TEXT_CONFIGS] + [("datatrove", "MinHash recipe")]:
            one = _find(text, tool=tool, config=config, workers=low) or {}
            many = _find(text, tool=tool, config=config, workers=high) or {}
            out[f"{tool} ({config}) docs/s {high} workers / {low}"] = _ratio(
                many.get("docs_per_second"), one.get("docs_per_second")
            )
            if tool != "corpusclean":
                continue
            # the same work costs more CPU when both cores are busy on a machine whose cores
            # share more than they show (siblings of one physical core, a host's other guests)
            out[f"corpusclean ({config}) stage CPU seconds {high} workers / {low}"] = _ratio(
                _stage_cpu(many), _stage_cpu(one)
            )
            bound_one = _find(ceiling or [], config=config, workers=low) or {}
            bound_many = _find(ceiling or [], config=config, workers=high) or {}
            bound = _ratio(bound_many.get("docs_per_second"), bound_one.get("docs_per_second"))
            if bound:
                out[f"machine ceiling ({config}) {high} processes / {low}"] = bound
                ours = _ratio(many.get("docs_per_second"), one.get("docs_per_second"))
                out[f"corpusclean ({config}) {high}/{low} workers as a share of the ceiling"] = (
                    _ratio(ours, bound) if ours else None
                )
    return out


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "—"
    return format(value, spec)


def _cpu_ms(row: dict[str, Any]) -> str:
    return f"{1000 * row['cpu_seconds'] / row['docs']:.1f}" if row.get("cpu_seconds") and row["ok"] else "—"


def print_tables(report: dict[str, Any]) -> None:
    corpus = report["corpus"]
    print(
        f"\nText path: {corpus['docs']:,} documents (mean {corpus['mean_chars']:,.0f} characters) in "
        f"{corpus['files']} JSONL files; {corpus['ideal_removals']:,} removals would leave one per source"
    )
    header = (
        f"{'tool':<12}{'config':<16}{'workers':>8}{'wall s':>9}{'docs/s':>9}{'CPU ms/doc':>11}{'RSS MB':>9}"
        f"{'dups':>8}{'P':>8}{'R':>8}{'F1':>8}{'F1 nd':>8}{'other':>7}"
    )
    print(header)
    for row in report["text"]:
        scores = (row.get("quality") or {}).get("all") or {}
        nd = (row.get("quality") or {}).get("neardup_set") or {}
        print(
            f"{row['tool']:<12}{row['config'][:15]:<16}{row['workers']:>8}{_fmt(row['seconds'], '.1f'):>9}"
            f"{_fmt(row['docs_per_second'], '.1f'):>9}{_cpu_ms(row):>11}{_fmt(row['peak_rss_mb'], '.0f'):>9}"
            f"{_fmt(row.get('duplicates_removed'), ','):>8}{_fmt(scores.get('precision'), '.3f'):>8}"
            f"{_fmt(scores.get('recall'), '.3f'):>8}{_fmt(scores.get('f1'), '.3f'):>8}{_fmt(nd.get('f1'), '.3f'):>8}"
            f"{row['other_cpu_share']:>7.0%}"
        )
        if not row["ok"]:
            print(f"    failed: {row['error']}")
    if report.get("datatrove_skipped"):
        print(f"datatrove skipped: {report['datatrove_skipped']}")
    if report.get("ceiling"):
        print("\nMachine ceiling: pass 1's per-record work on the same documents in N processes at once")
        print(f"{'config':<16}{'processes':>10}{'docs':>8}{'wall s':>9}{'docs/s':>9}{'other':>7}")
        for row in report["ceiling"]:
            print(
                f"{row['config'][:15]:<16}{row['workers']:>10}{row['docs']:>8}{_fmt(row['seconds'], '.1f'):>9}"
                f"{_fmt(row['docs_per_second'], '.1f'):>9}{row['other_cpu_share']:>7.0%}"
            )
    if report["html"]:
        print(f"\nHTML path: {report['html_pages']} pages")
        print(
            f"{'tool':<12}{'workers':>8}{'wall s':>9}{'pages/s':>9}{'CPU ms/page':>12}{'RSS MB':>9}{'texts':>8}"
            f"{'other':>7}"
        )
        for row in report["html"]:
            print(
                f"{row['tool']:<12}{row['workers']:>8}{_fmt(row['seconds'], '.1f'):>9}"
                f"{_fmt(row['docs_per_second'], '.1f'):>9}{_cpu_ms(row):>12}{_fmt(row['peak_rss_mb'], '.0f'):>9}"
                f"{_fmt(row.get('kept')):>8}{row['other_cpu_share']:>7.0%}"
            )
            if not row["ok"]:
                print(f"    failed: {row['error']}")
    print("\nRatios")
    for name, value in report["ratios"].items():
        print(f"  {name:<84}{_fmt(value)}")
    if report.get("rss_scale"):
        print("\nPeak RSS against corpus size (corpusclean, text path, language off)")
        print(
            f"{'docs':>9}{'workers':>8}{'wall s':>9}{'docs/s':>9}{'peak MB':>9}{'pass 1':>9}{'global':>9}{'pass 2':>9}"
        )
        for row in report["rss_scale"]:
            phases = row.get("peak_rss_by_phase_mb") or {}
            print(
                f"{row['docs']:>9,}{row['workers']:>8}{_fmt(row['seconds'], '.1f'):>9}"
                f"{_fmt(row['docs_per_second'], '.1f'):>9}{row['peak_rss_mb']:>9.0f}"
                f"{_fmt(phases.get('pass1'), '.0f'):>9}{_fmt(phases.get('global'), '.0f'):>9}"
                f"{_fmt(phases.get('pass2'), '.0f'):>9}"
            )
    if report.get("side_table_bytes_per_doc"):
        print(f"\ncorpusclean MinHash side table, bytes per document in memory: {report['side_table_bytes_per_doc']}")


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("corpusclean", "trafilatura", "ftfy", "langdetect", "pyarrow", "numpy", "psutil"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where the corpora are built")
    parser.add_argument("--runs", type=Path, default=DEFAULT_RUNS, help="where the runs write their output")
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--docs-per-file", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1, help="best of N for every text-path run")
    parser.add_argument("--html-repeat", type=int, default=3, help="best of N for every HTML-path run")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this many seconds until other processes use <20%% of a core",
    )
    parser.add_argument("--rss-scale", type=int, nargs="*", default=[], metavar="DOCS")
    parser.add_argument("--rss-workers", type=int, default=1, help="workers of the --rss-scale runs")
    parser.add_argument("--datatrove-venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--no-install", action="store_true", help="do not create datatrove's venv")
    parser.add_argument("--skip-datatrove", action="store_true")
    parser.add_argument("--skip-text", action="store_true")
    parser.add_argument("--skip-html", action="store_true")
    parser.add_argument(
        "--ceiling-docs",
        type=int,
        default=4000,
        help="documents per process of the machine-ceiling runs (0: none)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    QUIET_WAIT[0] = args.quiet_wait

    started = time.perf_counter()
    corpus = build_text_corpus(args.data, args.work, args.docs, args.seed, args.docs_per_file)
    report: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m bench.bench_pipeline " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "versions": _versions(),
        "corpus": {
            "docs": corpus.docs,
            "files": corpus.files,
            "mean_chars": corpus.mean_chars,
            "sources": len(np.unique(corpus.groups)),
            "ideal_removals": corpus.ideal_removals,
            "neardup_set_docs": int(corpus.neardup.sum()),
            "true_pairs": pair_scores(corpus.groups, np.arange(corpus.docs))["true_pairs"],
            "directory": str(corpus.directory),
        },
        "text_configs": TEXT_CONFIGS,
        "html_config": HTML_CONFIG,
        "text": [],
        "ceiling": [],
        "html": [],
    }
    python: Path | None = None
    if not args.skip_text and not args.skip_datatrove:
        python, why = ensure_datatrove(args.datatrove_venv, install=not args.no_install)
        if python is None:
            print(f"datatrove skipped: {why}", flush=True)
            report["datatrove_skipped"] = why
    elif args.skip_datatrove:
        report["datatrove_skipped"] = "--skip-datatrove"

    def done(row: dict[str, Any]) -> None:
        status = f"{row['docs_per_second']} docs/s, {row['peak_rss_mb']} MB" if row["ok"] else "FAILED"
        print(f"  {row['tool']} ({row['config']}), {row['workers']} worker(s): {status}", flush=True)

    for workers in args.workers:
        if not args.skip_text:
            for config_name in TEXT_CONFIGS:
                if args.ceiling_docs:
                    print(f"machine ceiling ({config_name}), {workers} process(es) …", flush=True)
                    row = run_ceiling(corpus, args.runs, config_name, workers, args.ceiling_docs, args.repeat)
                    report["ceiling"].append(row)
                    done(row)
                print(f"text path, corpusclean ({config_name}), {workers} worker(s) …", flush=True)
                report["text"].append(run_text_corpusclean(corpus, args.runs, config_name, workers, args.repeat))
                done(report["text"][-1])
            if python is not None:
                print(f"text path, datatrove, {workers} worker(s) …", flush=True)
                report["text"].append(run_text_datatrove(python, corpus, args.runs, workers, args.repeat))
                done(report["text"][-1])
        if not args.skip_html:
            pages = build_html_set(args.data, args.work)
            report["html_pages"] = len(pages)
            print(f"HTML path, {len(pages)} pages, {workers} worker(s) …", flush=True)
            for row in run_html(pages, args.runs, workers, args.html_repeat):
                report["html"].append(row)
                done(row)
    report["ratios"] = ratios(report["text"], report["html"], args.workers, report["ceiling"])
    report["side_table_bytes_per_doc"] = side_table_bytes(corpus)
    if args.rss_scale:
        report["rss_scale"] = []
        for docs in args.rss_scale:
            scaled = build_text_corpus(args.data, args.work, docs, args.seed, args.docs_per_file)
            print(f"RSS scale: corpusclean (language off), {docs:,} documents, {args.rss_workers} worker(s) …")
            row = run_text_corpusclean(scaled, args.runs, "language off", args.rss_workers)
            row.pop("quality", None)
            report["rss_scale"].append(row)
            done(row)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print_tables(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":  # the children of the runs start with spawn: the guard is required
    sys.exit(main())
