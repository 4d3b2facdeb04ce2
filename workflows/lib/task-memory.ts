// Task memory for an autonomous PLAN / ACT / VERIFY loop: the facts one iteration leaves for the next (what was
// tried, which files changed, the diff stat, how verify ended and what failed), rendered as text for the next PLAN
// prompt within a fixed size. It holds facts only, never the model's reasoning. The text is a pure function of the
// recorded facts (plain JSON), so a resumed run that rebuilds it from its journal gets the identical text. It does
// not run tests, read git or decide when the loop stops: progressSignature only gives the loop a value to compare.

import { createHash } from "node:crypto";

/** What one iteration left behind, as recorded facts. */
export interface IterationFacts {
	/** 1, 2, ... */
	iteration: number;
	/** First line of the plan's approach, as the plan stated it (a fact of what was tried), trimmed to 200 chars. */
	tried: string;
	/** Paths the iteration changed. */
	filesChanged: string[];
	/** Lines added, from the diff stat. */
	insertions: number;
	/** Lines removed, from the diff stat. */
	deletions: number;
	/** How verify ended; `failing` holds short lines naming failing tests or errors (see failingLines). */
	verify: { passed: boolean; exitCode: number | null; failing: string[] };
	/** Other facts the loop noted (e.g. "changed non-test files in a tests task: src/a.ts"). */
	notes?: string[];
}

/** Limits for renderMemory. */
export interface MemoryOptions {
	/** Longest text renderMemory returns, in UTF-16 code units (default 4000). */
	maxChars?: number;
	/** How many of the latest iterations are shown in full, one fact a line (default 3). */
	keepRecent?: number;
}

const DEFAULT_MAX_CHARS = 4000;
const DEFAULT_KEEP_RECENT = 3;
const DEFAULT_MAX_FAILING = 8;
const TRIED_CHARS = 200;
const SUMMARY_TRIED_CHARS = 120;
const FAILING_CHARS = 160;
const NOTE_CHARS = 200;
const PATH_CHARS = 120;
const MERGED_FILES = 3;

/** How much of each list a full block shows, from most to least detail. */
const DETAIL_LEVELS = [
	{ files: 8, failing: 8, notes: 4 },
	{ files: 4, failing: 4, notes: 2 },
	{ files: 2, failing: 2, notes: 1 },
	{ files: 0, failing: 1, notes: 1 },
] as const;
const LEAST_DETAIL = DETAIL_LEVELS.length - 1;

type Detail = (typeof DETAIL_LEVELS)[number];

/** One way to lay the memory out: the last `full` iterations in full, summaries from `start` on, the rest merged. */
interface Layout {
	full: number;
	/** Detail level of the full blocks before the latest one. */
	restLevel: number;
	/** Detail level of the latest iteration's block. */
	latestLevel: number;
	/** Index of the first summary line; the iterations before it share one merged line (0: none merged). */
	start: number;
	/** Leave out everything older than the full blocks. */
	dropOlder: boolean;
}

/** Renders the memory of all iterations so far (oldest first) as text for the next PLAN prompt, never longer than
 * maxChars: the most recent `keepRecent` iterations in full (each fact on its own line, long lists cut with "and N
 * more"), older ones summarized into one line each, and when still too long the oldest summaries merged into one
 * line. Past that it shortens the lists of the full blocks, then keeps fewer of them; the latest iteration stays in
 * full. Empty string for no iterations. Deterministic: same input, same text. */
export function renderMemory(iterations: readonly IterationFacts[], options: MemoryOptions = {}): string {
	const maxChars = wholeNumber("maxChars", options.maxChars ?? DEFAULT_MAX_CHARS, 1);
	const keepRecent = wholeNumber("keepRecent", options.keepRecent ?? DEFAULT_KEEP_RECENT, 0);
	const count = iterations.length;
	if (count === 0) return "";

	const summaries = iterations.map(summaryLine);
	const summaryEnds = [0];
	for (const line of summaries) summaryEnds.push(summaryEnds.at(-1)! + line.length + 1);
	const merged = mergedLines(iterations);
	const blocks = new Map<string, string>();
	const block = (index: number, level: number): string => {
		const key = `${index}:${level}`;
		let text = blocks.get(key);
		if (text === undefined) {
			text = fullBlock(iterations[index]!, DETAIL_LEVELS[level]!);
			blocks.set(key, text);
		}
		return text;
	};
	const fullPieces = (layout: Layout): string[] => {
		const pieces: string[] = [];
		for (let index = count - layout.full; index < count; index++) {
			pieces.push(block(index, index === count - 1 ? layout.latestLevel : layout.restLevel));
		}
		return pieces;
	};
	// Measured from cached pieces without joining, since the search below tries many layouts.
	const measure = (layout: Layout): number => {
		const older = count - layout.full;
		let chars = 0;
		if (!layout.dropOlder) {
			if (layout.start > 0) chars += merged[layout.start]!.length + 1;
			chars += summaryEnds[older]! - summaryEnds[layout.start]!;
		}
		for (const piece of fullPieces(layout)) chars += piece.length + 1;
		return chars - 1;
	};
	const compose = (layout: Layout): string => {
		const older = count - layout.full;
		const pieces: string[] = [];
		if (!layout.dropOlder) {
			if (layout.start > 0) pieces.push(merged[layout.start]!);
			pieces.push(...summaries.slice(layout.start, older));
		}
		return [...pieces, ...fullPieces(layout)].join("\n");
	};

	let last: Layout | undefined;
	for (const layout of layouts(count, Math.min(keepRecent, count))) {
		if (measure(layout) <= maxChars) return compose(layout);
		last = layout;
	}
	// NOTE: only a maxChars too small for the latest iteration's shortest form gets here; the bound still holds.
	return cut(compose(last!), maxChars);
}

/** Layouts from most to least detail: merge more summaries, then shorten the older full blocks' lists, then keep
 * fewer full blocks, then shorten the latest block's lists, then drop everything older. */
function* layouts(count: number, keep: number): Generator<Layout> {
	const starts = (older: number): number[] => [0, ...Array.from({ length: Math.max(0, older - 1) }, (_, i) => i + 2)];
	if (keep === 0) {
		for (const start of starts(count)) yield { full: 0, restLevel: 0, latestLevel: 0, start, dropOlder: false };
		return;
	}
	for (let full = keep; full >= 1; full--) {
		for (let restLevel = 0; restLevel <= (full > 1 ? LEAST_DETAIL : 0); restLevel++) {
			for (const start of starts(count - full)) yield { full, restLevel, latestLevel: 0, start, dropOlder: false };
		}
	}
	for (let latestLevel = 1; latestLevel <= LEAST_DETAIL; latestLevel++) {
		for (const start of starts(count - 1)) yield { full: 1, restLevel: 0, latestLevel, start, dropOlder: false };
	}
	yield { full: 1, restLevel: 0, latestLevel: LEAST_DETAIL, start: 0, dropOlder: true };
}

/** "iteration 2: tried X; 3 files (+10 -2); verify failed (2 failing)" */
function summaryLine(facts: IterationFacts): string {
	const tried = oneLine(facts.tried, SUMMARY_TRIED_CHARS) || "(no approach stated)";
	const fileCount = facts.filesChanged.length;
	const files =
		fileCount === 0
			? "no files changed"
			: `${fileCount} ${fileCount === 1 ? "file" : "files"} (+${facts.insertions} -${facts.deletions})`;
	const { verify } = facts;
	const outcome = verify.passed
		? "verify passed"
		: `verify failed (${verify.failing.length > 0 ? `${verify.failing.length} failing` : exitText(verify.exitCode)})`;
	return `iteration ${facts.iteration}: tried ${tried}; ${files}; ${outcome}`;
}

/** merged[m], for m from 2 on: one line standing for the first m iterations. */
function mergedLines(iterations: readonly IterationFacts[]): string[] {
	const lines: string[] = [];
	const files = new Set<string>();
	let passed = 0;
	iterations.forEach((facts, index) => {
		for (const path of facts.filesChanged) files.add(oneLine(path, PATH_CHARS));
		if (facts.verify.passed) passed++;
		const attempts = index + 1;
		if (attempts < 2) return;
		const verdict =
			passed === 0
				? "all failed verify"
				: passed === attempts
					? "all passed verify"
					: `${passed} passed verify, ${attempts - passed} failed`;
		const shown = [...files].slice(0, MERGED_FILES);
		const touched = files.size === 0 ? "no files touched" : `files touched: ${listed(shown, files.size)}`;
		const range = `${iterations[0]!.iteration}-${facts.iteration}`;
		lines[attempts] = `iterations ${range}: ${attempts} attempts, ${verdict}; ${touched}`;
	});
	return lines;
}

/** One iteration, one fact a line, lists cut to the detail level. */
function fullBlock(facts: IterationFacts, detail: Detail): string {
	const lines = [`iteration ${facts.iteration}:`];
	lines.push(`  - tried: ${oneLine(facts.tried, TRIED_CHARS) || "(no approach stated)"}`);
	const files = facts.filesChanged.map((path) => oneLine(path, PATH_CHARS));
	if (files.length === 0) lines.push("  - files changed: none");
	else if (detail.files === 0) lines.push(`  - files changed: ${files.length}`);
	else lines.push(`  - files changed (${files.length}): ${listed(files.slice(0, detail.files), files.length)}`);
	lines.push(`  - diff: +${facts.insertions} -${facts.deletions}`);
	const { verify } = facts;
	if (verify.passed) lines.push("  - verify: passed");
	else {
		const failing = verify.failing.map((line) => oneLine(line, FAILING_CHARS));
		const counted = failing.length > 0 ? `, ${failing.length} failing:` : "";
		lines.push(`  - verify: failed (${exitText(verify.exitCode)})${counted}`);
		for (const line of failing.slice(0, detail.failing)) lines.push(`    - ${line}`);
		if (failing.length > detail.failing) lines.push(`    - and ${failing.length - detail.failing} more`);
	}
	const notes = (facts.notes ?? []).map((note) => oneLine(note, NOTE_CHARS));
	for (const note of notes.slice(0, detail.notes)) lines.push(`  - note: ${note}`);
	if (notes.length > detail.notes) lines.push(`  - and ${notes.length - detail.notes} more notes`);
	return lines.join("\n");
}

const FAILURE_PATTERNS: readonly RegExp[] = [
	/\bFAIL(?:ED)?\b/, // vitest/jest "FAIL", Go "--- FAIL" and "FAIL\tpkg", pytest "FAILED ", cargo "... FAILED"
	/[✗×✕✖]/, // failed-test marks of vitest, jest, mocha
	/^not ok\b/, // TAP (node --test)
	/Error:/, // Error:, TypeError:, AssertionError: ...
	/AssertionError/, // pytest's "file.py:9: AssertionError"
	/\bfail(?:ed|ing)\b/i, // summaries: "1 failed", "2 failing", "Test failed"
	/\bpanicked\b/, // Rust
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with the ESC control character.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
/** Rules around headings: "===== FAILURES =====", "⎯⎯⎯ Failed Tests 1 ⎯⎯⎯", "____ test_x ____". */
const RULES = /^[=_⎯─━═~*]{3,}|[=_⎯─━═~*]{3,}$/g;

/** Short failing lines out of a test command's output: lines that look like failures (FAIL, ✗, ×, "not ok",
 * "Error:", "AssertionError", "failed", Python "FAILED ", Go "--- FAIL", Rust "panicked"), each once, at most `max`
 * (default 8), each cut to 160 chars; the last non-empty lines when none match. */
export function failingLines(output: string, max: number = DEFAULT_MAX_FAILING): string[] {
	wholeNumber("max", max, 0);
	const lines = output
		.split(/\r\n|\r|\n/)
		.map((line) => oneLine(line.replace(ANSI, "").replace(RULES, ""), Number.POSITIVE_INFINITY))
		.filter((line) => line.length > 0);
	const matching = [...new Set(lines.filter((line) => FAILURE_PATTERNS.some((pattern) => pattern.test(line))))];
	const chosen = matching.length > 0 ? matching.slice(0, max) : max === 0 ? [] : lines.slice(-max);
	return chosen.map((line) => cut(line, FAILING_CHARS));
}

/** A signature of an iteration's state for no-progress detection: the same files, diff size and failing lines give
 * the same string. Order of files and failing lines, and durations in failing lines ("3ms", "(0.00s)"), do not
 * count; what was tried and the exit code do not either. */
export function progressSignature(facts: IterationFacts): string {
	const state = {
		files: [...new Set(facts.filesChanged)].sort(),
		insertions: facts.insertions,
		deletions: facts.deletions,
		failing: [...new Set(facts.verify.failing.map(withoutDurations))].sort(),
	};
	return createHash("sha256").update(JSON.stringify(state)).digest("hex").slice(0, 16);
}

function withoutDurations(line: string): string {
	return oneLine(line.replace(/\b\d+(?:\.\d+)?\s?m?s\b/g, ""), Number.POSITIVE_INFINITY);
}

/** "a, b and 3 more" */
function listed(shown: readonly string[], total: number): string {
	const rest = total - shown.length;
	return `${shown.join(", ")}${rest > 0 ? ` and ${rest} more` : ""}`;
}

function exitText(exitCode: number | null): string {
	return exitCode === null ? "no exit code" : `exit ${exitCode}`;
}

/** Whitespace runs (newlines too) become one space, then the text is cut to `max` chars. */
function oneLine(text: string, max: number): string {
	return cut(text.replace(/\s+/g, " ").trim(), max);
}

function cut(text: string, max: number): string {
	return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

function wholeNumber(name: string, value: unknown, min: number): number {
	if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
		throw new Error(
			`Expected \`${name}\` to be a whole number from ${min} and up, got \`${value}\` (${typeof value})`,
		);
	}
	return value;
}
