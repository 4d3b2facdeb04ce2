// Everything a driven run writes goes through here: each event is appended to the journal (while this process
// still owns the run), folded into the run's state, and told to observers; report.json and report.md are a
// view of that state, rewritten at most every REPORT_INTERVAL_MS and at the end, from the fold (what changed
// costs what changed: no replay of the history, no walk of artifacts/ until the end). Problems that must not
// stop the run (a report or heartbeat write, an observer) go to the one warning sink: journaled, and in the
// report. Nothing here throws at the run, and the final report is always produced.

import type { StageActivity } from "../stages/stage-session.js";
import type { JournalEvent } from "../store/events.js";
import { buildReport, type RunReport, writeReport } from "../store/report.js";
import { listArtifacts, type RunPaths } from "../store/run-directory.js";
import { RunFold } from "../store/run-fold.js";
import type { JournalWriter, RunLease } from "../store/run-store.js";

const REPORT_INTERVAL_MS = 250;

export type RunProgressEvent =
	| { type: "journal"; runId: string; event: JournalEvent }
	| { type: "activity"; runId: string; stageId: string; activity: StageActivity };

export class RunRecorder {
	readonly fold: RunFold;
	private reportTimer: ReturnType<typeof setTimeout> | undefined;
	private artifacts: string[] = [];
	/** Why this process lost the run, once it has: nothing more is journaled. */
	private lostReason: string | undefined;

	constructor(
		private readonly paths: RunPaths,
		private readonly journal: JournalWriter,
		private readonly lease: RunLease,
		contents: { header: JournalWriter["header"]; events: readonly JournalEvent[]; warnings: readonly string[] },
		private readonly observe: ((event: RunProgressEvent) => void) | undefined,
		private readonly onLost: (reason: string) => void,
	) {
		this.fold = RunFold.of(contents);
		journal.onSyncError = (error) => this.warn(`the journal could not be synced to disk: ${message(error)}`);
	}

	get lost(): string | undefined {
		return this.lostReason;
	}

	/** Journals and folds an event. `durable`: it must reach the disk (group commit); the lease is checked first. */
	record(event: JournalEvent, durable = false): void {
		if (this.lostReason) return;
		if (durable) {
			const owned = this.lease.check();
			if (!owned.ok) {
				this.lose(owned.error);
				return;
			}
		}
		this.journal.append(event, { durable });
		this.fold.apply(event);
		this.scheduleReport();
		this.tell({ type: "journal", runId: this.paths.runId, event });
	}

	/** The warning sink. */
	warn(text: string): void {
		const event: JournalEvent = { type: "warning", at: new Date().toISOString(), message: text };
		if (this.lostReason) {
			this.fold.apply(event);
			return;
		}
		try {
			this.journal.append(event);
		} catch (error) {
			// The journal itself failed: the warning stays in this process's view of the run.
			this.fold.run.warnings.push(`the journal could not be written: ${message(error)}`);
		}
		this.fold.apply(event);
		this.scheduleReport();
	}

	/** Forces what was journaled to the disk now (before a side effect runs). */
	sync(): void {
		if (this.lostReason) return;
		try {
			this.journal.sync();
		} catch (error) {
			this.warn(`the journal could not be synced to disk: ${message(error)}`);
		}
	}

	activity(stageId: string, activity: StageActivity): void {
		this.tell({ type: "activity", runId: this.paths.runId, stageId, activity });
	}

	report(): RunReport {
		return buildReport(this.fold, this.paths.runDir, this.artifacts);
	}

	/** Writes the report now. */
	flushReport(): void {
		clearTimeout(this.reportTimer);
		this.reportTimer = undefined;
		try {
			writeReport(this.paths, this.report());
		} catch (error) {
			this.warn(`report.json could not be written: ${message(error)}`);
		}
	}

	/** Ends this process's part of the run: the final report (artifacts listed), the journal closed, the lock
	 * released. Never throws; a lost run is reported as interrupted, as the new owner will show it. */
	finish(): RunReport {
		clearTimeout(this.reportTimer);
		this.reportTimer = undefined;
		const listed = listArtifacts(this.paths);
		this.artifacts = listed.files;
		for (const problem of listed.problems) this.warn(problem);
		let final = this.report();
		if (this.lostReason) {
			final = { ...final, status: "interrupted", reason: this.lostReason };
		} else {
			try {
				writeReport(this.paths, final);
			} catch (error) {
				this.warn(`report.json could not be written: ${message(error)}`);
				final = this.report();
			}
		}
		try {
			this.journal.close();
		} catch (error) {
			this.fold.run.warnings.push(`the journal could not be closed: ${message(error)}`);
			final = { ...final, warnings: [...this.fold.run.warnings] };
		}
		this.lease.release();
		return final;
	}

	private lose(reason: string): void {
		if (this.lostReason) return;
		this.lostReason = reason;
		this.fold.run.warnings.push(reason);
		this.onLost(reason);
	}

	/** Told by the lease when another process took the run over. */
	lostOwnership(reason: string): void {
		this.lose(reason);
	}

	private scheduleReport(): void {
		this.reportTimer ??= setTimeout(() => this.flushReport(), REPORT_INTERVAL_MS);
		this.reportTimer.unref?.();
	}

	private tell(event: RunProgressEvent): void {
		if (!this.observe) return;
		try {
			this.observe(event);
		} catch (error) {
			this.warn(`a progress observer failed: ${message(error)}`);
		}
	}
}

function message(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
