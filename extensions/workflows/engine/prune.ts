// `/workflow prune --older-than 30d`: removes a project's old runs, whole (journal, transcripts, artifacts,
// report). Never a run a process drives, never one a resume would continue (paused, interrupted, waiting for an
// answer, failed, blocked) unless asked, never one whose git worktree is still on disk. Each run is removed under
// its lock, so no process can take it over meanwhile; what is kept says why.

import type { RunStore } from "../store/run-store.js";
import { LeaseRelay } from "./lease-relay.js";
import { listRuns, RESUMES } from "./runs.js";

export interface PruneOptions {
	olderThanMs: number;
	/** Also remove runs a resume would continue. */
	resumable?: boolean;
	now?: number;
}

export interface PruneResult {
	removed: string[];
	kept: Array<{ runId: string; why: string }>;
}

export function pruneRuns(store: RunStore, options: PruneOptions): PruneResult {
	const now = options.now ?? Date.now();
	const result: PruneResult = { removed: [], kept: [] };
	for (const listing of listRuns(store)) {
		if (!("view" in listing)) {
			result.kept.push({ runId: listing.runId, why: `its journal cannot be read (${listing.error})` });
			continue;
		}
		const { report, owned } = listing.view;
		const last = Date.parse(report.endedAt ?? report.startedAt);
		if (!(now - last >= options.olderThanMs)) continue;
		if (owned) {
			result.kept.push({ runId: report.runId, why: "a process is running it" });
			continue;
		}
		if (RESUMES.has(report.status) && !options.resumable) {
			result.kept.push({
				runId: report.runId,
				why: `it is ${report.status} and can be resumed (--resumable removes it)`,
			});
			continue;
		}
		if (report.worktrees && report.worktrees.length > 0) {
			const where = report.worktrees.map((entry) => entry.root).join(", ");
			result.kept.push({ runId: report.runId, why: `its git worktree is kept at ${where}; remove it first` });
			continue;
		}
		const opened = store.open(report.runId, new LeaseRelay());
		if (!opened.ok) {
			result.kept.push({ runId: report.runId, why: opened.error });
			continue;
		}
		opened.run.journal.close();
		store.remove(report.runId);
		opened.run.lease.release();
		result.removed.push(report.runId);
	}
	return result;
}

/** `30d`, `12h`, `90m`, `2w`: a duration in milliseconds, or what is wrong with it. */
export function parseAge(text: string): { ok: true; ms: number } | { ok: false; error: string } {
	const match = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(text.trim());
	const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
	if (!match) {
		return {
			ok: false,
			error: `--older-than: expected a number and a unit, m (minutes), h, d or w (like 30d or 12h), got ${JSON.stringify(text)}`,
		};
	}
	return { ok: true, ms: Number(match[1]) * (units[match[2] as string] as number) };
}
