// The default run store: everything in the run's folder in the project (`.pi/workflows/runs/<runId>/`): the
// journal file, `run.lock`, and the `control/` mailbox. No daemon; several pi processes share it safely.
// `runs/.open/` lists (as empty files) the runs that may be resumable, so session start reads only those.

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileJournal, readJournalFile } from "./file-journal.js";
import type { JournalContents } from "./journal-text.js";
import { createRunDirectory, type RunPaths, runPaths, runsRoot } from "./run-directory.js";
import { acquireRunLock, inspectLock, type LeaseEvents, type LockState } from "./run-lock.js";
import { type ControlReply, type ControlRequest, sendControlRequest, serveControlRequests } from "./run-mailbox.js";
import type { OpenedRun, RunStore } from "./run-store.js";

/** Where the runs that may be resumable are listed. */
const OPEN_DIR = ".open";

export class FileRunStore implements RunStore {
	constructor(readonly cwd: string) {}

	paths(runId: string): RunPaths {
		return runPaths(this.cwd, runId);
	}

	listRunIds(): string[] {
		const root = runsRoot(this.cwd);
		if (!existsSync(root)) return [];
		return readdirSync(root, { withFileTypes: true })
			.filter((entry) => entry.isDirectory() && existsSync(this.paths(entry.name).journal))
			.map((entry) => entry.name)
			.sort();
	}

	has(runId: string): boolean {
		return existsSync(this.paths(runId).journal);
	}

	exists(runId: string): boolean {
		return existsSync(this.paths(runId).runDir);
	}

	read(runId: string): JournalContents {
		const paths = this.paths(runId);
		if (!existsSync(paths.journal)) throw new Error(`Run ${runId} has no journal at ${paths.journal}`);
		return readJournalFile(paths.journal);
	}

	create(runId: string, header: { workflow: string; createdAt: string }, events: LeaseEvents): OpenedRun {
		const paths = createRunDirectory(this.cwd, runId);
		const lock = acquireRunLock(paths.runDir, events);
		if (!lock.ok) throw new Error(`Run ${runId}: ${lock.error}`);
		try {
			const journal = FileJournal.create(paths.journal, { runId, ...header });
			return { paths, journal, lease: lock.lease, contents: { header: journal.header, events: [], warnings: [] } };
		} catch (error) {
			lock.lease.release();
			throw error;
		}
	}

	open(runId: string, events: LeaseEvents): { ok: true; run: OpenedRun } | { ok: false; error: string } {
		const paths = this.paths(runId);
		if (!existsSync(paths.journal)) return { ok: false, error: `it has no journal at ${paths.journal}` };
		const lock = acquireRunLock(paths.runDir, events);
		if (!lock.ok) return lock;
		try {
			// Read once the lock is held: what a decision is based on is what this process will append to.
			const contents = readJournalFile(paths.journal);
			const journal = FileJournal.open(paths.journal);
			return { ok: true, run: { paths, contents, journal, lease: lock.lease } };
		} catch (error) {
			lock.lease.release();
			throw error;
		}
	}

	owner(runId: string): LockState {
		return inspectLock(this.paths(runId).runDir);
	}

	remove(runId: string): void {
		rmSync(this.paths(runId).runDir, { recursive: true, force: true });
		this.markOpen(runId, false);
	}

	/** The open runs are empty files in `runs/.open/`; a project from before that folder has none listed. */
	openRunIds(): string[] | undefined {
		const dir = join(runsRoot(this.cwd), OPEN_DIR);
		if (!existsSync(dir)) return undefined;
		return readdirSync(dir).filter((name) => existsSync(this.paths(name).journal));
	}

	markOpen(runId: string, open: boolean): void {
		const dir = join(runsRoot(this.cwd), OPEN_DIR);
		const marker = join(dir, runId);
		if (open) {
			mkdirSync(dir, { recursive: true });
			writeFileSync(marker, "");
		} else rmSync(marker, { force: true });
	}

	send(
		runId: string,
		request: ControlRequest,
		options?: { timeoutMs?: number; signal?: AbortSignal },
	): Promise<ControlReply> {
		return sendControlRequest(this.paths(runId).runDir, request, options);
	}

	serve(
		runId: string,
		handle: (request: ControlRequest) => ControlReply | Promise<ControlReply>,
		onWarning: (message: string) => void,
	): () => void {
		return serveControlRequests(this.paths(runId).runDir, handle, onWarning);
	}
}
