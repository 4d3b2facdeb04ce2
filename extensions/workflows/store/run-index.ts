// Lists the runs under a project's runs folder and finds one by id or unique id prefix. Each run's
// state is rebuilt from its journal (and its lock: a running run without a live owner is
// interrupted), so it works for runs started by earlier processes.

import { existsSync, readdirSync } from "node:fs";
import { readJournalFile } from "./journal.js";
import { buildReport, markInterrupted, type RunReport } from "./report.js";
import { listArtifacts, runPaths, runsRoot } from "./run-directory.js";
import { inspectLock } from "./run-lock.js";

export function listRunIds(cwd: string): string[] {
	const root = runsRoot(cwd);
	if (!existsSync(root)) return [];
	return readdirSync(root, { withFileTypes: true })
		.filter((entry) => entry.isDirectory() && existsSync(runPaths(cwd, entry.name).journal))
		.map((entry) => entry.name)
		.sort();
}

/** The report of a run on disk, rebuilt from its journal; a running run whose owner is gone is
 * `interrupted`. Throws when the journal cannot be read. */
export function readRunReport(cwd: string, runId: string): RunReport {
	return readRun(cwd, runId, true).report;
}

/** Runs of a project that no process is driving and that a resume (or an answer) would continue:
 * interrupted, paused, or stopped at a question. */
export function resumableRuns(cwd: string): RunReport[] {
	const found: RunReport[] = [];
	for (const runId of listRunIds(cwd)) {
		try {
			// Runs at session start: artifacts are not listed, they are not part of the notice.
			const { report, owned } = readRun(cwd, runId, false);
			if (!owned && RESUMABLE.has(report.status)) found.push(report);
		} catch {
			// An unreadable journal is reported by status, not here.
		}
	}
	return found;
}

const RESUMABLE: ReadonlySet<string> = new Set(["interrupted", "paused", "awaiting_input"]);

function readRun(cwd: string, runId: string, withArtifacts: boolean): { report: RunReport; owned: boolean } {
	const paths = runPaths(cwd, runId);
	if (!existsSync(paths.journal)) throw new Error(`Run ${runId} has no journal at ${paths.journal}`);
	const artifacts = withArtifacts ? listArtifacts(paths) : [];
	const report = buildReport(readJournalFile(paths.journal), paths.runDir, artifacts);
	const owned = inspectLock(paths.runDir).state === "owned";
	return { report: owned ? report : markInterrupted(report), owned };
}

/** Resolves a run id or unique prefix among `known` ids; errors list the matches or say none exist. */
export function matchRunId(
	prefix: string,
	known: readonly string[],
): { ok: true; runId: string } | { ok: false; error: string } {
	const wanted = prefix.trim();
	if (!wanted) return { ok: false, error: "expected a run id (or a unique prefix of one), got nothing" };
	if (known.includes(wanted)) return { ok: true, runId: wanted };
	const matches = known.filter((id) => id.startsWith(wanted));
	if (matches.length === 1 && matches[0]) return { ok: true, runId: matches[0] };
	if (matches.length > 1) {
		return { ok: false, error: `run id prefix "${wanted}" is ambiguous: it matches ${matches.join(", ")}` };
	}
	return {
		ok: false,
		error: `no run with id "${wanted}"${known.length ? ` (runs: ${known.slice(-8).join(", ")})` : " (no runs yet)"}`,
	};
}
