// The surface's one door to runs on disk: each run is read once from the store and handed back as a view
// (its report, the questions it waits on, how it started, whether a live process owns it). A run whose
// journal cannot be read is listed with its error and never hides the others.

import type { RunStartedEvent } from "../store/events.js";
import { FileRunStore } from "../store/file-store.js";
import { buildReport, markInterrupted, type RunReport } from "../store/report.js";
import { listArtifacts } from "../store/run-directory.js";
import { RunFold } from "../store/run-fold.js";
import type { RunStore } from "../store/run-store.js";
import type { PendingPrompt } from "./calls/prompt-board.js";

export interface RunView {
	runId: string;
	/** As folded from the journal; a running run without a live owner is `interrupted`. */
	report: RunReport;
	/** Questions journaled and not answered. */
	pending: PendingPrompt[];
	/** How the run started (workflow file or spec, inputs, default model). */
	started?: RunStartedEvent;
	/** Whether a live process owns the run now. */
	owned: boolean;
}

export type RunListing = { runId: string; view: RunView } | { runId: string; error: string };

/** The store of a project's runs: files under `.pi/workflows/runs/`. */
export function projectStore(cwd: string): RunStore {
	return new FileRunStore(cwd);
}

/** Reads one run; throws, naming the run, when its journal cannot be read. `artifacts`: list its artifacts
 * folder too (a walk of the folder, left out where only the status matters). */
export function openRunView(store: RunStore, runId: string, options: { artifacts?: boolean } = {}): RunView {
	const fold = RunFold.of(store.read(runId));
	const paths = store.paths(runId);
	let artifacts: string[] = [];
	if (options.artifacts) {
		const listed = listArtifacts(paths);
		artifacts = listed.files;
		fold.run.warnings.push(...listed.problems);
	}
	const report = buildReport(fold, paths.runDir, artifacts);
	const owned = store.owner(runId).state === "owned";
	return {
		runId,
		report: owned ? report : markInterrupted(report),
		pending: fold.pending(),
		...(fold.run.started ? { started: fold.run.started } : {}),
		owned,
	};
}

/** Every run of the store, each with its view or with the error that kept it from being read. */
export function listRuns(store: RunStore): RunListing[] {
	return store.listRunIds().map((runId) => readListing(store, runId));
}

const RESUMABLE: ReadonlySet<string> = new Set(["interrupted", "paused", "awaiting_input"]);

/** Every status `resume` continues: the ones session start offers, and a failed or blocked run. */
export const RESUMES: ReadonlySet<string> = new Set([...RESUMABLE, "failed", "blocked"]);

/** Whether a run that ended with this status stays on the store's list of open runs (see RunStore.openRunIds). */
export function staysOpen(status: string): boolean {
	return status === "running" || RESUMABLE.has(status);
}

/**
 * Runs no process drives that a resume (or an answer) would continue: interrupted, paused, or stopped at a question.
 * Only the runs the store lists as open are read (session start stays fast however many runs a project has); a
 * store without that list yet is read whole once, and the list made from what it holds.
 */
export function resumableRuns(store: RunStore): RunReport[] {
	const open = store.openRunIds();
	const listings = open ? open.map((runId) => readListing(store, runId)) : listRuns(store);
	if (!open) {
		for (const listing of listings) {
			if ("view" in listing && staysOpen(listing.view.report.status)) store.markOpen(listing.runId, true);
		}
	}
	return listings.flatMap((listing) => {
		if (!("view" in listing)) return [];
		const { report, owned } = listing.view;
		// A run that ended for good since it was listed (another version, a cancel) leaves the list.
		if (!staysOpen(report.status)) store.markOpen(listing.runId, false);
		return !owned && RESUMABLE.has(report.status) ? [report] : [];
	});
}

function readListing(store: RunStore, runId: string): RunListing {
	try {
		return { runId, view: openRunView(store, runId) };
	} catch (error) {
		return { runId, error: error instanceof Error ? error.message : String(error) };
	}
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
